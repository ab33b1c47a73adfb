"""Small-cell suppression of published counts (statistical disclosure control).

Counts below a threshold (default 5) are replaced by a marker, together with the
percentages derived from them (primary suppression). Then, so that a hidden count
cannot be recovered by subtraction from a published total, every row and every
column of the count block that holds exactly one hidden cell gets a second one
hidden: the smallest other count of that line (complementary suppression),
repeated until no line has a single hidden cell. Total rows and columns, when the
frame has them, are ordinary lines of the block; they are largest, so they are
hidden last.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"region": ["A", "B", "C", "Total"],
...                    "assoc": [12, 3, 20, 35], "coop": [8, 9, 15, 32]})
>>> res = suppress_small_cells(df, ["assoc", "coop"])
>>> res.frame["assoc"].tolist(), res.frame["coop"].tolist()
(['s', 's', 20, 35], ['s', 's', 15, 32])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.errors import ConfigError, InputError
from analysis.tables.formatting import get_locale

__all__ = ["suppress_small_cells", "SuppressionResult"]


class SuppressionResult(NamedTuple):
    """The suppressed frame and the note that explains it (unpacks as ``frame, note``).

    Attributes
    ----------
    frame : pandas.DataFrame
        Copy of the input with hidden cells replaced by the marker (those columns
        become ``object``).
    note : str
        Sentence for the table note (empty when nothing was hidden).
    """

    frame: pd.DataFrame
    note: str


_NOTES = {
    "fr": (
        "Les effectifs inférieurs à {t} sont masqués ({m}){pct}.",
        ", de même que les pourcentages qui en découlent",
        " {k} autre{s} cellule{s} {verb} masquée{s} pour qu'on ne puisse pas les retrouver à partir des totaux.",
    ),
    "en": (
        "Counts below {t} are suppressed ({m}){pct}.",
        ", as are the percentages derived from them",
        " {k} other cell{s} {verb} suppressed so that hidden counts cannot be recovered from totals.",
    ),
}


def _complement(values: np.ndarray, hidden: np.ndarray, axes: Sequence[int]) -> np.ndarray:
    """Hide more cells until no line along `axes` has exactly one hidden cell."""
    hidden = hidden.copy()
    available = ~np.isnan(values)
    changed = True
    while changed:
        changed = False
        for axis in axes:
            n_lines = values.shape[0] if axis == 1 else values.shape[1]
            length = values.shape[1] if axis == 1 else values.shape[0]
            if length < 2:
                continue
            for k in range(n_lines):
                line_hidden = hidden[k, :] if axis == 1 else hidden[:, k]
                if line_hidden.sum() != 1:
                    continue
                line_vals = values[k, :] if axis == 1 else values[:, k]
                line_ok = available[k, :] if axis == 1 else available[:, k]
                candidates = [
                    j for j in range(length) if not line_hidden[j] and line_ok[j]
                ]
                if not candidates:
                    continue
                # smallest positive count first (a hidden zero protects poorly)
                j = min(candidates, key=lambda j: (line_vals[j] == 0, line_vals[j], j))
                if axis == 1:
                    hidden[k, j] = True
                else:
                    hidden[j, k] = True
                changed = True
    return hidden


def suppress_small_cells(
    table_df: pd.DataFrame,
    count_columns: str | Sequence[str],
    threshold: int = 5,
    *,
    percent_columns: Mapping[str, str | Sequence[str]] | None = None,
    marker: str = "s",
    complementary: str | None = "both",
    keep_zeros: bool = False,
    locale: str = "fr",
) -> SuppressionResult:
    """Hide counts below `threshold`, their percentages, and complementary cells.

    Parameters
    ----------
    table_df : pandas.DataFrame
        A table of counts (one row per category; total rows/columns may be included).
    count_columns : str or list of str
        Columns holding counts (the block checked and protected).
    threshold : int, default 5
        Counts strictly below are hidden.
    percent_columns : mapping, optional
        Count column -> percentage column(s) derived from it, hidden in the same rows.
    marker : str, default "s"
        Text put in hidden cells.
    complementary : {"both", "rows", "columns", None}, default "both"
        Lines protected against recovery from totals: along rows (row totals are
        published), columns (column totals), both, or none.
    keep_zeros : bool, default False
        Publish zero counts (by default they are hidden too, so that no published
        count is below the threshold).
    locale : {"fr", "en"}, default "fr"
        Language of the note.

    Returns
    -------
    SuppressionResult
        ``(frame, note)``.

    Raises
    ------
    InputError
        If a count column is missing or holds non-numeric values.
    ConfigError
        For a bad threshold or `complementary` option.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"n": [2, 10, 30], "pct": [0.05, 0.24, 0.71]})
    >>> frame, note = suppress_small_cells(df, "n", percent_columns={"n": "pct"}, locale="en")
    >>> frame["n"].tolist(), frame["pct"].tolist()
    (['s', 's', 30], ['s', 's', 0.71])
    >>> note
    'Counts below 5 are suppressed (s), as are the percentages derived from them. 1 other cell is suppressed so that hidden counts cannot be recovered from totals.'
    """
    cols = [count_columns] if isinstance(count_columns, str) else list(count_columns)
    if threshold < 1:
        raise ConfigError(f"Suppression threshold must be >= 1, got {threshold}.")
    axes_for = {"both": (1, 0), "rows": (1,), "columns": (0,), None: ()}
    if complementary not in axes_for:
        raise ConfigError(
            f"complementary must be 'both', 'rows', 'columns' or None, got {complementary!r}."
        )
    texts = _NOTES[get_locale(locale).code]
    derived: dict[str, list[str]] = {}
    for c, p in (percent_columns or {}).items():
        derived[c] = [p] if isinstance(p, str) else list(p)
    for c in cols + [p for ps in derived.values() for p in ps] + list(derived):
        if c not in table_df.columns:
            raise InputError("Unknown column for small-cell suppression.", column=c,
                             expected=f"one of {list(table_df.columns)}")
    extra = [c for c in derived if c not in cols]
    if extra:
        raise ConfigError(f"percent_columns keys must be count columns; got {extra}.")
    try:
        values = table_df[cols].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"Counts must be numbers ({exc}).", expected="numeric count columns") from None

    low = values < threshold
    if keep_zeros:
        low &= values != 0
    hidden = low & ~np.isnan(values)
    n_primary = int(hidden.sum())
    if n_primary and complementary is not None:
        hidden = _complement(values, hidden, axes_for[complementary])
    n_secondary = int(hidden.sum()) - n_primary

    frame = table_df.copy()
    for j, c in enumerate(cols):
        if not hidden[:, j].any():
            continue
        targets = [c] + derived.get(c, [])
        for t in targets:
            col = frame[t].astype(object)
            col[hidden[:, j]] = marker
            frame[t] = col
    if n_primary == 0:
        return SuppressionResult(frame, "")
    note = texts[0].format(t=threshold, m=marker, pct=texts[1] if derived else "")
    if n_secondary:
        plural = n_secondary > 1
        verb = ("sont" if plural else "est") if locale == "fr" else ("are" if plural else "is")
        note += texts[2].format(k=n_secondary, s="s" if plural else "", verb=verb)
    return SuppressionResult(frame, note)
