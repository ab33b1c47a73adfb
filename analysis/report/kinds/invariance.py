"""Table kind ``invariance``: measurement invariance across legal forms (configural, metric, scalar).

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np
import pandas as pd

from analysis.report._common import (
    cached_items,
    default_construct,
    finish,
    first_order_model,
    group_levels,
    missing_option,
    new_table,
)
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``invariance`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "construct": "construct name from constructs.yaml (default: options.construct of the plan)",
    "estimator": "lavaan estimator name, e.g. MLR or ML (default MLR)",
    "missing": "fiml (default: every organisation analysed, full-information maximum likelihood) or listwise",
}


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 6b: measurement invariance across legal forms (configural, metric, scalar)."""
    from analysis.cbsem._invariance import measurement_invariance
    from analysis.tables import format_integer

    out = TableOutput(spec["id"])
    group, levels = group_levels(ctx)
    levels = levels[:2]
    if len(levels) < 2:
        ctx.warn(spec["id"], "fewer than two groups: invariance not tested")
        return out
    names = [default_construct(ctx, spec)]
    model, factor_of = first_order_model(ctx, names)
    items = [i for c in names for i in ctx.spec[c].items if i in ctx.data.columns]
    X = cached_items(ctx)[items].copy()
    X[group] = ctx.data[group].to_numpy()
    X = X[X[group].isin(levels)]
    estimator = spec.get("estimator", "MLR")
    missing = missing_option(spec.get("missing", "fiml"), spec["id"], "invariance")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        inv = measurement_invariance(model, X, group, estimator=estimator, missing=missing)
    out.results["invariance"] = inv
    for lv, m in inv.models.items():
        for w in getattr(m, "warnings", []):
            ctx.warn(spec["id"], f"{lv}: {w}")
    comp = inv.comparison.copy()
    robust = estimator.upper() == "MLR"

    def pick(name):
        return f"{name}_robust" if robust and f"{name}_robust" in comp else name

    cols = {
        "model": "model",
        "chisq": "chisq_scaled" if robust and "chisq_scaled" in comp else "chisq",
        "df": "df",
        "cfi": pick("cfi"),
        "tli": pick("tli"),
        "rmsea": pick("rmsea"),
        "srmr": "srmr",
        "delta_chisq": "delta_chisq",
        "delta_df": "delta_df",
        "p_value": "p_value",
        "delta_cfi": pick("delta_cfi") if robust and "delta_cfi_robust" in comp else "delta_cfi",
        "delta_rmsea": "delta_rmsea_robust" if robust and "delta_rmsea_robust" in comp else "delta_rmsea",
    }
    df = pd.DataFrame({k: comp[v] if v in comp else np.nan for k, v in cols.items()})
    for k in ("tli", "srmr"):
        if df[k].isna().all():
            vals = []
            for lv in comp["model"]:
                f = inv.models[lv].fit
                key = pick(k) if k == "tli" else k
                vals.append(float(f[key]) if key in f.index else np.nan)
            df[k] = vals
    df = df.dropna(axis=1, how="all")
    names_models = {"configural": ctx.text("invariance.configural"),
                    "metric": ctx.text("invariance.metric"),
                    "scalar": ctx.text("invariance.scalar"),
                    "strict": ctx.text("invariance.strict")}
    df["model"] = df["model"].map(lambda m: names_models.get(m, m))
    labels = {"model": ctx.text("common.model"), "chisq": "χ²", "df": ctx.text("common.df"), "cfi": "CFI", "tli": "TLI",
              "rmsea": "RMSEA", "srmr": "SRMR", "delta_chisq": "Δχ²", "delta_df": ctx.text("common.delta_df"),
              "p_value": "p", "delta_cfi": "ΔCFI", "delta_rmsea": "ΔRMSEA"}
    present = list(df.columns)
    t = (
        new_table(df, ctx, spec, number)
        .tab_stub("model")
        .cols_label({k: v for k, v in labels.items() if k in present})
        .fmt_number([c for c in ("chisq", "delta_chisq") if c in present], decimals=2)
        .fmt_integer([c for c in ("df", "delta_df") if c in present])
        .fmt_number([c for c in ("cfi", "tli", "rmsea", "srmr", "delta_cfi", "delta_rmsea") if c in present], decimals=3,
                    leading_zero=False)
        .fmt_pvalue("p_value")
        .tab_spanner(ctx.text("invariance.fit_spanner"), [c for c in ("chisq", "df", "cfi", "tli", "rmsea", "srmr") if c in present])
        .tab_spanner(ctx.text("invariance.comparison"),
                     [c for c in ("delta_chisq", "delta_df", "p_value", "delta_cfi", "delta_rmsea") if c in present])
    )
    nobs = getattr(inv.models[next(iter(inv.models))], "nobs", None) or []
    glabels = getattr(inv.models[next(iter(inv.models))], "group_labels", None) or levels
    ns = ", ".join(f"{ctx.group_label(g)} n = {format_integer(n, ctx.lang)}" for g, n in zip(glabels, nobs))
    lab = ctx.construct_label(names[0])
    miss_txt = ctx.text("invariance.listwise") if missing == "listwise" else ctx.text("invariance.fiml")
    t = t.tab_note(ctx.text(
        "invariance.note", lab=lab, n_factors=len(factor_of), ns=ns, miss_txt=miss_txt, estimator=estimator,
        test=ctx.text(("invariance.test_robust_fiml" if missing == "fiml" else "invariance.test_robust")
                      if robust else "invariance.test")))
    out.add(finish(t, ctx, spec=spec))
    return out
