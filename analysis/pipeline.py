"""The main job: ``si-survey run``.

Stages, each skipped when its inputs did not change since the last run:

1. **clean**: raw exports -> ``data/processed/`` (``survey.parquet``, audit trail);
2. **report**: cleaned data + table plan + analysis plan -> ``reports/`` (every thesis
   table in every format, every figure).

A stage's key is the SHA-256 of everything it depends on (input files, the
text files of ``questionnaire/`` and the source of the package). Each output
folder is locked while a stage writes it and is replaced in one swap, so an
interrupted run leaves the previous outputs whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis import config
from analysis.errors import InputError
from analysis.utils.atomic import RunLock, sha256_file, staged_directory
from analysis.utils.forking import in_jupyter_kernel, run_in_child
from analysis.utils.provenance import code_fingerprint, hash_files, questionnaire_fingerprint

__all__ = ["run", "RunResult", "code_fingerprint", "questionnaire_fingerprint"]

STAGE_FILE = "stage.json"


def _stage_key(**parts: str) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _previous_key(folder: Path) -> str | None:
    try:
        return json.loads((folder / STAGE_FILE).read_text())["key"]
    except (OSError, ValueError, KeyError):
        return None


def _write_stage(stage: Path, key: str, extra: dict) -> None:
    """Write ``stage.json`` (the stage key and what it was computed from); no dates, so that
    two runs on the same inputs write the same bytes."""
    (stage / STAGE_FILE).write_text(
        json.dumps({"key": key, **extra}, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _add_to_manifest(stage: Path, **fields) -> None:
    """Add the stage key (and the like) to the report manifest written by the report stage."""
    path = stage / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    manifest.update(fields)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


@dataclass
class RunResult:
    """What ``si-survey run`` did.

    Attributes
    ----------
    processed_dir, out_dir : Path
        Where the cleaned data and the reports are.
    recomputed : dict
        For each stage, True if it ran, False if it was skipped as up to date.
    flow : pandas.DataFrame or None
        The respondent flow.
    files : list of Path
        The report files written.
    warnings : list of str
        Warnings worth a look (estimation problems, validation problems).
    seconds : float
        Wall-clock time.
    timings : dict
        Seconds per stage (``clean``, ``report``) and per part of the report stage
        (``report/<table id>``, ``report/write``) for the stages that ran.
    report : analysis.report.ReportResult or None
        The tables, figures and analysis objects of the report stage, when it ran.
    """

    processed_dir: Path
    out_dir: Path
    recomputed: dict = field(default_factory=dict)
    flow: object = None
    files: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    report: object = None

    def summary(self) -> str:
        """One screen for the researcher: where the outputs are, the flow, the warnings."""
        lines = ["", f"si-survey run: done in {self.seconds:.1f} s"]
        for stage, ran in self.recomputed.items():
            took = f" ({self.timings[stage]:.1f} s)" if ran and stage in self.timings else ""
            lines.append(f"  {stage:<8} {'recomputed' if ran else 'up to date, skipped'}{took}")
        lines.append(f"  cleaned data : {self.processed_dir}")
        lines.append(f"  reports      : {self.out_dir} ({len(self.files)} files)")
        if self.flow is not None:
            lines.append("")
            lines.append("Respondent flow:")
            lines.append(self.flow.to_string(index=False))
        if self.warnings:
            lines.append("")
            lines.append(f"Warnings ({len(self.warnings)}):")
            lines.extend(f"  - {w}" for w in self.warnings[:15])
            if len(self.warnings) > 15:
                lines.append(f"  ... and {len(self.warnings) - 15} more (see reports/warnings.txt)")
        return "\n".join(lines)


def _progress(message: str) -> None:
    print(f"[si-survey] {message}", file=sys.stderr, flush=True)


def run(
    raw: Sequence[Path] | None = None,
    processed_dir: Path = config.PROCESSED_DIR,
    out_dir: Path = config.REPORTS_DIR,
    formats: Sequence[str] = ("docx", "tex", "html", "md", "xlsx"),
    lang: str = "fr",
    force: bool = False,
    progress=_progress,
    study=None,
    decisions=None,
) -> RunResult:
    """Run the whole job: clean, score, analyse, render.

    Parameters
    ----------
    raw : sequence of Path, optional
        Raw export files. Default: the exports in ``data/raw/demo/``.
    processed_dir, out_dir : Path
        Output folders (default ``data/processed/`` and ``reports/``).
    formats : sequence of str
        Table formats among ``docx, tex, html, md, xlsx``.
    lang : {"fr", "en"}
        Label language.
    force : bool
        Recompute every stage even if its inputs did not change.
    decisions : path or list of paths, optional
        The researcher's decision files or their folder (default ``data/decisions/`` when it
        exists); they are inputs of the cleaning stage (a new decision makes it run again).
    progress : callable
        Called with a short message at each step (default: print to stderr).
    study : Study, optional
        The study already loaded and checked (:func:`analysis.study.check_study`);
        default: ``questionnaire/`` is loaded and checked here, before anything is
        written (a plan naming an unknown construct, option or column stops the run).

    Returns
    -------
    RunResult

    Examples
    --------
    Same as ``si-survey run`` (about a minute on the demo data)::

        result = run()              # demo export -> data/processed/ -> reports/
        print(result.summary())
        result.recomputed           # {'clean': True, 'report': True}; False when up to date
    """
    from analysis.cleaning._clean import default_raw_files

    t0 = time.perf_counter()
    processed_dir = Path(processed_dir)
    out_dir = Path(out_dir)
    raw_files = [Path(p) for p in raw] if raw else default_raw_files()
    for path in raw_files:
        if not path.is_file():
            raise InputError(
                "the raw export does not exist (a pattern such as *.csv may have matched no file)",
                file=path,
                expected="the path of an export file (CSV, XLSX, SAV or DTA)",
            )
    if study is None:
        from analysis.report.kinds import all_kind_options
        from analysis.study._study import load_study
        from analysis.study._validate import check_study

        study = check_study(load_study(), kind_options=all_kind_options())
    result = RunResult(processed_dir=processed_dir, out_dir=out_dir)
    code = code_fingerprint()
    quest = questionnaire_fingerprint()

    # Both folders are locked for the whole run: a second run can change neither
    # processed/ nor reports/ while this one works (it gets a clear message instead).
    with RunLock(processed_dir), RunLock(out_dir):
        return _run_locked(raw_files, processed_dir, out_dir, formats, lang, force, progress,
                           result, code, quest, t0, decisions)


#: Run the cleaning stage in a child process (POSIX): its memory (the raw text of a
#: large export, allocator caches) is returned to the system before the report stage,
#: and the parent prepares the report stage meanwhile.
ISOLATE_CLEANING = hasattr(os, "fork") and sys.platform.startswith("linux")


def _isolated(func, progress):
    """Run ``func(progress)`` in a forked child process and return its (picklable) result.

    :func:`analysis.utils.forking.run_in_child`, the report stage's modules imported
    meanwhile in a thread (the child's progress is relayed as it comes).
    """
    return run_in_child(func, progress, what="the cleaning stage", meanwhile=_preload_report_modules)


def _preload_report_modules() -> None:
    """Import the modules of the report stage (seconds of imports, while the child cleans)."""
    try:
        import matplotlib.figure  # noqa: F401
        import scipy.stats  # noqa: F401
        import statsmodels.api  # noqa: F401

        from analysis.report import _build  # noqa: F401
    except ImportError:  # pragma: no cover - the report stage will say it
        pass


def _run_locked(raw_files, processed_dir, out_dir, formats, lang, force, progress, result, code, quest, t0,
                decisions=None):
    """The stages of :func:`run`, with both output folders locked by the caller."""
    from analysis.cleaning._clean import clean_data, decision_sources
    from analysis.report._build import build_reports

    # Stage 1: clean (the decision files are inputs too, when there are any).
    decision_files = decision_sources(decisions)
    parts = {"raw": hash_files(raw_files), "code": code, "questionnaire": quest, "stage": "clean"}
    if decision_files:
        parts["decisions"] = hash_files(decision_files)
    clean_key = _stage_key(**parts)
    if force or _previous_key(processed_dir) != clean_key:
        t_clean = time.perf_counter()
        progress(f"cleaning {len(raw_files)} raw file(s) ...")

        def clean_stage(say):
            cleaned = clean_data(raw_files, progress=say, decisions=decision_files or None)
            with staged_directory(processed_dir) as stage:
                cleaned.write(stage)
                _write_stage(stage, clean_key, {"raw_files": [str(p) for p in raw_files]})
            return list(cleaned.warnings)

        # not from a Jupyter kernel: a fork of the kernel's process would share its sockets
        isolate = ISOLATE_CLEANING and not in_jupyter_kernel()
        warnings = _isolated(clean_stage, progress) if isolate else clean_stage(progress)
        result.recomputed["clean"] = True
        result.warnings.extend(warnings)
        result.timings["clean"] = time.perf_counter() - t_clean
    else:
        progress("cleaning: inputs unchanged, skipped")
        result.recomputed["clean"] = False
    survey_file = processed_dir / "survey.parquet"
    flow_file = processed_dir / "flow.csv"

    # Stage 2: analyse and render.
    inputs = {"survey.parquet": sha256_file(survey_file)}
    if flow_file.exists():
        inputs["flow.csv"] = sha256_file(flow_file)
    report_key = _stage_key(
        data=inputs["survey.parquet"],
        flow=inputs.get("flow.csv", ""),
        code=code,
        questionnaire=quest,
        formats=",".join(sorted(formats)),
        lang=lang,
        stage="report",
    )
    if force or _previous_key(out_dir) != report_key:
        t_report = time.perf_counter()
        with staged_directory(out_dir) as stage:
            report = build_reports(
                processed_dir, stage, formats=formats, lang=lang, progress=progress,
                timings=result.timings,
            )
            _add_to_manifest(stage, stage_key=report_key)
            _write_stage(stage, report_key, {
                "formats": sorted(formats), "lang": lang, "inputs": inputs,
                "code": code, "questionnaire": quest,
            })
        result.recomputed["report"] = True
        result.report = report
        result.warnings.extend(report.warnings)
        result.timings["report"] = time.perf_counter() - t_report
    else:
        progress("report: inputs unchanged, skipped")
        result.recomputed["report"] = False
    result.files = sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != STAGE_FILE)
    try:
        import pandas as pd

        result.flow = pd.read_csv(processed_dir / "flow.csv")
    except OSError:
        result.flow = None
    result.seconds = time.perf_counter() - t0
    return result
