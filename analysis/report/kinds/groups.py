"""Table kind ``groups``: associations compared with cooperatives (H4) with effect sizes.

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np
import pandas as pd

from analysis.report._common import finish, group_levels, new_table, table_ref, term_label
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``groups`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "outcomes": "list of variables compared between the groups (default: comparisons.outcomes of analysis_plan.yaml)",
}


def _apa_text(ctx: ReportContext, df: pd.DataFrame, levels: list) -> list[str]:
    """One APA-style sentence per outcome, from the numbers of the table, formatted like its cells
    ("Associations M = 3,42 (ÉT = 0,61), coopératives M = 3,10 (ÉT = 0,72) ; t(131,4) = 2,81, p = ,006 ;
    g = 0,47, IC 95 % [0,14 ; 0,80]")."""
    from analysis.report._common import fmt_p
    from analysis.tables import format_number, get_locale

    sep = get_locale(ctx.lang).interval_sep.strip()

    def f(v, d=2):
        return format_number(float(v), d, ctx.lang)

    def ok(r, *keys):
        return all(k in r and pd.notna(r[k]) for k in keys)

    out = []
    for _, r in df.iterrows():
        means = ", ".join(
            ctx.text("groups.apa_mean", group=ctx.group_label(lv), m=f(r[f"mean_{lv}"]), sd=f(r[f"sd_{lv}"]))
            for lv in levels if ok(r, f"mean_{lv}", f"sd_{lv}"))
        if not means or not ok(r, "t", "df", "p_value"):
            continue
        g = (ctx.text("groups.apa_g", g=f(r["g"]), low=f(r["g_low"]), high=f(r["g_high"]), sep=sep)
             if ok(r, "g", "g_low", "g_high") else "")
        out.append(ctx.text("groups.apa", variable=r["variable"], means=means, df=f(r["df"], 1), t=f(r["t"]),
                            p=fmt_p(r["p_value"], ctx.lang), g=g))
    return out


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 10: associations compared with cooperatives (H4) with effect sizes."""
    from analysis.descriptives._group_tests import compare_groups

    out = TableOutput(spec["id"])
    group, levels = group_levels(ctx)
    levels = levels[:2]
    comp = ctx.plan_of_analysis().comparisons or {}
    outcomes = [o for o in spec.get("outcomes", comp.get("outcomes", [])) if o in ctx.data.columns]
    results = {}
    # the outcomes only (run_comparisons would also run the plan's cross-tables, not shown here)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        for dv in outcomes:
            results[str(dv)] = compare_groups(ctx.data, dv, comp.get("group", group))
    out.results["comparisons"] = results
    rows = []
    for name, res in results.items():
        if not hasattr(res, "tests"):
            continue
        tests = res.tests.set_index("test")
        eff = res.effects.set_index("effect")
        d = res.groups.set_index("group")
        row = {"variable": term_label(ctx, name)}
        for lv in levels:
            if lv in d.index:
                row[f"n_{lv}"] = float(d.at[lv, "n"]) if "n" in d.columns else np.nan
                row[f"mean_{lv}"] = float(d.at[lv, "mean"])
                row[f"sd_{lv}"] = float(d.at[lv, "sd"])
        if "welch_t" in tests.index:
            row["t"] = float(tests.at["welch_t", "statistic"])
            row["df"] = float(tests.at["welch_t", "df"])
            row["p_value"] = float(tests.at["welch_t", "p_value"])
        if "hedges_g" in eff.index:
            row["g"] = float(eff.at["hedges_g", "estimate"])
            row["g_low"] = float(eff.at["hedges_g", "ci_low"])
            row["g_high"] = float(eff.at["hedges_g", "ci_high"])
        if "mann_whitney" in tests.index:
            row["p_mw"] = float(tests.at["mann_whitney", "p_value"])
        rows.append(row)
    df = pd.DataFrame(rows)
    out.results["table"] = df
    if df.empty:
        return out
    out.results["apa_text"] = _apa_text(ctx, df, levels)
    n_cols = [c for c in df.columns if c.startswith("n_")]
    ns = {lv: (int(df[f"n_{lv}"].min()), int(df[f"n_{lv}"].max())) for lv in levels if f"n_{lv}" in df}
    df = df.drop(columns=n_cols)
    differ, differ_names = 0, ""
    if "p_mw" in df and "p_value" in df:
        flips = (df["p_mw"] < 0.05) != (df["p_value"] < 0.05)
        differ = int(flips.sum())
        differ_names = ", ".join(df.loc[flips, "variable"].astype(str))
        df = df.drop(columns="p_mw")
    labels = {"variable": "", "t": "t", "df": ctx.text("common.df"), "p_value": "p",
              "g": "g", "g_low": ctx.text("common.low"), "g_high": ctx.text("common.high")}
    df_range = (float(df["df"].min()), float(df["df"].max())) if "df" in df else None
    df = df.drop(columns=[c for c in ("df",) if c in df])
    t = new_table(df, ctx, spec, number).tab_stub("variable").cols_label({k: v for k, v in labels.items() if k in df})
    for lv in levels:
        if f"mean_{lv}" in df:
            t = t.cols_label({f"mean_{lv}": ctx.text("common.M"), f"sd_{lv}": ctx.text("common.SD")})
            t = t.tab_spanner(ctx.group_label(lv), [f"mean_{lv}", f"sd_{lv}"])
            t = t.fmt_number([f"mean_{lv}", f"sd_{lv}"], decimals=2)
    welch = [c for c in ("t", "p_value") if c in df]
    if welch:
        t = t.tab_spanner(ctx.text("groups.welch"), welch)
    hed = [c for c in ("g", "g_low", "g_high") if c in df]
    if hed:
        t = t.tab_spanner(ctx.text("groups.hedges"), hed)
    t = (
        t.fmt_number([c for c in ("t",) if c in df], decimals=2)
        .fmt_pvalue([c for c in ("p_value",) if c in df])
        .fmt_number([c for c in ("g", "g_low", "g_high") if c in df], decimals=2)
    )
    from analysis.tables import format_integer

    def rng(a, b):
        return format_integer(a, ctx.lang) if a == b else f"{format_integer(a, ctx.lang)}–{format_integer(b, ctx.lang)}"

    n_txt = ", ".join(f"{ctx.group_label(lv)} n = {rng(*ns[lv])}" for lv in levels if lv in ns)
    from analysis.tables import format_number

    ddl = ""
    if df_range is not None:
        a, b = (format_number(v, 1, ctx.lang) for v in df_range)
        ddl = ctx.text("groups.df_range", a=a, b=b)
    inv_ref = table_ref(ctx, next((t_["id"] for t_ in ctx.plan.tables if t_["kind"] == "invariance"), ""),
                   ctx.text("groups.invariance_fallback"))
    mann_whitney = (ctx.text("groups.mw_same") if not differ
                    else ctx.text("groups.mw_differs_one", variables=differ_names) if differ == 1
                    else ctx.text("groups.mw_differs_many", n=differ, variables=differ_names))
    t = t.tab_note(ctx.text("groups.note", n_txt=n_txt, ddl=ddl, mann_whitney=mann_whitney, inv_ref=inv_ref))
    out.add(finish(t, ctx, spec=spec))
    return out
