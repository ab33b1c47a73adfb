"""Numbers typed as text: parse them the way a Moroccan respondent or enumerator writes them.

KoboToolbox stores what the device sends: a number question normally holds a
canonical number (``1500``, ``2.5``), but exports that went through Excel,
paper forms typed later, or text questions used for amounts hold things such
as ``"1 500"``, ``"1.500"``, ``"2,5"``, ``"15%"``, ``"1 500 DH"``,
``"env. 30"``, Arabic-Indic digits (``"١٥٠٠"``) or the words "Je ne sais pas"
/ "Refus". :func:`parse_numbers` turns a column of such texts into floats and
says, for every value, what it did.

Rules (in this order, on the text after Unicode NFKC and trimming)
------------------------------------------------------------------
1. Empty text -> missing (status ``empty``).
2. "Je ne sais pas" words (``je ne sais pas``, ``nsp``, ``ne sait pas``,
   ``لا أعرف``, ``don't know``...) -> missing, status ``dont_know``; "Refus"
   words (``refus``, ``refuse``, ``رفض``...) -> missing, status ``refused``.
   The numeric codes ``-98`` / ``-99`` get the same statuses when the caller
   passes them as ``missing_codes``.
3. Arabic-Indic and extended Arabic-Indic digits -> ASCII digits; the Arabic
   decimal separator ``٫`` -> ``.`` and the Arabic thousands separator ``٬``
   -> removed; the Unicode minus ``−`` -> ``-``; non-breaking and thin spaces
   -> spaces.
4. Units and hedges are dropped: ``%``, ``DH``, ``MAD``, ``dhs``, ``dirhams``,
   ``درهم``, ``env.``, ``environ``, ``approx.``, ``~``, ``≈``, and for years a
   leading ``en``, ``vers``, ``depuis``, ``année``, ``سنة``, ``عام`` (``en 2015``).
5. Separators: spaces between groups of three digits are thousands separators
   (``1 500``); when both ``.`` and ``,`` occur, the last one is the decimal
   mark (``1.500,25``, ``1,500.25``); a mark repeated between groups of three
   digits is a thousands separator (``1.500.000``, ``1,500,000``); a single
   ``,`` is a decimal comma (French convention: ``2,5``); a single ``.``
   followed by exactly three digits is a thousands separator when
   ``dot_thousands=True`` (the default: ``1.500`` -> 1500, as survey counts
   and amounts are whole numbers), else a decimal point.
6. What remains must be a finite number (``1e5`` accepted); anything else,
   including numbers beyond the float range (``1e400``), is ``invalid``.

A value already canonical (``-?digits[.digits]``) gets status ``ok`` and is
not reported as changed; a value that needed rules 3-5 gets status
``parsed``.

Everything works on the column's unique values (``pandas.factorize``) and maps
back, so a column of a million rows costs as much as its distinct values.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ParsedNumbers", "parse_numbers", "parse_number", "STATUSES", "DONT_KNOW_WORDS", "REFUSED_WORDS"]

#: Statuses returned by :func:`parse_numbers`.
STATUSES = ("ok", "parsed", "empty", "dont_know", "refused", "not_applicable", "invalid")

#: Texts meaning "I don't know" (compared after folding: lower case, no accents, no punctuation).
DONT_KNOW_WORDS = (
    "je ne sais pas", "ne sait pas", "ne sais pas", "nsp", "ns", "sais pas", "inconnu", "dont know",
    "don t know", "dk", "لا أعرف", "لا اعرف", "لا يعرف", "لا أدري", "لا ادري",
)
#: Texts meaning "refused to answer".
REFUSED_WORDS = ("refus", "refuse", "refusee", "pas de reponse", "refused", "رفض", "رفض الإجابة", "رفض الاجابة")
#: Texts meaning "not applicable".
NOT_APPLICABLE_WORDS = ("sans objet", "non applicable", "na", "n a", "not applicable", "لا ينطبق")

_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})
_DIGITS.update({ord("٫"): ".", ord("٬"): "", ord("−"): "-", ord("–"): "-", ord("\u00a0"): " ",
                ord("\u202f"): " ", ord("\u2009"): " ", ord("\u2007"): " ", ord("'"): " ",
                ord("’"): " ", ord("\u200e"): "", ord("\u200f"): "", ord("\u061c"): ""})

_CANONICAL = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")
_UNITS = re.compile(
    r"(?i)(%|٪|\bdhs?\b|\bmad\b|\bdirhams?\b|درهم|\benv\.?|\benviron\b|\bapprox\.?|\bca\.|~|≈|\bmembres?\b"
    r"|\bpersonnes?\b|^\s*en\b|^\s*vers\b|^\s*depuis\b|\bann[ée]es?\b|^\s*سنة|^\s*عام)"
)
_DOT_GROUP = re.compile(r"^-?[1-9][0-9]{0,2}\.[0-9]{3}$")
_SPACE_GROUPS = re.compile(r"^[+-]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?$", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)


def _fold(text: str) -> str:
    nfkd = unicodedata.normalize("NFKD", text.casefold())
    s = "".join(c for c in nfkd if not unicodedata.combining(c))
    s = re.sub(r"[^\w\s]", " ", s)
    return " ".join(s.split())


_DK = {_fold(w) for w in DONT_KNOW_WORDS}
_REF = {_fold(w) for w in REFUSED_WORDS}
_NA = {_fold(w) for w in NOT_APPLICABLE_WORDS}


def _separators(s: str, dot_thousands: bool) -> str | None:
    s = s.strip()
    if " " in s:
        if _SPACE_GROUPS.match(s):
            s = s.replace(" ", "")
        else:
            s2 = s.replace(" ", "")
            if not re.match(r"^[+-]?[\d.,]+$", s2):
                return None
            # spaces in odd places ("1 50"): not a number we can trust
            return None
    has_dot, has_comma = "." in s, "," in s
    if has_dot and has_comma:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        thou = "," if dec == "." else "."
        int_part, _, frac = s.rpartition(dec)
        if not re.match(r"^[+-]?\d{1,3}(?:" + re.escape(thou) + r"\d{3})*$", int_part) or not frac.isdigit():
            return None
        return int_part.replace(thou, "") + "." + frac
    mark = "." if has_dot else ("," if has_comma else None)
    if mark is None:
        return s
    if s.count(mark) > 1:
        if re.match(r"^[+-]?\d{1,3}(?:" + re.escape(mark) + r"\d{3})+$", s):
            return s.replace(mark, "")
        return None
    if mark == ",":
        return s.replace(",", ".")
    if dot_thousands and re.match(r"^[+-]?\d{1,3}\.\d{3}$", s) and not re.match(r"^[+-]?0\.", s):
        return s.replace(".", "")
    return s


def parse_number(text: object, *, dot_thousands: bool = True) -> tuple[float, str]:
    """Parse one value; return ``(number or nan, status)`` (see the module notes).

    Examples
    --------
    >>> parse_number("1 500")
    (1500.0, 'parsed')
    >>> parse_number("2,5")
    (2.5, 'parsed')
    >>> parse_number("١٥٠٠")
    (1500.0, 'parsed')
    >>> parse_number("Je ne sais pas")
    (nan, 'dont_know')
    >>> parse_number("12")
    (12.0, 'ok')
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return np.nan, "empty"
    s0 = str(text)
    s = s0.strip()
    if not s:
        return np.nan, "empty"
    if _CANONICAL.match(s) and not (dot_thousands and _DOT_GROUP.match(s)):
        v = float(s)
        return (v, "ok") if np.isfinite(v) else (np.nan, "invalid")
    s = unicodedata.normalize("NFKC", s).translate(_DIGITS).strip()
    folded = _fold(s)
    if folded in _DK:
        return np.nan, "dont_know"
    if folded in _REF:
        return np.nan, "refused"
    if folded in _NA:
        return np.nan, "not_applicable"
    s = _UNITS.sub(" ", s)
    s = " ".join(s.split())
    if s.startswith("+"):
        s = s[1:].strip()
    if s.startswith("- "):
        s = "-" + s[2:]
    if not s:
        return np.nan, "invalid"
    if _NUMBER.match(s):
        try:
            v = float(s)
        except (OverflowError, ValueError):
            return np.nan, "invalid"
        if not np.isfinite(v):
            return np.nan, "invalid"
        if "." in s and dot_thousands and re.match(r"^[+-]?[1-9]\d{0,2}\.\d{3}$", s):
            return float(s.replace(".", "")), "parsed"
        return v, "parsed"
    t = _separators(s, dot_thousands)
    if t is None or not _NUMBER.match(t):
        return np.nan, "invalid"
    try:
        v = float(t)
    except (OverflowError, ValueError):
        return np.nan, "invalid"
    if not np.isfinite(v):
        return np.nan, "invalid"
    return v, "parsed"


@dataclass(frozen=True)
class ParsedNumbers:
    """Result of :func:`parse_numbers`.

    Attributes
    ----------
    values : numpy.ndarray
        float64, NaN where missing or invalid.
    status : numpy.ndarray
        One of :data:`STATUSES` per value (object array).
    """

    values: np.ndarray
    status: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Columns ``value`` and ``status``."""
        return pd.DataFrame({"value": self.values, "status": self.status})


def parse_numbers(values, *, dot_thousands: bool = True, missing_codes: dict | None = None) -> ParsedNumbers:
    """Parse a column of texts into numbers (vectorised over unique values).

    Parameters
    ----------
    values : array-like of str
        The cells as written (``""`` or NaN = empty).
    dot_thousands : bool, default True
        Read ``1.500`` as 1500 (see module notes).
    missing_codes : dict, optional
        ``{code: status}`` for numeric codes meaning no answer, e.g.
        ``{-98: "dont_know", -99: "refused"}``: such values become NaN with
        that status.

    Returns
    -------
    ParsedNumbers
    """
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    uniq = np.asarray(uniques, dtype=object)
    uval = np.full(len(uniq), np.nan)
    ustat = np.empty(len(uniq), dtype=object)
    if len(uniq):
        us = pd.Series(uniq, dtype=object).astype(str)
        canon = us.str.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?").to_numpy(dtype=bool).copy()
        if dot_thousands:
            canon &= ~us.str.fullmatch(_DOT_GROUP.pattern[1:-1]).to_numpy(dtype=bool)
        with np.errstate(over="ignore"):
            fast = pd.to_numeric(us[canon], errors="coerce").to_numpy(dtype=float)
        uval[canon] = fast
        ustat[canon] = "ok"
        bad_fast = np.zeros(len(uniq), dtype=bool)
        bad_fast[np.flatnonzero(canon)[~np.isfinite(fast)]] = True
        ustat[bad_fast] = "invalid"
        uval[bad_fast] = np.nan
        for i in np.flatnonzero(~canon):
            uval[i], ustat[i] = parse_number(uniq[i], dot_thousands=dot_thousands)
        if missing_codes:
            for code, status in missing_codes.items():
                m = uval == float(code)
                uval[m] = np.nan
                ustat[m] = status
    vals = np.where(codes >= 0, uval[np.maximum(codes, 0)] if len(uniq) else np.nan, np.nan)
    stat = np.where(codes >= 0, ustat[np.maximum(codes, 0)] if len(uniq) else "empty", "empty").astype(object)
    empty_text = (codes >= 0) & (stat == "empty")
    stat[empty_text] = "empty"
    return ParsedNumbers(values=vals.astype(float), status=stat)
