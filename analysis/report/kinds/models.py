"""Table kind ``models``."""

from __future__ import annotations

import dataclasses
import re
import warnings as _warnings

from analysis.report._common import finish, term_label
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput
from analysis.report._texts import DV_LONG, DV_SHORT, MODEL_KINDS, SE_KINDS

#: Options of a table of kind ``models`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "models": "list of model names from analysis_plan.yaml (default: all of them)",
    "coef_omit": "list of term prefixes fitted but not shown, e.g. C(region)",
}


def _dependent(formula: str) -> str:
    """The dependent variable of a patsy formula (``I(x >= 4)`` gives ``x``)."""
    lhs = formula.split("~", 1)[0].strip()
    m = re.search(r"[A-Za-z_]\w*", lhs[2:] if lhs.startswith("I(") else lhs)
    return m.group(0) if m else lhs


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 9: regression models of H1-H3 side by side, plus a coefficient plot."""
    from analysis.regression._regression import load_analysis_plan, run_analysis_plan
    from analysis.report._figures import coefficient_plot, tidy_coefficients
    from analysis.tables import model_table

    out = TableOutput(spec["id"])
    plan = load_analysis_plan()
    names = spec.get("models") or list(plan.models)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        results = run_analysis_plan(ctx.data, plan, models=names)
    for name, r in results.items():
        for w in getattr(r, "warnings", ()) or ():
            ctx.warn(f"{spec['id']}/{name}", w)
    out.results["models"] = results
    cols, dvs, descs, ses = {}, [], [], {}
    colon = ctx.tr(" : ", ": ")
    for i, (name, r) in enumerate(results.items(), start=1):
        mspec = plan.models[name]
        kind = getattr(r, "model", mspec.model)
        key = f"({i}) {MODEL_KINDS.get(kind, {}).get(ctx.lang, kind)}"
        cols[key] = r
        dv = _dependent(mspec.formula)
        dvs.append((key, dv))
        dv_text = DV_LONG.get(dv, {}).get(ctx.lang) or term_label(ctx, dv)
        se = str(mspec.se or "classical").lower()
        ses[se] = ses.get(se, []) + [f"({i})"]
        if kind == "logit":
            m = re.search(r">=\s*(\d+)", mspec.formula)
            what = ctx.tr(f"probabilité de répondre {m.group(1)} ou plus" if m else "probabilité",
                          f"probability of answering {m.group(1)} or more" if m else "probability")
            descs.append(f"({i}) {dv_text}{colon}{what}, {ctx.tr('log des rapports de cotes', 'log odds ratios')}")
        elif kind in ("negbin", "poisson"):
            descs.append(f"({i}) {dv_text}{colon}{ctx.tr('log des rapports de taux', 'log rate ratios')}")
        elif kind == "ordinal":
            descs.append(f"({i}) {dv_text}{colon}{ctx.tr('log des rapports de cotes cumulées', 'cumulative log odds ratios')}")
        else:
            descs.append(f"({i}) {dv_text}")
        if mspec.center:
            descs[-1] += ctx.tr(" ; variables centrées : ", "; centred variables: ") + ", ".join(
                term_label(ctx, c) for c in mspec.center)
    coef_labels = {}
    for r in results.values():
        for term in r.coefficients.index:
            coef_labels.setdefault(term, term_label(ctx, term))
    # predictors of interest first, then interactions, controls, factor levels, the intercept last
    def rank(term: str) -> int:
        if term in ("Intercept", "const"):
            return 5
        if term.startswith("C("):
            return 4
        if ":" in term:
            return 2
        if term in ("log_members", "org_age"):
            return 3
        return 1

    coef_labels = {k: coef_labels[k] for k in sorted(coef_labels, key=rank)}
    omit = []
    for pattern in spec.get("coef_omit", []):
        omit += [t for t in coef_labels if t.startswith(pattern)]
    ref = _reference_notes(ctx, results)
    t = model_table(cols, coef_labels=coef_labels, coef_omit=omit, reference_notes=ref, locale=ctx.lang)
    t = (
        t.with_locale(ctx.lang)
        .tab_header(ctx.title(spec), number=number)
        .tab_label(f"tab:{spec['id']}")
        .tab_source(ctx.source)
    )
    # dependent variables over their columns (adjacent runs)
    run_start = 0
    for j in range(1, len(dvs) + 1):
        if j == len(dvs) or dvs[j][1] != dvs[run_start][1]:
            dv = dvs[run_start][1]
            label = DV_SHORT.get(dv, {}).get(ctx.lang) or term_label(ctx, dv)
            t = t.tab_spanner(label, [k for k, _ in dvs[run_start:j]])
            # (the full dependent-variable labels are in the note)
            run_start = j
    se_txt = "; ".join(f"{SE_KINDS.get(se, {}).get(ctx.lang, se)} {ctx.tr('pour', 'for')} {', '.join(m)}"
                       if len(ses) > 1 else SE_KINDS.get(se, {}).get(ctx.lang, se) for se, m in ses.items())
    omitted = ""
    if spec.get("coef_omit"):
        fx = [term_label(ctx, p).lower() if ctx.lang == "en" else term_label(ctx, p).lower() for p in spec["coef_omit"]]
        omitted = ctx.tr(f" Effets fixes inclus, non affichés : {', '.join(fx)}.",
                         f" Fixed effects included, not shown: {', '.join(fx)}.")
    # model_table's first note ("standard errors in parentheses") is replaced by the precise one
    t = dataclasses.replace(t, notes=(ctx.tr(f"Entre parenthèses : {se_txt}.", f"In parentheses: {se_txt}.")
                                      + omitted,) + tuple(n for n in t.notes if n not in (
                                          "Erreurs types entre parenthèses.", "Standard errors in parentheses.")))
    t = t.tab_note(ctx.tr("Variables dépendantes et coefficients : ", "Dependent variables and coefficients: ")
                   + "; ".join(descs).replace("; (", " ; (" if ctx.lang == "fr" else "; (") + ".")
    t = finish(t, ctx, labels_note=True)
    out.add(t, counts=[])
    coefs = tidy_coefficients({k: v for k, v in cols.items() if getattr(v, "model", "") == "ols"})
    keep = [t_ for t_ in coefs["term"].unique() if t_.startswith("score_") or ":" in t_ or t_ in ("support_n_types",)]
    coefs = coefs[coefs["term"].isin(keep)]
    if not coefs.empty:
        out.figures["coefficients_h1_h3"] = coefficient_plot(
            coefs, term_labels={k: term_label(ctx, k) for k in keep}, locale=ctx.lang
        )
    return out


def _reference_notes(ctx: ReportContext, results: dict) -> dict:
    notes = {}
    for var in ("legal_form", "sector", "region"):
        for r in results.values():
            levels = [t for t in r.coefficients.index if t.startswith(f"C({var})[T.")]
            if levels and var in ctx.data.columns:
                present = sorted(ctx.data[var].dropna().astype(str).unique())
                shown = {t.split("[T.", 1)[1].rstrip("]") for t in levels}
                base = [p for p in present if p not in shown]
                if base:
                    notes[ctx.t(var)] = ctx.value_labels(var).get(base[0], base[0])
                break
    return notes
