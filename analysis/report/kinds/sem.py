"""Table kind ``sem``: the covariance-based structural model (CB-SEM) of the hypotheses.

One model (``model:`` of the plan entry, lavaan syntax of :func:`analysis.cbsem.sem`) gives
four tables and a figure: the fit indices, the structural paths (standardised β, b, its
standard error, z, p and confidence interval, then the parameters defined with ``:=``), the
explained variance (R²) of the endogenous variables, the direct, indirect and total effects,
and the path diagram.

The model names data columns: Likert items (taken after the missing codes are removed and the
reverse-keyed items recoded, as every table of the report) or any numeric column of the
analysis file (a dimension score ``score_<construct>__<dimension>``, a derived variable).
``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np
import pandas as pd

from analysis.errors import ConfigError
from analysis.report._common import (
    finish,
    fit_rows,
    interval_text,
    model_data,
    new_table,
    path_sentences,
)
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``sem`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "model": "the structural model in lavaan syntax (=~ measurement, ~ paths, := defined effects such as a*b)",
    "estimator": "ML (default) or MLR (robust standard errors and scaled fit indices)",
    "missing": "listwise (default) or fiml (full-information maximum likelihood)",
    "se": "standard (default), robust or bootstrap",
    "bootstrap": "number of bootstrap draws when se is bootstrap (default 1000)",
    "seed": "seed of the bootstrap draws (default: options.seed)",
}

_ARROW = " → "


def _labels(ctx: ReportContext, names, indicators: dict[str, list[str]]) -> dict[str, str]:
    """Variable name -> label: a construct or dimension of constructs.yaml; a latent variable
    measured by the items of one dimension (that dimension) or by the items or dimension scores
    of one construct (that construct); else the label of the column (score, codebook, derived
    variable), else the name."""
    constructs = set(ctx.spec.names)
    owner = {}  # indicator -> (construct, construct__dimension)
    for c in ctx.spec.reflective:
        for d in c.dimensions:
            owner[f"score_{c.name}__{d.name}"] = (c.name, None)
            for i in d.items:
                owner[i] = (c.name, f"{c.name}__{d.name}")
    dims = {dim for _, dim in owner.values() if dim}
    out = {}
    for n in names:
        ind = indicators.get(n, [])
        if n in constructs or n in dims:
            out[n] = ctx.construct_label(n)
        elif ind and all(i in owner for i in ind):
            found = {owner[i] for i in ind}
            if len(found) == 1 and next(iter(found))[1]:
                out[n] = ctx.construct_label(next(iter(found))[1])
            elif len({c for c, _ in found}) == 1:
                out[n] = ctx.construct_label(next(iter(found))[0])
            else:
                out[n] = n
        else:
            out[n] = ctx.label(n)
    return out


def _chain(rhs: str, paths: pd.DataFrame) -> list[str] | None:
    """The variables of a product of path labels (``a*b``) when the paths follow each other."""
    parts = [p.strip() for p in rhs.split("*")]
    by_label = {r.label: (r.rhs, r.lhs) for r in paths.itertuples() if isinstance(r.label, str) and r.label}
    if not parts or any(p not in by_label for p in parts):
        return None
    steps = [by_label[p] for p in parts]
    chain = [steps[0][0]]
    for frm, to in steps:
        if frm != chain[-1]:
            return None
        chain.append(to)
    return chain


def _std_effects(paths: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """Standardised direct, indirect and total effects from the standardised paths:
    ``total = (I - B)^-1 - I``, ``indirect = total - B``; key (outcome, predictor, effect)."""
    names = list(dict.fromkeys([*paths["lhs"], *paths["rhs"]]))
    k = {n: i for i, n in enumerate(names)}
    B = np.zeros((len(names), len(names)))
    for r in paths.itertuples():
        B[k[r.lhs], k[r.rhs]] = r.std_all
    total = np.linalg.inv(np.eye(len(names)) - B) - np.eye(len(names))
    out = {}
    for o in names:
        for p in names:
            out[(o, p, "direct")] = B[k[o], k[p]]
            out[(o, p, "total")] = total[k[o], k[p]]
            out[(o, p, "indirect")] = total[k[o], k[p]] - B[k[o], k[p]]
    return out


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """The CB-SEM tables (fit, structural paths, R², effects) and the path diagram."""
    from analysis.cbsem import sem
    from analysis.report import path_diagram
    from analysis.tables import format_integer

    out = TableOutput(spec["id"])
    model = spec.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(f"table '{spec['id']}' (kind sem) needs a model: the structural model in lavaan syntax")
    estimator = str(spec.get("estimator", "ML")).upper()
    if estimator not in ("ML", "MLR"):
        raise ConfigError(f"table '{spec['id']}' (kind sem): estimator must be ML or MLR, not {estimator!r}")
    missing = str(spec.get("missing", "listwise")).lower()
    if missing not in ("listwise", "fiml"):
        raise ConfigError(f"table '{spec['id']}' (kind sem): missing must be listwise or fiml, not {missing!r}")
    se = str(spec.get("se", "standard")).lower()
    if se not in ("standard", "robust", "bootstrap"):
        raise ConfigError(f"table '{spec['id']}' (kind sem): se must be standard, robust or bootstrap, not {se!r}")
    n_boot = spec.get("bootstrap", 1000)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 2:
        raise ConfigError(f"table '{spec['id']}' (kind sem): bootstrap must be a number of draws (2 or more), "
                          f"not {n_boot!r}")
    seed = ctx.option(spec, "seed")
    data = model_data(ctx, model)
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        res = sem(model, data, estimator=estimator, missing=missing, se=se, bootstrap=n_boot, seed=seed)
        params = res.params
    for w in caught:
        ctx.warn(spec["id"], str(w.message))
    out.results["sem"] = res
    paths = params[params["op"] == "~"].reset_index(drop=True)
    defined = params[params["op"] == ":="].reset_index(drop=True)
    latent = set(params.loc[params["op"] == "=~", "lhs"])
    structural = list(dict.fromkeys([*paths["rhs"], *paths["lhs"]]))
    indicators = {f: list(params.loc[(params["op"] == "=~") & (params["lhs"] == f), "rhs"]) for f in latent}
    labels = _labels(ctx, set(structural) | latent, indicators)
    robust = estimator == "MLR" or se == "robust"
    n = float(res.fit.get("ntotal", np.nan))
    n_txt = format_integer(n, ctx.lang) if np.isfinite(n) else "—"
    se_txt = (ctx.text("sem.se_bootstrap", n_boot=format_integer(n_boot, ctx.lang),
                       seed=seed if seed is not None else "—") if se == "bootstrap"
              else ctx.text("sem.se_robust") if robust else ctx.text("sem.se_standard"))
    miss_txt = ctx.text("cfa.missing_fiml") if missing == "fiml" else ctx.text("sem.missing_listwise")

    # ------------------------------------------------------------------ fit
    fit_df = pd.DataFrame(fit_rows(ctx, res.fit, estimator == "MLR"), columns=["index", "value"])
    out.results["fit"] = res.fit
    t = (
        new_table(fit_df, ctx, spec, number, suffix=ctx.text("sem.fit_title"), key="fit")
        .tab_stub("index")
        .cols_label({"index": ctx.text("common.fit"), "value": ctx.text("common.value")})
        .cols_align("right", "value")
        .tab_note(ctx.text("sem.fit_note", n_latent=len(latent), estimator=estimator, miss_txt=miss_txt,
                           robust=ctx.text("cfa.fit_note_robust") if estimator == "MLR" else ""))
    )
    out.add(finish(t, ctx))

    # ------------------------------------------------------------------ structural paths
    rows = []
    for r in paths.itertuples():
        rows.append({"section": ctx.text("sem.paths_section"), "path": f"{labels[r.rhs]}{_ARROW}{labels[r.lhs]}",
                     "std_all": r.std_all, "estimate": r.estimate, "se": r.se, "statistic": r.statistic,
                     "p_value": r.p_value, "ci": interval_text(ctx, r.ci_low, r.ci_high), "lhs": r.lhs, "rhs": r.rhs,
                     "label": r.label if isinstance(r.label, str) else "", "ci_low": r.ci_low, "ci_high": r.ci_high})
    for r in defined.itertuples():
        chain = _chain(str(r.rhs), paths)
        name = _ARROW.join(labels[c] for c in chain) if chain else f"{r.lhs} = {r.rhs}"
        rows.append({"section": ctx.text("sem.defined_section"), "path": name, "std_all": r.std_all,
                     "estimate": r.estimate, "se": r.se, "statistic": r.statistic, "p_value": r.p_value,
                     "ci": interval_text(ctx, r.ci_low, r.ci_high), "lhs": r.lhs, "rhs": r.rhs, "label": r.lhs,
                     "ci_low": r.ci_low, "ci_high": r.ci_high})
    numbers = ["lhs", "rhs", "label", "ci_low", "ci_high"]  # in the results CSV, not in the table
    cols = ["section", "path", "std_all", "estimate", "se", "statistic", "p_value", "ci", *numbers]
    full = pd.DataFrame(rows, columns=cols)
    out.results["paths"] = full.drop(columns=["ci"])
    out.results["apa_text"] = path_sentences(ctx, full, "sem.apa", "sem.apa_ci")
    st = full.drop(columns=numbers)
    if defined.empty:
        st = st.drop(columns="section")
    t = (
        new_table(st, ctx, spec, number, suffix=ctx.text("sem.paths_title"), key="paths")
        .tab_stub("path", *(["section"] if not defined.empty else []))
        .cols_label({k: v for k, v in {"path": "", "section": "", "std_all": "β", "estimate": "b",
                                       "se": ctx.text("cfa.se"), "statistic": "z", "p_value": "p",
                                       "ci": ctx.text("sem.ci")}.items() if k in st.columns})
        .fmt_number(["std_all", "estimate", "se"], decimals=2)
        .fmt_number("statistic", decimals=1)
        .fmt_pvalue("p_value")
        .cols_align("right", "ci")
        .sub_missing("")
        .tab_note(ctx.text("sem.paths_note", n=n_txt))
        .tab_note(se_txt)
    )
    if not defined.empty:
        t = t.tab_note(ctx.text("sem.defined_note"))
    out.add(finish(t, ctx))

    # ------------------------------------------------------------------ explained variance
    endo = list(dict.fromkeys(paths["lhs"]))
    r2 = pd.DataFrame({"variable": [labels[c] for c in endo],
                       "r2": [float(res.r2.get(c, np.nan)) for c in endo]})
    out.results["r2"] = r2.assign(name=endo)
    t = (
        new_table(r2, ctx, spec, number, suffix=ctx.text("sem.r2_title"), key="r2")
        .tab_stub("variable")
        .cols_label({"variable": "", "r2": "R²"})
        .fmt_number("r2", decimals=3, leading_zero=False)
        .tab_note(ctx.text("sem.r2_note"))
    )
    out.add(finish(t, ctx))

    # ------------------------------------------------------------------ direct, indirect, total effects
    eff = res.effects
    if eff is not None and len(eff):
        std = _std_effects(paths)
        kinds = {"direct": ctx.text("sem.direct"), "indirect": ctx.text("sem.indirect"), "total": ctx.text("sem.total")}
        order = {k: i for i, k in enumerate(kinds)}
        eff = eff.assign(_o=eff["effect"].map(order)).sort_values(["_o"], kind="stable")
        rows = [{"section": kinds[r.effect], "path": f"{labels.get(r.predictor, r.predictor)}{_ARROW}"
                                                      f"{labels.get(r.outcome, r.outcome)}",
                 "std": std.get((r.outcome, r.predictor, r.effect), np.nan), "estimate": r.estimate, "se": r.se,
                 "p_value": r.p_value, "ci": interval_text(ctx, r.ci_low, r.ci_high), "outcome": r.outcome,
                 "predictor": r.predictor, "effect": r.effect, "statistic": r.statistic,
                 "ci_low": r.ci_low, "ci_high": r.ci_high}
                for r in eff.itertuples()]
        numbers = ["outcome", "predictor", "effect", "statistic", "ci_low", "ci_high"]
        full = pd.DataFrame(rows)
        out.results["effects"] = full.drop(columns=["ci"])
        t = (
            new_table(full.drop(columns=numbers), ctx, spec, number, suffix=ctx.text("sem.effects_title"),
                      key="effects")
            .tab_stub("path", "section")
            .cols_label({"path": "", "section": "", "std": "β", "estimate": "b", "se": ctx.text("cfa.se"),
                         "p_value": "p", "ci": ctx.text("sem.ci")})
            .fmt_number(["std", "estimate", "se"], decimals=2)
            .fmt_pvalue("p_value")
            .cols_align("right", "ci")
            .sub_missing("")
            .tab_note(ctx.text("sem.effects_note"))
            .tab_note(se_txt)
        )
        out.add(finish(t, ctx))

    # ------------------------------------------------------------------ path diagram
    diag = paths[["lhs", "op", "rhs", "estimate", "p_value", "std_all"]]
    out.figures[f"{spec['id']}_paths"] = path_diagram(
        diag, latent={c for c in structural if c in latent},
        r2={c: float(res.r2[c]) for c in endo if c in res.r2.index},
        labels={c: labels[c] for c in structural}, lang=ctx.lang)
    out.figure_captions[f"{spec['id']}_paths"] = ctx.text("figures.sem_paths")
    return out
