"""Hostile input: whatever it is fed, cleaning gives a clean result or a clear InputError.

* Property test (hypothesis): Kobo-like exports built from a small clean
  simulated export, with a random subset of columns and rows, random junk in
  random cells (formulas, path names, numbers beyond float range, dates in
  several formats, control characters, any Unicode text), sometimes a damaged
  header or a truncated file, written with a random encoding, delimiter,
  quoting, BOM and line end. :func:`analysis.cleaning._clean.clean` must, within a
  time limit, either succeed and write every output file, or raise
  :class:`~analysis.errors.InputError` naming the file (and a plausible row),
  leaving the previous outputs byte-intact. No other exception, no hang, no
  partial output.
* Cases missing from the malformed corpus of ``tests/malformed/`` (which
  already covers empty, binary, truncated, mixed delimiters, unbalanced
  quotes, encodings, duplicated headers, other form, huge fields, formula
  injection in the cleaned data, numbers beyond float range, dates in three
  formats): path-like names in attachment / file fields and headers.
* Formula injection through the whole ``si-survey run``: ``=HYPERLINK(...)``
  planted in every text cell that can reach an output never appears as a
  live formula in any CSV or XLSX file of the processed and reports folders
  (marked ``slow``: one whole run).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import re
import signal
import subprocess
import sys
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from analysis import config
from analysis.cleaning._clean import OUTPUT_FILES, clean
from analysis.errors import InputError
from analysis.utils.atomic import staged_directory

TIME_LIMIT = 120  # seconds for one cleaning of a 12-row file: far above normal, catches hangs
FORMULA = '=HYPERLINK("http://x","y")'

JUNK = [
    FORMULA, "=1+2", "+212 600000000", "-2+3", "@SUM(A1)", "\t=cmd", "\n=cmd", "\r=cmd",
    "1e400", "-1e400", "1e309", "9" * 400, "0x1F", "NaN", "inf", "-inf", "1,5", "1.234.567,89", "١٢٣",
    "-99", "-98", "97", "98", "99", "999999999999999999999999",
    "../../../etc/passwd", "/etc/shadow", "C:\\Windows\\system32\\cmd.exe", "file:///etc/passwd",
    "\\\\server\\share\\photo.jpg", "photo.jpg\x00.exe",
    "2026-04-10", "10/04/2026", "04/10/2026 10:00", "2026-04-10T25:61:00+01:00", "31/02/2026", "0000-00-00",
    "1700-01-01T00:00:00Z", "2999-12-31",
    "", " ", "\x00", "\x1b[31m", "\ufeff", "\u202e", '"', '""', ";", ",", "\n", "\r\n", "|", "'",
    "x" * 5000, "<script>alert(1)</script>", "\\input{/etc/passwd}", "$\\$", "%", "&amp;",
]

TEXT = st.characters(blacklist_categories=("Cs",))  # any character, bare CR included
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "cp1256", "utf-16", "latin-1"]
DELIMITERS = [";", ",", "\t", "|"]


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    from analysis.simulate import simulate_survey

    return simulate_survey(n=12, seed=5, clean_only=True).to_frame().astype(str)


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    def handler(signum, frame):
        raise Hang(f"no answer after {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _previous(folder: Path) -> dict[str, str]:
    """A previous version of the processed folder, whose bytes must survive a failure."""
    with staged_directory(folder) as stage:
        for name in OUTPUT_FILES:
            (stage / name).write_bytes(f"previous {name}".encode())
    return _hashes(folder)


def _to_bytes(df: pd.DataFrame, *, encoding: str, delimiter: str, crlf: bool, quote_all: bool) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n",
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(list(df.columns))
    w.writerows(df.itertuples(index=False, name=None))
    return buf.getvalue().encode(encoding, errors="replace")


@st.composite
def exports(draw, base_frame: pd.DataFrame):
    """(file name, bytes, number of data rows written) of a Kobo-like, possibly hostile, CSV export."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    df = base_frame
    share = draw(st.sampled_from([1.0, 1.0, 0.9, 0.5, 0.2, 0.05]))
    cols = [c for c in df.columns if share == 1.0 or rng.random() < share]
    if not cols:
        cols = [df.columns[0]]
    rows = draw(st.lists(st.integers(0, len(df) - 1), min_size=1, max_size=15))
    out = df.loc[rows, cols].reset_index(drop=True).copy()
    n_junk = draw(st.integers(0, 12))
    for _ in range(n_junk):
        value = draw(st.one_of(st.sampled_from(JUNK), st.text(TEXT, max_size=40)))
        out.iat[rng.randrange(len(out)), rng.randrange(out.shape[1])] = value
    header = list(out.columns)
    damage = draw(st.sampled_from(["none"] * 6 + ["rename", "duplicate", "junk_header", "path_header"]))
    if damage == "rename":
        header[rng.randrange(len(header))] = draw(st.text(TEXT, min_size=1, max_size=20))
    elif damage == "duplicate" and len(header) > 1:
        header[rng.randrange(1, len(header))] = header[0]
    elif damage == "junk_header":
        header[rng.randrange(len(header))] = draw(st.sampled_from(JUNK))
    elif damage == "path_header":
        header[rng.randrange(len(header))] = "../../../tmp/evil.csv"
    out.columns = header
    data = _to_bytes(
        out,
        encoding=draw(st.sampled_from(ENCODINGS)),
        delimiter=draw(st.sampled_from(DELIMITERS)),
        crlf=draw(st.booleans()),
        quote_all=draw(st.booleans()),
    )
    if draw(st.integers(0, 9)) == 0:  # one file in ten cut short at a random byte
        data = data[: rng.randrange(len(data) + 1)]
    name = draw(st.sampled_from(["export.csv", "export.txt", "données été.csv", "export.tsv"]))
    return name, data, len(out)


def _check_one(tmp: Path, name: str, data: bytes, n_rows: int) -> str:
    """Clean one export; assert the contract; return 'ok' or 'error'."""
    raw_dir, out, private = tmp / "raw", tmp / "processed", tmp / "private"
    raw_dir.mkdir(parents=True, exist_ok=True)
    path = raw_dir / name
    path.write_bytes(data)
    before = _previous(out)
    try:
        with time_limit(TIME_LIMIT):
            result = clean([path], out_dir=out, private_dir=private)
    except InputError as exc:
        text = str(exc)
        assert name in text, f"the message does not name the file: {text}"
        assert text.strip() and "Traceback" not in text
        if isinstance(exc.row, int):
            assert 1 <= exc.row <= data.count(b"\n") + 2, text
        if exc.column is not None:
            assert isinstance(exc.column, str) and exc.column, text
        assert _hashes(out) == before, "a failed cleaning changed the previous outputs"
        assert not private.exists() or not any(private.iterdir())
        outcome = "error"
    else:
        written = sorted(p.name for p in out.iterdir())
        assert written == sorted(OUTPUT_FILES), written
        survey = pd.read_parquet(out / "survey.parquet")
        assert len(survey) == len(result.data) <= n_rows
        for p in out.glob("*.csv"):
            _assert_no_live_formula_csv(p)
        outcome = "ok"
    leftovers = [p.name for p in tmp.iterdir() if ".staging-" in p.name or p.name.endswith(".previous")]
    leftovers += [str(p) for p in tmp.rglob("*.tmp*")]
    assert not leftovers, leftovers
    assert not list(tmp.rglob("evil*")) and not list(tmp.rglob("passwd"))
    return outcome


# --------------------------------------------------------------------------- formula checks


_LIVE = ("=", "+", "@", "\t", "\r")


def _live_formula(value: str) -> bool:
    """A cell a spreadsheet would evaluate: starts with a formula character (``-`` only before a letter)."""
    v = value
    if not v:
        return False
    if v.startswith(_LIVE):
        return not re.fullmatch(r"\+\d[\d\s]*", v)  # "+212 6..." is neutralised too, but a number is harmless
    return bool(re.match(r"-\s*[A-Za-z(@=+]", v))


def _assert_no_live_formula_csv(path: Path) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh), start=1):
            for cell in row:
                assert not _live_formula(cell), f"{path.name} line {i}: live formula {cell!r}"


def _assert_no_live_formula_xlsx(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if not name.endswith(".xml"):
                continue
            xml = z.read(name).decode("utf-8", errors="replace")
            assert "<f>" not in xml and "<f " not in xml, f"{path.name}:{name} holds a formula"
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for cell in row:
                if isinstance(cell, str):
                    assert not _live_formula(cell), f"{path.name} sheet {ws.title}: {cell!r}"


# --------------------------------------------------------------------------- tests


@settings(max_examples=25, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: one cleaning is ~1 s
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_hostile_exports_error_or_clean(base, tmp_path_factory, data):
    name, blob, n_rows = data.draw(exports(base))
    _check_one(tmp_path_factory.mktemp("h"), name, blob, n_rows)


def test_generator_reaches_both_outcomes(base, tmp_path):
    """The strategy is not degenerate: an untouched export is clean, a damaged one is refused."""
    good = _to_bytes(base, encoding="utf-8", delimiter=";", crlf=False, quote_all=True)
    assert _check_one(tmp_path / "a", "export.csv", good, len(base)) == "ok"
    dup = base.copy()
    dup.columns = [dup.columns[0]] * 2 + list(dup.columns[2:])
    bad = _to_bytes(dup, encoding="utf-8", delimiter=";", crlf=False, quote_all=True)
    assert _check_one(tmp_path / "b", "export.csv", bad, len(base)) == "error"


def test_bare_carriage_return_in_csv_outputs(base, tmp_path):
    """A cell '\\r=cmd' (bare carriage return, then a formula) must not split a row of a CSV
    output nor start a line with a live formula (fixed in cleaning by quoting every text cell)."""
    df = base.copy()
    df.loc[3, "si_nov_01"] = "\r=cmd"  # an invalid Likert answer: logged with its old value
    df.loc[4, "province"] = "Rabat\r=cmd"
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "export.csv").write_bytes(_to_bytes(df, encoding="utf-8", delimiter=";", crlf=False, quote_all=True))
    result = clean([raw / "export.csv"], out_dir=tmp_path / "out", private_dir=tmp_path / "private")
    for name, frame in (("cleaning_log.csv", result.log), ("validation.csv", result.validation)):
        path = tmp_path / "out" / name
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) == len(frame) + 1, f"{name}: {len(rows) - 1} rows read back, {len(frame)} written"
        _assert_no_live_formula_csv(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-16"])
def test_path_like_values_in_file_fields(base, tmp_path, encoding):
    """Attachment columns and file-question answers holding path names are data, never paths to open."""
    df = base.copy()
    df["_attachments"] = '[{"filename": "../../../etc/passwd", "download_url": "file:///etc/shadow"}]'
    df["photo_siege"] = ["../" * 8 + "tmp/evil.jpg", "/etc/passwd", "C:\\Windows\\win.ini",
                         "\\\\srv\\share\\evil.png", "photo.jpg\x00.exe", "~/.ssh/id_rsa"] * 2
    df["province"] = "../../etc/passwd"
    df["../../evil_header"] = "x"
    blob = _to_bytes(df, encoding=encoding, delimiter=";", crlf=True, quote_all=True)
    _check_one(tmp_path, "export.csv", blob, len(df))
    # nothing was created or read outside the output folders
    assert not Path("/tmp/evil.jpg").exists()
    assert not (tmp_path / "processed" / ".." / ".." / "evil_header").exists()


# --------------------------------------------------------------------------- the whole run


@pytest.fixture(scope="module")
def injected_run(tmp_path_factory):
    """One ``si-survey run`` on an export with a formula in every text cell that can reach an output."""
    from analysis.simulate import simulate_export

    root = tmp_path_factory.mktemp("formula")
    paths = simulate_export(n=200, seed=3, out_dir=root / "raw", fmt="kobo-csv")
    df = pd.read_csv(paths["export"], sep=";", dtype=str, keep_default_na=False)
    rng = random.Random(0)
    for c in ("province", "_notes", "_tags", "_validation_status", "__version__", "_status", "comments",
              "sector_other"):
        if c in df.columns:
            df[c] = FORMULA
    for c in ("legal_form", "region", "n_members", "year_created", "milieu"):  # invalid values: logged
        idx = rng.sample(range(len(df)), 5)
        df.loc[idx, c] = FORMULA
    df['=HYPERLINK("http://x","col")'] = FORMULA  # an unknown column named by a formula
    export = root / "raw" / "injected.csv"
    export.write_bytes(_to_bytes(df, encoding="utf-8", delimiter=";", crlf=False, quote_all=True))
    processed, out = root / "processed", root / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--processed", str(processed), "--out", str(out),
         "--formats", "xlsx,md", str(export)],
        env={**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT), "MPLBACKEND": "Agg"},
        capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return processed, out


@pytest.mark.slow
def test_formula_never_live_in_csv_outputs(injected_run):
    files = [p for d in injected_run for p in d.rglob("*.csv")]
    assert files
    seen = False
    for p in files:
        _assert_no_live_formula_csv(p)
        seen |= "HYPERLINK" in p.read_text(encoding="utf-8")
    assert seen, "the planted formulas reached no CSV output: the test proves nothing"


@pytest.mark.slow
def test_formula_never_live_in_xlsx_outputs(injected_run):
    files = [p for d in injected_run for p in d.rglob("*.xlsx")]
    assert files
    for p in files:
        _assert_no_live_formula_xlsx(p)
