"""Table kind ``efa``: eFA of the SI items (KMO, Bartlett, parallel analysis, loadings, Phi, variance).

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
    fmt_p,
    item_text,
    new_table,
)
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``efa`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "construct": "construct name from constructs.yaml (default: options.construct of the plan)",
    "method": "extraction method: minres, ml, pa or uls (default minres)",
    "rotation": "rotation name, e.g. oblimin or varimax (default oblimin)",
    "n_factors": "number of factors, or parallel (parallel analysis) or dimensions (default parallel)",
    "n_iter": "number of parallel-analysis replications (default 20)",
    "loading_threshold": "number in [0, 1): loadings below it are not printed (default: the plan option)",
    "decimals": "number of decimals of the loadings (default: the plan option)",
}


def _match_factors(L: pd.DataFrame, construct) -> tuple[list[str], dict[str, str]]:
    """Order the EFA factors as the dimensions of the construct and name each by the
    dimension whose items load mostly on it (``{}`` for a factor matching no dimension)."""
    primary = L.abs().idxmax(axis=1)
    names: dict[str, str] = {}
    order: list[str] = []
    for d in construct.dimensions:
        votes = primary.reindex([i for i in d.items if i in L.index]).value_counts()
        if votes.empty:
            continue
        f = votes.index[0]
        if f not in names and votes.iloc[0] > len(d.items) / 2:
            names[f] = f"{construct.name}__{d.name}"
            order.append(f)
    order += [f for f in L.columns if f not in order]
    return order, names


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 5: EFA of the SI items (KMO, Bartlett, parallel analysis, loadings, Phi, variance)."""
    from analysis.psychometrics import bartlett, efa, kmo, parallel_analysis
    from analysis.report import loadings_heatmap, scree_plot
    from analysis.tables import format_integer, format_number

    out = TableOutput(spec["id"])
    construct = ctx.spec[default_construct(ctx, spec)]
    items = [i for i in construct.items if i in ctx.data.columns]
    X = cached_items(ctx)[items]
    seed = ctx.plan.options.get("seed")
    method = spec.get("method", "minres")
    rotation = spec.get("rotation", "oblimin")
    n_iter = int(spec.get("n_iter", 20))
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        k = kmo(X)
        b = bartlett(X)
        pa = parallel_analysis(X, n_iter=n_iter, fm=method, seed=seed)
    nf = spec.get("n_factors", "parallel")
    if nf == "parallel":
        n_factors = max(1, int(pa.n_factors))
    elif nf == "dimensions":
        n_factors = len(construct.dimensions)
    else:
        n_factors = int(nf)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        e = efa(X, n_factors, method=method, rotation=rotation)
    for w in list(getattr(e, "warnings", [])) + list(getattr(pa, "warnings", [])):
        ctx.warn(spec["id"], w)
    out.results.update(kmo=k, bartlett=b, parallel=pa, efa=e)
    threshold = float(ctx.option(spec, "loading_threshold", 0.30))
    dec = int(ctx.option(spec, "decimals", 2))
    L = e.loadings
    order, fnames = _match_factors(L, construct)
    short = {f: f"F{j}" for j, f in enumerate(order, start=1)}
    primary = L.abs().idxmax(axis=1)
    # items in the order of their primary factor, then as in the questionnaire
    rank = {f: j for j, f in enumerate(order)}
    item_order = sorted(L.index, key=lambda i: (rank[primary[i]], items.index(i)))
    df = pd.DataFrame({"item": [item_text(ctx, i, i in construct.reverse) for i in item_order]})
    cross = 0
    for f in order:
        cells = []
        for i in item_order:
            v = float(L.at[i, f])
            if abs(v) < threshold:
                cells.append(np.nan)
            else:
                text = format_number(v, dec, ctx.lang, leading_zero=False)
                if primary[i] == f:
                    text += "ᵃ"
                cells.append(text)
        df[short[f]] = cells
    shown = (L.abs() >= threshold).sum(axis=1)
    cross = int((shown > 1).sum())
    df["h2"] = e.communalities.reindex(item_order).to_numpy()
    out.results["loadings"] = L
    # every derived row recomputed in the order the factors are shown (the engine accumulates
    # the explained variance in its own factor order)
    var = e.variance
    ss = var.loc["ss_loadings", order].astype(float)
    proportion = var.loc["proportion", order].astype(float)
    derived = {
        "ss_loadings": ss,
        "proportion": proportion,
        "cumulative": proportion.cumsum(),
    }
    out.results["variance_shown"] = pd.DataFrame(derived).T.rename(columns=short)
    extra = []
    for key, lab in (("ss_loadings", ctx.text("efa.ss_loadings")),
                     ("proportion", ctx.text("efa.proportion")),
                     ("cumulative", ctx.text("efa.cumulative"))):
        row = {"item": lab}
        for f in order:
            v = float(derived[key][f])
            row[short[f]] = format_number(v * 100, 1, ctx.lang) if key != "ss_loadings" else format_number(v, dec, ctx.lang)
        row["h2"] = np.nan
        extra.append(row)
    n_items = len(df)
    df = pd.concat([df, pd.DataFrame(extra)], ignore_index=True)
    fcols = [short[f] for f in order]
    t = (
        new_table(df, ctx, spec, number, suffix=ctx.text("efa.loadings_title"), key="loadings")
        .tab_stub("item")
        .cols_label({"item": "", "h2": ctx.text("common.communality")})
        .fmt_number("h2", decimals=dec, leading_zero=False)
        .tab_spanner(ctx.text("common.factor"), fcols)
        .cols_align("right", fcols)
        .sub_missing("")
    )
    if extra:
        t = t.tab_row_group("", list(range(n_items, len(df))))
    fit = e.fit
    parts = []
    for key, name in (("rmsea", "RMSEA"), ("tli", "TLI"), ("rmsr", "RMSR")):
        v = getattr(fit, key, None)
        if v is not None and np.isfinite(v):
            parts.append(f"{name} = {format_number(float(v), 3, ctx.lang, leading_zero=False)}")
    mname = ctx.text(f"efa.methods.{method}") if ctx.texts.has(f"efa.methods.{method}") else method
    dimnames = ctx.text("common.list_sep").join(
        f"{short[f]} = {ctx.construct_label(fnames[f])}" for f in order if f in fnames)
    chi = format_number(float(b.statistic), 1, ctx.lang)
    pb = fmt_p(b.p_value, ctx.lang)
    n_txt = format_integer(int(getattr(e, "n", len(X))), ctx.lang)
    thr = format_number(threshold, 2, ctx.lang, leading_zero=False)
    note = ctx.text(
        "efa.note", n_txt=n_txt, mname=mname, rotation=rotation, kmo=format_number(float(k.overall), 2, ctx.lang, leading_zero=False),
        bartlett_df=int(b.df), chi=chi, pb=pb, n_iter=n_iter, n_parallel=int(pa.n_factors),
        factors_retained=ctx.text("efa.factors_retained_one" if int(pa.n_factors) <= 1 else "efa.factors_retained_many"),
        thr=thr, cross=(ctx.text("efa.cross_one") if cross == 1 else ctx.text("efa.cross_many", n=cross) if cross else ""), dimnames=dimnames, fit=", ".join(parts))
    t = finish(t.tab_note(note), ctx, spec=spec, labels_note=True)
    # the APA-style sentence, from the same numbers
    cum = format_number(float(derived["cumulative"].iloc[-1]) * 100, 1, ctx.lang)
    out.results["apa_text"] = [ctx.text(
        "efa.apa", n=n_factors,
        factors=ctx.text("efa.solution_factors_one" if n_factors == 1 else "efa.solution_factors_many"),
        kmo=format_number(float(k.overall), 2, ctx.lang, leading_zero=False), bartlett_df=int(b.df), chi=chi, pb=pb,
        cum=cum)]
    out.add(t)
    if e.phi is not None and len(order) > 1:
        phi = e.phi.loc[order, order].copy()
        phi.index = fcols
        phi.columns = fcols
        mask = np.triu(np.ones(phi.shape, dtype=bool), k=1)
        phi = phi.mask(mask)
        phi = phi.reset_index(names="factor")
        phi["factor"] = [f"{short[f]}  {ctx.construct_label(fnames[f])}" if f in fnames else short[f] for f in order]
        t2 = (
            new_table(phi, ctx, spec, number, suffix=ctx.text("efa.phi_title"), key="phi")
            .tab_stub("factor")
            .cols_label({"factor": ""})
            .fmt_number(fcols, decimals=2, leading_zero=False)
            .sub_missing("")
            .tab_note(ctx.text("efa.phi_note", rotation=rotation))
        )
        out.add(finish(t2, ctx, spec=spec))
    eig = pa.eigen.reset_index()
    out.figures["scree_" + construct.name] = scree_plot(
        eig, kind="fa", observed="observed_fa", simulated="simulated_fa_quantile",
        n_factors=int(pa.n_factors), locale=ctx.lang,
    )
    Lr = L[order].copy()
    Lr.columns = fcols
    Lr = Lr.loc[item_order]
    long = Lr.rename_axis("item").reset_index().melt(id_vars="item", var_name="factor", value_name="loading")
    out.figures["loadings_" + construct.name] = loadings_heatmap(long, threshold=threshold, locale=ctx.lang)
    return out
