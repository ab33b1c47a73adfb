"""Table kind ``funding``: funding mix (mean shares) and hybridisation (HHI, 1-HHI, sources).

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.report._common import SUPPRESSED, finish, group_levels, new_table, numeric, slug
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``funding`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "by": "list of grouping variables; the first gives sources in rows, each other one a table (default: options.group)",
}

def _funding_family(ctx: ReportContext, share: str) -> str:
    """Label of a funding source for the figure: its family (``share_labels`` in constructs.yaml),
    else its own label."""
    lab = ctx.labels.shares.get(share) or {}
    return lab.get(f"family_{ctx.lang}") or _share_label(ctx, share)


def _share_label(ctx: ReportContext, share: str) -> str:
    """Label of a funding share without the trailing ``(%)``."""
    return re.sub(r"\s*\(%\)\s*$", "", ctx.label(share, short=60))


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 7: funding mix (mean shares) and hybridisation (HHI, 1-HHI, sources).

    One table by legal form (sources in rows, groups in columns) and one by region
    (the hybridisation indicators and the main sources, regions in rows).
    """
    from analysis.report import funding_mix_bars

    out = TableOutput(spec["id"])
    hyb = next((c for c in ctx.spec.constructs if getattr(c, "kind", "") == "formative"), None)
    shares = [s for s in (getattr(hyb, "shares", None) or []) if s in ctx.data.columns]
    if not shares:
        ctx.warn(spec["id"], "no formative construct with funding shares in the data (constructs.yaml, shares): "
                 "table not produced")
        return out
    indicators = [c for c in ("funding_hhi", "funding_diversity", "funding_n_sources", "funding_market_share")
                  if c in ctx.data.columns]
    group, levels = group_levels(ctx)
    by_list = spec.get("by") or [group]
    threshold = ctx.threshold
    d = ctx.data
    S = d[shares].apply(numeric)
    ind_values = d[indicators].apply(numeric)
    ind_labels = {
        "funding_hhi": ctx.text("funding.hhi"),
        "funding_diversity": ctx.text("funding.diversity"),
        "funding_n_sources": ctx.text("funding.n_sources"),
        "funding_market_share": ctx.text("funding.market_share"),
    }
    frames = {}
    for by in by_list:
        if by not in d.columns:
            ctx.warn(spec["id"], f"grouping variable '{by}' absent")
            continue
        grp = d[by].astype("string")
        mean_s = S.groupby(grp).mean()
        mean_s.loc["__total__"] = S.mean()
        mean_i = ind_values.groupby(grp).mean()
        mean_i.loc["__total__"] = ind_values.mean()
        n = S.notna().any(axis=1).groupby(grp).sum().astype(float)
        n.loc["__total__"] = float(S.notna().any(axis=1).sum())
        tab = mean_s.join(mean_i)
        tab["n"] = n
        if "funding_market_share" in tab:
            tab["funding_market_share"] = tab["funding_market_share"] * 100
        frames[by] = tab
        out.results[f"funding_by_{by}"] = tab.rename(index={"__total__": "total"})
    if not frames:
        return out
    small_note = ctx.text("funding.small_groups", threshold=threshold, SUPPRESSED=SUPPRESSED)
    first = by_list[0] if by_list[0] in frames else next(iter(frames))
    # table by legal form group: rows = sources and indicators, columns = groups
    tab = frames[first]
    col_keys = [g for g in (levels if first == group else list(tab.index.drop("__total__"))) if g in tab.index] + ["__total__"]
    vl = ctx.value_labels(first)

    def lvl(g):
        if g == "__total__":
            return ctx.text("common.total")
        return ctx.group_label(g) if first == group else vl.get(str(g), str(g))

    rows = []
    for s in shares:
        rows.append({"row": _share_label(ctx, s), "section": ctx.text("funding.shares_section"),
                     **{f"c{j}": tab.at[g, s] for j, g in enumerate(col_keys)}})
    # the market-income share of the formative index (constructs.yaml, market_share)
    market_src = [s for s in shares if s == getattr(hyb, "market_share", None)]
    first_inds = [s for s in indicators if not (s == "funding_market_share" and market_src)]
    for s in first_inds:
        rows.append({"row": ind_labels[s], "section": ctx.text("funding.hybridisation_section"),
                     **{f"c{j}": tab.at[g, s] for j, g in enumerate(col_keys)}})
    rows.append({"row": ctx.text("funding.n_organisations"), "section": "",
                 **{f"c{j}": tab.at[g, "n"] for j, g in enumerate(col_keys)}})
    t_df = pd.DataFrame(rows)
    ccols = [f"c{j}" for j in range(len(col_keys))]
    small = [f"c{j}" for j, g in enumerate(col_keys) if tab.at[g, "n"] < threshold]
    for c in small:
        t_df[c] = SUPPRESSED
    n_share, n_ind = len(shares), len(first_inds)

    from analysis.tables import format_integer, format_number

    texts = t_df.copy()
    for c in ccols:
        vals = []
        for i, v in enumerate(t_df[c]):
            if isinstance(v, str) or v is None or (isinstance(v, float) and not np.isfinite(v)):
                vals.append(v if isinstance(v, str) else np.nan)
            elif i < n_share:
                vals.append(format_number(float(v), 1, ctx.lang))
            elif i < n_share + n_ind:
                key = first_inds[i - n_share]
                dec = 1 if key == "funding_market_share" else 2
                # APA: no leading zero for the indices bounded by 1 (HHI, 1 − HHI)
                bounded = key in ("funding_hhi", "funding_diversity")
                vals.append(format_number(float(v), dec, ctx.lang, leading_zero=not bounded))
            else:
                vals.append(format_integer(float(v), ctx.lang))
        texts[c] = vals
    t = (
        new_table(texts, ctx, spec, number, suffix=_by_label(ctx, first, group), key=f"by-{slug(first)}")
        .tab_stub("row", "section")
        .cols_label({"row": "", "section": "", **{c: lvl(g) for c, g in zip(ccols, col_keys)}})
        .cols_align("right", ccols)
    )
    t = t.tab_note(ctx.text("funding.note_first"))
    if small:
        t = t.tab_note(small_note)
    t = finish(t, ctx, spec=spec, labels_note=True)
    out.add(t, counts=[])
    # other groupings: rows = levels, columns = n + indicators + main sources
    for by in by_list:
        if by == first or by not in frames:
            continue
        tab = frames[by]
        vl = ctx.value_labels(by)
        top = [s for s in frames[by].loc["__total__", shares].sort_values(ascending=False).index
               if s not in market_src][:3]
        inds = [c for c in indicators if c != "funding_diversity"]  # 1 - HHI is in the first table
        cols = ["n"] + inds + top
        df = tab[cols].copy()
        df.index = [ctx.text("common.total") if lv == "__total__" else vl.get(str(lv), str(lv)) for lv in df.index]
        order = [i for i in df.index if i != ctx.text("common.total")] + [ctx.text("common.total")]
        df = df.loc[order].reset_index(names="level")
        low = df["n"] < threshold
        for c in cols:
            df[c] = df[c].astype(object).where(~low, SUPPRESSED)
        labels = {"level": "", "n": "n"}
        labels.update({"funding_hhi": "HHI",
                       "funding_n_sources": ctx.text("funding.sources_short"),
                       "funding_market_share": ctx.text("funding.market_short")})
        for s in top:
            labels[s] = (ctx.labels.shares.get(s) or {}).get(f"short_{ctx.lang}") or _share_label(ctx, s)
        t2 = (
            new_table(df, ctx, spec, number, suffix=_by_label(ctx, by, group), key=f"by-{slug(by)}")
            .tab_stub("level")
            .cols_label(labels)
            .fmt_integer("n")
            .fmt_number([c for c in ("funding_hhi", "funding_diversity") if c in cols], decimals=2, leading_zero=False)
            .fmt_number([c for c in ("funding_n_sources",) if c in cols], decimals=2)
            .fmt_number([c for c in cols if c in top or c == "funding_market_share"], decimals=1)
            .tab_spanner(ctx.text("funding.hybridisation_short"), inds)
            .tab_spanner(ctx.text("funding.top_sources"), top)
            .tab_row_group("", [len(df) - 1])
            .tab_note(ctx.text("funding.note_other"))
        )
        if low.any():
            t2 = t2.tab_note(small_note)
        t2 = finish(t2, ctx, spec=spec, labels_note=True)
        out.add(t2, counts=["n"])
        if "funding_diversity" in indicators:  # one figure per grouping in rows (regions)
            out.figures[f"funding_diversity_by_{by}"] = _diversity_figure(ctx, d[by], ind_values["funding_diversity"],
                                                                          vl, threshold)
    tab = frames[first]
    keep = [g for g in tab.index if g != "__total__" and tab.at[g, "n"] >= threshold]
    long = tab.loc[keep, shares].reset_index(names="group").melt(id_vars="group", var_name="source", value_name="share")
    long["share"] = long["share"] / 100
    long["group"] = long["group"].map(lambda g: ctx.group_label(g) if first == group else ctx.value_labels(first).get(str(g), str(g)))
    long["source"] = long["source"].map(lambda s: _funding_family(ctx, s))
    long = long.groupby(["group", "source"], sort=False, as_index=False)["share"].sum()
    out.figures["funding_mix"] = funding_mix_bars(long, locale=ctx.lang)
    return out


def _diversity_figure(ctx: ReportContext, groups: pd.Series, diversity: pd.Series, value_labels: dict,
                      threshold: int):
    """Mean resource diversification (1 - HHI) by level of ``groups`` (regions), with the 95 % confidence
    interval of each mean (Student t, unweighted) and the number of organisations; groups under the
    small-cell threshold left out."""
    from scipy import stats

    from analysis.report import regional_bars

    g = diversity.groupby(groups.astype("string"))
    reg = pd.DataFrame({"value": g.mean(), "sd": g.std(ddof=1), "n": g.count()})
    reg = reg[reg["n"] >= threshold]
    half = stats.t.ppf(0.975, (reg["n"] - 1).clip(lower=1)) * reg["sd"] / np.sqrt(reg["n"])
    reg["ci_low"], reg["ci_high"] = reg["value"] - half, reg["value"] + half
    reg = reg.rename_axis("region").reset_index()
    reg["region"] = reg["region"].map(lambda r: value_labels.get(str(r), str(r)))
    return regional_bars(reg, ci_low="ci_low", ci_high="ci_high", n="n",
                         xlabel=ctx.text("funding.diversity_axis"), locale=ctx.lang)


def _by_label(ctx: ReportContext, by: str, group: str) -> str:
    if by == group:
        return ctx.text("funding.by_group")
    if ctx.texts.has(f"funding.by_variable.{by}"):
        return ctx.text(f"funding.by_variable.{by}")
    return ctx.text("funding.by") + ctx.label(by, short=40).lower()
