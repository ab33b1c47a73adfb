"""Shared helpers of the table writers: atomic writes, stable zip archives, inputs.

Atomic writes come from :mod:`analysis.utils.atomic` (temporary file + rename).

Examples
--------
>>> neutralize_formula("=SUM(A1:A2)")
"'=SUM(A1:A2)"
>>> neutralize_formula("Association")
'Association'
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd

from analysis.utils.atomic import atomic_write_bytes, atomic_write_text
from analysis.errors import InputError
from analysis.tables.builder import RenderedTable, Table

__all__ = [
    "FIXED_TIMESTAMP",
    "FORMULA_PREFIXES",
    "atomic_write_bytes",
    "atomic_write_text",
    "neutralize_formula",
    "neutralize_formula_column",
    "stable_zip",
    "as_rendered",
    "as_rendered_list",
]

#: Date written into docx/xlsx properties and zip entries so that output is byte-stable.
FIXED_TIMESTAMP = datetime(2026, 1, 1, 0, 0, 0)

#: First characters that make a spreadsheet treat a text cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(text: object) -> object:
    """Prefix with ``'`` a text that a spreadsheet would run as a formula.

    Non-text values are returned unchanged.

    Parameters
    ----------
    text : object

    Returns
    -------
    object

    Examples
    --------
    >>> neutralize_formula("+33 6"), neutralize_formula("@x"), neutralize_formula(-1.5)
    ("'+33 6", "'@x", -1.5)
    """
    if isinstance(text, str) and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def neutralize_formula_column(values: pd.Series) -> pd.Series:
    """:func:`neutralize_formula` on every cell of a column, checked on its distinct values.

    Returns the column itself when no cell needs it, else an object copy.

    Examples
    --------
    >>> import pandas as pd
    >>> neutralize_formula_column(pd.Series(["=1+1", "ok", None, 2.5])).tolist()
    ["'=1+1", 'ok', None, 2.5]
    """
    if not len(values):
        return values
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    fixed = np.array([neutralize_formula(u) for u in np.asarray(uniq, dtype=object)], dtype=object)
    bad = np.array([f is not u for f, u in zip(fixed, np.asarray(uniq, dtype=object))], dtype=bool)
    if not bad.any():
        return values
    hit = codes >= 0
    hit[hit] = bad[codes[hit]]
    out = values.astype(object).copy()
    out[hit] = fixed[codes[hit]]
    return out


_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def stable_zip(data: bytes) -> bytes:
    """Rewrite a zip archive (docx, xlsx) with fixed entry dates, in the same entry order.

    The creation and modification dates of ``docProps/core.xml`` are set to
    :data:`FIXED_TIMESTAMP` too (openpyxl stamps the saving time there).

    Examples
    --------
    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("a.xml", "<a/>")
    >>> z = zipfile.ZipFile(io.BytesIO(stable_zip(buf.getvalue())))
    >>> z.getinfo("a.xml").date_time
    (2026, 1, 1, 0, 0, 0)
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = FIXED_TIMESTAMP.timetuple()[:6]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=stamp)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp_text = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                payload = _CORE_DATES.sub(rb"\g<1>" + stamp_text + rb"\g<2>", payload)
            dst.writestr(new, payload)
    return out.getvalue()


def as_rendered(table: Table | RenderedTable) -> RenderedTable:
    """Render a :class:`Table` (a :class:`RenderedTable` is returned unchanged)."""
    if isinstance(table, RenderedTable):
        return table
    if isinstance(table, Table):
        return table.render()
    raise InputError(
        "A writer needs a Table.", value=type(table).__name__, expected="analysis.tables.Table"
    )


def as_rendered_list(tables: Table | RenderedTable | Iterable[Table | RenderedTable]) -> list[RenderedTable]:
    """Accept one table or several and return them rendered."""
    if isinstance(tables, Table | RenderedTable):
        return [as_rendered(tables)]
    out = [as_rendered(t) for t in tables]
    if not out:
        raise InputError("No table to write.", expected="at least one Table")
    return out
