"""Two ``si-survey run`` at once on the same folders.

The second run must stop at once with the lock message and exit code 75
(``EX_TEMPFAIL``), the first must complete, and the outputs must be whole (the
manifest's hashes match, every file opens, the next run finds them up to
date). Everything runs in subprocesses,
on a small simulated export in a temporary folder. The whole-run test is marked
``slow`` (two runs: minutes of CPU); the lock message is checked in-process.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from analysis import config
from analysis.pipeline import code_fingerprint

N_ORGS = 150  # small: the point is the locking, not the statistics


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT), "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}


def _cmd(raw: Path, processed: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "analysis", "run", "--processed", str(processed), "--out", str(out),
            *extra, str(raw)]


def _leftovers(parent: Path) -> list[str]:
    """Staging folders, backups and temporary files left next to or inside the outputs."""
    bad = [p.name for p in parent.iterdir() if ".staging-" in p.name or p.name.endswith(".previous")]
    bad += [str(p) for p in parent.rglob("*.tmp*")]
    return bad


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    from analysis.simulate import simulate_export

    folder = tmp_path_factory.mktemp("raw")
    return simulate_export(n=N_ORGS, seed=11, out_dir=folder, fmt="kobo-csv")["export"]


def _wait_for(path: Path, text: str, proc: subprocess.Popen, timeout: float = 900) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            pytest.fail(f"first run ended (exit {proc.returncode}) before '{text}': {path.read_text()}")
        time.sleep(0.02)
    pytest.fail(f"first run never printed '{text}'")


def _refused(raw: Path, processed: Path, out: Path, first: subprocess.Popen) -> subprocess.CompletedProcess:
    p2 = subprocess.run(_cmd(raw, processed, out, *FORMATS), env=_env(), capture_output=True, text=True,
                        timeout=300)
    assert first.poll() is None, "run 1 ended before run 2 was refused: the check proves nothing"
    assert p2.returncode == 75, p2.stderr
    assert "another si-survey run" in p2.stderr and f"process {first.pid}" in p2.stderr, p2.stderr
    assert "wait for it to finish" in p2.stderr
    assert "Traceback" not in p2.stderr
    return p2


FORMATS = ("--formats", "md,xlsx,docx")


@pytest.mark.slow
def test_second_run_is_refused_first_completes(tmp_path, export):
    """While run 1 holds processed/ (cleaning) then reports/ (tables), a second run exits 75
    with the lock message; run 1 completes with whole outputs and the next run completes."""
    work = tmp_path / "work"
    work.mkdir()
    processed, out = work / "processed", work / "reports"
    code_before = code_fingerprint()
    err1 = tmp_path / "run1.err"
    with open(err1, "w") as fh:
        p1 = subprocess.Popen(_cmd(export, processed, out, *FORMATS), env=_env(),
                              stdout=subprocess.DEVNULL, stderr=fh)
        try:
            _wait_for(err1, "cleaning 1 raw file", p1)  # printed while run 1 holds processed/
            _refused(export, processed, out, p1)
            _wait_for(err1, "table 1/", p1)  # printed while run 1 holds reports/
            _refused(export, processed, out, p1)
        finally:
            p1.wait(timeout=1800)
    assert p1.returncode == 0, err1.read_text()
    assert _leftovers(work) == []
    _assert_whole(processed, out)
    # the next run completes; with the same code and export both stages are up to date
    p3 = subprocess.run(_cmd(export, processed, out, *FORMATS), env=_env(), capture_output=True, text=True,
                        timeout=1800)
    assert p3.returncode == 0, p3.stderr
    if code_fingerprint() == code_before:  # (other engineers may edit the package meanwhile)
        assert p3.stdout.count("up to date, skipped") == 2, p3.stdout
    assert _leftovers(work) == []


def _assert_whole(processed: Path, out: Path) -> None:
    """Every output file is complete: the manifest's hashes match, every file opens."""
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    manifest = json.loads((processed / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256((processed / name).read_bytes()).hexdigest() == digest, name
    assert pq.read_table(processed / "survey.parquet").num_rows > 0
    for folder in (processed, out):
        assert (folder / "stage.json").is_file()
        json.loads((folder / "stage.json").read_text())
    for p in out.rglob("*"):
        if p.suffix in (".docx", ".xlsx"):
            with zipfile.ZipFile(p) as z:
                assert z.testzip() is None, p
        if p.suffix == ".xlsx":
            load_workbook(p, read_only=True).close()
        if p.suffix in (".md", ".csv", ".txt") and p.name != "warnings.txt":
            assert p.stat().st_size > 0, p
    assert any(out.rglob("*.xlsx")) and any(out.rglob("*.md")) and any(out.rglob("*.png"))


def test_lock_message_names_holder_process(tmp_path):
    """The refused run is told which process holds the folder (in-process check of the message)."""
    from analysis.utils.atomic import LockedError, RunLock

    out = tmp_path / "reports"
    with RunLock(out):
        with pytest.raises(LockedError) as info:
            with RunLock(out):
                pass
    assert str(os.getpid()) in str(info.value)
    assert info.value.exit_code == 75
