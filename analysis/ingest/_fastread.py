"""Vectorised steps of the export readers (CSV parsing, checks on whole columns, XLSX cells as text).

The readers in :mod:`analysis.ingest._readers` decide *what* a file means;
this module only makes the column-wide steps fast, with exactly the results
of the cell-by-cell definitions they replace:

* :func:`parse_csv` parses the whole CSV with pyarrow, every column as text,
  in blocks of about a sixteenth of the file (4 to 16 MB), so that both cores
  share the work, and again in 16 MB blocks when a row is longer than a block
  (pyarrow cannot parse a row that straddles two blocks); the cells are the
  same whatever the block size;
* :func:`oversized_cell` finds the first cell longer than the limit from the
  byte lengths Arrow already stores (a cell has at least as many bytes as
  characters), counting characters only in a column that may hold one;
* :func:`only_among` tells whether a column holds nothing but the given
  values (after stripping spaces) from its distinct values, without coding
  every cell; :func:`zero_one` whether a column holds only ``""``, ``"0"``
  and ``"1"``, from the bytes themselves;
* :func:`sheet_frame` turns the rows of a worksheet (python-calamine or
  openpyxl values) into text column by column: text cells are kept as they
  are, numbers are formatted in one numpy pass, and only the other cells
  (booleans, dates) go through the reader's cell-by-cell ``cell_text``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["parse_csv", "oversized_cell", "only_among", "zero_one", "sheet_frame"]

#: Largest block, and the block used again when a row does not fit in a smaller one: a row of up
#: to 16 MB is parsed.
LARGE_BLOCK = 1 << 24
#: Smallest block: below two of them, splitting the parse costs more than it saves.
SMALL_BLOCK = 1 << 22


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
        return _parse(data, names, delimiter, block_size(len(data)))
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise
    return _parse(data, names, delimiter, LARGE_BLOCK)


def block_size(n_bytes: int) -> int:
    """Block of about a sixteenth of the file, between 4 MB and 16 MB.

    Enough blocks for pyarrow's threads to share the parsing, few enough that
    the columns are not cut into thousands of chunks (every later step loops
    over the chunks).

    Examples
    --------
    >>> block_size(5_000) == SMALL_BLOCK, block_size(10**9) == LARGE_BLOCK, block_size(64 << 20) >> 20
    (True, True, 4)
    """
    return int(min(max(n_bytes // 16, SMALL_BLOCK), LARGE_BLOCK))


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
        if not (col.num_chunks and len(col)) or col.nbytes <= limit or _max_bytes(col) <= limit:
            continue  # bytes >= characters (and a column's bytes >= any cell's): nothing too long here
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


def zero_one(s: pd.Series) -> bool:
    """Whether every cell of a text column is ``""``, ``"0"`` or ``"1"``, read from Arrow's buffers.

    False means "not shown this way" (a column that is not Arrow-backed, or
    holds a missing value, or any other text): the caller then checks the
    distinct values.

    Examples
    --------
    >>> zero_one(pd.Series(["1", "", "0"], dtype="str")), zero_one(pd.Series(["1", "10"], dtype="str"))
    (True, False)
    """
    import pyarrow as pa

    to_arrow = getattr(s.array, "__arrow_array__", None)
    if to_arrow is None:
        return False
    try:
        arr = to_arrow()
    except (TypeError, pa.ArrowException):
        return False
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for ch in chunks:
        if not len(ch):
            continue
        if ch.null_count or not (pa.types.is_large_string(ch.type) or pa.types.is_string(ch.type)):
            return False
        dtype = np.int64 if pa.types.is_large_string(ch.type) else np.int32
        off = np.frombuffer(ch.buffers()[1], dtype=dtype)[ch.offset: ch.offset + len(ch) + 1]
        if np.diff(off).max() > 1:
            return False
        data = np.frombuffer(ch.buffers()[2], dtype=np.uint8)[off[0]: off[-1]] if off[-1] > off[0] else ()
        if len(data) and not ((data == 48) | (data == 49)).all():
            return False
    return True


_INT_SAFE = 1e15
_SMALL_INTS = 1 << 16
_STR, _FLOAT, _OTHER = 0, 1, 2


class _Kinds(dict):
    def __missing__(self, key):
        return _OTHER


#: type of a cell -> kind code (exact types: ``bool`` and numpy scalars are "other").
_KIND = _Kinds({str: _STR, float: _FLOAT})


def _cells_text(cells: np.ndarray, cell_text):
    """``cell_text`` of every cell of an object array, as the pieces of one Arrow string array.

    Returns ``(pieces, source)``: the text of cell ``k`` is element ``source[k]``
    of the concatenated pieces. Text cells are taken as they are, floats are
    formatted in one vectorised pass (integral values below 1e15 without
    ``.0``, others by ``repr``, NaN and infinities ``""``, as ``cell_text``
    does; integers from 0 to 65535 point into one shared list of their
    texts), and only the other cells call ``cell_text`` one by one.
    """
    import pyarrow as pa

    n = len(cells)
    kinds = np.fromiter(map(_KIND.__getitem__, map(type, cells)), dtype=np.int8, count=n)
    source = np.empty(n, dtype=np.int64)
    pieces, start = [], 0

    def put(where: np.ndarray, piece) -> None:
        nonlocal start
        source[where] = start + np.arange(len(where), dtype=np.int64)
        pieces.append(piece)
        start += len(where)

    where = np.flatnonzero(kinds == _STR)
    put(where, pa.array(cells[where], type=pa.large_string()))
    where = np.flatnonzero(kinds == _FLOAT)
    if len(where):
        f = cells[where].astype(np.float64)
        ok = np.isfinite(f)
        integral = ok & (np.abs(f) < _INT_SAFE) & (f == np.floor(f))
        other = ok & ~integral
        ints = f[integral].astype(np.int64)
        small = (ints >= 0) & (ints < _SMALL_INTS)
        if small.any():  # codes and counts: one text per value, shared (no formatting per cell)
            top = int(ints[small].max()) + 1
            source[where[integral][small]] = start + ints[small]
            pieces.append(pa.array([str(i) for i in range(top)], type=pa.large_string()))
            start += top
        put(where[integral][~small], pa.array(ints[~small]).cast(pa.large_string()))
        put(where[other], pa.array([repr(x) for x in f[other].tolist()], type=pa.large_string()))
        put(where[~ok], pa.array([""] * int((~ok).sum()), type=pa.large_string()))
    where = np.flatnonzero(kinds == _OTHER)
    if len(where):
        put(where, pa.array([cell_text(v) for v in cells[where]], type=pa.large_string()))
    return pieces, source


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
        The reader's text of one cell (the definition this vectorises; called
        for the cells that are neither ``str`` nor ``float``).

    Returns
    -------
    pandas.DataFrame
        Text columns (``str`` dtype; ``object`` when there is no row).

    Notes
    -----
    The cells are visited in the order the rows hold them (row after row:
    the order in which the workbook reader created them, so that memory is
    read sequentially), and one Arrow ``take`` both assembles the pieces and
    turns the rows into columns.

    Examples
    --------
    >>> df = sheet_frame(["a", "b", None], [["x", 1.0], [2.5, None, "z"], [True]], str)
    >>> df.to_dict("list")
    {'a': ['x', '2.5', 'True'], 'b': ['1', 'None', '']}
    """
    import itertools

    import pyarrow as pa

    header = list(header)
    while header and (header[-1] is None or header[-1] == ""):
        header = header[:-1]
    ncols = len(header)
    head = [cell_text(h).strip() for h in header]
    if not len(rows):
        df = pd.DataFrame(columns=range(ncols))
        df.columns = head
        return df.astype(object)
    n = len(rows)
    if not ncols:
        return pd.DataFrame(index=range(n), columns=head).astype(str)
    rows = [r if len(r) == ncols else list(r[:ncols]) + [""] * (ncols - len(r)) for r in rows]
    cells = np.fromiter(itertools.chain.from_iterable(rows), dtype=object, count=n * ncols)
    pieces, source = _cells_text(cells, cell_text)
    del cells
    by_column = source.reshape(n, ncols).T.ravel()  # column after column
    text = pa.concat_arrays(pieces).take(pa.array(by_column))
    df = pa.table({str(j): text.slice(j * n, n) for j in range(ncols)}).to_pandas()
    df.columns = head  # str columns, as ``astype(str)`` makes them
    return df
