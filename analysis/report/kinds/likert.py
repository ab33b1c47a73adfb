"""Table kind ``likert``: distribution of every Likert block (shares per point, mean, top-2-box) + figures.

``build(ctx, spec, number)`` makes the tables; ``OPTIONS`` lists the options of its plan entry.
"""

from __future__ import annotations

import pandas as pd

from analysis.report._common import finish, item_text, new_table, present_columns
from analysis.report._context import ReportContext
from analysis.report._outputs import TableOutput

#: Mark of a reverse-keyed item after its code, glued by a no-break space (never wrapped alone).
_REVERSED = ",\u00a0R"

#: Options of a table of kind ``likert`` in tables.yaml (besides id, kind and title): name -> expected value.
OPTIONS: dict[str, str] = {
    "constructs": "list of reflective construct names from constructs.yaml (default: all of them)",
    "landscape": "true or false: set the table on a landscape page (default true)",
}


def build(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 3: distribution of every Likert block (shares per point, mean, top-2-box) + figures."""
    from analysis.descriptives._describe import likert_distribution
    out = TableOutput(spec["id"])
    names = spec.get("constructs") or [c.name for c in ctx.spec.reflective]
    frames = []
    for name in names:
        construct = ctx.spec[name]
        items = present_columns(ctx, construct.items, spec["id"])
        if not items:
            continue
        labels = {i: item_text(ctx, i, i in construct.reverse) for i in items}
        dist = likert_distribution(ctx.data, items, labels=labels)
        dist = dist[dist["group"] == dist["group"].iloc[0]].copy()
        dist["construct"] = ctx.construct_label(name)
        frames.append(dist)
        out.figures[f"likert_{name}"] = _likert_figure(ctx, name, construct, items, dist)
    if not frames:
        return out
    dist = pd.concat(frames, ignore_index=True)
    out.results["distribution"] = dist
    wide = dist.pivot_table(
        index=["construct", "item", "label"], columns="value", values="percent", sort=False
    )
    wide.columns = [f"p{int(c)}" for c in wide.columns]
    stats = dist.groupby(["construct", "item", "label"], sort=False)[["n", "mean", "sd", "top2_box"]].first()
    table_df = wide.join(stats).reset_index().drop(columns="item")
    n_min, n_max = int(table_df["n"].min()), int(table_df["n"].max())
    table_df = table_df.drop(columns="n")
    labels = {"label": "", "construct": "", "mean": ctx.text("common.M"), "sd": ctx.text("common.SD"),
              "top2_box": ctx.text("likert.top2")}
    for k in range(1, 6):
        labels[f"p{k}"] = f"{k}"
    t = (
        new_table(table_df, ctx, spec, number)
        .tab_stub("label", "construct")
        .cols_label(labels)
        .tab_spanner(ctx.text("likert.answers_spanner"), [f"p{k}" for k in range(1, 6)])
        .fmt_number([f"p{k}" for k in range(1, 6)] + ["top2_box"], decimals=1)
        .fmt_number(["mean", "sd"], decimals=2)
    )
    from analysis.tables import format_integer

    # each item's own response scale (its choice list in survey.csv), grouped: one sentence per
    # scale naming the dimensions whose items use it when the table mixes scales
    scales: dict[str, list] = {}
    for name in names:
        construct = ctx.spec[name]
        for d in construct.dimensions:
            for item in d.items:
                if item not in ctx.data.columns:
                    continue
                pl = ctx.value_labels(item)
                text = ", ".join(f"{k} = {pl.get(str(k), k)}" for k in range(1, 6))
                dims = scales.setdefault(text, [])
                label = ctx.construct_label(f"{name}__{d.name}")
                if label not in dims:
                    dims.append(label)
    out.results["scales"] = scales
    # the scale of most dimensions first, then each other scale with the dimensions using it
    ordered = sorted(scales, key=lambda k: -len(scales[k]))
    scale = ordered[0] + "".join(
        ctx.text("likert.scale_for", scale=text, dimensions=", ".join(ctx.text("common.quoted", text=d) for d in scales[text]))
        for text in ordered[1:])
    n_text = (format_integer(n_min, ctx.lang) if n_min == n_max
              else f"{format_integer(n_min, ctx.lang)} {ctx.text('likert.to')} {format_integer(n_max, ctx.lang)}")
    t = t.tab_note(ctx.text("likert.note", scale=scale, n_text=n_text, ))
    t = finish(t, ctx, spec=spec, labels_note=True)
    out.add(t, landscape=bool(spec.get("landscape", True)))  # long item texts: a wide first column
    return out


def _likert_figure(ctx: ReportContext, name: str, construct, items: list[str], dist: pd.DataFrame):
    """The diverging bars of a construct: full item wordings, n per item, one panel per response scale
    (the XLSForm ``list_name`` of each item), each with the legend of its own scale."""
    from analysis.report import likert_diverging_bars

    cb = ctx._cb_index
    scale_of = {i: (str(cb.at[i, "list_name"]) if i in cb.index and "list_name" in cb.columns else "")
                for i in items}
    figure_label = {i: f"{ctx.label(i)} ({i}{_REVERSED if i in construct.reverse else ''})" for i in items}
    levels, titles = {}, {}
    for sc in dict.fromkeys(scale_of.values()):
        members = [i for i in items if scale_of[i] == sc]
        point_labels = ctx.value_labels(members[0])
        levels[sc] = [point_labels.get(str(k), str(k)) for k in range(1, 6)]
        dims = list(dict.fromkeys(
            ctx.construct_label(f"{name}__{d.name}") for d in construct.dimensions for i in members if i in d.items))
        if len(set(scale_of.values())) > 1 and 0 < len(dims) <= 2:
            titles[sc] = ctx.text("common.list_sep").join(dims)
    fig_df = dist.assign(
        level=[levels[scale_of[i]][int(v) - 1] if 1 <= int(v) <= 5 else str(int(v))
               for i, v in zip(dist["item"], dist["value"])],
        share=dist["percent"] / 100,
        scale=dist["item"].map(scale_of),
        item=dist["item"].map(figure_label),
    )
    return likert_diverging_bars(fig_df, levels=levels, neutral={sc: lv[2] for sc, lv in levels.items()},
                                 n="n", scale="scale", scale_titles=titles,
                                 title=ctx.construct_label(name), locale=ctx.lang)
