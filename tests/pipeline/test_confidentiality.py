"""No personal data in the outputs, and no small cell in a published table.

One real ``si-survey run`` (subprocess) on a messy simulated export whose
personal data (organisation and respondent names, phones, e-mails, GPS
points) are listed in ``truth_personal.csv``. Then every file of the
processed and reports folders is read — text files as text, parquet through
its values and schema metadata, docx/xlsx as the decompressed XML of their
zip members — and searched for every planted value:

* exact strings of 6 characters or more (names, e-mails, raw phone and GPS
  texts), case-insensitive, after NFC normalisation and XML/HTML unescaping;
* phone numbers by their digits (the 9 national digits, whatever the
  separators or the ``+212``/``0`` prefix);
* e-mail addresses found anywhere (compared case-insensitively);
* GPS points by their coordinates with at least 4 decimals: a latitude and
  the longitude of the same point in the same file (a lone number such as
  33.8795 also occurs among the statistics by chance).

Figures (PNG, PDF) hold drawn glyphs, not searchable text: they are skipped.

Small cells: every count column (header ``n``, or ``... / n``) of every
published table except the respondent flow (Markdown and Excel renderings,
and the unformatted ``results/*.csv``) holds no count between 1 and the
threshold minus 1 of ``questionnaire/tables.yaml``.

The tests that need the run are marked ``slow`` (one whole run: several
minutes of CPU); the matcher's own test is in the default suite.
"""

from __future__ import annotations

import csv
import html
import json
import math
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis import config

N_ORGS = 400  # small enough to be quick, large enough for every table and for small cells


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT), "MPLBACKEND": "Agg"}


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """A messy simulated export; ``truth_personal.csv`` lies next to it."""
    from analysis.simulate import simulate_export

    raw = tmp_path_factory.mktemp("conf") / "raw"
    return simulate_export(n=N_ORGS, seed=7, out_dir=raw, fmt="kobo-csv")["export"]


@pytest.fixture(scope="module")
def run(export):
    """(raw folder, processed folder, reports folder, CLI output) of one messy run."""
    root = export.parent.parent
    raw = export.parent
    processed, out = root / "processed", root / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--processed", str(processed), "--out", str(out),
         str(export)],
        env=_env(), capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return raw, processed, out, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- what to look for


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", html.unescape(text)).casefold()


class Needles:
    """The planted personal values, prepared for sensible matching."""

    def __init__(self, truth: pd.DataFrame):
        self.strings: set[str] = set()
        self.phones: set[str] = set()  # 9 national digits
        self.emails: set[str] = set()
        self.points: list[tuple[str, str]] = []  # (lat, lon) rounded to 4 decimals, as text
        for col, value in zip(truth["column"], truth["value"].astype(str)):
            v = value.strip()
            if len(v) >= 6:
                self.strings.add(_norm(v))
            if col == "resp_phone":
                digits = re.sub(r"\D", "", v)
                if len(digits) >= 9:
                    self.phones.add(digits[-9:])
            elif col == "resp_email":
                self.emails.add(v.casefold())
            elif col == "gps":
                parts = v.split()
                if len(parts) >= 2:
                    lat, lon = float(parts[0]), float(parts[1])
                    self.points.append((f"{lat:.4f}", f"{lon:.4f}"))
        self.by_lat: dict[str, set[str]] = {}
        for lat, lon in self.points:
            self.by_lat.setdefault(lat, set()).add(lon)
        assert self.strings and self.phones and self.emails and self.points

    _PHONE = re.compile(r"(?<![\d.,])(?:\+?\s?212[\s.\-]?|0)?(?:[5-7](?:[\s.\-]?\d){8})(?![\d])")
    _EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
    _COORD = re.compile(r"(?<![\d.])-?\d{1,3}[.,]\d{4,}")

    def find(self, text: str) -> list[str]:
        """Every planted value found in ``text`` (empty list when none)."""
        hits: list[str] = []
        t = _norm(text)
        hits += [s for s in self.strings if s in t]
        for m in self._PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if digits[-9:] in self.phones:
                hits.append(f"phone {m.group(0)!r}")
        hits += [f"e-mail {m.group(0)!r}" for m in self._EMAIL.finditer(text)
                 if m.group(0).casefold() in self.emails]
        coords = set()
        for m in self._COORD.finditer(text):
            x = float(m.group(0).replace(",", "."))
            coords.add(f"{x:.4f}")
            coords.add(f"{x - 0.00005:.4f}")  # a value written truncated instead of rounded
        for lat in coords & set(self.by_lat):
            both = self.by_lat[lat] & coords
            if both:
                hits.append(f"GPS point {lat} {sorted(both)[0]}")
        return hits


@pytest.fixture(scope="module")
def needles(export) -> Needles:
    return Needles(pd.read_csv(export.parent / "truth_personal.csv", dtype=str, keep_default_na=False))


# --------------------------------------------------------------------------- reading every output


_TEXT = {".csv", ".md", ".html", ".htm", ".tex", ".json", ".txt", ".yaml", ".yml", ".log", ".xml"}
_ZIP = {".docx", ".xlsx"}
_IMAGES = {".png", ".pdf", ".svg"}


def _parquet_text(path: Path) -> str:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    parts = [json.dumps({k.decode(errors="replace"): v.decode(errors="replace")
                         for k, v in (table.schema.metadata or {}).items()}, ensure_ascii=False)]
    parts.append(" ".join(table.column_names))
    df = table.to_pandas()
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            # numbers as text with enough digits to show a coordinate or a phone number
            vals = [float(x) for x in s.dropna().unique()]
            parts.append("\n".join(str(int(x)) if x.is_integer() else f"{x:.6f}" for x in vals
                                   if math.isfinite(x)))
        else:
            parts.append("\n".join(map(str, s.dropna().unique())))
    return "\n".join(parts)


def _zip_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = "\n".join(z.read(name).decode("utf-8", errors="replace") for name in z.namelist())
    # the XML as written, and its text alone (Word may split a text over several runs)
    return xml + "\n" + re.sub(r"<[^>]+>", "", xml)


def _contents(path: Path) -> str | None:
    """Searchable text of an output file; None for figures."""
    ext = path.suffix.lower()
    if ext in _IMAGES:
        return None
    if ext == ".parquet":
        return _parquet_text(path)
    if ext in _ZIP:
        return _zip_text(path)
    data = path.read_bytes()
    if ext in _TEXT or b"\x00" not in data[:4096]:
        return data.decode("utf-8", errors="replace")
    pytest.fail(f"unexpected binary output file {path}: add a reader for it to this test")


def _outputs(*folders: Path) -> list[Path]:
    files = [p for f in folders for p in sorted(f.rglob("*")) if p.is_file()]
    assert files
    return files


# --------------------------------------------------------------------------- tests


def test_needles_find_what_they_should(needles):
    """The matcher itself: planted values in several disguises are found, statistics are not."""
    phone = next(iter(needles.phones))
    lat, lon = needles.points[0]
    assert needles.find(f"tel: +212 {phone[0]} {phone[1:3]} {phone[3:5]} {phone[5:7]} {phone[7:]}")
    assert needles.find(f"0{phone}")
    assert needles.find(next(iter(needles.emails)).upper())
    assert needles.find(f"{float(lat) + 0.00001:.6f};{float(lon) - 0.00001:.6f}")
    assert needles.find(html.escape(next(iter(needles.strings)).title()))
    assert not needles.find(f"mean {lat}, p 0.{phone}, n 1 234 567 890")


@pytest.mark.slow
def test_no_personal_data_in_any_output(run, needles):
    _, processed, out, _ = run
    leaks = {}
    for path in _outputs(processed, out):
        text = _contents(path)
        if text is None:
            continue
        found = needles.find(text)
        if found:
            leaks[str(path)] = found[:5]
    assert not leaks, f"personal data found in outputs: {leaks}"


@pytest.mark.slow
def test_no_personal_data_in_run_messages(run, needles):
    assert not needles.find(run[3])


@pytest.mark.slow
def test_no_personal_column_in_analysis_file(run):
    import pyarrow.parquet as pq

    from analysis.study._instrument import codebook

    cb = codebook()
    personal = set(cb.loc[cb["personal"], "variable"])
    cols = set(pq.read_schema(run[1] / "survey.parquet").names)
    assert not (cols & personal), sorted(cols & personal)
    assert not {c for c in cols if c.startswith(("_gps", "gps"))}


@pytest.mark.slow
def test_no_private_folder_among_outputs(run):
    _, processed, out, _ = run
    assert not [p for p in _outputs(processed, out) if "private" in p.parts or "link" in p.name.lower()]


# --------------------------------------------------------------------------- small cells


def _threshold() -> int:
    from analysis.report._plan import load_table_plan

    return int(load_table_plan().options.get("small_cell_threshold", 5))


def _count(cell: str) -> float | None:
    t = re.sub(r"[\s\u00a0\u202f\u2009]", "", html.unescape(str(cell))).replace(",", ".")
    t = t.strip("*_\\")
    try:
        return float(t)
    except ValueError:
        return None


def _md_tables(path: Path):
    """(header, rows) of every Markdown table in ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and re.match(r"^\|[\s:|-]+\|$", lines[i + 1]):
            header = [c.strip() for c in lines[i].strip("|").split("|")]
            rows = []
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                rows.append([c.strip() for c in lines[j].strip("|").split("|")])
                j += 1
            yield header, rows
            i = j
        else:
            i += 1


def _is_count_header(h: str) -> bool:
    return h.split(" / ")[-1].strip().lower() in ("n", "effectif", "count")


def _small(values, threshold) -> list:
    return [v for v in values if v is not None and 1 <= v < threshold and float(v).is_integer()]


@pytest.mark.slow
def test_small_cells_suppressed_in_published_tables(run):
    _, _, out, _ = run
    threshold = _threshold()
    bad = {}
    checked = 0
    for path in sorted((out / "md").glob("*.md")):
        if "flow" in path.stem:  # the respondent flow counts exclusions: a method table, not a cross-table
            continue
        for header, rows in _md_tables(path):
            for k, h in enumerate(header):
                if not _is_count_header(h):
                    continue
                checked += 1
                cells = [_count(r[k]) for r in rows if k < len(r)]
                small = _small(cells, threshold)
                if small:
                    bad[f"{path.name} [{h}]"] = small[:5]
    assert checked, "no count column found in the published tables"
    assert not bad, f"counts below {threshold} published: {bad}"


@pytest.mark.slow
def test_small_cells_suppressed_in_workbook(run):
    from openpyxl import load_workbook

    _, _, out, _ = run
    threshold = _threshold()
    wb = load_workbook(out / "tables.xlsx", read_only=True)
    bad = {}
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        if any("flux" in str(c).lower() or "flow" in str(c).lower() for r in rows[:3] for c in r if c):
            continue
        # the header cells of count columns: any cell reading "n" (the column's lowest header level)
        for i, r in enumerate(rows):
            for k, c in enumerate(r):
                if isinstance(c, str) and _is_count_header(c):
                    below = [x[k] if k < len(x) else None for x in rows[i + 1:]]
                    small = _small([x if isinstance(x, (int, float)) else _count(x) if isinstance(x, str)
                                    else None for x in below], threshold)
                    if small:
                        bad[f"{ws.title}!{i + 1}:{k + 1}"] = small[:5]
    assert not bad, f"counts below {threshold} in tables.xlsx: {bad}"


@pytest.mark.slow
def test_small_cells_suppressed_in_published_numbers(run):
    """``reports/results/*.csv`` (the numbers behind the tables) are published too."""
    _, _, out, _ = run
    threshold = _threshold()
    bad = {}
    for path in sorted((out / "results").glob("*.csv")):
        if "flow" in path.stem:
            continue
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        if not rows:
            continue
        for k, h in enumerate(rows[0]):
            if h == "n" or h.startswith("n_"):
                small = _small([_count(r[k]) if k < len(r) else None for r in rows[1:]], threshold)
                if small:
                    bad[f"{path.name} [{h}]"] = small[:5]
    assert not bad, f"counts below {threshold} in the published numbers: {bad}"
