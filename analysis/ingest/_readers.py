"""Read raw survey exports (KoboToolbox CSV/XLSX, SPSS, Stata, plain CSV) as text.

Every reader returns the cells **as written** (strings, ``""`` for empty
cells): no type is guessed, so that validation sees what the file holds.
Only the *representation* is normalised here, and each such step is reported
in :attr:`RawTable.notes`:

* the file format is taken from the file's content, not its extension
  (a ``.csv`` that is really an XLSX workbook is read as a workbook, with a note);
* text encoding: UTF-8 with or without BOM, UTF-16 with BOM; a file that is
  not valid UTF-8 is decoded as Windows-1256 (Arabic) or Windows-1252
  (French), whichever makes sense of its bytes, with a note;
* CSV separator sniffed among ``;``, ``,``, tab and ``|`` (the one whose header
  names the most questionnaire columns); CRLF or LF line ends; quoted fields
  may hold line breaks;
* headers: group paths (``sec_a/org_name``) are stripped when every prefix is
  a group of the form; labels (KoboToolbox "labels" export, any language of
  the form, with or without their groups' labels: ``Organisation/Nombre de
  salariés``, any separator) are mapped back to names, a label that reads as
  several columns is reported and set aside (:mod:`analysis.ingest._labels`);
  SPSS/Stata-safe names (``kobo_uuid``, ``target_groups_women``) are mapped
  back to the export names;
* values: a select column exported with labels (any form language) instead of
  codes is mapped back to codes when most of its cells are labels (a column
  of codes with a few odd values is left alone: cleaning handles those cell by
  cell, with a log row each); a select_multiple answer of labels separated by
  spaces is read by the longest labels first; select_multiple option columns
  holding ``True/False`` or ``Oui/Non`` become ``1/0``.

Each row keeps ``_source_file`` (the file name) and ``_source_row`` (its row
number as a spreadsheet shows it: header = 1, first submission = 2).

Problems that make a file unusable raise :class:`analysis.errors.InputError`
naming the file, the row and the column where possible: empty file, binary
data, truncated or unbalanced quotes (rows with the wrong number of fields),
duplicated header names, oversized cells, files from another form.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.ingest import _fastread
from analysis.ingest._headers import CENTRAL_SYSTEM, HeaderMap, header_map
from analysis.ingest._kobocat import (
    blank_placeholders,
    is_kobocat_legacy,
    is_repeat_slot,
    placeholder_codes,
)
from analysis.ingest._labels import labels_to_codes

__all__ = [
    "RawTable",
    "read_export",
    "read_exports",
    "sniff_format",
    "HeaderMap",
    "header_map",
    "MAX_FIELD_CHARS",
    "SOURCE_COLUMNS",
]

#: Longest cell accepted (characters); longer cells are reported as a broken file.
MAX_FIELD_CHARS = 100_000
#: Columns added to every row by the readers.
SOURCE_COLUMNS = ("_source_file", "_source_row")

_DELIMITERS = (";", ",", "\t", "|")
_TRUE = {"1", "true", "vrai", "oui", "yes", "selected", "نعم"}



@dataclass
class RawTable:
    """One raw export as read.

    Attributes
    ----------
    data : pandas.DataFrame
        Cells as strings, columns renamed to export names, plus ``_source_file`` and ``_source_row``.
    path : Path
        The file.
    format : str
        ``csv``, ``xlsx``, ``sav`` or ``dta``.
    encoding, delimiter : str or None
        What the CSV reader used.
    notes : list of str
        Representation changes and recoveries worth reporting.
    renamed : dict
        ``{header as written: export name}`` for renamed headers.
    unknown_columns : list of str
        Headers that are not columns of the questionnaire's export.
    label_columns : dict
        ``{column: number of cells}`` mapped from labels to codes.
    set_aside : list of str
        Another exporter's system columns without a Kobo counterpart (ODK
        Central's ``DeviceID``, ``Edits``, ``AttachmentsPresent``...): not
        survey answers, left out of :attr:`data`.
    """

    data: pd.DataFrame
    path: Path
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)
    renamed: dict = field(default_factory=dict)
    unknown_columns: list = field(default_factory=list)
    label_columns: dict = field(default_factory=dict)
    set_aside: list = field(default_factory=list)


# --------------------------------------------------------------------------- format and encoding


def sniff_format(path: str | Path, head: bytes | None = None) -> str:
    """Return ``csv``, ``xlsx``, ``sav``, ``dta``, ``xls`` or ``binary`` from the file's first bytes."""
    if head is None:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith((b"$FL2", b"$FL3")):
        return "sav"
    if head.startswith(b"<stata_dta>") or (len(head) > 2 and head[0] in (113, 114, 115) and head[1] in (1, 2)):
        return "dta"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"
    sample = head[:4096]
    if b"\x00" in sample:
        return "binary"
    ctrl = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if sample and ctrl / len(sample) > 0.01:
        return "binary"
    return "csv"


_EXT = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".sav": "sav",
        ".zsav": "sav", ".dta": "dta", ".xls": "xls"}


def _decode(raw: bytes, path: Path, notes: list) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _encoding_error(raw[3:], exc, path) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError("the file starts like UTF-16 text but cannot be decoded", file=path,
                             expected="a UTF-8 (or UTF-16) text export") from exc
        notes.append(f"{path.name}: decoded as UTF-16")
        return text, "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    ar = raw.decode("cp1256", errors="replace")
    la = raw.decode("cp1252", errors="replace")
    n_ar = sum(1 for c in ar if "\u0600" <= c <= "\u06ff")
    n_la = sum(1 for c in la if c in "àâäçéèêëîïôöùûüÿœæÀÂÇÉÈÊËÎÏÔÙÛÜ«»’€")
    if n_ar > n_la:
        try:
            text = raw.decode("cp1256")
        except UnicodeDecodeError as exc:
            raise _encoding_error(raw, exc, path) from None
        notes.append(f"{path.name}: not UTF-8; decoded as Windows-1256 (Arabic Windows encoding)")
        return text, "cp1256"
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _encoding_error(raw, exc, path) from None
    notes.append(f"{path.name}: not UTF-8; decoded as Windows-1252 (Western European Windows encoding)")
    return text, "cp1252"


def _encoding_error(raw: bytes, exc: UnicodeDecodeError, path: Path) -> InputError:
    line = raw[: exc.start].count(b"\n") + 1
    return InputError(
        "the file is not valid text in any supported encoding", file=path, row=line,
        value=raw[exc.start: exc.start + 8], expected="UTF-8 text (or Windows-1256/1252)",
    )


# --------------------------------------------------------------------------- CSV


def _header_fields(text: str, delim: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text[:1_000_000]), delimiter=delim), [])
    return first


def _choose_delimiter(text: str, hmap: HeaderMap, path: Path) -> tuple[str, list[str]]:
    best = None
    for d in _DELIMITERS:
        try:
            fields = _header_fields(text, d)
        except csv.Error:
            continue
        known = sum(1 for f in fields if hmap.resolve(f) is not None)
        score = (known, len(fields))
        if best is None or score > best[0]:
            best = (score, d, fields)
    if best is None or best[0][1] <= 1:
        raise InputError(
            "cannot find the column separator in the header line", file=path, row=1,
            value=text.split("\n", 1)[0][:80], expected="a header separated by ';', ',' or tabs",
        )
    return best[1], best[2]


def _diagnose_csv(text: str, delim: str, ncols: int, header: list[str], path: Path) -> InputError:
    """Find the first row that breaks the CSV structure (slow path, only on failure)."""
    csv.field_size_limit(max(MAX_FIELD_CHARS * 4, 1 << 20))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    record = 0
    last_line = 0
    try:
        for fields in reader:
            record += 1
            if record == 1:
                last_line = reader.line_num
                continue
            start_line = last_line + 1
            last_line = reader.line_num
            if fields == []:
                continue
            if len(fields) != ncols:
                multi = [i for i, f in enumerate(fields) if "\n" in f]
                col = header[multi[0]] if multi and multi[0] < len(header) else (
                    header[min(len(fields), ncols) - 1] if header else None)
                hint = ("a quote (\") is not closed, so the rest of the file runs into one cell" if multi
                        else "the file may be truncated or use a different separator on this line")
                return InputError(
                    f"row has {len(fields)} fields ({hint})", file=path, row=start_line, column=col,
                    expected=f"{ncols} fields as in the header",
                )
            for i, f in enumerate(fields):
                if len(f) > MAX_FIELD_CHARS:
                    return InputError(
                        f"a cell of {len(f)} characters (a broken export or pasted binary data?)", file=path,
                        row=start_line, column=header[i] if i < len(header) else None,
                        expected=f"at most {MAX_FIELD_CHARS} characters",
                    )
    except csv.Error as exc:
        msg = str(exc)
        if "field larger" in msg:
            msg = "a cell is far too long (a broken export or pasted binary data?)"
        elif "end of data" in msg or "EOF" in msg:
            msg = "the file ends inside a quoted cell (unbalanced quote, or the file is truncated)"
        elif "expected after" in msg:
            msg = ("a quote (\") closes in the middle of a cell (an unbalanced or stray quote, or another "
                   "separator on this line)")
        return InputError(msg, file=path, row=last_line + 1, expected="a well-formed CSV export")
    return InputError("the CSV structure cannot be read", file=path, expected="a well-formed CSV export")


class _NotUtf8(Exception):
    """The fast path met bytes that are not UTF-8: decode in Python instead."""


def _read_csv_text(text: str | None, path: Path, hmap: HeaderMap, notes: list,
                   data: bytes | None = None) -> tuple[pd.DataFrame, str, list[str]]:
    """Parse CSV text (or UTF-8 ``data`` bytes, without decoding the whole file in Python)."""
    import pyarrow as pa

    if text is not None and text.startswith("\ufeff"):
        text = text[1:]
    if text is not None:
        head = text[:1_000_000]
    else:
        chunk = data[:1_000_000]
        try:
            head = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(chunk) - 4:  # not just a character cut at the chunk's end
                raise _NotUtf8() from exc
            head = chunk.decode("utf-8", errors="ignore")
    if not head.strip() and (text is not None or not data.strip()):
        raise InputError("the file holds no text (only blank lines)", file=path,
                         expected="a header line and one line per submission")
    delim, header = _choose_delimiter(head, hmap, path)
    header = [h.strip().lstrip("\ufeff") for h in header]
    ncols = len(header)
    if data is None:
        data = text.encode("utf-8")
    names = [f"c{i}" for i in range(ncols)]
    try:
        table = _fastread.parse_csv(data, names, delim)
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        if text is None:
            if "UTF8" in str(exc) or "utf8" in str(exc).lower():
                raise _NotUtf8() from exc
            text = data.decode("utf-8", errors="replace")
        err = _diagnose_csv(text, delim, ncols, header, path)
        raise err from exc
    hit = _fastread.oversized_cell(table, MAX_FIELD_CHARS)  # oversized cells (vectorised)
    if hit is not None:
        i, mx, pos = hit
        raise InputError(
            f"a cell of {mx} characters (a broken export or pasted binary data?)", file=path,
            row=pos + 2, column=header[i], expected=f"at most {MAX_FIELD_CHARS} characters",
        )
    df = table.to_pandas()
    df.columns = header
    return df, delim, header


# --------------------------------------------------------------------------- XLSX, SAV, DTA


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not np.isfinite(v):
            return ""
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _sheet_frame(header, rows) -> pd.DataFrame:
    return _fastread.sheet_frame(header, rows, _cell_text)  # _cell_text of every cell, column by column


def xlsx_sheets(path: Path, first_only: bool = False) -> list[tuple[str, pd.DataFrame]]:
    """Every sheet of a workbook as ``(title, cells as text)`` (python-calamine when installed: fast).

    Returns an empty list when the fast reader cannot read the file (the
    caller then uses openpyxl, whose errors are reported).
    """
    try:
        import python_calamine
    except ImportError:  # pragma: no cover - optional accelerator
        return []
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        out = []
        for i, title in enumerate(wb.sheet_names):
            rows = wb.get_sheet_by_index(i).to_python(skip_empty_area=False)
            if not rows:
                if i == 0:
                    return []
                continue
            out.append((title, _sheet_frame(rows[0], rows[1:])))
            if first_only:
                break
        return out
    except Exception:  # noqa: BLE001 - any failure: the openpyxl path reports it
        return []


def _read_xlsx(path: Path) -> pd.DataFrame:
    fast = xlsx_sheets(path, first_only=True)
    if fast:
        return fast[0][1]
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise InputError(f"the workbook cannot be opened ({type(exc).__name__}: {exc})", file=path,
                         expected="an .xlsx workbook as exported by KoboToolbox or Excel") from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputError("the first sheet of the workbook is empty", file=path,
                             expected="a header row and one row per submission")
        while header and header[-1] is None:
            header = header[:-1]
        ncols = len(header)
        body = []
        for r in rows:
            vals = [_cell_text(v) for v in r[:ncols]]
            if len(vals) < ncols:
                vals += [""] * (ncols - len(vals))
            body.append(vals)
    except zipfile.BadZipFile as exc:
        raise InputError(f"the workbook is damaged ({exc})", file=path, expected="a complete .xlsx file") from None
    finally:
        wb.close()
    head = [_cell_text(h).strip() for h in header]
    df = pd.DataFrame(body, columns=range(ncols), dtype=object) if body else pd.DataFrame(columns=range(ncols))
    df.columns = head
    return df.astype(str) if len(df) else df.astype(object)


def _read_stat(path: Path, kind: str, notes: list) -> pd.DataFrame:
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
    try:
        df, meta = reader(str(path), apply_value_formats=False, user_missing=False)
    except Exception as exc:  # pyreadstat raises its own error types
        raise InputError(f"the {kind.upper()} file cannot be read ({type(exc).__name__}: {exc})", file=path,
                         expected=f"a valid {'SPSS .sav' if kind == 'sav' else 'Stata .dta'} file") from None
    labels = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names)))
    out = {}
    rename = {}
    for c in df.columns:
        s = df[c]
        lab = labels.get(c) or ""
        m = re.search(r"\[([^\]]+)\]\s*$", lab)
        if m:
            rename[c] = m.group(1)
        if pd.api.types.is_numeric_dtype(s):
            arr = s.to_numpy(dtype=float, na_value=np.nan)
            txt = np.full(len(arr), "", dtype=object)
            ok = np.isfinite(arr)
            integral = ok & (np.abs(arr) < 1e15) & (arr == np.round(arr))
            txt[integral] = arr[integral].astype(np.int64).astype(str)
            other = ok & ~integral
            txt[other] = [repr(float(x)) for x in arr[other]]
            out[c] = txt
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("").to_numpy(dtype=object)
        else:
            out[c] = s.astype(object).where(s.notna(), "").map(_cell_text).to_numpy(dtype=object)
    frame = pd.DataFrame(out, index=range(len(df)))
    if rename:
        frame = frame.rename(columns=rename)
        notes.append(f"{path.name}: {len(rename)} {kind.upper()} variable names mapped back through their labels")
    return frame


# --------------------------------------------------------------------------- labels -> codes


def _drop_hxl_row(df: pd.DataFrame, notes: list, path: Path) -> pd.DataFrame:
    """Drop the HXL hashtag row (``#date``, ``#adm1+name``...) under the header of a Kobo export."""
    if not len(df):
        return df
    first = [str(v).strip() for v in df.iloc[0].tolist()]
    filled = [v for v in first if v]
    if filled and all(re.match(r"^#[a-z][a-z0-9_]*(?:\s*\+[a-z][a-z0-9_]*)*$", v) for v in filled):
        notes.append(f"{path.name}: HXL hashtag row under the header ignored")
        out = df.iloc[1:]
        out.attrs["row_offset"] = 1
        return out
    return df


def _strip_instance_prefix(df: pd.DataFrame, notes: list, path: Path) -> None:
    """``uuid:`` of ODK's ``meta/instanceID`` (and ODK Central's ``KEY``) dropped: Kobo's ``_uuid`` is bare."""
    if "_uuid" not in df.columns:
        return
    v = df["_uuid"].astype(str).str.strip()
    pre = v.str.startswith("uuid:")
    if pre.any():
        df["_uuid"] = v.str.replace(r"^uuid:", "", regex=True)
        notes.append(f"{path.name}: 'uuid:' prefix of {int(pre.sum())} instance id(s) removed")


def _rebuild_select_multiple(df: pd.DataFrame, hmap: HeaderMap, notes: list, path: Path) -> pd.DataFrame:
    """A select_multiple exported as its 0/1 option columns only: the answer column rebuilt from them."""
    rebuilt, new = [], {}
    for col in hmap.select_multiple:
        if col in df.columns:
            continue
        opts = [c for c in df.columns if isinstance(c, str) and c.startswith(col + "/")]
        if not opts:
            continue
        vals = {o: df[o].astype(str).str.strip().str.casefold() for o in opts}
        on = np.column_stack([vals[o].isin(list(_TRUE)).to_numpy() for o in opts])
        answered = np.column_stack([(vals[o] != "").to_numpy() for o in opts]).any(axis=1)
        codes = [o.split("/", 1)[1] for o in opts]
        text = np.array([" ".join(c for c, x in zip(codes, row) if x) for row in on], dtype=object)
        new[col] = np.where(answered, text, "")
        rebuilt.append(col)
    if rebuilt:
        df = pd.concat([df, pd.DataFrame(new, index=df.index)], axis=1)
        notes.append(f"{path.name}: {len(rebuilt)} select_multiple answer column(s) rebuilt from their option "
                     f"columns (e.g. {rebuilt[0]!r})")
    return df


# --------------------------------------------------------------------------- main entry points


def read_export(path: str | Path, codebook: pd.DataFrame | None = None, questionnaire=None,
                hmap: HeaderMap | None = None, *, min_known_share: float = 0.3) -> RawTable:
    """Read one raw export as text.

    Parameters
    ----------
    path : str or Path
        The file (CSV, XLSX, SAV, DTA; the format is sniffed from the content).
    codebook : pandas.DataFrame, optional
        :func:`analysis.study._instrument.codebook` (default: the project's).
    questionnaire : Questionnaire, optional
        For group names and choice labels (default: the project's).
    hmap : HeaderMap, optional
        Pre-built header resolver (reading many files).
    min_known_share : float
        A file where fewer than this share of the columns are questionnaire
        columns is rejected as an export of another form.

    Returns
    -------
    RawTable

    Raises
    ------
    InputError
        When the file cannot be read as a survey export.
    """
    path = Path(path)
    if hmap is None:
        from analysis.study._instrument import codebook as _cb
        from analysis.study._instrument import load_questionnaire

        q = questionnaire if questionnaire is not None else load_questionnaire()
        cb = codebook if codebook is not None else _cb(q)
        hmap = header_map(cb, q)
    if not path.exists():
        raise InputError("the file does not exist", file=path)
    if path.is_dir():
        raise InputError("this is a folder, not a file", file=path, expected="an export file")
    raw = path.read_bytes()
    if len(raw) == 0:
        raise InputError("the file is empty (0 bytes)", file=path,
                         expected="a survey export with a header line and one line per submission")
    notes: list[str] = []
    fmt = sniff_format(path, raw[:4096])
    ext = _EXT.get(path.suffix.lower())
    if fmt == "binary":
        raise InputError("the file holds binary data, not a survey export", file=path, value=raw[:16],
                         expected="a CSV, XLSX, SPSS .sav or Stata .dta export")
    if fmt == "xls":
        raise InputError("old Excel .xls workbooks are not supported", file=path,
                         expected="an .xlsx workbook or a CSV export (save as .xlsx in Excel)")
    if ext is not None and ext != fmt:
        notes.append(f"{path.name}: named '{path.suffix}' but its content is {fmt.upper()}; read as {fmt.upper()}")
    encoding = delimiter = None
    if fmt == "csv":
        df = None
        if not raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
            try:  # fast path: pyarrow parses and checks the UTF-8 bytes itself
                df, delimiter, _ = _read_csv_text(None, path, hmap, notes, data=raw)
                encoding = "utf-8"
                del raw  # the parsed table no longer needs the file's bytes
            except _NotUtf8:
                df = None
        if df is None:
            text, encoding = _decode(raw, path, notes)
            del raw
            df, delimiter, _ = _read_csv_text(text, path, hmap, notes)
    elif fmt == "xlsx":
        df = _read_xlsx(path)
    else:
        df = _read_stat(path, fmt, notes)
    headers = list(df.columns)
    dup = pd.Index(headers)[pd.Index(headers).duplicated()].unique()
    if len(dup):
        first = str(dup[0])
        pos = [i + 1 for i, h in enumerate(headers) if h == first]
        raise InputError(
            f"the header names column '{first}' more than once (columns {', '.join(map(str, pos))})",
            file=path, row=1, column=first, expected="each column name once",
        )
    renamed, unknown, mapping = {}, [], {}
    central = {h: kobo for h in headers for is_sys, kobo in [hmap.central_system(h)] if is_sys}
    resolved = {h: None if h in central else hmap.resolve(h) for h in headers}
    taken = {v for v in resolved.values() if v is not None}
    set_aside = []
    for h in sorted(central, key=list(CENTRAL_SYSTEM).index):  # ODK Central's own columns, by priority
        if central[h] is not None and central[h] not in taken:
            resolved[h] = central[h]
            taken.add(central[h])
        else:
            set_aside.append(h)
    set_aside.sort(key=headers.index)
    for h in headers:  # other exporters' system columns, when Kobo's own is not there
        if resolved[h] is None:
            a = hmap.alias(h)
            if a is not None and a not in taken:
                resolved[h] = a
                taken.add(a)
    for h in headers:
        name = resolved[h]
        if h in set_aside:
            continue
        if name is None:
            unknown.append(h)
            mapping[h] = h
        else:
            mapping[h] = name
            if name != h:
                renamed[h] = name
    targets = pd.Series(list(mapping.values()))
    clash = targets[targets.duplicated() & ~targets.isin(unknown)]
    if len(clash):
        name = clash.iloc[0]
        srcs = [h for h, v in mapping.items() if v == name]
        raise InputError(
            f"headers {', '.join(repr(s) for s in srcs)} all mean column '{name}'", file=path, row=1, column=name,
            expected="each questionnaire column once",
        )
    for h in unknown:
        several = hmap.ambiguity(h)
        if several:
            notes.append(f"{path.name}: header {h!r} reads as several columns of the form "
                         f"({', '.join(several[:4])}); set aside as unknown")
    known = len(headers) - len(unknown)  # set-aside system columns count: they say what exported the file
    slots = sum(1 for u in unknown if is_repeat_slot(u))  # legacy KoBoCAT repeat columns: read as repeat tables
    if known == 0 or known < min_known_share * (len(headers) - slots):
        raise InputError(
            f"this does not look like an export of the questionnaire: only {known} of its {len(headers)} columns "
            f"are questionnaire columns (first unknown: {', '.join(repr(u) for u in unknown[:3])})",
            file=path, row=1, expected="a KoboToolbox export of this form (columns such as consent, legal_form, region)",
        )
    if set_aside:
        df = df.drop(columns=set_aside)
        notes.append(f"{path.name}: {len(set_aside)} ODK Central system column(s) set aside, not survey answers: "
                     + ", ".join(set_aside))
    df.columns = [mapping[h] for h in headers if h not in set_aside]
    if renamed:
        notes.append(f"{path.name}: {len(renamed)} header(s) renamed to questionnaire names "
                     f"(e.g. {next(iter(renamed.items()))[0]!r} -> {next(iter(renamed.items()))[1]!r})")
    df = _drop_hxl_row(df, notes, path)
    if fmt == "csv" and is_kobocat_legacy(headers):  # KoBoCAT writes n/a in every cell without an answer
        blanked = blank_placeholders(df, keep=placeholder_codes({**hmap.select_one, **hmap.select_multiple}))
        if blanked:
            notes.append(f"{path.name}: legacy KoBoCAT export: {blanked} 'n/a' placeholder cell(s) read as missing")
    _strip_instance_prefix(df, notes, path)
    df = _rebuild_select_multiple(df, hmap, notes, path)
    label_cols = labels_to_codes(df, hmap, notes, path)
    first_row = 2 + int(df.attrs.get("row_offset", 0))
    rows = np.arange(first_row, len(df) + first_row, dtype=np.int64)
    blank = np.ones(len(df), dtype=bool)
    for c in df.columns:
        blank &= (df[c] == "").to_numpy(dtype=bool)
        if not blank.any():
            break
    if blank.any():
        notes.append(f"{path.name}: {int(blank.sum())} completely empty row(s) ignored")
        df = df.loc[~blank]
        rows = rows[~blank]
    df = df.reset_index(drop=True)
    df = pd.concat([df, pd.DataFrame({"_source_file": path.name, "_source_row": rows}, index=df.index)], axis=1)
    return RawTable(df, path, fmt, encoding, delimiter, notes, renamed, unknown, label_cols, set_aside)


def read_exports(paths, codebook: pd.DataFrame | None = None, questionnaire=None,
                 hmap: HeaderMap | None = None) -> tuple[pd.DataFrame, list[RawTable]]:
    """Read several exports and stack them into one table of strings.

    Columns missing from a file are filled with ``""``; the column order is the
    codebook's, then unknown columns in order of appearance, then the source
    columns.

    Returns
    -------
    (pandas.DataFrame, list of RawTable)
    """
    from analysis.study._instrument import codebook as _cb
    from analysis.study._instrument import load_questionnaire

    q = questionnaire if questionnaire is not None else load_questionnaire()
    cb = codebook if codebook is not None else _cb(q)
    hmap = hmap if hmap is not None else header_map(cb, q)
    tables = [read_export(p, cb, q, hmap) for p in paths]
    if not tables:
        raise InputError("no raw export to read", expected="at least one export file")
    names = {p.path.name for p in tables}
    if len(names) < len(tables):
        seen = set()
        for t in tables:
            if t.path.name in seen:
                t.data["_source_file"] = str(t.path)
            seen.add(t.path.name)
    cols = [c for c in cb["variable"] if any(c in t.data.columns for t in tables)]
    extra = []
    for t in tables:
        extra += [c for c in t.data.columns if c not in cols and c not in extra and c not in SOURCE_COLUMNS]
    order = cols + extra + list(SOURCE_COLUMNS)
    frames = []
    for t in tables:
        d = t.data
        missing = [c for c in order if c not in d.columns]
        if missing:
            d = pd.concat([d, pd.DataFrame("", index=d.index, columns=missing)], axis=1)
        frames.append(d[order])
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    for c in out.columns:
        if c != "_source_row" and not pd.api.types.is_string_dtype(out[c].dtype):
            out[c] = out[c].astype(str)
        elif c != "_source_row" and out[c].dtype == object:
            out[c] = out[c].astype(str)
    return out, tables
