"""Tests of crash-safe writing (analysis/utils/atomic.py): interruption and concurrent runs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from analysis.utils.atomic import (
    LockedError,
    RunLock,
    atomic_path,
    atomic_write_text,
    recover_directory,
    staged_directory,
)


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_path_failure_leaves_target_and_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_staged_directory_failure_keeps_previous(tmp_path):
    out = tmp_path / "reports"
    with staged_directory(out) as stage:
        (stage / "t1.md").write_text("v1")
    with pytest.raises(RuntimeError), staged_directory(out) as stage:
        (stage / "t1.md").write_text("v2")
        raise RuntimeError("boom")
    assert (out / "t1.md").read_text() == "v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]


def test_recover_after_death_between_renames(tmp_path):
    out = tmp_path / "processed"
    backup = tmp_path / ".processed.previous"
    backup.mkdir()
    (backup / "survey.parquet").write_text("previous")
    recover_directory(out)
    assert (out / "survey.parquet").read_text() == "previous"
    assert not backup.exists()


def test_second_lock_is_refused_with_clear_message(tmp_path):
    out = tmp_path / "processed"
    with RunLock(out):
        with pytest.raises(LockedError, match="another si-survey run"):
            with RunLock(out):
                pass
    with RunLock(out):  # released
        pass


_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from analysis.utils.atomic import RunLock, staged_directory
    out = Path(sys.argv[1]); version = sys.argv[2]
    with RunLock(out):
        with staged_directory(out) as stage:
            for i in range(40):
                (stage / f"f{i:02d}.txt").write_text(version * 1000)
                time.sleep(0.005)
    """
)


@pytest.mark.parametrize("seed", range(6))
def test_sigterm_at_random_point_leaves_previous_outputs(tmp_path, seed):
    """A writer killed at a random moment leaves either the old or the new folder, whole."""
    out = tmp_path / "out"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    subprocess.run([sys.executable, str(script), str(out), "a"], check=True, env=env)
    proc = subprocess.Popen([sys.executable, str(script), str(out), "b"], env=env)
    time.sleep(random.Random(seed).uniform(0.05, 0.6))
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    recover_directory(out)
    contents = {p.read_text() for p in out.iterdir()}
    assert len(list(out.iterdir())) == 40
    assert contents in ({"a" * 1000}, {"b" * 1000})
    # the next run completes
    subprocess.run([sys.executable, str(script), str(out), "c"], check=True, env=env)
    assert {p.read_text() for p in out.iterdir()} == {"c" * 1000}
