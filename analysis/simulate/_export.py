"""Kobo-like export: submission metadata, column layout and the three writers.

Layout (as KoboToolbox's default export, "XML values and headers", group names
not included in headers, "/" as group separator):

* columns in survey order; notes are not exported; ``start``, ``end``,
  ``today``, ``deviceid`` where the form puts them;
* ``select_multiple``: one column with the space-separated codes, followed by
  one 0/1 column per option named ``question/option`` (empty when the question
  was not answered or not relevant);
* ``geopoint``: ``lat lon alt acc`` followed by ``_<q>_latitude``,
  ``_<q>_longitude``, ``_<q>_altitude``, ``_<q>_precision``;
* then ``_id, _uuid, _submission_time, _validation_status, _notes, _status,
  _submitted_by, __version__, _tags, _index``.

CSV: UTF-8 **without BOM** (Kobo's default), ``;`` separator, every value in
double quotes (formpack's ``Export.to_csv`` quotes every cell; empty cells are
``""``), CRLF line ends (KPI writes ``line + "\\r\\n"`` in UTF-8).
``start``/``end`` are ISO 8601 local times with the UTC offset
(``2026-04-14T10:21:33.512+01:00``); ``_submission_time`` is UTC without offset
(``2026-04-14T09:52:10``), as the Kobo server writes it.

SPSS: names must start with a letter and cannot contain ``/``. Mapping:
``question/option`` -> ``question_option``; a leading ``_`` (Kobo metadata)
-> ``kobo_`` prefix (``_id`` -> ``kobo_id``, ``__version__`` -> ``kobo_version``,
``_gps_latitude`` -> ``kobo_gps_latitude``); other characters outside
``[A-Za-z0-9_.]`` -> ``_``; names cut to 64 bytes and de-duplicated with a
numeric suffix. See :func:`spss_names`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis.simulate._model import Simulation
from analysis.utils.atomic import atomic_path

__all__ = ["Plan", "build_plan", "iter_tables", "write_kobo_csv", "write_kobo_xlsx", "write_spss", "spss_names",
           "TRAILING_META"]

TRAILING_META = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
                 "_submitted_by", "__version__", "_tags", "_index"]
LEADING_META = ("start", "end", "today", "deviceid")
VALIDATION = ["", "validation_status_not_approved", "validation_status_approved", "validation_status_on_hold"]
MS_DAY = 86_400_000


@dataclass
class Plan:
    """Rows of the export (originals and planted extra rows) and how to write each column."""

    sim: Simulation
    src: np.ndarray  # final row -> organisation index
    start_ms: np.ndarray  # UTC epoch milliseconds
    dur_ms: np.ndarray
    sub_ms: np.ndarray
    uuid: np.ndarray  # (R, 16) uint8
    ids: np.ndarray
    validation: np.ndarray  # int8 index into VALIDATION
    enum: np.ndarray  # enumerator index, -1 = web (self-administered)
    row_kind: np.ndarray  # 0 original, 1 near duplicate, 2 test, 3 exact duplicate
    columns: list[tuple] = field(default_factory=list)
    overrides: dict = field(default_factory=dict)  # column -> list[(rows, values)]
    offset_ms: int = 3_600_000
    offset_text: str = "+01:00"
    version: str = ""
    enum_devices: list[str] = field(default_factory=list)
    enum_users: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.src)

    @property
    def column_names(self) -> list[str]:
        return [c[1] if c[0] != "multi_opt" and c[0] != "geo_part" else c[3] for c in self.columns]

    def add_override(self, column: str, rows: np.ndarray, values) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        vals = np.asarray(values, dtype=object)
        if vals.ndim == 0:
            vals = np.full(len(rows), vals.item(), dtype=object)
        if len(rows):
            self.overrides.setdefault(column, []).append((rows, vals))

    def resolved_overrides(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Overrides of a column sorted by row, the last one written winning."""
        parts = self.overrides.get(column)
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, object)
        rows = np.concatenate([p[0] for p in parts])
        vals = np.concatenate([p[1] for p in parts])
        # keep the last occurrence per row
        rev_rows = rows[::-1]
        _, first_rev = np.unique(rev_rows, return_index=True)
        keep = (len(rows) - 1 - first_rev)
        keep.sort()
        rows, vals = rows[keep], vals[keep]
        o = np.argsort(rows, kind="stable")
        return rows[o], vals[o]

    def uuid_strings(self, rows: np.ndarray) -> np.ndarray:
        h = self.uuid[np.asarray(rows, dtype=np.int64)]
        k = len(h)
        digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
        nib = np.empty((k, 32), dtype=np.uint8)
        nib[:, 0::2] = digits[h >> 4]
        nib[:, 1::2] = digits[h & 15]
        out = np.full((k, 36), ord("-"), dtype=np.uint8)
        for a, b, c in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
            out[:, c:c + b - a] = nib[:, a:b]
        return np.frombuffer(out.tobytes(), dtype="S36").astype(str).astype(object)


def _fmt_local(ms: np.ndarray, offset_ms: int, offset_text: str) -> np.ndarray:
    t = (ms + offset_ms).astype("datetime64[ms]")
    return np.char.add(np.datetime_as_string(t, unit="ms"), offset_text)


def _uuid_bytes(rng, k):
    b = rng.integers(0, 256, size=(k, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    return b


def _random_id(text: str, k: int = 16) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    h = hashlib.sha256(text.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in h[:k])


def kobo_version(form) -> str:
    """A Kobo-like ``__version__`` (22 characters, fixed by the form's version)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    h = hashlib.sha256(("si-survey|" + form.settings.get("version", "1")).encode()).digest()
    return "v" + "".join(alphabet[b % 62] for b in h[:21])


def column_layout(sim: Simulation) -> list[tuple]:
    """Export columns: (kind, name[, extra..., header])."""
    cols: list[tuple] = []
    form = sim.form
    for q in form.questions:
        if q.type in LEADING_META:
            cols.append(("meta", q.type if q.name == q.type else q.name))
            continue
        if q.name not in sim.data:
            continue
        v = sim.data[q.name]
        if q.type == "select_multiple":
            cols.append(("multi", q.name))
            for j, c in enumerate(v.codes):
                cols.append(("multi_opt", q.name, j, f"{q.name}/{c}"))
        elif q.type == "geopoint":
            cols.append(("str", q.name))
            for j, part in enumerate(("latitude", "longitude", "altitude", "precision")):
                cols.append(("geo_part", q.name, j, f"_{q.name}_{part}"))
        elif v.kind == "one":
            cols.append(("one", q.name))
        elif v.kind == "num":
            cols.append(("num", q.name))
        else:
            cols.append(("str", q.name))
    for m in TRAILING_META:
        cols.append(("meta", m))
    return cols


def build_plan(sim: Simulation, rng: np.random.Generator) -> Plan:
    """Interview times, devices and identifiers of the original submissions (one per organisation)."""
    fw = sim.cfg["fieldwork"]
    n = sim.n
    d0 = np.datetime64(fw["start"], "ms").astype(np.int64)
    d1 = np.datetime64(fw["end"], "ms").astype(np.int64)
    ndays = int((d1 - d0) // MS_DAY) + 1
    off_txt = fw.get("utc_offset", "+01:00")
    sign = -1 if off_txt.startswith("-") else 1
    hh, mm = off_txt[1:].split(":")
    offset_ms = sign * (int(hh) * 3600 + int(mm) * 60) * 1000
    day = rng.integers(0, ndays, n)
    local_start = d0 + day * MS_DAY + rng.integers(int(8.5 * 3600e3), int(18 * 3600e3), n)
    start_ms = local_start - offset_ms
    dur_ms = (fw["duration_median_min"] * 60e3 * np.exp(fw["duration_sigma"] * rng.standard_normal(n))).astype(np.int64)
    delay = (fw["upload_delay_median_min"] * 60e3 * np.exp(fw["upload_delay_sigma"] * rng.standard_normal(n))).astype(np.int64)
    sub_ms = start_ms + dur_ms + delay
    mode = sim.data.get("interview_mode")
    enum = rng.integers(0, int(fw["n_enumerators"]), n).astype(np.int16)
    if mode is not None and "self" in mode.codes:
        enum[mode.data == mode.codes.index("self")] = -1
    n_en = int(fw["n_enumerators"])
    plan = Plan(
        sim=sim,
        src=np.arange(n, dtype=np.int64),
        start_ms=start_ms.astype(np.int64),
        dur_ms=dur_ms,
        sub_ms=sub_ms.astype(np.int64),
        uuid=_uuid_bytes(rng, n),
        ids=np.zeros(n, dtype=np.int64),
        validation=np.zeros(n, dtype=np.int8),
        enum=enum,
        row_kind=np.zeros(n, dtype=np.int8),
        offset_ms=offset_ms,
        offset_text=off_txt,
        version=kobo_version(sim.form),
        enum_devices=[f"collect:{_random_id(f'device{e}')}" for e in range(n_en)],
        enum_users=[f"enq_{e + 1:02d}" for e in range(n_en)],
    )
    plan.columns = column_layout(sim)
    return plan


def finalize_order(plan: Plan, order_key: np.ndarray, rng: np.random.Generator) -> None:
    """Sort rows by ``order_key`` (reception order), then assign ``_id`` increasing along it."""
    order = np.argsort(order_key, kind="stable")
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    for attr in ("src", "start_ms", "dur_ms", "sub_ms", "uuid", "validation", "enum", "row_kind"):
        setattr(plan, attr, getattr(plan, attr)[order])
    for col, parts in plan.overrides.items():
        plan.overrides[col] = [(inv[r], v) for r, v in parts]
    first = int(plan.sim.cfg["fieldwork"]["first_id"])
    gaps = 1 + rng.geometric(0.02, len(order))
    plan.ids = first + np.cumsum(gaps)
    plan._inv = inv  # pre-sort position -> final row


# --------------------------------------------------------------------------- formatting


def _num_strings(x: np.ndarray) -> pa.Array:
    arr = pa.array(x, from_pandas=True)
    s = pc.cast(arr, pa.string())
    return pc.fill_null(s, "")


def fmt_value(v, rows: np.ndarray) -> np.ndarray:
    """Export strings of a Value at organisation rows (object array)."""
    return np.asarray(_value_strings(v, rows).to_pylist(), dtype=object)


def _value_strings(v, rows: np.ndarray) -> pa.Array:
    if v.kind == "one":
        lut = pa.array(list(v.codes) + [""])
        idx = v.data[rows].astype(np.int64)
        idx[idx < 0] = len(v.codes)
        return pc.take(lut, pa.array(idx))
    if v.kind == "num":
        return _num_strings(v.data[rows])
    if v.kind == "multi":
        mat, answered = v.data
        m = mat[rows]
        bits = (m.astype(np.int64) << np.arange(m.shape[1], dtype=np.int64)[None, :]).sum(axis=1)
        bits = np.where(answered[rows], bits, -1)
        uniq, inv = np.unique(bits, return_inverse=True)
        labels = []
        for b in uniq:
            if b < 0:
                labels.append("")
            else:
                labels.append(" ".join(c for j, c in enumerate(v.codes) if (int(b) >> j) & 1))
        return pc.take(pa.array(labels), pa.array(inv.astype(np.int64)))
    return pa.array(v.data[rows], type=pa.string())


def iter_tables(plan: Plan, chunk: int = 50_000):
    """Yield the export as pyarrow tables of string columns, ``chunk`` rows at a time."""
    sim = plan.sim
    R = plan.n_rows
    names = plan.column_names
    resolved = {c: plan.resolved_overrides(c) for c in plan.overrides}
    for a in range(0, max(R, 1), chunk):
        b = min(R, a + chunk)
        rows = np.arange(a, b)
        src = plan.src[a:b]
        arrays: list[pa.Array] = []
        cache: dict[str, pa.Array] = {}
        for spec, header in zip(plan.columns, names):
            kind = spec[0]
            if kind == "meta":
                arr = _meta(plan, spec[1], rows)
            elif kind == "multi_opt":
                v = sim.data[spec[1]]
                mat, answered = v.data
                code = np.where(answered[src], 1 + mat[src, spec[2]].astype(np.int8), 0)
                arr = pc.take(pa.array(["", "0", "1"]), pa.array(code.astype(np.int64)))
            elif kind == "geo_part":
                main = cache[spec[1]]
                parts = pc.split_pattern(main, " ")
                lens = pc.list_value_length(parts)
                ok = pc.equal(lens, 4)
                vals = pc.list_element(pc.if_else(ok, parts, pa.scalar(["", "", "", ""], pa.list_(pa.string()))), spec[2])
                arr = pc.fill_null(vals, "")
            else:
                arr = _value_strings(sim.data[spec[1]], src)
            if header in resolved:
                r, vals = resolved[header]
                lo, hi = np.searchsorted(r, a), np.searchsorted(r, b)
                if hi > lo:
                    mask = np.zeros(b - a, dtype=bool)
                    mask[r[lo:hi] - a] = True
                    arr = pc.replace_with_mask(arr, pa.array(mask), pa.array(vals[lo:hi], type=pa.string()))
            if kind in ("str", "one", "multi"):
                cache[spec[1]] = arr
            arrays.append(arr)
        yield pa.Table.from_arrays(arrays, names=list(names))


def _meta(plan: Plan, name: str, rows: np.ndarray) -> pa.Array:
    k = len(rows)
    if name == "start":
        return pa.array(_fmt_local(plan.start_ms[rows], plan.offset_ms, plan.offset_text).astype(object))
    if name == "end":
        return pa.array(_fmt_local(plan.start_ms[rows] + plan.dur_ms[rows], plan.offset_ms, plan.offset_text).astype(object))
    if name == "today":
        t = (plan.start_ms[rows] + plan.offset_ms).astype("datetime64[ms]").astype("datetime64[D]")
        return pa.array(np.datetime_as_string(t).astype(object))
    if name == "deviceid":
        e = plan.enum[rows]
        server = plan.sim.cfg["fieldwork"].get("web_device_prefix", "ee.kobotoolbox.org")
        lut = pa.array(plan.enum_devices + [f"{server}:{_random_id('web' + plan.version)}"])
        return pc.take(lut, pa.array(np.where(e < 0, len(plan.enum_devices), e).astype(np.int64)))
    if name == "_id":
        return pc.cast(pa.array(plan.ids[rows]), pa.string())
    if name == "_uuid":
        return pa.array(plan.uuid_strings(rows), type=pa.string())
    if name == "_submission_time":
        t = plan.sub_ms[rows].astype("datetime64[ms]").astype("datetime64[s]")
        return pa.array(np.datetime_as_string(t, unit="s").astype(object))
    if name == "_validation_status":
        return pc.take(pa.array(VALIDATION), pa.array(plan.validation[rows].astype(np.int64)))
    if name == "_status":
        return pa.array(np.full(k, "submitted_via_web", dtype=object))
    if name == "_submitted_by":
        e = plan.enum[rows]
        lut = pa.array(plan.enum_users + [""])
        return pc.take(lut, pa.array(np.where(e < 0, len(plan.enum_users), e).astype(np.int64)))
    if name == "__version__":
        return pa.array(np.full(k, plan.version, dtype=object))
    if name == "_index":
        return pc.cast(pa.array(rows + 1), pa.string())
    return pa.array(np.full(k, "", dtype=object))  # _notes, _tags and unknown metadata


def cell_strings(plan: Plan, column: str, rows: np.ndarray) -> np.ndarray:
    """Current export strings of ``column`` at final ``rows`` (before overrides)."""
    for spec, header in zip(plan.columns, plan.column_names):
        if header == column:
            if spec[0] == "meta":
                return np.asarray(_meta(plan, column, rows).to_pylist(), dtype=object)
            if spec[0] in ("one", "num", "str", "multi"):
                return fmt_value(plan.sim.data[column], plan.src[rows])
    raise KeyError(column)


# --------------------------------------------------------------------------- writers


def write_kobo_csv(plan: Plan, path: Path, chunk: int = 50_000) -> Path:
    """Kobo CSV: UTF-8 without BOM, ';' separator, all cells quoted, CRLF line ends."""
    opts = pacsv.WriteOptions(include_header=True, delimiter=";", quoting_style="all_valid",
                              quoting_header="all_valid", eol="\r\n")
    with atomic_path(path) as tmp:
        writer = None
        with open(tmp, "wb") as fh:
            for t in iter_tables(plan, chunk):
                if writer is None:
                    writer = pacsv.CSVWriter(fh, t.schema, write_options=opts)
                writer.write_table(t)
            if writer is not None:
                writer.close()
    return Path(path)


def _numeric_headers(plan: Plan) -> set[str]:
    out = set()
    for spec, header in zip(plan.columns, plan.column_names):
        if spec[0] == "num" or spec[0] == "multi_opt" or header in ("_id", "_index"):
            out.add(header)
        if spec[0] == "one":
            v = plan.sim.data[spec[1]]
            if all(re.fullmatch(r"-?\d+", c) for c in v.codes):
                out.add(header)
        if spec[0] == "geo_part":
            out.add(header)
    return out


def _as_number(s: str):
    try:
        f = float(s)
    except ValueError:
        return s
    return int(f) if f.is_integer() and "." not in s and "e" not in s.lower() else f


def write_kobo_xlsx(plan: Plan, path: Path) -> Path:
    """Kobo-like XLSX (one sheet; numbers stored as numbers where the question is numeric)."""
    import datetime as _dt

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    fixed = _dt.datetime(2026, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    title = (plan.sim.form.settings.get("form_id") or "data")[:31]
    ws = wb.create_sheet(title)
    names = plan.column_names
    numeric = _numeric_headers(plan)
    isnum = [h in numeric for h in names]
    ws.append(names)
    for t in iter_tables(plan):
        cols = [c.to_pylist() for c in t.columns]
        for i in range(t.num_rows):
            ws.append([(_as_number(c[i]) if (isnum[j] and c[i] != "") else (c[i] if c[i] != "" else None))
                       for j, c in enumerate(cols)])
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


def spss_names(columns: list[str]) -> dict[str, str]:
    """Map export column names to valid, unique SPSS variable names (see module notes)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for c in columns:
        s = c
        if s.startswith("_"):
            s = "kobo_" + s.strip("_")
        s = s.replace("/", "_")
        s = re.sub(r"[^A-Za-z0-9_.]", "_", s)
        if not re.match(r"[A-Za-z]", s):
            s = "v_" + s
        s = s.rstrip(".")[:64]
        base, k = s, 1
        while s.lower() in used:
            k += 1
            suffix = f"_{k}"
            s = base[: 64 - len(suffix)] + suffix
        used.add(s.lower())
        out[c] = s
    return out


def write_spss(plan: Plan, path: Path) -> Path:
    """SPSS ``.sav`` with variable labels (French) and value labels, via pyreadstat."""
    import pandas as pd
    import pyreadstat

    tables = list(iter_tables(plan))
    t = pa.concat_tables(tables) if tables else None
    names = plan.column_names
    mapping = spss_names(names)
    numeric = _numeric_headers(plan)
    df = pd.DataFrame({mapping[h]: np.asarray(t.column(i).to_pylist(), dtype=object) for i, h in enumerate(names)})
    form = plan.sim.form
    qlabel = {q.name: q.label for q in form.questions}
    col_labels = []
    value_labels: dict[str, dict] = {}
    for spec, h in zip(plan.columns, names):
        var = mapping[h]
        lab = qlabel.get(spec[1], h) if spec[0] != "meta" else h
        if spec[0] == "multi_opt":
            v = plan.sim.data[spec[1]]
            code = v.codes[spec[2]]
            ln = form.question(spec[1]).list_name
            lab = f"{qlabel.get(spec[1], spec[1])} : {form.choice_labels.get(ln, {}).get(code, code)}"
            value_labels[var] = {0: "Non", 1: "Oui"}
        if var != h:
            lab = f"{lab} [{h}]"
        col_labels.append(lab[:255])
        if h in numeric:
            s = pd.to_numeric(df[var].replace("", None), errors="coerce")
            raw = df[var]
            if bool(((raw != "") & s.isna()).any()):
                continue  # text typed in a numeric column: keep the column as string
            df[var] = s.astype(float)
            if spec[0] == "one":
                v = plan.sim.data[spec[1]]
                ln = form.question(spec[1]).list_name
                value_labels[var] = {float(c): form.choice_labels.get(ln, {}).get(c, c) for c in v.codes}
        else:
            df[var] = df[var].astype(str)
            if spec[0] == "one":
                v = plan.sim.data[spec[1]]
                ln = form.question(spec[1]).list_name
                value_labels[var] = {c: form.choice_labels.get(ln, {}).get(c, c) for c in v.codes}
    with atomic_path(path) as tmp:
        try:
            pyreadstat.write_sav(df, str(tmp), column_labels=col_labels, variable_value_labels=value_labels)
        except Exception:  # string value labels unsupported: keep numeric ones only
            value_labels = {k: v for k, v in value_labels.items() if all(isinstance(x, float | int) for x in v)}
            pyreadstat.write_sav(df, str(tmp), column_labels=col_labels, variable_value_labels=value_labels)
    return Path(path)


__all__ += ["column_layout", "finalize_order", "cell_strings", "fmt_value", "kobo_version"]
