"""Vectorised steps of the export readers (CSV parsing, checks on whole columns, XLSX cells as text).

The readers in :mod:`analysis.ingest._readers` decide *what* a file means;
this module only makes the column-wide steps fast, with exactly the results
of the cell-by-cell definitions they replace:

* :func:`parse_csv` parses the whole CSV with pyarrow, every column as text,
  in blocks small enough for both cores to share the work (a 1 MB block per
  thread, as pyarrow's own default), and again in 16 MB blocks when a row is
  longer than a block (pyarrow cannot parse a row that straddles two blocks);
  the cells are the same whatever the block size;
* :func:`oversized_cell` finds the first cell longer than the limit from the
  byte lengths Arrow already stores (a cell has at least as many bytes as
  characters), counting characters only in a column that may hold one;
* :func:`only_among` tells whether a column holds nothing but the given
  values (after stripping spaces) from its distinct values, without coding
  every cell;
* :func:`sheet_frame` turns the rows of a worksheet (python-calamine or
  openpyxl values) into text column by column: text cells are kept as they
  are, numbers are formatted in one numpy pass, and only the other cells
  (booleans, dates) go through the reader's cell-by-cell ``cell_text``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["parse_csv", "oversized_cell", "only_among", "sheet_frame"]

#: Block used when a row does not fit in a small block (and the reader's block size before the
#: small blocks): a row of up to 16 MB is parsed.
LARGE_BLOCK = 1 << 24
SMALL_BLOCK = 1 << 20


def parse_csv(data: bytes, names: list[str], delimiter: str):
    """Parse CSV bytes (header line skipped) into a pyarrow Table of ``large_string`` columns.

    Parameters
    ----------
    data : bytes
        The UTF-8 file content, header line included (it is skipped).
    names : list of str
        One name per column.
    delimiter : str
        The separator.

    Returns
    -------
    pyarrow.Table
        Every cell as text: ``""`` for an empty cell (no null), quotes removed,
        ``""`` inside quotes read as ``"``; blank lines ignored.

    Raises
    ------
    pyarrow.ArrowInvalid
        When the bytes are not a well-formed CSV of ``len(names)`` columns (or
        not UTF-8): the caller diagnoses the file.

    Examples
    --------
    >>> t = parse_csv(b'a;b\\n1;"x;y"\\n\\n;3\\n', ["a", "b"], ";")
    >>> t.column("a").to_pylist(), t.column("b").to_pylist()
    (['1', ''], ['x;y', '3'])
    """
    import pyarrow as pa

    try:
        return _parse(data, names, delimiter, SMALL_BLOCK if len(data) > 2 * SMALL_BLOCK else LARGE_BLOCK)
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise
    return _parse(data, names, delimiter, LARGE_BLOCK)


def _parse(data: bytes, names: list[str], delimiter: str, block_size: int):
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=block_size),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                         newlines_in_values=True, ignore_empty_lines=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.large_string() for n in names}, strings_can_be_null=False,
            quoted_strings_can_be_null=False, null_values=[]),
    )


def _max_bytes(col) -> int:
    """Longest cell of a string ChunkedArray in bytes, read from the offsets buffers (no copy)."""
    import pyarrow as pa

    longest = 0
    for ch in col.chunks:
        if len(ch) == 0:
            continue
        if not (pa.types.is_large_string(ch.type) or pa.types.is_string(ch.type)):
            import pyarrow.compute as pc

            longest = max(longest, pc.max(pc.binary_length(ch)).as_py() or 0)
            continue
        dtype = np.int64 if pa.types.is_large_string(ch.type) else np.int32
        off = np.frombuffer(ch.buffers()[1], dtype=dtype)[ch.offset: ch.offset + len(ch) + 1]
        longest = max(longest, int(np.diff(off).max()))
    return longest


def oversized_cell(table, limit: int) -> tuple[int, int, int] | None:
    """The first column holding a cell of more than ``limit`` characters.

    Parameters
    ----------
    table : pyarrow.Table
        Text columns.
    limit : int
        Longest cell accepted (characters).

    Returns
    -------
    tuple or None
        ``(column index, length in characters of its longest cell, row index
        of that cell)``, or None when no cell is too long.

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = pa.table({"a": ["é" * 3, "b"], "b": ["abcd", ""]})
    >>> oversized_cell(t, 3), oversized_cell(t, 4)
    ((1, 4, 0), None)
    """
    import pyarrow.compute as pc

    for i, col in enumerate(table.columns):
        if not (col.num_chunks and len(col)) or _max_bytes(col) <= limit:
            continue  # bytes >= characters: nothing too long here
        lengths = pc.utf8_length(col)
        mx = pc.max(lengths).as_py()
        if mx is not None and mx > limit:
            return i, mx, int(np.argmax(lengths.to_numpy(zero_copy_only=False)))
    return None


def only_among(s: pd.Series, allowed) -> bool:
    """Whether every cell of ``s``, stripped of spaces, is ``""`` or one of ``allowed``.

    Examples
    --------
    >>> only_among(pd.Series(["1", " 2", ""]), {"1", "2"}), only_among(pd.Series(["1", "oui"]), {"1"})
    (True, False)
    """
    return all(str(u).strip() in allowed or str(u).strip() == "" for u in pd.unique(s))


_INT_SAFE = 1e15


def _numbers_text(values: np.ndarray) -> np.ndarray:
    """Python floats as the reader writes them: integral values without ``.0``, others by ``repr``, NaN/inf ``""``."""
    arr = values.astype(np.float64)
    out = np.full(len(arr), "", dtype=object)
    ok = np.isfinite(arr)
    integral = ok & (np.abs(arr) < _INT_SAFE) & (arr == np.floor(arr))
    if integral.any():
        out[integral] = arr[integral].astype(np.int64).astype(str).astype(object)
    other = ok & ~integral
    if other.any():
        out[other] = [repr(x) for x in arr[other].tolist()]
    return out


def _of_type(kinds: np.ndarray, t: type) -> np.ndarray:
    """Element-wise ``type(v) is t`` over an object array of types (exact type: ``bool`` is not ``int``)."""
    return kinds == t


def _column_text(col, cell_text) -> np.ndarray:
    """One worksheet column (a sequence of cell values) as an object array of ``cell_text(value)``."""
    n = len(col)
    obj = np.fromiter(col, dtype=object, count=n)
    kinds = np.fromiter(map(type, col), dtype=object, count=n)
    is_str = _of_type(kinds, str)
    if is_str.all():
        return obj
    out = np.empty(n, dtype=object)
    out[is_str] = obj[is_str]
    done = is_str
    is_float = _of_type(kinds, float)
    if is_float.any():
        out[is_float] = _numbers_text(obj[is_float])
        done = done | is_float
    is_none = _of_type(kinds, type(None))
    if is_none.any():
        out[is_none] = ""
        done = done | is_none
    is_int = _of_type(kinds, int)
    if is_int.any():
        out[is_int] = list(map(str, obj[is_int]))
        done = done | is_int
    rest = ~done
    if rest.any():
        out[rest] = [cell_text(v) for v in obj[rest]]
    return out


def sheet_frame(header, rows, cell_text) -> pd.DataFrame:
    """A worksheet's rows as a DataFrame of text named by its header row.

    Parameters
    ----------
    header : sequence
        The first row (trailing empty cells dropped: they give the number of columns).
    rows : sequence of sequences
        The other rows; cells beyond the header's width are ignored, missing
        cells are ``""``.
    cell_text : callable
        The reader's text of one cell (the definition this vectorises).

    Returns
    -------
    pandas.DataFrame
        Text columns (``str`` dtype; ``object`` when there is no row).

    Examples
    --------
    >>> df = sheet_frame(["a", "b", None], [["x", 1.0], [2.5, None, "z"], [True]], str)
    >>> df.to_dict("list")
    {'a': ['x', '2.5', 'True'], 'b': ['1', '', '']}
    """
    header = list(header)
    while header and (header[-1] is None or header[-1] == ""):
        header = header[:-1]
    ncols = len(header)
    head = [cell_text(h).strip() for h in header]
    if not len(rows):
        df = pd.DataFrame(columns=range(ncols))
        df.columns = head
        return df.astype(object)
    rows = [r if len(r) == ncols else list(r[:ncols]) + [""] * (ncols - len(r)) for r in rows]
    if not ncols:
        return pd.DataFrame(index=range(len(rows)), columns=head).astype(str)
    import pyarrow as pa

    cols = {str(i): pa.array(_column_text(c, cell_text), type=pa.large_string()) for i, c in enumerate(zip(*rows))}
    df = pa.table(cols).to_pandas()  # str columns, as ``astype(str)`` makes them, without a cell-by-cell check
    df.columns = head
    return df
