"""Table kind ``reliability``: reliability of every scale and dimension (alpha with CI, omega, item-rest r).

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.report._common import finish, item_text, new_table, numeric
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Options of a table of kind ``reliability`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "omega_factors": ("group factors of the Schmid-Leiman solution for omega: dimensions (one per dimension "
                      "of the scale in constructs.yaml, the default) or a number"),
}


def _apa_text(ctx: ReportContext, df: pd.DataFrame) -> list[str]:
    """One APA-style sentence per whole scale, from the numbers of the table
    ("α = ,84, IC 95 % [,82 ; ,86]")."""
    from analysis.tables import format_integer, format_number, get_locale

    if df.empty:
        return []
    loc = get_locale(ctx.lang)

    def f(v):
        return format_number(float(v), 2, loc, leading_zero=False)

    out = []
    for _, r in df[df["scale"] == ctx.text("reliability.whole_scale")].iterrows():
        omega = (ctx.text("reliability.apa_omega", omega_total=f(r["omega_total"]), omega_h=f(r["omega_h"]))
                 if np.isfinite(r["omega_total"]) else "")
        out.append(ctx.text("reliability.apa", scale=r["construct"], alpha=f(r["alpha"]), low=f(r["ci_low"]),
                            high=f(r["ci_high"]), sep=loc.interval_sep.strip(), k=int(r["k"]),
                            n=format_integer(r["n"], loc), omega=omega))
    return out


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 4: reliability of every scale and dimension (alpha with CI, omega, item-rest r)."""
    from analysis.psychometrics._reliability import alpha, omega

    out = TableOutput(spec["id"])
    rows, item_rows = [], []
    n_f_option = spec.get("omega_factors", "dimensions")
    by_dimensions = str(n_f_option) == "dimensions"
    if not by_dimensions:
        try:
            n_f_option = int(n_f_option)
        except (TypeError, ValueError):
            raise InputError("omega_factors must be 'dimensions' or a whole number", file="tables.yaml",
                             row=spec["id"], column="omega_factors", value=n_f_option,
                             expected="dimensions or a number >= 2") from None
    for construct in ctx.spec.reflective:
        units = [(construct.name, construct.items, construct.reverse)] + [
            (f"{construct.name}__{d.name}", d.items, d.reverse) for d in construct.dimensions
        ]
        for name, items, reverse in units:
            items = [i for i in items if i in ctx.data.columns]
            if len(items) < 2:
                continue
            X = ctx.data[items].apply(numeric)
            X = X.where((X >= ctx.spec.scale_min) & (X <= ctx.spec.scale_max))
            keys = [("-" + i) if i in reverse else i for i in items]
            with _warnings.catch_warnings():
                _warnings.simplefilter("ignore")
                a = alpha(X, keys=keys)
            row = {
                "construct": ctx.construct_label(construct.name),
                "scale": ctx.construct_label(name) if "__" in name else ctx.text("reliability.whole_scale"),
                "k": len(items),
                "n": a.n,
                "alpha": a.alpha,
                "ci_low": a.ci_low,
                "ci_high": a.ci_high,
                "average_r": a.average_r,
                "omega_total": np.nan,
                "omega_h": np.nan,
            }
            # omega's group factors are the scale's dimensions (constructs.yaml), unless the plan
            # sets a number
            n_f = len(construct.dimensions) if by_dimensions else n_f_option
            if "__" not in name and len(construct.dimensions) >= 3 and len(items) >= 3 * n_f:
                try:
                    Xr = X.copy()
                    for i in reverse:
                        Xr[i] = ctx.spec.scale_min + ctx.spec.scale_max - Xr[i]
                    with _warnings.catch_warnings():
                        _warnings.simplefilter("ignore")
                        o = omega(Xr, n_factors=n_f)
                    row["omega_total"], row["omega_h"] = o.omega_total, o.omega_h
                    out.results.setdefault("omega_groups", {})[name] = n_f
                    out.results[f"omega_{name}"] = o
                except (InputError, ValueError, np.linalg.LinAlgError) as exc:
                    ctx.warn(spec["id"], f"omega of {name} failed: {exc}")
            rows.append(row)
            out.results[f"alpha_{name}"] = a
            if "__" in name:
                for item, r in a.items.iterrows():
                    item_rows.append({
                        "dimension": ctx.construct_label(name),
                        "item": item_text(ctx, item, item in reverse),
                        "r_drop": r["r_drop"],
                        "alpha_if_deleted": r["alpha_if_deleted"],
                    })
    df = pd.DataFrame(rows)
    out.results["scales"] = df
    out.results["apa_text"] = _apa_text(ctx, df)
    if df.empty:
        return out
    labels = {"construct": "", "scale": "", "k": ctx.text("reliability.k"), "n": "n",
              "alpha": "α", "ci_low": ctx.text("common.low"), "ci_high": ctx.text("common.high"),
              "average_r": "r̄", "omega_total": ctx.text("reliability.omega_total"), "omega_h": "ωh"}
    t = (
        new_table(df, ctx, spec, number, suffix=ctx.text("reliability.scales_title"), key="scales")
        .tab_stub("scale", "construct")
        .cols_label(labels)
        .tab_spanner(ctx.text("reliability.ci_spanner"), ["ci_low", "ci_high"])
        .fmt_integer(["k", "n"])
        .fmt_number(["alpha", "ci_low", "ci_high", "average_r", "omega_total", "omega_h"], decimals=2,
                    leading_zero=False)
        .tab_note(ctx.text("reliability.scales_note", groups=(
            ctx.text("reliability.groups_dimensions") if by_dimensions
            else ctx.text("reliability.groups_fixed", n_f=n_f_option))))
    )
    t = finish(t, ctx, spec=spec)
    out.add(t)
    items_df = pd.DataFrame(item_rows)
    out.results["items"] = items_df
    if not items_df.empty:
        t2 = (
            new_table(items_df, ctx, spec, number, suffix=ctx.text("reliability.items_title"), key="items")
            .tab_stub("item", "dimension")
            .cols_label({"item": "", "dimension": "",
                         "r_drop": ctx.text("reliability.item_rest_r"),
                         "alpha_if_deleted": ctx.text("reliability.if_deleted")})
            .fmt_number(["r_drop", "alpha_if_deleted"], decimals=2, leading_zero=False)
            .tab_note(ctx.text("reliability.items_note"))
        )
        t2 = finish(t2, ctx, spec=spec, labels_note=True)
        out.add(t2)
    return out
