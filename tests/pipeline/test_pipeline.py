"""Tests of analysis.pipeline: stage keys, skipping, forcing, stage files and the report manifest.

The cleaning and report stages are replaced by small stand-ins here (fast); the real stages
on the demo data are exercised once by ``tests/test_reports.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import pipeline
from analysis.utils.atomic import sha256_file


class _Cleaned:
    def __init__(self, value: int):
        self.value = value
        self.warnings = ["cleaning warning"]

    def write(self, folder: Path) -> None:
        folder = Path(folder)
        pd.DataFrame({"x": [self.value, 2]}).to_parquet(folder / "survey.parquet")
        (folder / "flow.csv").write_text("step,all\nreceived,2\nanalysed,2\n", encoding="utf-8")


@pytest.fixture
def stubs(monkeypatch, tmp_path):
    """Stand-ins for the two stages; counts how often each ran."""
    import analysis.cleaning._clean as cleaning
    import analysis.report._build as reports

    calls = {"clean": 0, "report": 0, "value": 1}
    raw = tmp_path / "raw.csv"
    raw.write_text("a,b\n1,2\n", encoding="utf-8")

    def clean_data(files, progress=None, decisions=None):
        calls["clean"] += 1
        return _Cleaned(calls["value"])

    def build_reports(processed_dir, out_dir, *, formats, lang, progress=None, timings=None):
        calls["report"] += 1
        out_dir = Path(out_dir)
        (out_dir / "tables.md").write_text(f"lang={lang}\n", encoding="utf-8")
        (out_dir / "manifest.json").write_text(json.dumps({"lang": lang}) + "\n", encoding="utf-8")
        if timings is not None:
            timings["report/write"] = 0.0
        return reports.ReportResult(warnings=["report warning"])

    monkeypatch.setattr(cleaning, "clean_data", clean_data)
    monkeypatch.setattr(pipeline, "ISOLATE_CLEANING", False)  # the call counters live in this process
    monkeypatch.setattr(reports, "build_reports", build_reports)
    return calls, raw, tmp_path


def _run(raw, tmp, **kw):
    return pipeline.run([raw], processed_dir=tmp / "processed", out_dir=tmp / "reports",
                        progress=lambda m: None, **kw)


def test_second_run_skips_and_force_recomputes(stubs):
    calls, raw, tmp = stubs
    r1 = _run(raw, tmp)
    assert r1.recomputed == {"clean": True, "report": True}
    assert set(r1.timings) >= {"clean", "report", "report/write"}
    assert "cleaning warning" in r1.warnings and "report warning" in r1.warnings
    r2 = _run(raw, tmp)
    assert r2.recomputed == {"clean": False, "report": False}
    assert calls["clean"] == 1 and calls["report"] == 1
    r3 = _run(raw, tmp, force=True)
    assert r3.recomputed == {"clean": True, "report": True}
    assert calls["clean"] == 2 and calls["report"] == 2
    assert "up to date, skipped" in r2.summary() and "recomputed (" in r3.summary()


def test_report_reruns_when_language_or_formats_change(stubs):
    calls, raw, tmp = stubs
    _run(raw, tmp)
    r = _run(raw, tmp, lang="en")
    assert r.recomputed == {"clean": False, "report": True}
    assert (tmp / "reports" / "tables.md").read_text(encoding="utf-8") == "lang=en\n"
    r = _run(raw, tmp, lang="en", formats=("md",))
    assert r.recomputed == {"clean": False, "report": True}
    r = _run(raw, tmp, lang="en", formats=("md",))
    assert r.recomputed == {"clean": False, "report": False}


def test_report_reruns_when_the_raw_data_change(stubs):
    calls, raw, tmp = stubs
    _run(raw, tmp)
    raw.write_text("a,b\n1,3\n", encoding="utf-8")
    calls["value"] = 5  # the new raw data give another cleaned file
    r = _run(raw, tmp)
    assert r.recomputed == {"clean": True, "report": True}


def test_stage_files_and_manifest_are_deterministic(stubs):
    calls, raw, tmp = stubs
    _run(raw, tmp)
    stage1 = (tmp / "reports" / pipeline.STAGE_FILE).read_bytes()
    manifest1 = (tmp / "reports" / "manifest.json").read_bytes()
    _run(raw, tmp, force=True)
    assert (tmp / "reports" / pipeline.STAGE_FILE).read_bytes() == stage1
    assert (tmp / "reports" / "manifest.json").read_bytes() == manifest1
    stage = json.loads(stage1)
    manifest = json.loads(manifest1)
    # the report manifest carries the stage key; the stage file what the key was made of
    assert manifest["stage_key"] == stage["key"]
    assert stage["inputs"]["survey.parquet"] == sha256_file(tmp / "processed" / "survey.parquet")
    assert stage["inputs"]["flow.csv"] == sha256_file(tmp / "processed" / "flow.csv")
    assert stage["lang"] == "fr" and stage["formats"] == sorted(("docx", "tex", "html", "md", "xlsx"))
    assert stage["code"] == pipeline.code_fingerprint()
    assert stage["questionnaire"] == pipeline.questionnaire_fingerprint()
    for text in (stage1.decode(), manifest1.decode()):
        assert "T0" not in text and "T1" not in text and "T2" not in text  # no ISO timestamps
    # stage.json is not listed among the report files
    r = _run(raw, tmp)
    assert all(p.name != pipeline.STAGE_FILE for p in r.files)
    assert r.flow is not None and list(r.flow["step"]) == ["received", "analysed"]


def test_fingerprints_are_stable():
    assert pipeline.code_fingerprint() == pipeline.code_fingerprint()
    assert len(pipeline.questionnaire_fingerprint()) == 64


# --------------------------------------------------------------------------- the cleaning stage in a child process

needs_fork = pytest.mark.skipif(not pipeline.ISOLATE_CLEANING, reason="child process isolation is Linux-only")


@needs_fork
def test_isolated_returns_the_result_and_relays_progress():
    import os

    seen = []

    def work(say):
        say("step one")
        say("step two")
        return {"pid": os.getpid(), "warnings": ["w"]}

    out = pipeline._isolated(work, seen.append)
    assert seen == ["step one", "step two"]
    assert out["warnings"] == ["w"] and out["pid"] != os.getpid()


@needs_fork
def test_isolated_raises_the_childs_error_with_its_details():
    from analysis.errors import InputError

    def work(say):
        raise InputError("bad cell", file="x.csv", row=7, column="age", value="abc", expected="a number")

    with pytest.raises(InputError) as info:
        pipeline._isolated(work, lambda m: None)
    assert info.value.row == 7 and info.value.column == "age" and "x.csv" in str(info.value)


@needs_fork
def test_isolated_child_killed_gives_a_clear_error():
    import os
    import signal

    from analysis.errors import SiSurveyError

    def work(say):
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(SiSurveyError, match="stopped without finishing.*signal 9"):
        pipeline._isolated(work, lambda m: None)


@needs_fork
def test_isolated_unpicklable_error_is_reported():
    class Local(Exception):  # defined in a function: cannot be pickled
        pass

    def work(say):
        raise Local("boom")

    with pytest.raises(RuntimeError, match="Local: boom"):
        pipeline._isolated(work, lambda m: None)


def test_cleaning_stays_in_process_inside_a_jupyter_kernel(stubs, monkeypatch):
    """From a notebook the stage is not forked (the kernel's sockets would be shared)."""
    import sys
    import types

    calls, raw, tmp = stubs
    monkeypatch.setattr(pipeline, "ISOLATE_CLEANING", True)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    r = _run(raw, tmp)
    assert r.recomputed["clean"] is True
    assert calls["clean"] == 1  # counted in this process: no fork
