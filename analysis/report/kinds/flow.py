"""Table kind ``flow``: respondent flow (received, removed at each step, analysed), by legal form.

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.report._common import finish, new_table, zeros_as_none
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``flow`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {}


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 1: respondent flow (received, removed at each step, analysed), by legal form.

    The counts come from ``flow.csv`` unchanged; the table checks that they add up
    (received minus every removal equals analysed, in every column) and suppresses the
    by-form counts below the small-cell threshold.
    """
    from analysis.tables import suppress_small_cells

    out = TableOutput(spec["id"])
    flow = ctx.flow
    if flow is None or flow.empty:
        ctx.warn(spec["id"], "no respondent flow (flow.csv) was found")
        return out
    out.results["flow"] = flow
    df = flow.copy()
    # the legal-form groups of cleaning.yaml, then the forms outside them ("other" in flow.csv)
    groups = [c for c in (*ctx.labels.group_order, "other") if c in df.columns]
    extra = [c for c in df.columns if c not in ("step", "description", "all", *groups)
             and pd.api.types.is_numeric_dtype(df[c])]
    groups += extra
    count_cols = (["all"] if "all" in df.columns else []) + groups
    if "step" in df.columns:
        steps = df["step"].astype(str)
        # a step named in the texts (flow.steps), else its description in flow.csv (French), else its code
        desc = df["description"] if "description" in df.columns else steps
        labels = [ctx.text(f"flow.steps.{s}") if ctx.texts.has(f"flow.steps.{s}")
                  else (str(d) if isinstance(d, str) and d.strip() else s) for d, s in zip(desc, steps)]
        body = steps.to_numpy()
        first, last = body[0], body[-1]
        removed_rows = [i for i, s in enumerate(body) if s not in (first, last)]
        ok = True
        for c in count_cols:
            v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
            if not np.isclose(v[0] - v[removed_rows].sum(), v[-1]):
                ok = False
                ctx.warn(spec["id"], f"the flow does not add up in column '{c}'")
        if "all" in df.columns and groups:
            tot = df[groups].apply(pd.to_numeric, errors="coerce").sum(axis=1)
            if not np.allclose(tot, pd.to_numeric(df["all"], errors="coerce")):
                ok = False
                ctx.warn(spec["id"], "the legal-form columns of the flow do not add up to the total")
        out.results["flow_adds_up"] = ok
    else:
        labels = [str(x) for x in df.iloc[:, 0]]
        removed_rows = list(range(1, len(df) - 1))
    table_df = pd.DataFrame({"step": labels})
    for c in count_cols:
        table_df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    # removals shown as negative numbers would be unusual in French theses: plain counts,
    # removal rows indented under the received row via a row group.
    table_df, zeros = zeros_as_none(ctx, table_df, count_cols)
    sup = suppress_small_cells(table_df, count_cols, ctx.threshold, locale=ctx.lang)
    table_df = sup.frame
    col_labels = {"step": "", "all": ctx.text("common.total")}
    for c in groups:
        col_labels[c] = ctx.group_label(c)
    t = (
        new_table(table_df, ctx, spec, number)
        .tab_stub("step")
        .cols_label(col_labels)
        .fmt_integer(count_cols)
    )
    if removed_rows:
        t = t.tab_row_group(ctx.text("flow.set_aside"), removed_rows)
        t = t.tab_row_group("", [len(table_df) - 1])
    note = ctx.text("flow.note")
    t = t.tab_note(note)
    if zeros:
        t = t.tab_note(ctx.text("flow.zeros"))
    if sup.note:
        t = t.tab_note(sup.note)
    out.add(finish(t, ctx, spec=spec), counts=count_cols)
    return out
