"""Compute every table of the plan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.errors import ConfigError, InputError
from analysis.report._context import ReportContext
from analysis.report._figure_captions import fill_figure_captions
from analysis.report._plan import TablePlan, load_table_plan
from analysis.report._texts import load_study_labels, load_texts
from analysis.report.kinds import kind_module


def compute_report(
    survey: pd.DataFrame,
    flow: pd.DataFrame | None = None,
    *,
    lang: str = "fr",
    plan: TablePlan | None = None,
    demo: bool = False,
    progress: Callable[[str], None] | None = None,
    timings: dict | None = None,
    questionnaire_dir: str | Path | None = None,
) -> tuple[dict, list]:
    """Compute every table and figure of the plan, in memory.

    Parameters
    ----------
    survey : pandas.DataFrame
        The cleaned survey (``survey.parquet``).
    flow : pandas.DataFrame, optional
        The respondent flow (``flow.csv``).
    lang : {"fr", "en"}
    plan : TablePlan, optional
        Default :func:`load_table_plan`.
    demo : bool
        Say in the source notes that the data are simulated.
    progress : callable, optional
    timings : dict, optional
        Filled with the seconds spent by each builder (table id -> seconds).
    questionnaire_dir : str or Path, optional
        Folder of the study files (``constructs.yaml``, ``analysis_plan.yaml``,
        ``cleaning.yaml``, ``texts/<lang>.yaml``); default ``config.QUESTIONNAIRE_DIR``.
        The codebook stays the one of ``config.QUESTIONNAIRE_DIR``.

    Returns
    -------
    outputs : dict of str -> TableOutput
    warnings : list of str

    Examples
    --------
    The whole plan on the demo data takes about a minute; one table::

        plan = load_table_plan()
        one = TablePlan(plan.options, tuple(t for t in plan.tables if t["id"] == "reliability"))
        outputs, warnings = compute_report(load_survey(), plan=one)
        outputs["reliability"].tables[0].to_frame()

    >>> load_table_plan().ids[:2]
    ['flow', 'sample']
    """
    import time

    from analysis.study._constructs import load_constructs
    from analysis.study._dataset import prepare_analysis_data
    from analysis.study._instrument import codebook

    # the study's texts and labels, read once here and handed to every table kind through the context
    texts = load_texts(lang, questionnaire_dir)
    labels = load_study_labels(questionnaire_dir)
    plan = plan or load_table_plan()
    spec = load_constructs() if questionnaire_dir is None else load_constructs(Path(questionnaire_dir) / "constructs.yaml")
    data = prepare_analysis_data(survey, spec)
    ctx = ReportContext(data=data, flow=flow, codebook=codebook(), spec=spec, plan=plan, lang=lang, demo=demo,
                        texts=texts, labels=labels, questionnaire_dir=questionnaire_dir)
    outputs = {}
    next_number = 1
    for number, tspec in enumerate(plan.tables, start=1):
        if progress:
            progress(f"table {number}/{len(plan.tables)}: {tspec['id']} ...")
        t0 = time.perf_counter()
        ctx.refs[tspec["id"]] = next_number  # notes cite earlier tables by their final number
        try:
            outputs[tspec["id"]] = kind_module(tspec["kind"]).build(ctx, tspec, next_number)
            next_number += len(outputs[tspec["id"]].tables)
        except (InputError, ConfigError) as exc:
            ctx.warn(tspec["id"], f"table not produced: {exc}")
        if timings is not None:
            timings[tspec["id"]] = time.perf_counter() - t0
    k = 0
    for o in outputs.values():
        for i, t in enumerate(o.tables):
            k += 1
            o.tables[i] = t.tab_header(t.title, t.subtitle, number=k)
        fill_figure_captions(ctx, o, k if o.tables else None)
    return outputs, ctx.warnings
