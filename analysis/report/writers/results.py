"""The results CSVs: ``results/<id>__<name>.csv``, the unformatted numbers behind each table.

Not written when they hold counts below the small-cell threshold: the rendered
table shows those with small-cell suppression, and the raw numbers would undo it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["write_results_csv", "small_counts", "write_results"]


def small_counts(df: pd.DataFrame, threshold: int) -> bool:
    """True if a count column (``n``, ``n_*``, ``count``) holds a value from 1 to threshold - 1.

    Examples
    --------
    >>> small_counts(pd.DataFrame({"n": [12, 3]}), 5), small_counts(pd.DataFrame({"n": [0, 12]}), 5)
    (True, False)
    """
    for c in df.columns:
        name = str(c)
        if name in ("n", "count") or name.startswith("n_") or name.endswith("_count"):
            x = pd.to_numeric(df[c], errors="coerce")
            if ((x >= 1) & (x < threshold)).any():
                return True
    return False


def write_results_csv(obj, path: Path, threshold: int = 5) -> bool:
    """Write the unformatted numbers behind a table; not when they hold small cells.

    Returns False (nothing written) for objects without a tidy frame and for frames
    with counts below ``threshold``: the rendered table shows those with small-cell
    suppression, and the raw numbers would undo it.
    """
    from analysis.tables import neutralize_formula_column

    if isinstance(obj, pd.DataFrame):
        df = obj
    elif hasattr(obj, "to_frame"):
        try:
            df = obj.to_frame()
        except (TypeError, ValueError):
            return False
    else:
        return False
    if not isinstance(df, pd.DataFrame) or small_counts(df, threshold):
        return False
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = neutralize_formula_column(df[c])
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=not isinstance(df.index, pd.RangeIndex), float_format="%.10g", lineterminator="\n")
    return True


def write_results(table_id: str, results: dict, out_dir: Path, threshold: int = 5) -> list[Path]:
    """The results CSVs of one plan entry (``results`` : name -> tidy frame or result object)."""
    files = []
    for name, obj in results.items():
        path = out_dir / "results" / f"{table_id}__{name}.csv"
        if write_results_csv(obj, path, threshold):
            files.append(path)
    return files
