"""A real ``si-survey run`` killed with SIGTERM at random moments.

Two small simulated exports, A and B. In one pair of folders: a complete run
of A; then runs started and killed with SIGTERM at a random moment (seeded,
anywhere from start-up to the end of a run), alternately on B and on A; then
a complete run of B. After each kill the state of ``processed/`` and
``reports/`` (the SHA-256 of every file) is recorded; at the end each
recorded folder must be byte for byte the complete version A (first run) or
B (last run) — never a mix, never a partial file. A folder whose swap was
cut between its two renames is read from its backup (the previous version,
which the next run puts back). The last run must complete and leave no
staging folder, backup or temporary file.

Everything runs in subprocesses in a temporary folder. Both variants are
marked ``slow``: a whole run of the small export costs minutes of CPU (the
report stage: CFA, invariance, figures, Word), so even the short variant (two
kills, about four runs in all) exceeds the default suite's budget; the long
one kills eight runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis import config
from analysis.utils.atomic import recover_directory

N_ORGS = 150
FORMATS = ("--formats", "md,xlsx,docx")


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT), "MPLBACKEND": "Agg"}


def _cmd(raw: Path, work: Path) -> list[str]:
    return [sys.executable, "-m", "analysis", "run", "--processed", str(work / "processed"),
            "--out", str(work / "reports"), *FORMATS, str(raw)]


#: Manifest entries that describe the code and the environment, not the data: in a shared
#: working tree they may change between two runs of this test (others edit and reinstall).
_ENVIRONMENT_KEYS = ("code", "versions", "questionnaire", "questionnaire_fingerprint")


def _hashes(folder: Path) -> dict[str, str] | None:
    """SHA-256 of every file of ``folder`` (None if it does not exist).

    ``stage.json`` (its key holds the code fingerprint) is left out and the
    code and environment entries are taken out of ``manifest.json``: in a
    shared working tree the package source may change between two runs of
    this test. Every data file, and the manifest's input and output hashes,
    are compared.
    """
    if not folder.is_dir():
        return None
    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name == "stage.json":
            continue
        data = p.read_bytes()
        if p.name == "manifest.json":
            m = json.loads(data)  # a truncated manifest fails here
            for key in _ENVIRONMENT_KEYS:
                m.pop(key, None)
            data = json.dumps(m, sort_keys=True).encode()
        out[str(p.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return out


def _leftovers(work: Path) -> list[str]:
    bad = [p.name for p in work.iterdir() if ".staging-" in p.name or p.name.endswith(".previous")]
    return bad + [str(p) for p in work.rglob("*.tmp*")]


def _run(raw: Path, work: Path) -> float:
    t0 = time.monotonic()
    proc = subprocess.run(_cmd(raw, work), env=_env(), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return time.monotonic() - t0


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    from analysis.simulate import simulate_export

    root = tmp_path_factory.mktemp("interrupt")
    return {name: simulate_export(n=N_ORGS, seed=seed, out_dir=root / f"raw{name}", fmt="kobo-csv")["export"]
            for name, seed in (("A", 1), ("B", 2))}


def _state(work: Path) -> dict:
    """Hashes of both folders; a folder missing because the kill cut its swap between the two
    renames is read from its backup (the previous version, which the next run puts back)."""
    out = {}
    for name in ("processed", "reports"):
        h = _hashes(work / name)
        if h is None:
            h = _hashes(work / f".{name}.previous")
            assert h is not None, f"{name}: neither the folder nor its backup exists"
        out[name] = h
    return out


def _diff(state: dict, refs: dict) -> str:
    lines = []
    for v, ref in refs.items():
        missing = sorted(set(ref) - set(state))
        extra = sorted(set(state) - set(ref))
        changed = sorted(k for k in set(ref) & set(state) if ref[k] != state[k])
        lines.append(f"vs {v}: missing {missing[:5]}, extra {extra[:5]}, changed {changed[:5]}")
    return "; ".join(lines)


def _kill_runs(exports: dict, tmp_path: Path, seeds) -> list[tuple]:
    """Outputs of A, then runs killed at random moments (B, A, B, ...), then a run of B to the end.

    The states after the kills are recorded and compared at the end with the complete outputs
    of A (the first run) and B (the last run), made in the same folders.
    """
    work = tmp_path / "work"
    work.mkdir()
    duration = _run(exports["A"], work)
    ref = {"A": _state(work)}
    states = []
    target = "B"
    for seed in seeds:
        delay = random.Random(seed).uniform(0.0, 1.05 * duration)
        proc = subprocess.Popen(_cmd(exports[target], work), env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        states.append((seed, round(delay, 1), proc.returncode, _state(work)))
        # what the next run does first (RunLock -> recover_directory): the folders are back in place
        for name in ("processed", "reports"):
            recover_directory(work / name)
            assert _hashes(work / name) is not None
        target = "A" if target == "B" else "B"
    # the next run completes and leaves no staging folder, backup or temporary file
    _run(exports["B"], work)
    ref["B"] = _state(work)
    assert _leftovers(work) == [], _leftovers(work)
    assert ref["A"]["processed"] != ref["B"]["processed"]
    seen = []
    for seed, delay, code, state in states:
        got = []
        for name in ("processed", "reports"):
            match = [v for v in ("A", "B") if state[name] == ref[v][name]]
            assert match, (f"seed {seed} (killed after {delay} s): {name} is neither the complete "
                           f"version A nor B: " + _diff(state[name], {v: ref[v][name] for v in ref}))
            got.append(match[0])
        seen.append((seed, delay, code, tuple(got)))
    return seen


@pytest.mark.slow
def test_sigterm_at_random_moments_leaves_whole_outputs(exports, tmp_path):
    seen = _kill_runs(exports, tmp_path, seeds=[101, 202])
    print(seen)


@pytest.mark.slow
def test_sigterm_at_many_random_moments(exports, tmp_path):
    seen = _kill_runs(exports, tmp_path, seeds=range(8))
    print(seen)
