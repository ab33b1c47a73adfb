"""Table kind ``models``: regression models of H1-H3 side by side, plus a coefficient plot.

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import dataclasses
import re
import warnings as _warnings

from analysis.report._common import POOLED, factor_label, finish, pool_sparse_levels, term_label
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``models`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "models": "list of model names from analysis_plan.yaml (default: all of them)",
    "coef_omit": "list of term prefixes fitted but not shown, e.g. C(region)",
    "min_category_n": ("levels of a categorical covariate with fewer cases are pooled before the fit "
                       "(default: the plan option, else 20)"),
}


def _dependent(formula: str) -> str:
    """The dependent variable of a patsy formula (``I(x >= 4)`` gives ``x``)."""
    lhs = formula.split("~", 1)[0].strip()
    m = re.search(r"[A-Za-z_]\w*", lhs[2:] if lhs.startswith("I(") else lhs)
    return m.group(0) if m else lhs


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 9: regression models of H1-H3 side by side, plus a coefficient plot."""
    from analysis.study import run_analysis_plan
    from analysis.tables import model_table

    out = TableOutput(spec["id"])
    plan = ctx.plan_of_analysis()
    names = spec.get("models") or list(plan.models)
    # sparse categories pooled with a stated rule before they enter a model
    min_n = int(ctx.option(spec, "min_category_n", 20))
    factors = list(dict.fromkeys(v for n in names if n in plan.models
                                 for v in re.findall(r"C\((\w+)\)", plan.models[n].formula)))
    keep = {v: (ctx.labels.factors.get(v) or {}).get("reference") for v in factors}
    data, pooled = pool_sparse_levels(ctx.data, factors, min_n, keep=keep)
    out.results["pooled"] = pooled
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        results = run_analysis_plan(data, plan, models=names)
    for name, r in results.items():
        for w in getattr(r, "warnings", ()) or ():
            ctx.warn(f"{spec['id']}/{name}", w)
    out.results["models"] = results
    cols, dvs, descs, ses = {}, [], [], {}
    colon = ctx.text("common.colon")
    for i, (name, r) in enumerate(results.items(), start=1):
        mspec = plan.models[name]
        kind = getattr(r, "model", mspec.model)
        key = f"({i}) {_named(ctx, 'model_kinds', kind)}"
        cols[key] = r
        dv = _dependent(mspec.formula)
        dvs.append((key, dv))
        dv_text = ctx.labels.variable(dv, "long", ctx.lang) or term_label(ctx, dv)
        se = str(mspec.se or "classical").lower()
        ses[se] = ses.get(se, []) + [f"({i})"]
        if kind == "logit":
            m = re.search(r">=\s*(\d+)", mspec.formula)
            what = ctx.text("models.probability_of", k=m.group(1)) if m else ctx.text("models.probability")
            descs.append(f"({i}) {dv_text}{colon}{what}, {ctx.text('models.log_odds_ratios')}")
        elif kind in ("negbin", "poisson"):
            descs.append(f"({i}) {dv_text}{colon}{ctx.text('models.log_rate_ratios')}")
        elif kind == "ordinal":
            descs.append(f"({i}) {dv_text}{colon}{ctx.text('models.cumulative_log_odds_ratios')}")
        else:
            descs.append(f"({i}) {dv_text}")
        if mspec.center:
            descs[-1] += ctx.text("models.centred") + ", ".join(
                term_label(ctx, c) for c in mspec.center)
    pooled_labels = {var: _pooled_label(ctx, var, levels) for var, levels in pooled.items()}
    coef_labels = {}
    for r in results.values():
        for term in r.coefficients.index:
            m = re.fullmatch(r"C\((\w+)\)\[T\.(.+)\]", term)
            if m and m.group(2) == POOLED:
                label = f"{factor_label(ctx, m.group(1))}{ctx.text('common.colon')}{pooled_labels[m.group(1)]}"
            else:
                label = term_label(ctx, term)
            coef_labels.setdefault(term, label)
    # predictors of interest first, then interactions, controls (the variables of the plan's
    # `controls` snippet), factor levels, the intercept last
    controls = {t.strip() for t in str(getattr(plan, "terms", {}).get("controls", "")).split("+")}

    def rank(term: str) -> int:
        if term in ("Intercept", "const"):
            return 5
        if term.startswith("C("):
            return 4
        if ":" in term:
            return 2
        if term in controls:
            return 3
        return 1

    coef_labels = {k: coef_labels[k] for k in sorted(coef_labels, key=rank)}
    omit = []
    for pattern in spec.get("coef_omit", []):
        omit += [t for t in coef_labels if t.startswith(pattern)]
    # the APA-style sentences: each model's first predictor of interest, from the same numbers
    from analysis.report._common import fmt_p
    from analysis.tables import format_number

    apa = []
    for (key, r), (_, dv) in zip(cols.items(), dvs):
        focal = next((term for term in coef_labels if rank(term) == 1 and term in r.coefficients.index), None)
        if focal is None:
            continue
        c = r.coefficients.loc[focal]
        dv_text = ctx.labels.variable(dv, "long", ctx.lang) or term_label(ctx, dv)
        apa.append(ctx.text("models.apa", model=key.split(" ", 1)[0], dv=dv_text, term=coef_labels[focal],
                            b=format_number(float(c["estimate"]), 2, ctx.lang),
                            se=format_number(float(c["se"]), 2, ctx.lang), p=fmt_p(float(c["p_value"]), ctx.lang)))
    out.results["apa_text"] = apa
    ref = _reference_notes(ctx, results, data)
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
            label = ctx.labels.variable(dv, "short", ctx.lang) or term_label(ctx, dv)
            run = [k for k, _ in dvs[run_start:j]]
            if len(run) > 1:
                t = t.tab_spanner(label, run)
            else:  # one column: the outcome in its header (wraps with it; a spanner would not)
                t = t.cols_label({run[0]: f"{label} {run[0]}"})
            # (the full dependent-variable labels are in the note)
            run_start = j
    se_txt = "; ".join(f"{_named(ctx, 'se_kinds', se)} {ctx.text('models.for')} {', '.join(m)}"
                       if len(ses) > 1 else _named(ctx, "se_kinds", se) for se, m in ses.items())
    omitted = ""
    if spec.get("coef_omit"):
        fx = [term_label(ctx, p).lower() for p in spec["coef_omit"]]
        omitted = ctx.text("models.fixed_effects", terms=", ".join(fx))
    # model_table's first note ("standard errors in parentheses") is replaced by the precise one
    t = dataclasses.replace(t, notes=(ctx.text("models.se_note", se_txt=se_txt)
                                      + omitted,) + tuple(n for n in t.notes if n not in (
                                          "Erreurs types entre parenthèses.", "Standard errors in parentheses.")))
    if pooled:
        t = t.tab_note(_pooling_note(ctx, pooled, pooled_labels, min_n))
    t = t.tab_note(ctx.text("models.dv_note")
                   + ctx.text("common.list_sep").join(descs) + ".")
    t = finish(t, ctx, spec=spec, labels_note=True)
    out.add(t, counts=[])
    fig = _coefficient_figure(ctx, plan, results, cols, dvs)
    if fig is not None:
        out.figures["coefficients_h1_h3"] = fig
    return out


def _coefficient_figure(ctx: ReportContext, plan, results: dict, cols: dict, dvs: list):
    """The coefficient plot of the OLS models: one panel per dependent variable, the models named by
    their number in the table, their hypothesis and what they add to the first model of that outcome."""
    from analysis.report import coefficient_plot, tidy_coefficients

    keys = dict(zip(results, cols))  # model name -> table column "(i) MCO"
    ols = [n for n in results if getattr(cols[keys[n]], "model", "") == "ols"]
    if not ols:
        return None
    coefs = tidy_coefficients({n: cols[keys[n]] for n in ols})
    # construct scores, interactions and the moderators of the plan's simple slopes
    moderators = {str((plan.models[n].simple_slopes or {}).get("moderator")) for n in results}
    keep = [t_ for t_ in coefs["term"].unique() if t_.startswith("score_") or ":" in t_ or t_ in moderators]
    coefs = coefs[coefs["term"].isin(keep)]
    if coefs.empty:
        return None
    dv_of = dict(dvs)
    outcome_text = {}
    for n in ols:
        dv = dv_of[keys[n]]
        label = ctx.labels.variable(dv, "label", ctx.lang) or term_label(ctx, dv)
        outcome_text[n] = ctx.text("common.colon").join([ctx.text("figures.labels.coef_outcome"), label])
    coefs["outcome"] = coefs["model"].map(outcome_text)
    first_terms: dict[str, set] = {}
    model_labels = {}
    for n in ols:
        number = keys[n].split(")")[0] + ")"
        terms = set(cols[keys[n]].coefficients.index.astype(str))
        first = first_terms.setdefault(outcome_text[n], terms)
        extra = [t for t in cols[keys[n]].coefficients.index.astype(str) if t not in first]
        text = ctx.text("figures.labels.coef_model", number=number, hypothesis=plan.models[n].hypothesis)
        if extra:
            added = ", ".join(_lower_first(term_label(ctx, t)) for t in extra)
            text += ctx.text("figures.labels.coef_adds", terms=added)
        model_labels[n] = text
    ses = {str(plan.models[n].se or "classical").lower() for n in ols}
    kind = _named(ctx, "model_kinds", "ols")
    se = _named(ctx, "se_kinds", ses.pop()) if len(ses) == 1 else ""
    xlabel = ctx.text("figures.labels.coef_unstandardised", kind=f"{kind}{', ' + se if se else ''}")
    return coefficient_plot(coefs, outcome="outcome", term_labels={k: term_label(ctx, k) for k in keep},
                            model_labels=model_labels, xlabel=xlabel, locale=ctx.lang)


def _lower_first(text: str) -> str:
    """``Part des recettes`` -> ``part des recettes`` (an acronym such as ``HHI`` kept), each side of an interaction."""
    parts = text.split(" × ")
    return " × ".join(p[:1].lower() + p[1:] if len(p) > 1 and p[1:2].islower() else p for p in parts)


def _named(ctx: ReportContext, section: str, name: str) -> str:
    """The name of a model or SE kind in the texts (``model_kinds``, ``se_kinds``), else ``name``."""
    key = f"{section}.{name}"
    return ctx.text(key) if ctx.texts.has(key) else name


def _pooled_label(ctx: ReportContext, var: str, levels: list) -> str:
    """Label of the pooled level of ``var``: its levels' labels joined by " + "."""
    labels = ctx.value_labels(var)
    return " + ".join(labels.get(lv, lv) for lv, _, target in levels if target == POOLED)


def _pooling_note(ctx: ReportContext, pooled: dict, pooled_labels: dict, min_n: int) -> str:
    """The note stating the pooling rule and what was pooled into what, with the counts."""
    from analysis.tables import format_integer

    parts = []
    for var, levels in pooled.items():
        labels = ctx.value_labels(var)
        by_target: dict[str, list] = {}
        for lv, n, target in levels:
            into = pooled_labels[var] if target == POOLED else labels.get(target, target)
            by_target.setdefault(into, []).append(f"{labels.get(lv, lv)} ({format_integer(n, ctx.lang)})")
        moves = ", ".join(ctx.text("models.pooled_move", levels=", ".join(lv), target=into)
                          for into, lv in by_target.items())
        parts.append(f"{factor_label(ctx, var).lower()}, {moves}")
    return ctx.text("models.pooled_note", min_n=min_n, moves=ctx.text("common.list_sep").join(parts))


def _reference_notes(ctx: ReportContext, results: dict, data=None) -> dict:
    """Factor label -> label of its reference category, for the factors of the analysis plan
    (``factors`` in analysis_plan.yaml) that the models use.

    The reference is the one the plan declares; without one, or when the declared one is not
    the level the model left out (a warning then), the level left out.
    """
    notes = {}
    for var, factor in ctx.labels.factors.items():
        for r in results.values():
            levels = [t for t in r.coefficients.index if t.startswith(f"C({var})[T.")]
            data = ctx.data if data is None else data
            if levels and var in data.columns:
                present = sorted(data[var].dropna().astype(str).unique())
                shown = {t.split("[T.", 1)[1].rstrip("]") for t in levels}
                base = [p for p in present if p not in shown]
                declared = factor.get("reference")
                if declared is not None and str(declared) not in base:
                    ctx.warn("analysis_plan.yaml", f"factors, '{var}': the reference '{declared}' is not the "
                             f"level the models leave out ({', '.join(base) or 'none'})")
                    declared = None
                ref = str(declared) if declared is not None else (base[0] if base else None)
                if ref is not None:
                    notes[factor_label(ctx, var)] = ctx.value_labels(var).get(ref, ref)
                break
    return notes
