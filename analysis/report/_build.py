"""Writing the report: every table in every format, the results CSVs, the figures, the manifest.

:func:`write_report` hands each rendered table to the writers of the formats asked
for (:data:`analysis.report.writers.WRITERS`) while the figures are rendered
(:mod:`analysis.report._figure_render`); :func:`build_reports` computes and writes
the whole report with its manifest (:mod:`analysis.report._manifest`);
:func:`render_reports` is ``si-survey tables``.

Layout of ``reports/``::

    tables.html            every table on one self-contained page
    tables.md              every table, Markdown
    tables.docx            every table and figure, one Word document (lists of tables and figures,
                           wide tables on landscape pages)
    tables.xlsx            every table, one sheet each
    tex/<id>.tex           one LaTeX file per table (\\input{} them)
    md/<id>.md, docx/<id>.docx
    figures/<name>.png|pdf 300 dpi PNG and PDF
    results/<id>__<name>.csv  the unformatted numbers behind each table (except those
                              holding counts below the small-cell threshold)
    warnings.txt           estimation and data warnings worth a look
    manifest.json          inputs (hashes), options, versions and outputs of the run
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.errors import ConfigError
from analysis.report._compute import compute_report
from analysis.report._figure_render import FIGURE_FORMATS, figure_renderer, write_figure_files
from analysis.report._manifest import is_demo, report_manifest
from analysis.report._outputs import ReportResult
from analysis.report._plan import TablePlan, load_table_plan
from analysis.report.writers import ALL_FORMATS, WRITERS
from analysis.report.writers._base import ReportFigure
from analysis.report.writers.results import write_results

__all__ = ["write_report", "build_reports", "render_reports", "results_paragraphs"]


def write_report(outputs: dict, warnings: list, out_dir: Path, formats: Sequence[str], lang: str,
                 threshold: int = 5, *, workers: int | None = None, apa_text: bool = True) -> list[Path]:
    """Render the computed tables and figures into ``out_dir`` (no locking: see :func:`render_reports`).

    Each table is rendered once and the rendering handed to the writer of every
    format (:data:`analysis.report.writers.WRITERS`): first the files of all the
    tables, then those of each plan entry; a combined file that holds the figures too
    (``Writer.figures``: the Word document) is written once they are rendered. The numbers behind a table go to
    ``results/`` unless they hold counts below ``threshold`` (small cells).

    The figures are rendered while the tables are written, a share of them in
    forked worker processes (``workers`` processes in all, this one included;
    default: one per CPU, at most 4; 1: no worker), and written once all of them
    are rendered: a figure that fails (here or in a worker) raises and leaves no
    figure file. The files are the same whatever the number of workers.
    """
    import matplotlib.pyplot as plt

    from analysis.utils.atomic import atomic_write_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = [WRITERS[f] for f in WRITERS if f in formats]
    files: list[Path] = []
    with figure_renderer(outputs, formats, workers) as renderer:
        rendered = {tid: [t.render() for t in o.tables] for tid, o in outputs.items()}
        all_r = [r for tid in outputs for r in rendered[tid]]
        all_land = [bool(x) for o in outputs.values() for x in (o.landscape or [False] * len(o.tables))]
        after = {tid: results_paragraphs(o, lang) if apa_text else [None] * len(o.tables)
                 for tid, o in outputs.items()}
        all_after = [x for tid in outputs for x in after[tid]]
        if all_r:
            files.extend(w.combined(all_r, all_land, out_dir, lang, **({"after": all_after} if w.results_text else {}))
                         for w in writers if w.combined and not w.figures)
        for tid, o in outputs.items():
            rs = rendered[tid]
            land = list(o.landscape or [False] * len(rs))
            if rs:
                files.extend(w.per_table(tid, rs, land, out_dir, **({"after": after[tid]} if w.results_text else {}))
                             for w in writers if w.per_table)
            files.extend(write_results(tid, o.results, out_dir, threshold))
        figure_data = renderer.finish()
    with_figures = [w for w in writers if w.combined and w.figures]
    if all_r and with_figures:
        figures = _report_figures(outputs, figure_data)
        files.extend(w.combined(all_r, all_land, out_dir, lang, figures=figures) for w in with_figures)
    data = iter(figure_data)
    for o in outputs.values():
        for name, fig in o.figures.items():
            files.extend(write_figure_files(fig, out_dir / "figures" / name, next(data)))
            plt.close(fig)
    text = "\n".join(warnings) + ("\n" if warnings else "")
    files.append(atomic_write_text(out_dir / "warnings.txt", text))
    return files


def results_paragraphs(output, lang: str) -> list[str | None]:
    """Per table of ``output``, the paragraph printed after it: the APA-style results text
    (``output.results["apa_text"]``, one or more sentences) after the last table, led by
    "Résultats :" / "Results:"; None elsewhere (and everywhere when there is no such text).

    Examples
    --------
    >>> from analysis.report._outputs import TableOutput
    >>> o = TableOutput("t", tables=["a", "b"], results={"apa_text": ["α = ,84."]})
    >>> results_paragraphs(o, "fr")
    [None, 'Résultats : α = ,84.']
    >>> results_paragraphs(TableOutput("t", tables=["a"]), "en")
    [None]
    """
    from analysis.report._texts import load_texts

    out: list[str | None] = [None] * len(output.tables)
    sentences = [str(s).strip() for s in (output.results.get("apa_text") or []) if str(s).strip()]
    if out and sentences:
        out[-1] = f"{load_texts(lang)('common.results_lead')} {' '.join(sentences)}"
    return out


def _report_figures(outputs: dict, figure_data: list) -> list[ReportFigure]:
    """The rendered figures, each with its caption and the index of the table it follows."""
    figures, data, n_tables = [], iter(figure_data), 0
    for o in outputs.values():
        n_tables += len(o.tables)
        for name, fig in o.figures.items():
            png = next(data)[FIGURE_FORMATS.index("png")]
            caption, note = o.figure_captions.get(name, (name.replace("_", " "), None))
            width, height = fig.get_size_inches()
            figures.append(ReportFigure(name, png, float(width), float(height), caption, note, n_tables - 1))
    return figures


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

    from analysis.study._dataset import load_survey
    from analysis.utils.atomic import atomic_write_text

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
        demo = is_demo(processed_dir)
    built: dict = {}
    outputs, warnings = compute_report(survey, flow, lang=lang, plan=plan, demo=demo, progress=progress,
                                       timings=built)
    if progress:
        progress(f"writing {sum(len(o.tables) for o in outputs.values())} tables and "
                 f"{sum(len(o.figures) for o in outputs.values())} figures ...")
    t0 = time.perf_counter()
    files = write_report(outputs, warnings, out_dir, formats, lang,
                         threshold=int(plan.options.get("small_cell_threshold", 5)),
                         apa_text=bool(plan.options.get("apa_text", True)))
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
