"""Table kind ``cfa``: cFA of the measurement model (fit, standardised loadings, CR, AVE, HTMT).

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import dataclasses
import warnings as _warnings

import numpy as np
import pandas as pd

from analysis.report._common import (
    cached_items,
    finish,
    first_order_model,
    fit_rows,
    item_text,
    missing_option,
    new_table,
)
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Mark of a reverse-keyed item after its code, glued by a no-break space (never wrapped alone).
_REVERSED = ",\u00a0R"

#: Options of a table of kind ``cfa`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "constructs": "list of reflective construct names from constructs.yaml (default: all of them)",
    "estimator": "lavaan estimator name, e.g. MLR or ML (default MLR)",
    "missing": "fiml (default: every organisation analysed, full-information maximum likelihood) or listwise",
}


def _factor_dimension(ctx: ReportContext, construct: str | None, first_item: str) -> str:
    """``construct__dimension`` of a first-order factor (from its first indicator)."""
    if construct is not None:
        for d in ctx.spec[construct].dimensions:
            if first_item in d.items:
                return f"{construct}__{d.name}"
    for c in ctx.spec.reflective:
        for d in c.dimensions:
            if first_item in d.items:
                return f"{c.name}__{d.name}"
    return first_item


def _apa_text(ctx: ReportContext, rows: list[tuple[str, str]], n_factors: int, estimator: str) -> list[str]:
    """The APA-style sentence of the fit, from the very cells of the fit table
    ("χ²(48) = 61,20, p = ,094 ; CFI = ,981 ; RMSEA = ,031, IC 90 % [,000 ; ,054] ; SRMR = ,041")."""
    cells = [v for _, v in rows]
    if cells[0] == "—" or cells[1] == "—":
        return []
    chi, df, p, _, cfi, _, rmsea = cells[:7]
    ci = rows[7][1] if len(rows) > 9 else ""
    srmr, n = rows[-2][1], rows[-1][1]
    p_txt = f"p {p}" if p.lstrip().startswith("<") else f"p = {p}"
    ci_txt = ctx.text("cfa.apa_ci", ci=ci) if ci else ""
    return [ctx.text("cfa.apa", n_factors=n_factors, estimator=estimator, chi=chi, df=df, p=p_txt, cfi=cfi,
                     rmsea=rmsea, ci=ci_txt, srmr=srmr, n=n)]


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 6: CFA of the measurement model (fit, standardised loadings, CR, AVE, HTMT)."""
    from analysis.cbsem._cfa import cfa
    from analysis.report import cfa_loadings_plot

    out = TableOutput(spec["id"])
    names = spec.get("constructs") or [c.name for c in ctx.spec.reflective]
    model, factor_of = first_order_model(ctx, names)
    X = cached_items(ctx)
    estimator = spec.get("estimator", "MLR")
    missing = missing_option(spec.get("missing", "fiml"), spec["id"], "cfa")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        res = cfa(model, X[[i for i in X.columns if any(i in ctx.spec[c].items for c in names)]],
                  estimator=estimator, missing=missing)
    for w in res.warnings:
        ctx.warn(spec["id"], w)
    out.results["cfa"] = res
    robust = estimator.upper() == "MLR"
    fit_cells = fit_rows(ctx, res.fit, robust)
    fit_df = pd.DataFrame(fit_cells, columns=["index", "value"])
    out.results["apa_text"] = _apa_text(ctx, fit_cells, len(factor_of), estimator)
    miss_txt = {"fiml": ctx.text("cfa.missing_fiml"),
                "listwise": ctx.text("cfa.missing_listwise")}.get(missing, missing)
    t_fit = (
        new_table(fit_df, ctx, spec, number, suffix=ctx.text("cfa.fit_title"), key="fit")
        .tab_stub("index")
        .cols_label({"index": ctx.text("common.fit"), "value": ctx.text("common.value")})
        .cols_align("right", "value")
        .tab_note(ctx.text("cfa.fit_note", n_factors=len(factor_of), estimator=estimator, miss_txt=miss_txt,
                           robust=ctx.text("cfa.fit_note_robust_fiml" if missing == "fiml" else "cfa.fit_note_robust")
                           if robust else ""))
    )
    out.add(finish(t_fit, ctx, spec=spec))
    sl = res.std_loadings.copy()
    cr = res.composite_reliability
    ave = res.ave
    cr_s = cr.iloc[:, 0] if isinstance(cr, pd.DataFrame) else pd.Series(cr)
    ave_s = ave.iloc[:, 0] if isinstance(ave, pd.DataFrame) else pd.Series(ave)
    dim_of = {}
    rows = []
    for fct, sub in sl.groupby("lhs", sort=False):
        dim = _factor_dimension(ctx, factor_of.get(fct), sub["rhs"].iloc[0])
        dim_of[fct] = dim
        for k, (_, r) in enumerate(sub.iterrows()):
            rows.append({
                "factor": ctx.construct_label(dim),
                "item": item_text(ctx, r["rhs"], r["rhs"] in ctx.spec.reverse_items),
                "estimate": r["estimate"],
                "se": r["se"],
                "cr": float(cr_s.get(fct, np.nan)) if k == 0 else np.nan,
                "ave": float(ave_s.get(fct, np.nan)) if k == 0 else np.nan,
            })
    ld = pd.DataFrame(rows)
    out.results["loadings"] = ld
    t_ld = (
        new_table(ld, ctx, spec, number, suffix=ctx.text("cfa.loadings_title"), key="loadings")
        .tab_stub("item", "factor")
        .cols_label({"item": "", "factor": "", "estimate": "λ", "se": ctx.text("cfa.se"),
                     "cr": ctx.text("cfa.cr"), "ave": "AVE"})
        .fmt_number(["estimate", "se", "cr", "ave"], decimals=2, leading_zero=False)
        .sub_missing("")
        .tab_note(ctx.text("cfa.loadings_note"))
    )
    p_load = res.params[(res.params["op"] == "=~") & res.params["free"].astype(bool)]["p_value"] if "free" in res.params else pd.Series(dtype=float)
    if len(p_load) and float(p_load.max()) >= 0.001:
        t_ld = dataclasses.replace(t_ld, notes=tuple(n.replace(
            ctx.text("cfa.all_significant"), "")
            for n in t_ld.notes))
    t_ld = finish(t_ld, ctx, spec=spec, labels_note=True)
    out.add(t_ld)
    H = res.htmt
    if H is not None and not H.empty:
        facs = [f for f in H.columns]
        labs = [ctx.construct_label(dim_of.get(f, f)) for f in facs]
        nums = [str(j) for j in range(1, len(facs) + 1)]
        Hd = H.loc[facs, facs].copy()
        Hd.columns = nums
        Hd = Hd.mask(np.triu(np.ones(Hd.shape, dtype=bool)))
        Hd.insert(0, "factor", [f"{j}. {lab}" for j, lab in zip(nums, labs)])
        Hd = Hd.iloc[:, :-1].reset_index(drop=True)  # row 1 kept (empty) so that every number is named
        above = int((H.where(~np.eye(len(H), dtype=bool)).abs() >= 0.85).to_numpy().sum() // 2)
        t_h = (
            new_table(Hd, ctx, spec, number, suffix=ctx.text("cfa.htmt_title"),
                   key="htmt")
            .tab_stub("factor")
            .cols_label({"factor": ""})
            .fmt_number(nums[:-1], decimals=2)  # a ratio that can exceed 1: its leading zero kept
            .sub_missing("")
            .tab_note(ctx.text("cfa.htmt_note", above=(ctx.text("cfa.pairs_none") if above == 0 else ctx.text("cfa.pairs_one")
                                                         if above == 1 else ctx.text("cfa.pairs_many", n=above))))
        )
        out.add(finish(t_h, ctx, spec=spec))
    fig_df = sl.rename(columns={"lhs": "factor", "rhs": "item"})
    fig_df["factor"] = fig_df["factor"].map(lambda f: ctx.construct_label(dim_of.get(f, f)))
    for c in names:
        dims = {ctx.construct_label(f"{c}__{d.name}") for d in ctx.spec[c].dimensions}
        part = fig_df[fig_df["factor"].isin(dims)]
        if not part.empty:
            reverse = set(ctx.spec[c].reverse)
            wording = {i: f"{ctx.label(i)} ({i}{_REVERSED if i in reverse else ''})" for i in part["item"]}
            out.figures[f"cfa_loadings_{c}"] = cfa_loadings_plot(part, item_labels=wording, title=ctx.construct_label(c),
                                                                 locale=ctx.lang)
    return out
