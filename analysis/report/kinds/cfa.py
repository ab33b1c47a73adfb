"""Table kind ``cfa``."""

from __future__ import annotations

import dataclasses
import warnings as _warnings

import numpy as np
import pandas as pd

from analysis.report._common import cached_items, finish, first_order_model, item_text, new_table
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``cfa`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "constructs": "list of reflective construct names from constructs.yaml (default: all of them)",
    "estimator": "lavaan estimator name, e.g. MLR or ML (default MLR)",
    "missing": "listwise or fiml (default listwise)",
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


def _fit_rows(ctx: ReportContext, f: pd.Series, robust: bool) -> list[tuple[str, str]]:
    """Formatted fit indices of a CFA: (label, text)."""
    from analysis.tables import format_integer, format_number, format_pvalue

    sfx = "_robust" if robust else ""
    chis = "_scaled" if robust else ""

    def g(key):
        v = f.get(key, np.nan)
        return float(v) if v is not None and np.isfinite(v) else np.nan

    def num(v, d=3):
        return "—" if not np.isfinite(v) else format_number(v, d, ctx.lang)

    rows = [
        ("χ²", num(g("chisq" + chis), 2)),
        (ctx.tr("ddl", "df"), "—" if not np.isfinite(g("df")) else format_integer(g("df"), ctx.lang)),
        ("p", "—" if not np.isfinite(g("pvalue" + chis)) else format_pvalue(g("pvalue" + chis), 3, ctx.lang)),
        ("χ²/" + ctx.tr("ddl", "df"), num(g("chisq" + chis) / g("df"), 2) if g("df") > 0 else "—"),
        ("CFI", num(g("cfi" + sfx))),
        ("TLI", num(g("tli" + sfx))),
        ("RMSEA", num(g("rmsea" + sfx))),
    ]
    lo, hi = g("rmsea_ci_lower" + sfx), g("rmsea_ci_upper" + sfx)
    if np.isfinite(lo) and np.isfinite(hi):
        from analysis.tables import get_locale

        loc = get_locale(ctx.lang)
        rows.append((ctx.tr("RMSEA IC 90 %", "RMSEA 90% CI"),
                     f"[{format_number(lo, 3, ctx.lang)}{loc.interval_sep}{format_number(hi, 3, ctx.lang)}]"))
    rows.append(("SRMR", num(g("srmr"))))
    rows.append(("n", "—" if not np.isfinite(g("ntotal")) else format_integer(g("ntotal"), ctx.lang)))
    return rows


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 6: CFA of the measurement model (fit, standardised loadings, CR, AVE, HTMT)."""
    from analysis.report._figures import cfa_loadings_plot
    from analysis.sem._cfa import cfa

    out = TableOutput(spec["id"])
    names = spec.get("constructs") or [c.name for c in ctx.spec.reflective]
    model, factor_of = first_order_model(ctx, names)
    X = cached_items(ctx)
    estimator = spec.get("estimator", "MLR")
    missing = spec.get("missing", "listwise")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        res = cfa(model, X[[i for i in X.columns if any(i in ctx.spec[c].items for c in names)]],
                  estimator=estimator, missing=missing)
    for w in res.warnings:
        ctx.warn(spec["id"], w)
    out.results["cfa"] = res
    robust = estimator.upper() == "MLR"
    fit_df = pd.DataFrame(_fit_rows(ctx, res.fit, robust), columns=["index", "value"])
    miss_txt = {"fiml": ctx.tr("maximum de vraisemblance à information complète (FIML) pour les réponses manquantes",
                               "full-information maximum likelihood (FIML) for missing answers"),
                "listwise": ctx.tr("organisations ayant répondu à tous les items (suppression des observations "
                                   "incomplètes ; « je ne sais pas » et refus comptent comme manquants)",
                                   "organisations that answered every item (listwise deletion; \"don't know\" "
                                   "and refusals count as missing)")}.get(missing, missing)
    t_fit = (
        new_table(fit_df, ctx, spec, number, suffix=ctx.tr("ajustement", "fit"), key="fit")
        .tab_stub("index")
        .cols_label({"index": ctx.t("fit"), "value": ctx.t("value")})
        .cols_align("right", "value")
        .tab_note(ctx.tr(
            f"Modèle à {len(factor_of)} facteurs de premier ordre corrélés (une dimension par facteur). Estimateur "
            f"{estimator} (comme lavaan), {miss_txt} ; items de Likert traités comme continus, items inversés recodés. "
            f"{'χ² mis à l’échelle (Yuan-Bentler) ; CFI, TLI et RMSEA robustes. ' if robust else ''}"
            "Seuils usuels : CFI et TLI ≥ 0,95, RMSEA ≤ 0,06, SRMR ≤ 0,08 (Hu et Bentler, 1999).",
            f"Model with {len(factor_of)} correlated first-order factors (one per dimension). {estimator} estimator "
            f"(as lavaan), {miss_txt}; Likert items treated as continuous, reverse-keyed items recoded. "
            f"{'Scaled χ² (Yuan-Bentler); robust CFI, TLI and RMSEA. ' if robust else ''}"
            "Usual cut-offs: CFI and TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08 (Hu and Bentler, 1999)."))
    )
    out.add(t_fit)
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
                "item": item_text(ctx, r["rhs"], r["rhs"] in ctx.spec.reverse_items, short=60),
                "estimate": r["estimate"],
                "se": r["se"],
                "cr": float(cr_s.get(fct, np.nan)) if k == 0 else np.nan,
                "ave": float(ave_s.get(fct, np.nan)) if k == 0 else np.nan,
            })
    ld = pd.DataFrame(rows)
    out.results["loadings"] = ld
    t_ld = (
        new_table(ld, ctx, spec, number, suffix=ctx.tr("saturations standardisées", "standardised loadings"), key="loadings")
        .tab_stub("item", "factor")
        .cols_label({"item": "", "factor": "", "estimate": "λ", "se": ctx.tr("ET", "SE"),
                     "cr": ctx.tr("FC", "CR"), "ave": "AVE"})
        .fmt_number(["estimate", "se", "cr", "ave"], decimals=2)
        .sub_missing("")
        .tab_note(ctx.tr(
            "λ : saturation standardisée (std.all), ET : son erreur-type ; toutes les saturations sont "
            "significatives (p < ,001). FC : fiabilité composite ; AVE : variance moyenne extraite "
            "(Fornell et Larcker, 1981), sur la première ligne de chaque dimension. R : item inversé (recodé).",
            "λ: standardised loading (std.all), SE: its standard error; all loadings are significant "
            "(p < .001). CR: composite reliability; AVE: average variance extracted (Fornell and Larcker, "
            "1981), on the first row of each dimension. R: reverse-keyed item (recoded)."))
    )
    p_load = res.params[(res.params["op"] == "=~") & res.params["free"].astype(bool)]["p_value"] if "free" in res.params else pd.Series(dtype=float)
    if len(p_load) and float(p_load.max()) >= 0.001:
        t_ld = dataclasses.replace(t_ld, notes=tuple(n.replace(
            ctx.tr("toutes les saturations sont significatives (p < ,001). ", "all loadings are significant (p < .001). "), "")
            for n in t_ld.notes))
    t_ld = finish(t_ld, ctx, labels_note=True)
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
            new_table(Hd, ctx, spec, number, suffix=ctx.tr("validité discriminante (HTMT)", "discriminant validity (HTMT)"),
                   key="htmt")
            .tab_stub("factor")
            .cols_label({"factor": ""})
            .fmt_number(nums[:-1], decimals=2)
            .sub_missing("")
            .tab_note(ctx.tr(
                "Ratio hétérotrait-monotrait (Henseler et al., 2015) entre les dimensions numérotées ; une valeur "
                f"inférieure à 0,85 soutient la validité discriminante ({above} paire(s) au-dessus).",
                "Heterotrait-monotrait ratio (Henseler et al., 2015) between the numbered dimensions; values below "
                f".85 support discriminant validity ({above} pair(s) above)."))
        )
        out.add(t_h)
    fig_df = sl.rename(columns={"lhs": "factor", "rhs": "item"})
    fig_df["factor"] = fig_df["factor"].map(lambda f: ctx.construct_label(dim_of.get(f, f)))
    for c in names:
        dims = {ctx.construct_label(f"{c}__{d.name}") for d in ctx.spec[c].dimensions}
        part = fig_df[fig_df["factor"].isin(dims)]
        if not part.empty:
            out.figures[f"cfa_loadings_{c}"] = cfa_loadings_plot(part, title=ctx.construct_label(c), locale=ctx.lang)
    return out
