"""The thesis tables and figures, from the cleaned data and the table plan.

``questionnaire/tables.yaml`` lists the tables (BLUEPRINT section 5); each has a
``kind`` handled by one module of :mod:`analysis.report.kinds`, which runs the
statistics (through the package's statistics modules, never here) and turns their
tidy results into :class:`analysis.tables.Table` objects and figures
(:func:`analysis.report._compute.compute_report`). This module writes them: the
writers of :mod:`analysis.tables` render every table to Word, LaTeX, HTML,
Markdown and Excel.

Layout of ``reports/``::

    tables.html            every table on one self-contained page
    tables.md              every table, Markdown
    tables.docx            every table, one Word document (wide tables on landscape pages)
    tables.xlsx            every table, one sheet each
    tex/<id>.tex           one LaTeX file per table (\\input{} them)
    md/<id>.md, docx/<id>.docx
    figures/<name>.png|pdf 300 dpi PNG and PDF
    results/<id>__<name>.csv  the unformatted numbers behind each table (except those
                              holding counts below the small-cell threshold)
    warnings.txt           estimation and data warnings worth a look
    manifest.json          inputs (hashes), options, versions and outputs of the run

Tables are numbered consecutively in plan order (a plan entry may give several
tables, e.g. the CFA: fit, loadings, discriminant validity); notes that cite
another table use its final number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.errors import ConfigError
from analysis.report._compute import compute_report
from analysis.report._layout import _PORTRAIT_CM, _TABLE_FONT, _natural_width_cm
from analysis.report._outputs import ReportResult
from analysis.report._plan import TablePlan, load_table_plan

__all__ = [
    "write_report",
    "build_reports",
    "render_reports",
    "report_manifest",
]

ALL_FORMATS = ("docx", "tex", "html", "md", "xlsx")


def _small_counts(df: pd.DataFrame, threshold: int) -> bool:
    """True if a count column (``n``, ``n_*``, ``count``) holds a value from 1 to threshold - 1."""
    for c in df.columns:
        name = str(c)
        if name in ("n", "count") or name.startswith("n_") or name.endswith("_count"):
            x = pd.to_numeric(df[c], errors="coerce")
            if ((x >= 1) & (x < threshold)).any():
                return True
    return False


def _write_results_csv(obj, path: Path, threshold: int = 5) -> bool:
    """Write the unformatted numbers behind a table; not when they hold small cells.

    Returns False (nothing written) for objects without a tidy frame and for frames
    with counts below ``threshold``: the rendered table shows those with small-cell
    suppression, and the raw numbers would undo it.
    """
    from analysis.tables import neutralize_formula_column

    if isinstance(obj, pd.DataFrame):
        df = obj
    elif hasattr(obj, "to_frame"):
        try:
            df = obj.to_frame()
        except (TypeError, ValueError):
            return False
    else:
        return False
    if not isinstance(df, pd.DataFrame) or _small_counts(df, threshold):
        return False
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = neutralize_formula_column(df[c])
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=not isinstance(df.index, pd.RangeIndex), float_format="%.10g", lineterminator="\n")
    return True


def _write_docx(rendered: list, landscape: list, path: Path) -> Path:
    """Word document with one table after the other; wide tables on landscape pages."""
    import io

    from docx.enum.section import WD_ORIENT, WD_SECTION

    from analysis.utils.atomic import atomic_write_bytes
    from analysis.tables import add_table_to_document, new_document
    from analysis.tables._io import stable_zip

    document = new_document()
    section = document.sections[-1]
    portrait = (section.page_width, section.page_height)
    current = False
    for k, (r, land) in enumerate(zip(rendered, landscape)):
        if k > 0 and land != current:
            section = document.add_section(WD_SECTION.NEW_PAGE)
            if land:
                section.orientation = WD_ORIENT.LANDSCAPE
                section.page_width, section.page_height = portrait[1], portrait[0]
            else:
                section.orientation = WD_ORIENT.PORTRAIT
                section.page_width, section.page_height = portrait
        elif k == 0 and land:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = portrait[1], portrait[0]
        elif k > 0:
            document.add_paragraph()
        current = land
        size = 9.0 if land and _natural_width_cm(r) > 24 else _TABLE_FONT
        add_table_to_document(document, r, font_size=size, note_font_size=size - 1)
    buf = io.BytesIO()
    document.save(buf)
    return atomic_write_bytes(path, stable_zip(buf.getvalue()))


def _write_tex(rendered: list, landscape: list, path: Path) -> Path:
    """One ``.tex`` file: wide tables in a ``landscape`` environment (package pdflscape)."""
    from analysis.utils.atomic import atomic_write_text
    from analysis.tables import to_latex

    parts = []
    for r, land in zip(rendered, landscape):
        tex = to_latex(r, size="small" if land or _natural_width_cm(r) > _PORTRAIT_CM * 0.9 else None)
        if land:
            tex = "\\begin{landscape}\n" + tex + "\\end{landscape}\n"
        parts.append(tex)
    head = "% si-survey: needs \\usepackage{booktabs, threeparttable" + (", pdflscape" if any(landscape) else "") + "}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, head + "\n".join(parts))


def _save_figure(fig, stem: Path, data: Sequence[bytes] | None = None) -> list[Path]:
    """PNG (300 dpi) and PDF without dates, atomically; the PNG with fast zlib compression.

    The figure is laid out once, for the PNG; the PDF reuses that layout
    (:func:`analysis.report._figures.figure_bytes`). ``data``: the PNG and PDF bytes when
    the figure is already rendered (:func:`_figure_renderer`).
    """
    from analysis.utils.atomic import atomic_write_bytes
    from analysis.report._figures import figure_bytes

    stem.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = figure_bytes(fig, _FIGURE_FORMATS, dpi=300, png_compress_level=1)
    return [atomic_write_bytes(stem.parent / f"{stem.name}.{fmt}", b) for fmt, b in zip(_FIGURE_FORMATS, data)]


_FIGURE_FORMATS = ("png", "pdf")

#: Cost of writing the tables, per table cell, in analysis.report._figures.figure_cost units
#: (roughly 10 ms of CPU): rendering and results CSVs, then each format.
_TABLE_CELL_COST = {"": 0.012, "docx": 0.04, "xlsx": 0.02, "html": 0.001, "md": 0.001, "tex": 0.001}


def _figure_renderer(outputs: dict, formats: Sequence[str], workers: int | None):
    """The figures of ``outputs``, rendered while this process writes the tables.

    Shares them between this process and forked workers
    (:class:`analysis.report._figures.FigureRenderer`); this process's share is smaller by
    the estimated cost of the tables it writes meanwhile.
    """
    from analysis.report._figures import FigureRenderer

    cells = sum(int(t.data.size) for o in outputs.values() for t in o.tables)
    per_cell = _TABLE_CELL_COST[""] + sum(_TABLE_CELL_COST.get(f, 0.0) for f in formats)
    figures = [(name, fig) for o in outputs.values() for name, fig in o.figures.items()]
    return FigureRenderer([fig for _, fig in figures], _FIGURE_FORMATS, dpi=300, png_compress_level=1,
                          names=[name for name, _ in figures], workers=workers, head_start=cells * per_cell)


def write_report(outputs: dict, warnings: list, out_dir: Path, formats: Sequence[str], lang: str,
                 threshold: int = 5, *, workers: int | None = None) -> list[Path]:
    """Render the computed tables and figures into ``out_dir`` (no locking: see :func:`render_reports`).

    Each table is rendered once and the rendering handed to every writer. The numbers
    behind a table go to ``results/`` unless they hold counts below ``threshold``
    (small cells).

    The figures are rendered while the tables are written, a share of them in
    forked worker processes (``workers`` processes in all, this one included;
    default: one per CPU, at most 4; 1: no worker), and written once all of them
    are rendered: a figure that fails (here or in a worker) raises and leaves no
    figure file. The files are the same whatever the number of workers.
    """
    import matplotlib.pyplot as plt

    from analysis.utils.atomic import atomic_write_text
    from analysis.tables import write_html_page, write_markdown, write_xlsx

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    with _figure_renderer(outputs, formats, workers) as figure_renderer:
        rendered = {tid: [t.render() for t in o.tables] for tid, o in outputs.items()}
        all_r = [r for tid in outputs for r in rendered[tid]]
        all_land = [bool(x) for o in outputs.values() for x in (o.landscape or [False] * len(o.tables))]
        title = {"fr": "Tableaux de la thèse", "en": "Thesis tables"}[lang]
        if all_r:
            if "html" in formats:
                files.append(write_html_page(all_r, out_dir / "tables.html", title=title))
            if "md" in formats:
                files.append(write_markdown(all_r, out_dir / "tables.md"))
            if "docx" in formats:
                files.append(_write_docx(all_r, all_land, out_dir / "tables.docx"))
            if "xlsx" in formats:
                files.append(write_xlsx(all_r, out_dir / "tables.xlsx"))
        for tid, o in outputs.items():
            rs = rendered[tid]
            land = list(o.landscape or [False] * len(rs))
            if rs:
                if "tex" in formats:
                    files.append(_write_tex(rs, land, out_dir / "tex" / f"{tid}.tex"))
                if "md" in formats:
                    files.append(write_markdown(rs, out_dir / "md" / f"{tid}.md"))
                if "docx" in formats:
                    files.append(_write_docx(rs, land, out_dir / "docx" / f"{tid}.docx"))
            for name, obj in o.results.items():
                if _write_results_csv(obj, out_dir / "results" / f"{tid}__{name}.csv", threshold):
                    files.append(out_dir / "results" / f"{tid}__{name}.csv")
        figure_data = iter(figure_renderer.finish())
    for o in outputs.values():
        for name, fig in o.figures.items():
            files.extend(_save_figure(fig, out_dir / "figures" / name, next(figure_data)))
            plt.close(fig)
    text = "\n".join(warnings) + ("\n" if warnings else "")
    files.append(atomic_write_text(out_dir / "warnings.txt", text))
    return files


def _is_demo(processed_dir: Path) -> bool:
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
    from analysis.pipeline import code_fingerprint, questionnaire_fingerprint

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


def build_reports(
    processed_dir: str | Path,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ALL_FORMATS,
    lang: str = "fr",
    progress: Callable[[str], None] | None = None,
    plan: TablePlan | None = None,
    demo: bool | None = None,
    timings: dict | None = None,
) -> ReportResult:
    """Compute and write every table and figure from ``processed_dir`` into ``out_dir``.

    Writes ``manifest.json`` last. The caller holds the lock and gives a staging folder
    (see :mod:`analysis.pipeline`).

    Parameters
    ----------
    demo : bool, optional
        Whether the source note says the data are simulated; default: detected (the raw
        export is the bundled demo export).
    timings : dict, optional
        Filled with seconds: ``report/<table id>`` per builder and ``report/write``.
    """
    import json
    import time

    from analysis.utils.atomic import atomic_write_text
    from analysis.study._dataset import load_survey

    unknown = [f for f in formats if f not in ALL_FORMATS]
    if unknown:
        raise ConfigError(f"unknown table format(s) {unknown}; choose among {', '.join(ALL_FORMATS)}")
    processed_dir = Path(processed_dir)
    out_dir = Path(out_dir)
    plan = plan or load_table_plan()
    survey = load_survey(processed_dir)
    flow_path = processed_dir / "flow.csv"
    flow = pd.read_csv(flow_path) if flow_path.exists() else None
    if demo is None:
        demo = _is_demo(processed_dir)
    built: dict = {}
    outputs, warnings = compute_report(survey, flow, lang=lang, plan=plan, demo=demo, progress=progress,
                                       timings=built)
    if progress:
        progress(f"writing {sum(len(o.tables) for o in outputs.values())} tables and "
                 f"{sum(len(o.figures) for o in outputs.values())} figures ...")
    t0 = time.perf_counter()
    files = write_report(outputs, warnings, out_dir, formats, lang,
                         threshold=int(plan.options.get("small_cell_threshold", 5)))
    if timings is not None:
        timings.update({f"report/{k}": v for k, v in built.items()})
        timings["report/write"] = time.perf_counter() - t0
    manifest = report_manifest(processed_dir, out_dir, files, formats=formats, lang=lang, plan=plan, demo=demo)
    files.append(atomic_write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True,
                                                                         ensure_ascii=False) + "\n"))
    return ReportResult(outputs=outputs, files=files, warnings=warnings, manifest=manifest)


def render_reports(
    data_dir: str | Path = config.PROCESSED_DIR,
    out_dir: str | Path = config.REPORTS_DIR,
    formats: Sequence[str] = ALL_FORMATS,
    lang: str = "fr",
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """``si-survey tables``: render every table and figure, replacing ``out_dir`` in one swap.

    Returns
    -------
    list of Path
        The files written (their final location).

    Examples
    --------
    Same as ``si-survey tables --data data/processed --out reports``::

        files = render_reports("data/processed", "reports", formats=["md", "docx"], lang="fr")
    """
    from analysis.utils.atomic import RunLock, staged_directory

    out_dir = Path(out_dir)
    with RunLock(out_dir), staged_directory(out_dir) as stage:
        result = build_reports(data_dir, stage, formats=formats, lang=lang, progress=progress)
    return [out_dir / p.relative_to(stage) for p in result.files]
