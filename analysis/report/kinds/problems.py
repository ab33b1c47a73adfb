"""Table kind ``problems``: problems of Annexe 2 at scale: share rating each problem serious, by legal form.

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.report._common import SUPPRESSED, finish, group_levels, new_table, numeric
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``problems`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "serious_from": "lowest rating (1-5) counted as a serious problem (default 4)",
}


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 8: problems of Annexe 2 at scale: share rating each problem serious, by legal form."""
    from analysis.descriptives._group_tests import crosstab

    out = TableOutput(spec["id"])
    group, levels = group_levels(ctx)
    levels = levels[:2]
    serious_from = int(spec.get("serious_from", 4))
    groups = getattr(ctx.spec, "problem_groups", {}) or {}
    if not groups:
        ctx.warn(spec["id"], "no problem_groups in constructs.yaml: table not produced")
        return out
    seed = ctx.plan.options.get("seed")
    threshold = ctx.threshold
    rows = []
    for gname, g in groups.items():
        glabel = g.get("label_fr", gname)
        if ctx.lang == "en":
            glabel = ctx.labels.problem_groups_en.get(gname, glabel)
        grows = []
        for item in g.get("items", []):
            if item not in ctx.data.columns:
                continue
            x = numeric(ctx.data[item])
            x = x.where((x >= 1) & (x <= 5))
            serious = (x >= serious_from).astype(float).where(x.notna())
            row = {"group": glabel, "item": ctx.label(item, short=75), "var": item, "n": int(x.notna().sum()),
                   "n_serious": int(serious.sum()), "total": float(serious.mean() * 100)}
            for lv in levels:
                s = serious[ctx.data[group] == lv]
                row[f"n_{lv}"] = int(s.notna().sum())
                row[f"k_{lv}"] = int(s.sum())
                row[lv] = float(s.mean() * 100)
            if len(levels) == 2:
                dd = pd.DataFrame({"s": serious, "g": ctx.data[group]}).dropna()
                dd = dd[dd["g"].isin(levels)]
                try:
                    row["p_value"] = crosstab(dd, "g", "s", seed=seed).p_value
                except InputError:
                    row["p_value"] = np.nan
            grows.append(row)
        grows.sort(key=lambda r: -r["total"])
        rows.extend(grows)
    df = pd.DataFrame(rows)
    out.results["problems"] = df
    if df.empty:
        return out
    pct_cols = ["total"] + levels
    show = ["group", "item", "n"] + pct_cols + (["p_value"] if "p_value" in df else [])
    table_df = df[show].copy()
    # a share resting on fewer than `threshold` organisations (or all but fewer) is not published
    hidden = 0
    for lv, nk in [("total", ("n", "n_serious"))] + [(lv, (f"n_{lv}", f"k_{lv}")) for lv in levels]:
        n, k = df[nk[0]], df[nk[1]]
        low = (k < threshold) | (n - k < threshold)
        hidden += int(low.sum())
        table_df[lv] = table_df[lv].astype(object).where(~low, SUPPRESSED)
    labels = {"group": "", "item": "", "n": "n", "total": ctx.text("common.total"), "p_value": "p"}
    for lv in levels:
        labels[lv] = ctx.group_label(lv)
    t = (
        new_table(table_df, ctx, spec, number)
        .tab_stub("item", "group")
        .cols_label(labels)
        .fmt_integer("n")
        .fmt_number(pct_cols, decimals=1)
        .tab_spanner(ctx.text("common.serious"), pct_cols)
    )
    if "p_value" in table_df:
        t = t.fmt_pvalue("p_value")
    # the scale of the problem items, read from their choice list
    first = next((i for g in groups.values() for i in g.get("items", []) if i in ctx.data.columns), None)
    pl = ctx.value_labels(first) if first else {}
    low = f"1 = {pl.get('1', '1').lower()}" if pl else "1"
    high = f"5 = {pl.get('5', '5').lower()}" if pl else "5"
    t = t.tab_note(ctx.text("problems.note", serious_from=serious_from, low=low, high=high))
    if hidden:
        t = t.tab_note(ctx.text("problems.small_shares", threshold=threshold, SUPPRESSED=SUPPRESSED))
    t = finish(t, ctx, spec=spec, labels_note=True)
    out.add(t, counts=["n"])
    return out
