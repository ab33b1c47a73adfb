"""Locale-aware formatting of numbers for report tables.

This is the only place in si-survey where numbers become text. French is the
default locale (decimal comma, narrow no-break space ``U+202F`` between
thousands, ``12,5 %``, APA p-values without a leading zero: ``,032`` and
``< ,001``); English is available.

Examples
--------
>>> from analysis.tables.formatting import format_number, format_pvalue, get_locale
>>> format_number(12345.678, 2)
'12\\u202f345,68'
>>> format_number(0.5, 1, locale="en")
'0.5'
>>> format_pvalue(0.0004)
'< ,001'
>>> format_pvalue(0.0312, locale="en")
'.031'
>>> get_locale("fr").note_label
'Note.'
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from analysis.errors import ConfigError

__all__ = [
    "Locale",
    "LOCALES",
    "DEFAULT_LEVELS",
    "get_locale",
    "is_missing",
    "format_number",
    "format_integer",
    "format_percent",
    "format_pvalue",
    "stars_for",
    "stars_legend",
    "french_typography",
]

NNBSP = "\u202f"  # narrow no-break space (French thousands separator, before % ; ! ?)
NBSP = "\u00a0"  # no-break space (French, before a colon)
MINUS = "\u2212"  # typographic minus sign

#: Default significance levels for stars: ``*`` p < .05, ``**`` p < .01, ``***`` p < .001.
DEFAULT_LEVELS: tuple[float, ...] = (0.05, 0.01, 0.001)


@dataclass(frozen=True)
class Locale:
    """Typographic conventions and fixed words of one output language.

    Parameters
    ----------
    code : str
        ``"fr"`` or ``"en"``.
    decimal : str
        Decimal separator.
    thousands : str
        Thousands separator (empty string for none).
    minus : str
        Minus sign put in front of negative numbers.
    percent : str
        Suffix of percentages (French puts a narrow no-break space before ``%``).
    less_than : str
        Prefix of p-values below the smallest shown value (``"< "``).
    table_label : str
        Word before the table number (``"Tableau"``).
    note_label, source_label : str
        Lead words of the general note and of the source line.
    list_sep : str
        Separator between items of a list written in a note (``" ; "`` in French).
    interval_sep : str
        Separator between the bounds of an interval (``" ; "`` in French because the
        comma is the decimal separator).
    missing : str
        Text shown for a missing value.
    continued : str
        Words after the table number on the pages a long table continues on
        (``"Tableau 3 (suite)"``).

    Examples
    --------
    >>> get_locale("en").decimal
    '.'
    """

    code: str
    decimal: str
    thousands: str
    minus: str
    percent: str
    less_than: str
    table_label: str
    note_label: str
    source_label: str
    list_sep: str
    interval_sep: str
    missing: str = "\u2014"
    continued: str = "(suite)"

    def with_missing(self, text: str) -> Locale:
        """Return a copy showing missing values as `text`.

        Examples
        --------
        >>> get_locale("fr").with_missing("n.d.").missing
        'n.d.'
        """
        return replace(self, missing=text)


LOCALES: dict[str, Locale] = {
    "fr": Locale(
        code="fr",
        decimal=",",
        thousands=NNBSP,
        minus=MINUS,
        percent=NNBSP + "%",
        less_than="< ",
        table_label="Tableau",
        note_label="Note.",
        source_label="Source" + NBSP + ":",
        list_sep=NNBSP + "; ",
        interval_sep=NNBSP + "; ",
    ),
    "en": Locale(
        code="en",
        decimal=".",
        thousands=",",
        minus=MINUS,
        percent="%",
        less_than="< ",
        table_label="Table",
        note_label="Note.",
        source_label="Source:",
        list_sep="; ",
        interval_sep=", ",
        continued="(continued)",
    ),
}


def get_locale(locale: str | Locale = "fr") -> Locale:
    """Return the :class:`Locale` for a code (``"fr"`` or ``"en"``).

    Parameters
    ----------
    locale : str or Locale
        A locale code, or a Locale returned unchanged.

    Returns
    -------
    Locale

    Raises
    ------
    ConfigError
        If the code is unknown.

    Examples
    --------
    >>> get_locale("fr").table_label
    'Tableau'
    """
    if isinstance(locale, Locale):
        return locale
    try:
        return LOCALES[str(locale).lower()]
    except KeyError:
        raise ConfigError(
            f"Unknown table locale {locale!r}; expected one of {sorted(LOCALES)}."
        ) from None


def is_missing(value: object) -> bool:
    """Return True for None, NaN, ``pd.NA`` and ``NaT``.

    Examples
    --------
    >>> is_missing(float("nan")), is_missing(0)
    (True, False)
    """
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return result is True or type(result).__name__ == "bool" and bool(result)


def _round(value: float, decimals: int) -> Decimal:
    """Round half away from zero (as people do by hand), avoiding binary artefacts."""
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)


def _group_always(digits: str, sep: str) -> str:
    parts = []
    while len(digits) > 3:
        parts.append(digits[-3:])
        digits = digits[:-3]
    parts.append(digits)
    return sep.join(reversed(parts))


def format_number(
    value: float,
    decimals: int = 2,
    locale: str | Locale = "fr",
    *,
    leading_zero: bool = True,
    sep_mark: bool = True,
) -> str:
    """Format a number with a fixed number of decimals.

    Parameters
    ----------
    value : float
        The number. Missing values give the locale's missing text.
    decimals : int, default 2
        Digits after the decimal separator.
    locale : str or Locale, default "fr"
    leading_zero : bool, default True
        False drops the zero before the separator (APA style for values bounded by 1).
    sep_mark : bool, default True
        Group thousands.

    Returns
    -------
    str

    Examples
    --------
    >>> format_number(-0.456, 2)
    '\\u22120,46'
    >>> format_number(0.456, 2, "en", leading_zero=False)
    '.46'
    >>> format_number(1234567, 0, "en")
    '1,234,567'
    """
    loc = get_locale(locale)
    if is_missing(value):
        return loc.missing
    value = float(value)
    if math.isinf(value):
        return ("" if value > 0 else loc.minus) + "\u221e"
    if decimals < 0:
        raise ConfigError(f"decimals must be >= 0, got {decimals}.")
    rounded = _round(value, decimals)
    negative = rounded < 0
    text = f"{abs(rounded):.{decimals}f}"
    whole, _, frac = text.partition(".")
    if sep_mark:
        whole = _group_always(whole, loc.thousands) if loc.thousands else whole
    if not leading_zero and whole == "0" and decimals > 0:
        whole = ""
    out = whole + (loc.decimal + frac if decimals > 0 else "")
    return (loc.minus if negative else "") + out


def format_integer(value: float, locale: str | Locale = "fr") -> str:
    """Format a count (rounded to a whole number, thousands grouped).

    Examples
    --------
    >>> format_integer(12500)
    '12\\u202f500'
    >>> format_integer(1250.0, "en")
    '1,250'
    """
    return format_number(value, 0, locale)


def format_percent(
    value: float, decimals: int = 1, locale: str | Locale = "fr", *, scale_values: bool = True
) -> str:
    """Format a share as a percentage.

    Parameters
    ----------
    value : float
        A share in [0, 1] (or already a percentage with ``scale_values=False``).
    decimals : int, default 1
    locale : str or Locale, default "fr"
    scale_values : bool, default True
        Multiply by 100 first.

    Examples
    --------
    >>> format_percent(0.125)
    '12,5\\u202f%'
    >>> format_percent(12.5, 0, "en", scale_values=False)
    '13%'
    """
    loc = get_locale(locale)
    if is_missing(value):
        return loc.missing
    shown = float(value) * 100 if scale_values else float(value)
    return format_number(shown, decimals, loc) + loc.percent


def format_pvalue(value: float, decimals: int = 3, locale: str | Locale = "fr") -> str:
    """Format a p-value in APA style: no leading zero, ``< ,001`` below the shown precision.

    Parameters
    ----------
    value : float
        A p-value in [0, 1].
    decimals : int, default 3
    locale : str or Locale, default "fr"

    Examples
    --------
    >>> format_pvalue(0.00001)
    '< ,001'
    >>> format_pvalue(0.0496, locale="en")
    '.050'
    >>> format_pvalue(1.0)
    '1,000'
    """
    loc = get_locale(locale)
    if is_missing(value):
        return loc.missing
    value = float(value)
    floor = 10.0 ** (-decimals)
    if value < floor:
        return loc.less_than + format_number(floor, decimals, loc, leading_zero=False)
    if _round(value, decimals) >= 1:
        return format_number(1.0, decimals, loc)
    return format_number(value, decimals, loc, leading_zero=False)


_FR_RULES = (
    (re.compile(r"[ \u00a0\u202f]*([;!?])(?=\s|$)"), "\u202f\\1"),  # espace fine before ; ! ?
    (re.compile(r"[ \u00a0\u202f]+:"), "\u00a0:"),  # no-break space before a spaced colon
    (re.compile(r"(\d)[ \u00a0\u202f]?%"), "\\1\u202f%"),  # 50 %
    (re.compile(r"«[ \u00a0\u202f]*"), "«\u00a0"),
    (re.compile(r"[ \u00a0\u202f]*»"), "\u00a0»"),
)


def french_typography(text: str) -> str:
    """Put French no-break spaces before ``; ! ? : »``, after ``«`` and before ``%``.

    Conservative: a colon gets a no-break space only where a space was typed
    (``http://`` and ``10:30`` are left alone); ``; ! ?`` only when followed by a
    space or the end of the text.

    Examples
    --------
    >>> french_typography("Oui ; non! « Bien » : 50 %") == (
    ...     "Oui\u202f; non\u202f! «\u00a0Bien\u00a0»\u00a0: 50\u202f%")
    True
    >>> french_typography("http://x.ma?a=1;b")
    'http://x.ma?a=1;b'
    """
    for pattern, repl in _FR_RULES:
        text = pattern.sub(repl, text)
    return text


def _check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    levels = tuple(float(x) for x in levels)
    if not levels or any(not 0 < x < 1 for x in levels) or list(levels) != sorted(levels, reverse=True):
        raise ConfigError(
            f"Star levels must be decreasing numbers between 0 and 1, got {levels!r}."
        )
    return levels


def stars_for(p_value: float, levels: Sequence[float] = DEFAULT_LEVELS) -> str:
    """Return ``"*"`` repeated once per level that `p_value` is below.

    Examples
    --------
    >>> stars_for(0.03), stars_for(0.0005), stars_for(0.2)
    ('*', '***', '')
    """
    levels = _check_levels(levels)
    if is_missing(p_value):
        return ""
    return "*" * sum(float(p_value) < lev for lev in levels)


def stars_legend(levels: Sequence[float] = DEFAULT_LEVELS, locale: str | Locale = "fr") -> str:
    """Return the note explaining the stars, APA style (writers set each *p* in italics).

    Examples
    --------
    >>> stars_legend(locale="en")
    '*p < .05. **p < .01. ***p < .001.'
    """
    loc = get_locale(locale)
    levels = _check_levels(levels)
    parts = []
    for i, lev in enumerate(levels, start=1):
        decimals = max(2, len(f"{lev:.10f}".rstrip("0").split(".")[1]))
        shown = format_number(lev, decimals, loc, leading_zero=False)
        parts.append(f"{'*' * i}p {loc.less_than}{shown}.")
    return " ".join(parts)
