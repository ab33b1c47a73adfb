"""Table kind ``pls``: the PLS-SEM report of a structural model, as SmartPLS users expect it.

One model (``model:`` of the plan entry, lavaan-style syntax of :func:`analysis.plssem.pls`)
gives five tables and a figure: the measurement model (outer loadings or weights with their
bootstrap t, indicator VIF), the reliability and convergent validity of the constructs
(Cronbach's alpha, rho_A, rho_C, AVE), discriminant validity (HTMT with its bootstrap interval,
Fornell-Larcker), the structural model (path coefficients with bootstrap t, p and interval, f²,
VIF, and the indirect effects), the explained variance (R², adjusted R², PLSpredict Q² when
the model allows it), and the path diagram.

The model names data columns: Likert items (taken after the missing codes are removed and the
reverse-keyed items recoded, as every table of the report) or any numeric column of the
analysis file (a score, a derived variable). ``build(ctx, spec, number)`` makes the tables;
``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np
import pandas as pd

from analysis.errors import ConfigError
from analysis.report._common import (
    finish,
    interval_text,
    item_text,
    model_data,
    new_table,
    path_sentences,
)
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``pls`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "model": "the PLS path model in lavaan-style syntax (=~ reflective, <~ formative, ~ paths, A:B interaction)",
    "bootstrap": "number of bootstrap draws (default 1000; 5000 for final results)",
    "seed": "seed of the bootstrap draws (default: options.seed)",
    "scheme": "inner weighting scheme: path, factorial or centroid (default path)",
    "consistent": "true for PLSc (consistent PLS) on the reflective constructs (default false)",
}



def _labels(ctx: ReportContext, model_blocks: dict) -> dict[str, str]:
    """Construct name -> label: a construct or dimension of constructs.yaml, else the label of its
    single indicator, else the name."""
    dim_of = {}
    for c in ctx.spec.reflective:
        for d in c.dimensions:
            for i in d.items:
                dim_of[i] = f"{c.name}__{d.name}"
    names = set(ctx.spec.names)
    out = {}
    for name, block in model_blocks.items():
        if block.kind == "interaction":
            continue
        if name in names:
            out[name] = ctx.construct_label(name)
        elif block.kind != "hoc" and block.items and all(dim_of.get(i) == dim_of.get(block.items[0])
                                                         for i in block.items) and block.items[0] in dim_of:
            out[name] = ctx.construct_label(dim_of[block.items[0]])
        elif len(block.items) == 1:
            out[name] = ctx.label(block.items[0])
        else:
            out[name] = name
    for name, block in model_blocks.items():
        if block.kind == "interaction":
            a, b = block.components
            out[name] = f"{out.get(a, a)} × {out.get(b, b)}"
    return out


def _indicator_label(ctx: ReportContext, name: str, labels: dict[str, str]) -> str:
    if name in labels:  # a lower-order construct, indicator of a higher-order one
        return labels[name]
    if name in ctx.spec.items:
        return item_text(ctx, name, name in ctx.spec.reverse_items, short=60)
    return f"{ctx.label(name, short=60)} ({name})"


def _short(text: str, width: int) -> str:
    """The text cut at a word boundary to at most ``width`` characters (an ellipsis marks the cut)."""
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut.rstrip(" ,;:('") + "…"


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """The PLS-SEM tables (measurement, reliability, discriminant validity, paths, R²) and the path diagram."""
    from analysis.plssem import pls
    from analysis.plssem._syntax import parse_model
    from analysis.report import path_diagram
    from analysis.tables import format_integer

    out = TableOutput(spec["id"])
    model = spec.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(f"table '{spec['id']}' (kind pls) needs a model: the PLS path model in lavaan-style syntax")
    n_boot = spec.get("bootstrap", 1000)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ConfigError(f"table '{spec['id']}' (kind pls): bootstrap must be a number of draws (0 or more), "
                          f"not {n_boot!r}")
    seed = ctx.option(spec, "seed")
    scheme = spec.get("scheme", "path")
    consistent = spec.get("consistent", False)
    if not isinstance(consistent, bool):
        raise ConfigError(f"table '{spec['id']}' (kind pls): consistent must be true or false, not {consistent!r}")
    data = model_data(ctx, model)
    model_spec = parse_model(model, data.columns)
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        res = pls(model, data, scheme=scheme, consistent=consistent, bootstrap=n_boot, seed=seed)
        params = res.params
    for w in caught:
        ctx.warn(spec["id"], str(w.message))
    out.results["pls"] = res
    blocks = model_spec.blocks
    labels = _labels(ctx, blocks)
    in_paths = model_spec.constructs_in_paths()
    multi = [c for c, b in blocks.items() if b.kind != "interaction" and len(b.items) > 1]
    single = [c for c, b in blocks.items() if b.kind != "interaction" and len(b.items) == 1]
    boot_txt = (ctx.text("pls.bootstrap_note", n_boot=format_integer(n_boot, ctx.lang),
                         seed=seed if seed is not None else "—", level=int(round(100 * res.ci_level)))
                if n_boot else ctx.text("pls.no_bootstrap"))

    # ------------------------------------------------------------------ measurement model
    vif = res.vif
    outer_vif = {(r.lhs, r.rhs): r.vif for r in vif.itertuples() if r.op != "~"}
    rows = []
    for c in multi:
        b = blocks[c]
        typ = "weight" if b.mode == "B" else "loading"
        sub = params[(params["type"] == typ) & (params["lhs"] == c)]
        for r in sub.itertuples():
            rows.append({"construct": labels[c], "indicator": _indicator_label(ctx, r.rhs, labels),
                         "kind": ctx.text("pls.weight_short" if typ == "weight" else "pls.loading_short"),
                         "estimate": r.estimate, "statistic": r.statistic,
                         # APA: no leading zero for a loading (bounded by 1), one for a weight (not bounded)
                         "ci": interval_text(ctx, r.ci_low, r.ci_high, leading_zero=typ == "weight"),
                         "vif": outer_vif.get((c, r.rhs), np.nan), "lhs": c, "rhs": r.rhs, "p_value": r.p_value,
                         "ci_low": r.ci_low, "ci_high": r.ci_high})
    numbers = ["lhs", "rhs", "p_value", "ci_low", "ci_high"]  # in the results CSV, not in the table
    full = pd.DataFrame(rows, columns=["construct", "indicator", "kind", "estimate", "statistic", "ci", "vif", *numbers])
    out.results["measurement"] = full.drop(columns=["ci"])
    mm = full.drop(columns=numbers)
    weak = int(((mm["kind"] == ctx.text("pls.loading_short")) & (mm["estimate"] < 0.708)).sum())
    notes = [ctx.text("pls.measurement_note", weak=weak)]
    if model_spec.hocs:
        notes.append(ctx.text("pls.hoc_note", hocs=ctx.text("common.list_sep").join(labels[h] for h in model_spec.hocs)))
    if single:
        notes.append(ctx.text("pls.single_note",
                              single=ctx.text("common.list_sep").join(labels[s] for s in single)))
    notes.append(boot_txt)
    t = (
        new_table(mm, ctx, spec, number, suffix=ctx.text("pls.measurement_title"), key="measurement")
        .tab_stub("indicator", "construct")
        .cols_label({"indicator": "", "construct": "", "kind": "", "estimate": ctx.text("pls.estimate"),
                     "statistic": "t", "ci": ctx.text("pls.ci"), "vif": "VIF"})
        .fmt_number(["estimate", "vif"], decimals=2)
        .fmt_number("estimate", decimals=2, leading_zero=False,
                    rows=mm.index[mm["kind"] == ctx.text("pls.loading_short")])
        .fmt_number("statistic", decimals=1)
        .cols_align("right", "ci")
        .sub_missing("")
    )
    for n in notes:
        t = t.tab_note(n)
    out.add(finish(t, ctx, labels_note=True))

    # ------------------------------------------------------------------ reliability
    rel = res.reliability.loc[multi].copy()
    rel.insert(0, "construct", [labels[c] for c in multi])
    rel = rel.reset_index(drop=True)
    out.results["reliability"] = rel
    below = int(((rel[["alpha", "rho_a", "rho_c"]] < 0.70).any(axis=1) | (rel["ave"] < 0.50)).sum())
    t = (
        new_table(rel, ctx, spec, number, suffix=ctx.text("pls.reliability_title"), key="reliability")
        .tab_stub("construct")
        .cols_label({"construct": "", "alpha": "α", "rho_a": "ρ_A", "rho_c": "ρ_C", "ave": "AVE"})
        .fmt_number(["alpha", "rho_a", "rho_c", "ave"], decimals=2, leading_zero=False)
        .tab_note(ctx.text("pls.reliability_note", below=below))
    )
    out.add(finish(t, ctx))

    # ------------------------------------------------------------------ discriminant validity
    dv = [c for c in in_paths if c in multi]
    if len(dv) >= 2:
        hc = res.htmt_ci
        hc = hc[hc["lhs"].isin(dv) & hc["rhs"].isin(dv)]
        order = {c: k for k, c in enumerate(dv)}
        hc = hc.assign(_a=hc["lhs"].map(order), _b=hc["rhs"].map(order)).sort_values(["_a", "_b"])
        ht = pd.DataFrame({
            "pair": [f"{labels[a]} — {labels[b]}" for a, b in zip(hc["lhs"], hc["rhs"])],
            "estimate": hc["estimate"].to_numpy(),
            "ci": [interval_text(ctx, lo, hi) for lo, hi in zip(hc["ci_low"], hc["ci_high"])],
        })
        out.results["htmt"] = hc.drop(columns=["_a", "_b"]).reset_index(drop=True)
        above = int((hc["ci_high"] >= 0.85).sum()) if hc["ci_high"].notna().any() else int((hc["estimate"] >= 0.85).sum())
        t = (
            new_table(ht, ctx, spec, number, suffix=ctx.text("pls.htmt_title"), key="htmt")
            .tab_stub("pair")
            .cols_label({"pair": "", "estimate": "HTMT", "ci": ctx.text("pls.ci")})
            .fmt_number("estimate", decimals=2)  # a ratio that can exceed 1: its leading zero kept
            .cols_align("right", "ci")
            .tab_note(ctx.text("pls.htmt_note", above=above))
        )
        out.add(finish(t, ctx))
        fl = res.fornell_larcker.loc[dv, dv]
        nums = [str(j) for j in range(1, len(dv) + 1)]
        fd = fl.copy()
        fd.columns = nums
        fd.insert(0, "construct", [f"{j}. {labels[c]}" for j, c in zip(nums, dv)])
        fd = fd.reset_index(drop=True)
        out.results["fornell_larcker"] = fl
        failing = sum(1 for i in range(len(dv)) for j in range(i)
                      if abs(fl.iat[i, j]) >= min(fl.iat[i, i], fl.iat[j, j]))
        t = (
            new_table(fd, ctx, spec, number, suffix=ctx.text("pls.fl_title"), key="fornell-larcker")
            .tab_stub("construct")
            .cols_label({"construct": ""})
            .fmt_number(nums, decimals=2, leading_zero=False)
            .sub_missing("")
            .tab_note(ctx.text("pls.fl_note", failing=failing))
        )
        out.add(finish(t, ctx))

    # ------------------------------------------------------------------ structural model
    paths = params[params["type"] == "path"]
    f2 = {(r.lhs, r.rhs): r.f2 for r in res.f2.itertuples()}
    inner_vif = {(r.lhs, r.rhs): r.vif for r in vif.itertuples() if r.op == "~"}
    arrow = " → "
    rows = []
    for r in paths.itertuples():
        rows.append({"section": ctx.text("pls.direct"), "path": f"{labels[r.rhs]}{arrow}{labels[r.lhs]}",
                     "estimate": r.estimate, "statistic": r.statistic, "p_value": r.p_value,
                     "ci": interval_text(ctx, r.ci_low, r.ci_high), "f2": f2.get((r.lhs, r.rhs), np.nan),
                     "vif": inner_vif.get((r.lhs, r.rhs), np.nan), "lhs": r.lhs, "rhs": r.rhs, "through": "",
                     "ci_low": r.ci_low, "ci_high": r.ci_high})
    ind = res.specific_indirect
    for r in ind.itertuples():
        chain = [r.rhs] + r.through.split(" -> ") + [r.lhs]
        rows.append({"section": ctx.text("pls.indirect"), "path": arrow.join(labels[c] for c in chain),
                     "estimate": r.estimate, "statistic": r.statistic, "p_value": r.p_value,
                     "ci": interval_text(ctx, r.ci_low, r.ci_high), "f2": np.nan, "vif": np.nan,
                     "lhs": r.lhs, "rhs": r.rhs, "through": r.through, "ci_low": r.ci_low, "ci_high": r.ci_high})
    numbers = ["lhs", "rhs", "through", "ci_low", "ci_high"]
    full = pd.DataFrame(rows, columns=["section", "path", "estimate", "statistic", "p_value", "ci", "f2", "vif", *numbers])
    out.results["paths"] = full.drop(columns=["ci"])
    out.results["apa_text"] = path_sentences(ctx, full, "pls.apa", "pls.apa_ci")
    st = full.drop(columns=numbers)
    t = (
        new_table(st, ctx, spec, number, suffix=ctx.text("pls.paths_title"), key="paths")
        .tab_stub("path", "section")
        .cols_label({"path": "", "section": "", "estimate": "β", "statistic": "t", "p_value": "p",
                     "ci": ctx.text("pls.ci"), "f2": "f²", "vif": "VIF"})
        .fmt_number(["estimate", "vif"], decimals=2)
        .fmt_number("statistic", decimals=1)
        .fmt_number("f2", decimals=3)
        .fmt_pvalue("p_value")
        .cols_align("right", "ci")
        .sub_missing("")
        .tab_note(ctx.text("pls.paths_note", scheme=ctx.text(f"pls.schemes.{scheme}"),
                           plsc=ctx.text("pls.plsc") if consistent else "",
                           n=format_integer(res.n, ctx.lang)))
    )
    if model_spec.interactions:
        t = t.tab_note(ctx.text("pls.interaction_note"))
    out.add(finish(t.tab_note(boot_txt), ctx))

    # ------------------------------------------------------------------ explained variance
    endo = [c for c in in_paths if c in res.r2.index]
    q2_by = {}
    q2_txt = ""
    try:
        q2 = res.q2
        q2_by = q2.groupby("construct")["q2_predict"].mean().to_dict()
        q2_txt = ctx.text("pls.q2_note")
    except NotImplementedError:
        q2_txt = ctx.text("pls.q2_unavailable")
    r2 = pd.DataFrame({"construct": [labels[c] for c in endo], "r2": [res.r2[c] for c in endo],
                       "r2_adj": [res.r2_adj[c] for c in endo], "q2": [q2_by.get(c, np.nan) for c in endo]})
    if not q2_by:
        r2 = r2.drop(columns="q2")
    out.results["r2"] = r2
    t = (
        new_table(r2, ctx, spec, number, suffix=ctx.text("pls.r2_title"), key="r2")
        .tab_stub("construct")
        .cols_label({k: v for k, v in {"construct": "", "r2": "R²", "r2_adj": ctx.text("pls.r2_adj"),
                                       "q2": "Q²_predict"}.items() if k in r2.columns})
        .fmt_number([c for c in ("r2", "r2_adj") if c in r2.columns], decimals=3, leading_zero=False)
        .fmt_number([c for c in ("q2",) if c in r2.columns], decimals=3)
        .tab_note(ctx.text("pls.r2_note") + " " + q2_txt)
    )
    out.add(finish(t, ctx))

    # ------------------------------------------------------------------ path diagram
    diag = paths[["lhs", "op", "rhs", "estimate", "p_value"]].assign(std_all=paths["estimate"])
    latent = {c for c in in_paths if c in multi}
    node = {c: labels.get(c, c) for c in in_paths}
    for name in model_spec.interactions:  # "A × B" with each side shortened, to fit its box
        node[name] = " × ".join(_short(labels.get(x, x), 30) for x in blocks[name].components)
    out.figures[f"{spec['id']}_paths"] = path_diagram(
        diag, latent=latent, r2={c: float(res.r2[c]) for c in endo}, labels=node, lang=ctx.lang)
    out.figure_captions[f"{spec['id']}_paths"] = ctx.text("figures.pls_paths")
    return out
