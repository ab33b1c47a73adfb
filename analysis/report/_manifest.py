"""Provenance of the report stage: ``manifest.json`` and whether the data are the demo's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import config

if TYPE_CHECKING:
    from analysis.report import TablePlan

__all__ = ["report_manifest", "is_demo"]


def is_demo(processed_dir: Path) -> bool:
    """True when the cleaned data come from the bundled simulated export (``data/raw/demo/``)."""
    import json

    from analysis.utils.atomic import sha256_file

    try:
        manifest = json.loads((processed_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    hashes = {f.get("sha256") for f in manifest.get("raw_files", []) if isinstance(f, dict)}
    if not hashes:
        return False
    demo_dir = config.DEMO_RAW_DIR
    if not demo_dir.exists():
        return False
    demo_hashes = set()
    for p in demo_dir.iterdir():
        if p.is_file() and not p.name.startswith(("truth", ".")):
            try:
                demo_hashes.add(sha256_file(p))
            except OSError:
                pass
    return bool(hashes & demo_hashes)


def report_manifest(processed_dir: Path, out_dir: Path, files: Sequence[Path], *, formats: Sequence[str],
                    lang: str, plan: TablePlan, demo: bool) -> dict:
    """What the report stage read and wrote: input hashes, options, versions, output hashes.

    Deterministic: no dates and no absolute paths, so that two runs on the same inputs
    write the same manifest.
    """
    import platform
    from importlib import metadata as _md

    from analysis.utils.atomic import sha256_file
    from analysis.utils.provenance import code_fingerprint, questionnaire_fingerprint

    processed_dir, out_dir = Path(processed_dir), Path(out_dir)
    inputs = {}
    for name in ("survey.parquet", "flow.csv", "labels.json"):
        p = processed_dir / name
        if p.exists():
            inputs[name] = sha256_file(p)
    quest = {}
    for name in ("tables.yaml", "analysis_plan.yaml", "constructs.yaml", "population.yaml", "survey.csv", "choices.csv"):
        p = config.QUESTIONNAIRE_DIR / name
        if p.exists():
            quest[name] = sha256_file(p)
    if plan.path is not None and Path(plan.path).exists() and Path(plan.path).name not in quest:
        quest[Path(plan.path).name] = sha256_file(Path(plan.path))
    versions = {}
    for pkg in ("si-survey", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "python-docx", "openpyxl"):
        try:
            versions[pkg] = _md.version(pkg)
        except _md.PackageNotFoundError:
            versions[pkg] = None
    versions["python"] = platform.python_version()
    seeds = {"plan": plan.options.get("seed")}
    n_iter = {}
    for t in plan.tables:
        if "seed" in t:
            seeds[t["id"]] = t["seed"]
        if "n_iter" in t:
            n_iter[t["id"]] = t["n_iter"]
    outputs = {}
    for p in sorted(set(Path(f) for f in files)):
        if p.exists() and p.name not in ("manifest.json",):
            outputs[p.relative_to(out_dir).as_posix()] = sha256_file(p)
    return {
        "schema": 1,
        "stage": "report",
        "inputs": inputs,
        "questionnaire": quest,
        "questionnaire_fingerprint": questionnaire_fingerprint(),
        "code": {"fingerprint": code_fingerprint(), "si_survey_version": versions.get("si-survey")},
        "versions": versions,
        "options": {k: plan.options[k] for k in sorted(plan.options)},
        "seeds": seeds,
        "n_iter": n_iter,
        "formats": sorted(formats),
        "lang": lang,
        "demo_data": demo,
        "tables": [t["id"] for t in plan.tables],
        "outputs": outputs,
    }
