"""The two fieldwork subcommands: thin calls, files written, one-sentence errors with nothing written."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from analysis.simulate._fieldwork import simulated_frame


def _run(*args):
    return subprocess.run([sys.executable, "-m", "analysis", *map(str, args)], capture_output=True, text=True)


def test_sample_and_monitor_commands(tmp_path):
    frame = tmp_path / "base.csv"
    simulated_frame(3000, seed=1).to_csv(frame, index=False)
    out = _run("sample", frame, "--n", 200, "--strata", "region,legal_form", "--reserve", 2, "--seed", 3,
               "--out", tmp_path / "s")
    assert out.returncode == 0, out.stderr
    for name in ("sample.csv", "allocation.csv", "sampling_frame.csv", "population.yaml"):
        assert (tmp_path / "s" / name).exists()
    alloc = pd.read_csv(tmp_path / "s" / "allocation.csv")
    assert alloc["n_h"].sum() == 200
    out = _run("sample", frame, "--moe", 0.05, "--strata", "region", "--out", tmp_path / "m")
    assert out.returncode == 0 and "sample of 341 organisations" in out.stdout, out.stdout


def test_sample_errors_are_one_sentence_and_write_nothing(tmp_path):
    frame = tmp_path / "base.csv"
    simulated_frame(100, seed=1).to_csv(frame, index=False)
    out = _run("sample", frame, "--n", 10, "--strata", "region,nope", "--out", tmp_path / "o")
    assert out.returncode == 2 and out.stderr.startswith("si-survey: error: ") and "Traceback" not in out.stderr
    assert not (tmp_path / "o").exists()
    out = _run("monitor", tmp_path / "missing.csv", "--out", tmp_path / "p")
    assert out.returncode != 0 and "Traceback" not in out.stderr and not (tmp_path / "p").exists()


def test_help():
    for cmd in ("sample", "monitor"):
        out = _run(cmd, "--help")
        assert out.returncode == 0 and "usage: si-survey" in out.stdout
