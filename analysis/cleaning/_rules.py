"""The cleaning rules: small, documented, vectorised functions.

Each rule takes columns (pandas Series or NumPy arrays) plus its options from
``questionnaire/cleaning.yaml`` and returns new values and/or flags; none
loops over rows in Python: text rules work on the column's distinct values
(``pandas.factorize``) and map back, so a million rows cost what their
distinct values cost. The orchestration (order of the rules, the cleaning log,
the outputs) is in :mod:`analysis.cleaning._clean`.

Rules
-----
:func:`harmonise_text`
    Unicode NFC, trimmed, inner spaces collapsed.
:func:`fold_text`
    Matching key: NFKC, case folded, accents removed, Arabic variants
    normalised (alef/hamza, taa marbuta, alef maqsura, tatweel, diacritics),
    punctuation and parenthesised remarks removed.
:func:`choice_codes`
    Checks select_one codes against the choice list; 97/98/99 -> missing
    with their reason.
:func:`numeric_values`
    Numbers typed as text (see :mod:`analysis.cleaning._numbers`); -98/-99 -> missing
    with their reason.
:func:`parse_datetimes`
    ISO 8601 with or without offset, ``YYYY-MM-DD HH:MM[:SS]`` and
    ``DD/MM/YYYY HH:MM[:SS]`` (French day-first), to UTC.
:func:`out_of_range`
    Values outside the codebook's ``[min, max]`` (never clipped: the caller
    sets them missing).
:func:`funding_shares`
    Sums within ``total +- tolerance`` re-normalised to ``total``; other
    non-empty rows set missing.
:func:`recode_other`
    "autre (précisez)" answers whose text names an existing choice are
    recoded through the reviewable table ``questionnaire/recode_other.csv``.
:func:`split_multiple`
    select_multiple answers -> one 0/1 column per option and a count.
:func:`flag_tests`, :func:`flag_duplicates`, :func:`flag_speeders`, :func:`flag_straightliners`
    Row flags (see each function).
:func:`pseudonymous_id`
    ``resp_id``: a stable pseudonym of the submission ``_uuid``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import pandas as pd

from analysis.cleaning._numbers import parse_numbers

__all__ = [
    "harmonise_text",
    "fold_text",
    "choice_codes",
    "numeric_values",
    "parse_datetimes",
    "out_of_range",
    "funding_shares",
    "recode_other",
    "split_multiple",
    "completeness",
    "flag_tests",
    "flag_duplicates",
    "flag_speeders",
    "flag_straightliners",
    "pseudonymous_id",
    "MISSING_REASONS",
]

#: Reasons attached to values set missing because the answer was not substantive.
MISSING_REASONS = {"97": "not_applicable", "98": "dont_know", "99": "refused",
                   "-97": "not_applicable", "-98": "dont_know", "-99": "refused"}


def _on_unique(s: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` (array of distinct values -> array) and map back to the rows (object Series)."""
    if not isinstance(s, pd.Series):
        s = pd.Series(np.asarray(s, dtype=object), dtype=object)
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    if len(uniq) == 0:
        return pd.Series(np.full(len(s), "", dtype=object), index=s.index, dtype=object)
    out = np.asarray(fn(np.asarray(uniq, dtype=object)), dtype=object)
    res = out[np.maximum(codes, 0)]
    res[codes < 0] = ""
    return pd.Series(res, index=s.index, dtype=object)


def harmonise_text(s: pd.Series, *, form: str = "NFC", collapse: bool = True) -> pd.Series:
    """Unicode normal form, trimmed, inner runs of spaces collapsed (distinct values only).

    Examples
    --------
    >>> harmonise_text(pd.Series(["  Fe\\u0301s ", "a   b"])).tolist()
    ['Fés', 'a b']
    """
    def fn(u):
        out = []
        for x in u:
            t = unicodedata.normalize(form, str(x))
            t = t.replace("\u00a0", " ").replace("\u202f", " ")
            out.append(" ".join(t.split()) if collapse else t.strip())
        return out

    return _on_unique(s.astype(object).fillna(""), fn)


_AR_REPL = (("ة", "ه"), ("ى", "ي"), ("ٱ", "ا"), ("ـ", ""), ("گ", "ك"), ("ڭ", "ك"), ("ی", "ي"), ("ک", "ك"),
            ("œ", "oe"), ("æ", "ae"))


def _fold_arrow(values) -> list:
    """Vectorised folding with pyarrow compute (RE2 regular expressions, C++)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    a = pa.array([str(v) for v in values], type=pa.string())
    a = pc.utf8_normalize(a, "NFKC")
    a = pc.utf8_lower(a)
    a = pc.replace_substring_regex(a, r"\([^)]*\)", " ")
    for x, y in _AR_REPL:
        a = pc.replace_substring(a, x, y)
    a = pc.utf8_normalize(a, "NFKD")
    a = pc.replace_substring_regex(a, r"\p{Mn}+", "")
    a = pc.replace_substring_regex(a, r"[^\p{L}\p{N}]+", " ")
    a = pc.utf8_trim_whitespace(a)
    return a.to_pylist()


def _fold_one(x: str) -> str:
    return _fold_arrow([x])[0]


def fold_text(s: pd.Series) -> pd.Series:
    """Matching key of texts (see module notes); ``""`` for empty cells.

    Examples
    --------
    >>> fold_text(pd.Series(["Président(e) (principalement)", "ÉSSAI", "مُدِيرَة"])).tolist()
    ['president', 'essai', 'مديره']
    """
    return _on_unique(s, _fold_arrow)


def choice_codes(s: pd.Series, allowed, missing_codes=()) -> tuple[pd.Series, np.ndarray]:
    """Check select_one codes.

    Parameters
    ----------
    s : Series of str
        Codes as read (trimmed).
    allowed : iterable of str
        Codes of the choice list.
    missing_codes : iterable of str
        Codes meaning no substantive answer (``97``, ``98``, ``99``).

    Returns
    -------
    values : Series of str
        The code, or ``""`` when empty, not allowed or a missing code.
    status : numpy.ndarray
        ``ok``, ``empty``, ``not_allowed``, or the reason of a missing code
        (``dont_know``, ``refused``, ``not_applicable``).
    """
    allowed = set(map(str, allowed))
    miss = set(map(str, missing_codes))
    codes, uniq = pd.factorize(s if isinstance(s, pd.Series) else pd.Series(s, dtype=object))
    u = np.asarray(uniq, dtype=object)
    ust = np.full(len(u), "ok", dtype=object)
    for i, x in enumerate(u):
        x = str(x)
        if x == "":
            ust[i] = "empty"
        elif x in miss:
            ust[i] = MISSING_REASONS.get(x, "missing_code")
        elif x not in allowed:
            ust[i] = "not_allowed"
    uval = np.where(ust == "ok", u, "").astype(object)
    if len(u):
        status = ust[np.maximum(codes, 0)]
        out = uval[np.maximum(codes, 0)]
        status[codes < 0] = "empty"
        out[codes < 0] = ""
    else:
        status = np.full(len(codes), "empty", dtype=object)
        out = np.full(len(codes), "", dtype=object)
    return pd.Series(out, index=s.index if isinstance(s, pd.Series) else None, dtype=object), status


def numeric_values(s: pd.Series, *, missing_codes=(), dot_thousands: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Parse a numeric column (see :func:`analysis.cleaning._numbers.parse_numbers`).

    ``missing_codes`` (e.g. ``(-98, -99)``) become NaN with their reason.

    Returns
    -------
    values : numpy.ndarray of float
    status : numpy.ndarray of str
        ``ok``, ``parsed``, ``empty``, ``invalid``, ``dont_know``, ``refused``, ``not_applicable``.
    """
    mc = {float(c): MISSING_REASONS.get(str(int(c)), "missing_code") for c in missing_codes}
    r = parse_numbers(s, dot_thousands=dot_thousands, missing_codes=mc)
    return r.values, r.status


_ISO_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$"
_ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_FR_DATE = r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?$"


def parse_datetimes(s: pd.Series, *, naive_offset: str = "+00:00") -> tuple[pd.Series, np.ndarray]:
    """Parse timestamps written in any of three formats, to UTC.

    Formats: ISO 8601 with an offset (``2026-04-14T10:21:33.512+01:00``, as
    KoboToolbox writes ``start``/``end``), ISO 8601 without offset
    (``2026-04-14T09:52:10`` or ``2026-04-14 09:52``), and French day-first
    ``14/04/2026 10:21[:33]``. Times without offset are local times at
    ``naive_offset``.

    Returns
    -------
    values : Series of datetime64[ms, UTC]
    status : numpy.ndarray
        ``ok`` (ISO), ``reformatted`` (day-first), ``empty``, ``invalid``.
    """
    t = s.astype(str).str.strip()
    sign = -1 if naive_offset.startswith("-") else 1
    hh, mm = naive_offset.lstrip("+-").split(":")
    off = pd.Timedelta(hours=int(hh), minutes=int(mm)) * sign
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ms, UTC]")
    status = np.full(len(t), "invalid", dtype=object)
    empty = (t == "").to_numpy()
    status[empty] = "empty"
    m1 = t.str.match(_ISO_OFFSET).to_numpy(dtype=bool)
    m2 = t.str.match(_ISO_NAIVE).to_numpy(dtype=bool) & ~m1
    m3 = t.str.match(_FR_DATE).to_numpy(dtype=bool)
    if m1.any():
        v = pd.to_datetime(t[m1].str.replace(" ", "T", n=1), format="ISO8601", utc=True, errors="coerce")
        out.loc[m1] = v.astype("datetime64[ms, UTC]")
        status[m1] = np.where(v.notna(), "ok", "invalid")
    if m2.any():
        v = pd.to_datetime(t[m2], format="ISO8601", errors="coerce")
        v = (v - off).dt.tz_localize("UTC")
        out.loc[m2] = v.astype("datetime64[ms, UTC]")
        status[m2] = np.where(v.notna(), "ok", "invalid")
    if m3.any():
        sub = t[m3]
        v = pd.to_datetime(sub, format="%d/%m/%Y %H:%M:%S", errors="coerce")
        v = v.fillna(pd.to_datetime(sub, format="%d/%m/%Y %H:%M", errors="coerce"))
        v = v.fillna(pd.to_datetime(sub, format="%d/%m/%Y", errors="coerce"))
        v = (v - off).dt.tz_localize("UTC")
        out.loc[m3] = v.astype("datetime64[ms, UTC]")
        status[m3] = np.where(v.notna(), "reformatted", "invalid")
    return out, status


def out_of_range(values: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """Mask of values outside ``[lo, hi]`` (NaN never out of range).

    Examples
    --------
    >>> out_of_range(np.array([-1.0, 5.0, np.nan, 200.0]), 0, 100).tolist()
    [True, False, False, True]
    """
    v = np.asarray(values, dtype=float)
    m = np.zeros(len(v), dtype=bool)
    with np.errstate(invalid="ignore"):
        if lo is not None and not pd.isna(lo):
            m |= v < lo
        if hi is not None and not pd.isna(hi):
            m |= v > hi
    return m


def funding_shares(mat: np.ndarray, *, total: float = 100.0, tolerance: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Check that each row's shares sum to ``total``.

    Empty shares count as 0 when at least one share of the row is given
    (the form's default is 0). Rows summing to within ``tolerance`` of
    ``total`` are re-normalised (``x * total / sum``); rows further off, or
    with a negative share, are set missing (all shares of the row).

    Returns
    -------
    new : numpy.ndarray
        Shares after the rule (NaN where missing).
    status : numpy.ndarray
        Per row: ``ok``, ``renormalised``, ``off_total`` (set missing), ``empty``.

    Examples
    --------
    >>> new, st = funding_shares(np.array([[50., 51.], [20., 20.], [np.nan, np.nan]]))
    >>> st.tolist()
    ['renormalised', 'off_total', 'empty']
    """
    m = np.asarray(mat, dtype=float)
    present = ~np.isnan(m)
    anyp = present.any(axis=1)
    filled = np.where(present, m, 0.0)
    tot = filled.sum(axis=1)
    status = np.full(len(m), "ok", dtype=object)
    status[~anyp] = "empty"
    neg = (filled < 0).any(axis=1)
    exact = anyp & ~neg & np.isclose(tot, total)
    near = anyp & ~neg & ~exact & (np.abs(tot - total) <= tolerance) & (tot > 0)
    off = anyp & ~exact & ~near
    new = np.where(anyp[:, None], filled, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        new[near] = filled[near] * (total / tot[near, None])
    new[off] = np.nan
    status[near] = "renormalised"
    status[off] = "off_total"
    return new, status


def recode_other(parent: pd.Series, other_text: pd.Series, table: pd.DataFrame, *,
                 other_code: str = "autre", multiple: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Recode "autre (précisez)" answers whose text names an existing choice.

    Parameters
    ----------
    parent : Series of str
        The select question's codes (space-separated for select_multiple).
    other_text : Series of str
        The ``<question>_other`` text.
    table : DataFrame
        Rows of ``recode_other.csv`` for this question: ``text``, ``code``.
        A text matches when its :func:`fold_text` key equals the table's.
    multiple : bool
        select_multiple: ``autre`` is replaced by the code in the list.

    Returns
    -------
    new : Series of str
    changed : numpy.ndarray of bool
    """
    lut = dict(zip(fold_text(table["text"].astype(str)), table["code"].astype(str)))
    key = fold_text(other_text)
    code = key.map(lut).fillna("").to_numpy(dtype=object)
    p = parent.astype(str).to_numpy(dtype=object)
    if multiple:
        uc, uq = pd.factorize(pd.Series(p, dtype=object))
        lut_o = np.array([other_code in str(u).split() for u in uq], dtype=bool)
        has_other = lut_o[np.maximum(uc, 0)] if len(uq) else np.zeros(len(p), dtype=bool)
    else:
        has_other = p == other_code
    hit = has_other & (code != "")
    new = p.copy()
    if hit.any():
        if multiple:
            def repl(text, c):
                toks = [t for t in text.split() if t != other_code]
                if c not in toks:
                    toks.append(c)
                return " ".join(toks)

            new[hit] = [repl(t, c) for t, c in zip(p[hit], code[hit])]  # only the recoded rows
        else:
            new[hit] = code[hit]
    return pd.Series(new, index=parent.index, dtype=object), hit


def split_multiple(s: pd.Series, codes: list[str], name: str) -> pd.DataFrame:
    """select_multiple answers -> ``name/code`` 0/1 columns (NaN if unanswered) and ``name_count``.

    Examples
    --------
    >>> split_multiple(pd.Series(["a c", "", "b"]), ["a", "b", "c"], "q").to_dict("list")["q_count"]
    [2.0, nan, 1.0]
    """
    txt = s.astype(str).str.strip()
    answered = (txt != "").to_numpy()
    idx, uniq = pd.factorize(txt)
    out = {}
    sets = [set(str(u).split()) for u in uniq]
    for c in codes:
        lut = np.array([c in st for st in sets], dtype=float) if len(uniq) else np.zeros(0)
        col = lut[np.maximum(idx, 0)] if len(uniq) else np.zeros(len(txt))
        out[f"{name}/{c}"] = np.where(answered, col, np.nan)
    cnt = np.array([len(st & set(codes)) for st in sets], dtype=float) if len(uniq) else np.zeros(0)
    out[f"{name}_count"] = np.where(answered, cnt[np.maximum(idx, 0)] if len(uniq) else 0.0, np.nan)
    return pd.DataFrame(out, index=s.index)


def completeness(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Number of non-empty cells per row among ``columns``."""
    if not columns:
        return np.zeros(len(df), dtype=np.int64)
    return np.sum([(df[c].astype(str).str.strip() != "").to_numpy() for c in columns], axis=0).astype(np.int64)


def flag_tests(df: pd.DataFrame, cfg: dict, submission_time: pd.Series | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Test / pilot submissions.

    A row is a test when its ``interview_status`` is in ``cfg['interview_status']``,
    or its ``_validation_status`` in ``cfg['validation_status']``, or a name
    column (folded) matches one of ``cfg['name_patterns']``, or it was
    received before ``cfg['fieldwork_start']``.

    Returns
    -------
    flag : numpy.ndarray of bool
    reason : numpy.ndarray of str
        The first reason that applies (``""`` if none).
    """
    n = len(df)
    flag = np.zeros(n, dtype=bool)
    reason = np.full(n, "", dtype=object)

    def mark(m, why):
        new = m & ~flag
        reason[new] = why
        flag[:] = flag | m

    if "interview_status" in df and cfg.get("interview_status"):
        mark(df["interview_status"].astype(str).str.strip().isin(cfg["interview_status"]).to_numpy(), "interview_status")
    if "_validation_status" in df and cfg.get("validation_status"):
        mark(df["_validation_status"].astype(str).str.strip().isin(cfg["validation_status"]).to_numpy(),
             "validation_status")
    pats = [re.compile(p) for p in cfg.get("name_patterns") or []]
    for col in cfg.get("name_columns") or []:
        if col in df and pats:
            key = fold_text(df[col])
            m = np.zeros(n, dtype=bool)
            for p in pats:
                m |= key.str.match(p.pattern).to_numpy(dtype=bool)
            mark(m, f"{col}_pattern")
    if cfg.get("fieldwork_start") and submission_time is not None:
        start = pd.Timestamp(str(cfg["fieldwork_start"]), tz="UTC")
        mark((submission_time < start).fillna(False).to_numpy(dtype=bool), "before_fieldwork")
    return flag, reason


def flag_duplicates(uuid: pd.Series, org_key: pd.Series, complete: np.ndarray, order_key: np.ndarray,
                    eligible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Duplicates: the same ``_uuid`` twice, then the same organisation twice.

    Within each group the kept row is the most complete, then the latest
    (largest ``order_key``: submission time, then ``_id``). Rows with an empty
    ``org_key`` are only matched on ``_uuid``. Rows where ``eligible`` is
    False (e.g. test submissions) take no part.

    Returns
    -------
    flag : numpy.ndarray of bool
        True for the rows dropped as duplicates.
    kept_index : numpy.ndarray of int
        For flagged rows, the position of the row it duplicates, as found at
        its stage (-1 otherwise); a same-``_uuid`` copy may point to a row
        then dropped as a copy of the same organisation.
    kind : numpy.ndarray of str
        ``same_uuid``, ``same_organisation`` or ``""``.
    """
    n = len(uuid)
    elig = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    flag = np.zeros(n, dtype=bool)
    kept = np.full(n, -1, dtype=np.int64)
    kind = np.full(n, "", dtype=object)
    # rank rows: most complete first, then latest
    rank = np.lexsort((-np.asarray(order_key, dtype=float), -np.asarray(complete, dtype=float)))
    for key, why in ((uuid.astype(str).to_numpy(dtype=object), "same_uuid"),
                     (org_key.astype(str).to_numpy(dtype=object), "same_organisation")):
        cand = elig & ~flag & (key != "")
        order = rank[cand[rank]]
        if len(order) == 0:
            continue
        k = key[order]
        codes, _ = pd.factorize(k)
        first_pos = np.full(codes.max() + 1, -1, dtype=np.int64)
        # first occurrence in rank order = kept row of the group
        _, first_idx = np.unique(codes, return_index=True)
        first_pos[codes[first_idx]] = order[first_idx]
        is_first = np.zeros(len(order), dtype=bool)
        is_first[first_idx] = True
        dup_rows = order[~is_first]
        flag[dup_rows] = True
        kept[dup_rows] = first_pos[codes[~is_first]]
        kind[dup_rows] = why
    return flag, kept, kind


def flag_speeders(duration_min: np.ndarray, *, fraction_of_median: float = 0.3,
                  min_minutes: float | None = None, reference: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Interviews faster than ``fraction_of_median`` x the median duration (or ``min_minutes``).

    Parameters
    ----------
    duration_min : numpy.ndarray
        Durations in minutes (NaN when unknown: never a speeder).
    reference : numpy.ndarray of bool, optional
        Rows whose durations define the median (default: all rows with a
        positive duration).

    Returns
    -------
    flag : numpy.ndarray of bool
    threshold : float
        The threshold in minutes.
    """
    d = np.asarray(duration_min, dtype=float)
    ok = np.isfinite(d) & (d > 0)
    if reference is not None:
        ok &= np.asarray(reference, dtype=bool)
    if min_minutes is not None:
        thr = float(min_minutes)
    elif ok.any():
        thr = float(fraction_of_median) * float(np.median(d[ok]))
    else:
        thr = 0.0
    with np.errstate(invalid="ignore"):
        flag = np.isfinite(d) & (d < thr)
    return flag, thr


def flag_straightliners(values: pd.DataFrame, grids: dict[str, list[str]], *, min_items: int = 3,
                        min_grids: int = 4, min_share_flat: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Rows answering the Likert grids with no variation.

    ``values`` holds the items as numbers (1-5, NaN for missing and 97/98/99).
    A grid of at least ``min_items`` items is *flat* for a row when at least
    ``min_items`` items are answered and all answered items are equal. A row
    is a straightliner when it has at least ``min_grids`` answered grids and
    at least ``min_share_flat`` of them are flat.

    Returns
    -------
    flag : numpy.ndarray of bool
    share_flat : numpy.ndarray of float
        Share of flat grids per row (NaN when no grid was answered).
    """
    n = len(next(iter(values.values()))) if isinstance(values, dict) and values else len(values)
    answered = np.zeros(n, dtype=np.int64)
    flat = np.zeros(n, dtype=np.int64)
    for _g, items in grids.items():
        items = [i for i in items if i in values]
        if len(items) < min_items:
            continue
        m = np.column_stack([np.asarray(values[i], dtype=float) for i in items])
        cnt = np.sum(~np.isnan(m), axis=1)
        mx = np.max(np.where(np.isnan(m), -np.inf, m), axis=1)
        mn = np.min(np.where(np.isnan(m), np.inf, m), axis=1)
        ok = cnt >= min_items
        answered += ok
        flat += ok & (mx == mn)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(answered > 0, flat / np.maximum(answered, 1), np.nan)
    flag = (answered >= min_grids) & (share >= min_share_flat)
    return flag, share


def pseudonymous_id(uuid: pd.Series, *, key: str = "si-survey") -> pd.Series:
    """``resp_id``: ``"R"`` + the first 12 hex digits of SHA-256(key + "|" + _uuid).

    Stable: the same ``_uuid`` always gets the same ``resp_id`` (across runs
    and machines); it does not reveal the ``_uuid`` (the link table in
    ``private/`` holds the correspondence).

    Examples
    --------
    >>> pseudonymous_id(pd.Series(["abc"])).tolist()[0] == pseudonymous_id(pd.Series(["abc"])).tolist()[0]
    True
    """
    def fn(u):
        return ["R" + hashlib.sha256(f"{key}|{x}".encode()).hexdigest()[:12] for x in u]

    return _on_unique(uuid.astype(str), fn)
