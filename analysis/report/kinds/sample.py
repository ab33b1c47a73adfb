"""Table kind ``sample``: sample description by legal form, with tests.

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.report._common import (
    POOLED,
    SUPPRESSED,
    choice_order,
    finish,
    fmt_adaptive,
    fmt_p,
    group_levels,
    merge_suppression_notes,
    new_table,
    numeric,
    pool_sparse_levels,
    present_columns,
    zeros_as_none,
)
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Numeric variables whose skewness exceeds this (in absolute value) are compared with a rank test.
SKEW_LIMIT = 1.0

#: Options of a table of kind ``sample`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "categorical": "list of categorical variables (questions of survey.csv or derived variables), one block each",
    "numeric": "list of numeric variables, one row group each (n, mean, SD, median)",
    "weights": "column of design weights (weighted % and means added); omit for unweighted only",
}


def _nested_in(data: pd.DataFrame, var: str, group: str) -> bool:
    """True when every level of `var` lies within one group (e.g. legal form within its group)."""
    d = data[[var, group]].dropna()
    if d.empty:
        return False
    return bool((d.groupby(var, observed=True)[group].nunique() <= 1).all())


def _pool_within_group(ctx: ReportContext, data: pd.DataFrame, var: str, threshold: int,
                       labels: dict) -> tuple[pd.DataFrame, str]:
    """Count the levels of a group-defining variable seen fewer than ``threshold`` times with the
    largest level of their group (``union_coop`` with ``cooperative``).

    Such a variable (legal form within legal-form group) describes the sample's composition; hiding
    a sparse level would force hiding its only sibling too (its group's total is published), so a
    whole group would vanish from the table. The level joins its sibling instead, whose label says
    so (``labels`` is updated in place), and the returned sentence names the moves for the note.
    Levels without a sibling in their group are left to the small-cell suppression.
    """
    from analysis.tables import format_integer

    pooled_data, pooled = pool_sparse_levels(data, [var], threshold)
    moves = [(lv, n, target) for lv, n, target in pooled.get(var, []) if target != POOLED]
    if not moves or len(moves) != len(pooled.get(var, [])):
        return data, ""
    by_target: dict[str, list] = {}
    for lv, n, target in moves:
        by_target.setdefault(target, []).append((lv, n))
    parts = []
    for target, levels in by_target.items():
        names = [labels.get(lv, lv) for lv, _ in levels]
        base = labels.get(target, target)
        labels[target] = f"{base} ({ctx.text('sample.including')} {', '.join(names).lower()})"
        counted = ", ".join(f"{labels.get(lv, lv)} ({format_integer(n, ctx.lang)})" for lv, n in levels)
        parts.append(ctx.text("models.pooled_move", levels=counted, target=base))
    return data.assign(**{var: pooled_data[var]}), ctx.text("common.list_sep").join(parts)


def _option_columns(ctx: ReportContext, data: pd.DataFrame, var: str) -> dict[str, str]:
    """Option code -> its 0/1 column ``var/code`` when ``var`` is a select_multiple question, else empty.

    The codebook's ``type`` says which questions are select_multiple; without it, the
    ``var/...`` columns of the data do. Options in the order of the choice list.
    """
    cb = ctx.codebook
    if "type" in cb.columns and "variable" in cb.columns and (cb["variable"] == var).any():
        if not (cb.loc[cb["variable"] == var, "type"] == "select_multiple").any():
            return {}
    prefix = f"{var}/"
    present = [c[len(prefix):] for c in data.columns if isinstance(c, str) and c.startswith(prefix)]
    codes = [c for c in ctx.value_labels(var) if c in present] + [
        c for c in present if c not in ctx.value_labels(var)]
    return {code: prefix + code for code in codes}


def _multiple_rows(ctx: ReportContext, data: pd.DataFrame, var: str, options: dict, group: str,
                   cols_g: list, wcol: str | None) -> list[dict]:
    """Rows of a select_multiple question: the organisations that answered it (100 %), then one row
    per option with the number and percentage of them that chose it (a share of those answering, so
    the options' percentages do not sum to 100), never one row per combination of answers.

    An organisation answered when one of its option columns is not missing (a question not asked
    leaves them all empty)."""
    chosen = pd.DataFrame({code: numeric(data[col]) for code, col in options.items()}, index=data.index)
    answered = chosen.notna().any(axis=1)
    vl = ctx.value_labels(var)
    label = ctx.label(var, short=60)
    in_group = {g: answered if g == "Total" else answered & (data[group] == g) for g in cols_g}
    base = {"variable": label, "category": ctx.text("sample.multiple_base")}
    for g in cols_g:
        n = float(in_group[g].sum())
        base[f"n_{g}"], base[f"pct_{g}"] = n, (100.0 if n else np.nan)
    w = numeric(data[wcol]) if wcol else None
    if w is not None:
        base["pct_weighted"] = 100.0 if answered.any() else np.nan
    base["p_value"] = np.nan
    rows = [base]
    for code in options:
        picked = chosen[code].eq(1)
        row = {"variable": label, "category": vl.get(code, code)}
        for g in cols_g:
            n_base = float(in_group[g].sum())
            n = float((picked & in_group[g]).sum())
            row[f"n_{g}"], row[f"pct_{g}"] = n, (n / n_base * 100 if n_base else np.nan)
        if w is not None:
            ok = answered & w.notna()
            total = float(w[ok].sum())
            row["pct_weighted"] = float(w[ok & picked].sum()) / total * 100 if total else np.nan
        row["p_value"] = np.nan
        rows.append(row)
    return rows


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 2: sample description by legal form, with tests.

    Two tables: the categorical variables (counts and column percentages per group,
    weighted percentages, chi-square test) and the numeric ones (n, mean, SD, median
    per group, weighted mean, Welch test).
    """
    from analysis.descriptives._describe import describe
    from analysis.descriptives._group_tests import compare_groups, crosstab
    from analysis.tables import suppress_small_cells

    out = TableOutput(spec["id"])
    group, levels = group_levels(ctx)
    data = ctx.data[ctx.data[group].isin(levels)] if levels else ctx.data
    cats = present_columns(ctx, spec.get("categorical", []), spec["id"])
    nums = present_columns(ctx, spec.get("numeric", []), spec["id"])
    wcol = spec.get("weights")
    weighted = bool(wcol) and wcol in data.columns and numeric(data[wcol]).notna().any()
    cols_g = ["Total"] + levels
    threshold = ctx.threshold
    seed = ctx.plan.options.get("seed")
    blocks, notes_supp, nested_vars, multiple_vars, pooled_notes = [], [], [], [], []
    any_zero = any_single = False
    raw_rows = []
    for var in cats:
        options = _option_columns(ctx, data, var)
        if options:  # select_multiple: one row per option, from its 0/1 columns
            rows = _multiple_rows(ctx, data, var, options, group, cols_g, wcol if weighted else None)
            multiple_vars.append(ctx.label(var, short=60))
            nested = False
        else:
            any_single = True
            if pd.api.types.is_numeric_dtype(data[var]):  # 0/1 or coded answers stored as numbers
                data = data.assign(**{var: data[var].map(lambda v: str(int(v)) if pd.notna(v) else None)})
            nested = bool(levels) and _nested_in(data, var, group)
            vl = dict(ctx.value_labels(var))
            if nested:  # a variable that defines the groups: sparse levels counted with a sibling
                data, moves = _pool_within_group(ctx, data, var, threshold, vl)
                if moves:
                    pooled_notes.append(ctx.text("sample.nested_pooled", variable=ctx.label(var, short=60),
                                                 threshold=threshold, moves=moves))
            d = describe(data, [var], by=group if levels else None)
            test = None
            if levels and not nested:
                try:
                    test = crosstab(data, var, group, seed=seed)
                except InputError:
                    test = None
                out.results[f"test_{var}"] = test
            wshare = None
            if weighted:
                w = numeric(data[wcol])
                ok = w.notna() & data[var].notna()
                tot = w[ok].groupby(data.loc[ok, var].astype(str)).sum()
                wshare = tot / tot.sum() * 100
            rows = []
            for level in choice_order(d["level"].dropna().unique(), vl):
                sub = d[d["level"] == level]
                row = {"variable": ctx.label(var, short=60), "category": vl.get(str(level), str(level))}
                for g in cols_g:
                    r = sub[sub["group"] == g]
                    n = float(r["count"].iloc[0]) if len(r) else 0.0
                    pct = float(r["percent"].iloc[0]) if len(r) else 0.0
                    if nested and g != "Total" and n == 0:
                        n = pct = np.nan  # structural zero: this form is not in this group
                    row[f"n_{g}"], row[f"pct_{g}"] = n, pct
                if wshare is not None:
                    row["pct_weighted"] = float(wshare.get(str(level), np.nan))
                row["p_value"] = np.nan
                rows.append(row)
            if test is not None and rows:
                # the test's p with the variable's name (its row group), not on the first category
                named = f"{rows[0]['variable']} ({fmt_p(test.p_value, ctx.lang)})"
                for row in rows:
                    row["variable"] = named
        if not rows:
            ctx.warn(spec["id"], f"no answer to '{var}': left out")
            continue
        block = pd.DataFrame(rows)
        raw_rows.append(block.assign(var=var))
        if nested:
            nested_vars.append(ctx.label(var, short=60))
        count_cols = [f"n_{g}" for g in cols_g]
        block, zeros = zeros_as_none(ctx, block, count_cols, {f"n_{g}": [f"pct_{g}"] for g in cols_g})
        any_zero = any_zero or zeros
        # the options of a select_multiple question do not add up to a published total: hidden
        # counts are protected along the rows (total = sum of the groups) only
        sup = suppress_small_cells(
            block, count_cols, threshold,
            percent_columns={f"n_{g}": f"pct_{g}" for g in cols_g}, locale=ctx.lang,
            complementary="rows" if options else "both",
        )
        # a suppressed count also hides its weighted share when the total column is hidden
        frame = sup.frame
        if weighted:
            hidden_total = frame["n_Total"].astype(object).eq(SUPPRESSED)
            frame["pct_weighted"] = frame["pct_weighted"].astype(object).where(~hidden_total, SUPPRESSED)
        blocks.append(frame)
        if sup.note:
            notes_supp.append(sup.note)
    out.results["sample"] = pd.concat(raw_rows, ignore_index=True) if raw_rows else pd.DataFrame()
    if blocks:
        table_df = pd.concat(blocks, ignore_index=True)
        show = ["variable", "category"]
        for g in cols_g:
            show += [f"n_{g}", f"pct_{g}"]
        if weighted:
            show.append("pct_weighted")
        table_df = table_df[show]
        labels = {"variable": "", "category": ""}
        for g in cols_g:
            labels[f"n_{g}"] = ctx.text("common.n")
            labels[f"pct_{g}"] = "%"
        if weighted:
            labels["pct_weighted"] = ctx.text("sample.weighted_percent")
        t = new_table(table_df, ctx, spec, number, suffix=ctx.text("sample.categorical_title"),
                   key="categorical").tab_stub("category", "variable").cols_label(labels)
        for g in cols_g:
            name = ctx.text("common.total") if g == "Total" else ctx.group_label(g)
            t = t.tab_spanner(name, [f"n_{g}", f"pct_{g}"])
        pct_cols = [f"pct_{g}" for g in cols_g] + (["pct_weighted"] if weighted else [])
        t = t.fmt_number(pct_cols, decimals=1).fmt_integer([f"n_{g}" for g in cols_g])
        if any_single:
            t = t.tab_note(ctx.text("sample.categorical_note"))
        if multiple_vars:
            t = t.tab_note(ctx.text("sample.multiple_note",
                                    variables=ctx.text("common.list_sep").join(multiple_vars)))
        if weighted:
            t = t.tab_note(ctx.text("sample.weighted_percent_note"))
        if nested_vars:
            t = t.tab_note(ctx.text("sample.nested", variables=", ".join(nested_vars)))
        for note in pooled_notes:
            t = t.tab_note(note)
        if any_zero or nested_vars:
            t = t.tab_note(ctx.text("sample.zeros"))
        if notes_supp:
            t = t.tab_note(merge_suppression_notes(notes_supp, ctx))
        t = finish(t, ctx, spec=spec, labels_note=True)
        out.add(t, counts=[f"n_{g}" for g in cols_g])

    # numeric variables: one row group per variable, rows n, median, interquartile range, mean,
    # SD; groups in columns. Skewed variables (|skewness| > SKEW_LIMIT: counts of members, staff,
    # amounts) are compared with a rank-based test (Mann-Whitney, Kruskal-Wallis for more groups),
    # its p on the median row; the others with Welch's t test, its p on the mean row.
    rows = []
    stats = [("n", ctx.text("common.n")), ("median", ctx.text("common.Md")), ("iqr", ctx.text("sample.iqr")),
             ("mean", ctx.text("common.M")), ("sd", ctx.text("common.SD"))]
    small = False
    tests_used = {"rank": [], "welch": []}
    for var in nums:
        x = numeric(data[var])
        skewed = bool(abs(float(x.skew())) > SKEW_LIMIT) if x.notna().sum() > 2 else False
        p_value, p_row = np.nan, "median" if skewed else "mean"
        if len(levels) >= 2:
            try:
                cmp = compare_groups(data, var, group)
                out.results[f"test_{var}"] = cmp
                tests = cmp.tests.set_index("test")
                name = (next(n for n in tests.index if n in ("mann_whitney", "kruskal_wallis", "kruskal"))
                        if skewed else ("welch_t" if "welch_t" in tests.index else "welch_anova"))
                p_value = float(tests.at[name, "p_value"])
                tests_used["rank" if skewed else "welch"].append(ctx.label(var, short=None))
            except (InputError, KeyError, StopIteration):
                pass
        wmean = np.nan
        if weighted:
            w = numeric(data[wcol])
            ok = x.notna() & w.notna()
            wmean = float(np.average(x[ok], weights=w[ok])) if ok.any() else np.nan
        values = {}
        for g in cols_g:
            xs = x if g == "Total" else x[data[group] == g]
            n = float(xs.notna().sum())
            values[g] = {"n": n, "mean": float(xs.mean()), "sd": float(xs.std()), "median": float(xs.median()),
                         "iqr": (float(xs.quantile(0.25)), float(xs.quantile(0.75)))}
            if n < threshold:
                small = True
        for key, lab in stats:
            row = {"variable": ctx.label(var, short=60), "stat": lab, "key": key}
            for g in cols_g:
                v = values[g][key]
                row[g] = v if values[g]["n"] >= threshold or key == "n" and v == 0 else SUPPRESSED
            if weighted:
                row["weighted"] = wmean if key == "mean" else np.nan
            row["p_value"] = p_value if key == p_row else np.nan
            rows.append(row)
    if rows:
        num_df = pd.DataFrame(rows)
        out.results["sample_numeric"] = num_df
        show = ["variable", "stat"] + cols_g + (["weighted"] if weighted else []) + ["p_value"]
        table_df = num_df[show].copy()
        is_n = (num_df["key"] == "n").to_numpy()

        # counts as integers, statistics with adaptive decimals: one text per cell
        from analysis.tables import format_integer, format_number, get_locale

        loc = get_locale(ctx.lang)
        for g in cols_g + (["weighted"] if weighted else []):
            table_df[g] = [
                v if isinstance(v, str) else
                "–".join(fmt_adaptive(b, loc) for b in v) if isinstance(v, tuple) else
                v if pd.isna(v) else
                (format_integer(v, loc) if is_n[i] else fmt_adaptive(v, loc))
                for i, v in enumerate(table_df[g])
            ]
        labels = {"variable": "", "stat": "", "p_value": "p"}
        for g in cols_g:
            labels[g] = ctx.text("common.total") if g == "Total" else ctx.group_label(g)
        if weighted:
            labels["weighted"] = ctx.text("sample.weighted_mean_short")
        t = (
            new_table(table_df, ctx, spec, number, suffix=ctx.text("sample.numeric_title"),
                   key="numeric")
            .tab_stub("stat", "variable")
            .cols_label(labels)
            .cols_align("right", cols_g + (["weighted"] if weighted else []))
            .fmt_pvalue("p_value")
        )
        sep = ctx.text("common.list_sep")
        tests_txt = " ".join(
            ([ctx.text("sample.numeric_test_rank", variables=sep.join(tests_used["rank"]))] if tests_used["rank"] else [])
            + ([ctx.text("sample.numeric_test_welch", variables=sep.join(tests_used["welch"]))]
               if tests_used["welch"] else []))
        t = t.tab_note(ctx.text("sample.numeric_note", skew=format_number(SKEW_LIMIT, 0, loc), tests=tests_txt))
        if weighted:
            t = t.tab_note(ctx.text("sample.weighted_mean_note"))
        if small:
            t = t.tab_note(ctx.text("sample.small_numeric", threshold=threshold, SUPPRESSED=SUPPRESSED))
        t = finish(t, ctx, spec=spec, labels_note=True)
        out.add(t, counts=cols_g, rows=[i for i in range(len(is_n)) if is_n[i]], landscape=False)
    return out
