"""Helpers shared by the table kinds."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.report._context import ReportContext

#: Suppression marker of small counts (``analysis.tables.suppress_small_cells``).
SUPPRESSED = "s"


def new_table(df: pd.DataFrame, ctx: ReportContext, spec: dict, number: int, *, suffix: str = "", key: str = ""):
    from analysis.tables import Table

    title = ctx.title(spec) + (f" — {suffix}" if suffix else "")
    label = f"tab:{spec['id']}" + (f"-{key}" if key else (f"-{slug(suffix)}" if suffix else ""))
    t = (
        Table(df)
        .with_locale(ctx.lang)
        .tab_header(title, number=number)
        .tab_label(label)
        .tab_source(ctx.source)
        .sub_missing()
    )
    return t


def finish(t, ctx: ReportContext, *, spec: dict | None = None, labels_note: bool = False):
    """Last notes common to the tables: the weighting policy, the note on the labels' language
    (in English: translated from the French questionnaire, or French when it has no English).

    One weighting policy for the whole report: design weights only where the plan's table
    names them (``weights``: the columns so marked), every other statistic unweighted; every
    note says which, and the n shown are always unweighted counts.
    """
    wcol = (spec or {}).get("weights")
    if wcol and wcol in ctx.data.columns:
        t = t.tab_note(ctx.text("common.weighting_design"))
    else:
        t = t.tab_note(ctx.text("common.weighting_none"))
    if labels_note:
        key = "common.labels_note_translated" if ctx.labels_translated else "common.labels_note"
        if ctx.text(key):
            t = t.tab_note(ctx.text(key))
    return t


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def default_construct(ctx: ReportContext, spec: dict) -> str:
    """The construct a table names (``construct``), else the plan's ``options.construct``, else the
    first reflective construct of ``constructs.yaml``."""
    name = ctx.option(spec, "construct")
    if name:
        return str(name)
    return ctx.spec.reflective[0].name


def group_levels(ctx: ReportContext) -> tuple[str, list]:
    """The plan's group variable and its levels present in the data: first the legal-form groups
    in the order of ``cleaning.yaml``, then any other level in alphabetical order."""
    group = ctx.plan.options.get("group", "legal_form_group")
    if group not in ctx.data.columns:
        return group, []
    levels = [g for g in ctx.labels.group_order if (ctx.data[group] == g).any()]
    others = sorted(set(ctx.data[group].dropna().astype(str)) - set(levels))
    return group, levels + others


def choice_order(levels, value_labels: dict) -> list:
    """Levels in the order of their choice list (``value_labels``), unknown ones after in their
    order, and "autre"/"other" (Autre) last.

    Examples
    --------
    >>> choice_order(["b", "autre", "a", "z"], {"a": "A", "autre": "Autre", "b": "B"})
    ['a', 'b', 'z', 'autre']
    """
    rank = {code: j for j, code in enumerate(value_labels)}
    levels = list(levels)
    ordered = sorted(levels, key=lambda lv: (rank.get(str(lv), len(rank) + levels.index(lv))))
    last = [lv for lv in ordered if str(lv).lower() in ("autre", "other", "autres")
            or str(value_labels.get(str(lv), "")).lower().startswith(("autre", "other"))]
    return [lv for lv in ordered if lv not in last] + last


def numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype(float)


def present_columns(ctx: ReportContext, variables: Sequence[str], where: str) -> list[str]:
    missing = [v for v in variables if v not in ctx.data.columns]
    if missing:
        ctx.warn(where, f"variables absent from the data, left out: {', '.join(missing)}")
    return [v for v in variables if v in ctx.data.columns]


def fmt_adaptive(value, loc) -> str:
    """A mean or a median with as many decimals as its size deserves (0 from 1 000, else 1)."""
    from analysis.tables import format_number

    return format_number(float(value), 0 if abs(float(value)) >= 1000 else 1, loc)


def fmt_p(value: float, lang: str) -> str:
    """``p < ,001`` or ``p = ,012`` for a note."""
    from analysis.tables import format_pvalue

    text = format_pvalue(float(value), 3, lang)
    return f"p {text}" if text.lstrip().startswith("<") else f"p = {text}"


def table_ref(ctx: ReportContext, table_id: str, fallback: str) -> str:
    """``tableau 11`` for a table id of the plan (``fallback`` if the plan has no such table)."""
    n = ctx.refs.get(table_id)
    if n is None:
        return fallback
    return f"{ctx.text('common.table_ref')} {n}"


def item_text(ctx: ReportContext, item: str, reverse: bool = False, short: int | None = None) -> str:
    """An item as a row label: its full question text (never cut; the writers wrap it), then its
    code and (R) if reverse-keyed. With ``short``, the researcher's ``label_short`` when present."""
    return f"{ctx.label(item, short=short)} ({item}{', R' if reverse else ''})"


def cached_items(ctx: ReportContext) -> pd.DataFrame:
    """Likert items with missing codes removed and reverse-keyed items recoded (computed once)."""
    from analysis.study._constructs import prepare_items

    X = ctx.cache.get("items")
    if X is None:
        X = prepare_items(ctx.data, ctx.spec)
        ctx.cache["items"] = X
    return X


def zeros_as_none(ctx: ReportContext, frame: pd.DataFrame, counts: Sequence[str],
                   percents: dict | None = None) -> tuple[pd.DataFrame, bool]:
    """Zero counts shown as "—" (none) rather than suppressed, unless ``publish_zeros: false``.

    A zero is not a small count of people: hiding it (and, by complementary suppression,
    the totals around it) would blank most cells of a breakdown with structural zeros
    (e.g. sectors reserved to cooperatives). Returns the frame and whether a zero was found.
    """
    if not bool(ctx.plan.options.get("publish_zeros", True)):
        return frame, False
    frame = frame.copy()
    found = False
    for c in counts:
        v = pd.to_numeric(frame[c], errors="coerce")
        zero = v.eq(0)
        if zero.any():
            found = True
            frame[c] = v.where(~zero)
            for pc in (percents or {}).get(c, []):
                frame[pc] = pd.to_numeric(frame[pc], errors="coerce").where(~zero)
    return frame, found


def merge_suppression_notes(notes: list[str], ctx: ReportContext) -> str:
    """One sentence for the suppression notes of several blocks of a table."""
    n_other = 0
    for n in notes:
        m = re.search(r"(\d+) (?:autres?|other) cell", n)
        if m:
            n_other += int(m.group(1))
    base = ctx.text("common.suppressed_counts", threshold=ctx.threshold, SUPPRESSED=SUPPRESSED)
    if n_other:
        base += ctx.text("common.suppressed_others_many" if n_other > 1 else "common.suppressed_others_one", n=n_other)
    return base


def first_order_model(ctx: ReportContext, constructs: Sequence[str]) -> tuple[str, dict]:
    """lavaan syntax of the first-order factors of the constructs (one factor per dimension)."""
    lines, factor_of = [], {}
    for line in ctx.spec.measurement_model.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=~" not in line:
            continue
        lhs, rhs = (s.strip() for s in line.split("=~", 1))
        indicators = [s.strip() for s in rhs.split("+")]
        if all(i in ctx.data.columns for i in indicators) and any(
            i in ctx.spec[c].items for c in constructs for i in indicators
        ):
            lines.append(f"{lhs} =~ {' + '.join(indicators)}")
            for c in constructs:
                if indicators[0] in ctx.spec[c].items:
                    factor_of[lhs] = c
    return "\n".join(lines), factor_of


def factor_label(ctx: ReportContext, var: str) -> str:
    """Label of a factor covariate: ``factors`` of the analysis plan, else the variable's label."""
    factor = ctx.labels.factors.get(var) or {}
    label = factor.get(f"label_{ctx.lang}") or factor.get("label_fr")
    return str(label) if label else ctx.label(var, short=40)


def term_label(ctx: ReportContext, term: str) -> str:
    """Label of a model term: ``C(var)[T.level]``, an interaction ``a:b``, a derived variable, a score."""
    m = re.fullmatch(r"C\((\w+)\)(?:\[T\.(.+)\])?", term)
    if m:
        var, level = m.group(1), m.group(2)
        base = factor_label(ctx, var)
        if level is None:
            return base
        return f"{base}{ctx.text('common.colon')}{ctx.value_labels(var).get(level, level)}"
    parts = term.split(":")
    if len(parts) > 1:
        return " × ".join(term_label(ctx, p) for p in parts)
    if term == "Intercept":
        return ctx.text("common.intercept")
    derived = ctx.labels.variable(term, "label", ctx.lang)
    if derived:
        return derived
    if term.startswith("score_"):
        return ctx.construct_label(term[len("score_"):])
    return ctx.label(term, short=50)


#: Code of the level made of several sparse levels pooled together (sorts after every code,
#: so that it is never the default reference category).
POOLED = "~pooled"


def pool_sparse_levels(data: pd.DataFrame, variables: Sequence[str], min_n: int,
                       keep: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Pool the levels of categorical covariates observed fewer than ``min_n`` times.

    The rule, in order, for each sparse level of ``var``:

    1. if the data have a grouping ``<var>_group`` (e.g. ``legal_form_group``), the level joins
       the largest non-sparse level of its group (``association_rup`` -> ``association``);
    2. else, if the variable has a level ``autre`` or ``other``, the level joins it;
    3. else the sparse levels are pooled together, with the next smallest levels added
       while the pool has fewer than ``min_n`` cases (code :data:`POOLED`).

    Parameters
    ----------
    data : DataFrame
    variables : sequence of str
        Categorical covariates (``C(var)`` in the model formulas).
    min_n : int
        Smallest number of cases of a level kept on its own.
    keep : dict, optional
        ``var -> level`` never pooled away (the declared reference category).

    Returns
    -------
    (DataFrame, dict)
        The data with the pooled levels recoded (a copy), and ``var -> list of
        (level, n, target)`` for every pooled level.

    Examples
    --------
    >>> d = pd.DataFrame({"f": ["a"] * 30 + ["b"] * 25 + ["c"] * 4 + ["d"] * 3})
    >>> out, pooled = pool_sparse_levels(d, ["f"], 20)
    >>> pooled["f"]
    [('d', 3, '~pooled'), ('c', 4, '~pooled'), ('b', 25, '~pooled')]
    >>> out["f"].value_counts().to_dict()
    {'~pooled': 32, 'a': 30}
    """
    keep = keep or {}
    out = data.copy()
    pooled: dict[str, list] = {}
    for var in variables:
        if var not in out.columns:
            continue
        s = out[var].astype("object").where(out[var].notna())
        counts = s.dropna().astype(str).value_counts()
        protected = {str(keep[var])} if keep.get(var) is not None else set()
        sparse = [lv for lv in counts.index[::-1] if counts[lv] < min_n and lv not in protected]
        if not sparse or len(counts) < 2:
            continue
        target: dict[str, str] = {}
        group_col = f"{var}_group"
        other = next((lv for lv in counts.index if lv.lower() in ("autre", "other")), None)
        rest = []
        for lv in sparse:
            if group_col in out.columns:
                grp = out.loc[s.astype(str) == lv, group_col].mode()
                siblings = [x for x in counts.index
                            if x not in sparse and not grp.empty
                            and (out.loc[s.astype(str) == x, group_col] == grp.iloc[0]).any()]
                if siblings:
                    target[lv] = siblings[0]  # counts are sorted: the largest sibling
                    continue
            if other is not None and other not in sparse and lv != other:
                target[lv] = other
                continue
            rest.append(lv)
        if rest:
            n_pool = int(sum(counts[lv] for lv in rest))
            candidates = [lv for lv in counts.index[::-1] if lv not in sparse and lv not in protected]
            while n_pool < min_n and len(candidates) > 1:
                lv = candidates.pop(0)
                rest.append(lv)
                n_pool += int(counts[lv])
            code = POOLED if len(rest) > 1 else rest[0]
            for lv in rest:
                if lv != code:
                    target[lv] = code
        if target:
            as_str = s.astype(str)
            out[var] = s.where(~as_str.isin(list(target)), as_str.map(target))
            pooled[var] = [(lv, int(counts[lv]), target[lv]) for lv in sparse + [x for x in target if x not in sparse]]
    return out, pooled


# --------------------------------------------------------------------------- model tables (cfa, sem, pls)

#: Names in a lavaan-style model (variables, constructs).
_MODEL_NAME = re.compile(r"[A-Za-z_.][A-Za-z0-9_.]*")


def model_data(ctx: ReportContext, model: str) -> pd.DataFrame:
    """The columns the model names: prepared Likert items, else numeric columns of the data."""
    items = cached_items(ctx)
    names = dict.fromkeys(n for n in _MODEL_NAME.findall(re.sub(r"#[^\n]*", "", model)))
    cols = {}
    for n in names:
        if n in items.columns:
            cols[n] = items[n].to_numpy(dtype=float)
        elif n in ctx.data.columns:
            cols[n] = pd.to_numeric(ctx.data[n], errors="coerce").to_numpy(dtype=float)
    return pd.DataFrame(cols, index=ctx.data.index)


def fit_rows(ctx: ReportContext, f: pd.Series, robust: bool) -> list[tuple[str, str]]:
    """Formatted fit indices of a CFA: (label, text)."""
    from analysis.tables import format_integer, format_number, format_pvalue

    sfx = "_robust" if robust else ""
    chis = "_scaled" if robust else ""

    def g(key):
        v = f.get(key, np.nan)
        return float(v) if v is not None and np.isfinite(v) else np.nan

    def num(v, d=3, bounded=True):
        # APA: no leading zero for values bounded by 1 (fit indices)
        return "—" if not np.isfinite(v) else format_number(v, d, ctx.lang, leading_zero=not bounded)

    rows = [
        ("χ²", num(g("chisq" + chis), 2, bounded=False)),
        (ctx.text("common.df"), "—" if not np.isfinite(g("df")) else format_integer(g("df"), ctx.lang)),
        ("p", "—" if not np.isfinite(g("pvalue" + chis)) else format_pvalue(g("pvalue" + chis), 3, ctx.lang)),
        ("χ²/" + ctx.text("common.df"), num(g("chisq" + chis) / g("df"), 2, bounded=False) if g("df") > 0 else "—"),
        ("CFI", num(g("cfi" + sfx))),
        ("TLI", num(g("tli" + sfx))),
        ("RMSEA", num(g("rmsea" + sfx))),
    ]
    lo, hi = g("rmsea_ci_lower" + sfx), g("rmsea_ci_upper" + sfx)
    if np.isfinite(lo) and np.isfinite(hi):
        from analysis.tables import get_locale

        loc = get_locale(ctx.lang)
        rows.append((ctx.text("cfa.rmsea_ci"),
                     f"[{num(lo)}{loc.interval_sep}{num(hi)}]"))
    rows.append(("SRMR", num(g("srmr"))))
    rows.append(("n", "—" if not np.isfinite(g("ntotal")) else format_integer(g("ntotal"), ctx.lang)))
    return rows


def interval_text(ctx: ReportContext, lo: float, hi: float, decimals: int = 2, *, leading_zero: bool = True) -> str:
    """``[0,25 ; 0,58]`` (``[,25 ; ,58]`` with ``leading_zero=False``: a quantity bounded by 1); empty if unknown."""
    from analysis.tables import format_number, get_locale

    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    sep = get_locale(ctx.lang).interval_sep
    lo_txt = format_number(lo, decimals, ctx.lang, leading_zero=leading_zero)
    return f"[{lo_txt}{sep}{format_number(hi, decimals, ctx.lang, leading_zero=leading_zero)}]"


def path_sentences(ctx: ReportContext, full: pd.DataFrame, key: str, ci_key: str) -> list[str]:
    """One APA-style sentence per path of the table (direct paths, then the indirect or defined
    effects), its numbers formatted like the cells ("X → Y : β = 0,42, ... IC 95 % [0,25 ; 0,58]")."""
    from analysis.tables import format_number

    out = []
    for r in full.itertuples():
        if not (np.isfinite(r.estimate) and np.isfinite(r.p_value)):
            continue
        ci = ctx.text(ci_key, ci=r.ci) if r.ci else ""
        values = {c: format_number(float(getattr(r, c)), d, ctx.lang) if np.isfinite(getattr(r, c)) else "—"
                  for c, d in (("estimate", 2), ("statistic", 1), ("std_all", 2), ("se", 2)) if hasattr(r, c)}
        out.append(ctx.text(key, path=r.path, p=fmt_p(float(r.p_value), ctx.lang), ci=ci, **values))
    return out


def missing_option(value, table_id: str, kind: str) -> str:
    """The ``missing`` option of a cfa or invariance table, checked: ``fiml`` (every
    organisation analysed, full-information maximum likelihood) or ``listwise``."""
    from analysis.errors import ConfigError

    missing = str(value).lower()
    if missing not in ("fiml", "listwise"):
        raise ConfigError(f"table '{table_id}' (kind {kind}): missing must be fiml or listwise, not {missing!r}")
    return missing
