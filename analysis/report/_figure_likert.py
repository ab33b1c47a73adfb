"""Likert figures: diverging stacked bars of the answers to a block of items."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from analysis.errors import InputError
from analysis.report._figure_style import (
    FIGURE_WIDTH,
    _diverging_colours,
    _hatches,
    _legend_columns,
    _new_figure,
    _number_axis,
    _order,
    _panel_title,
    _rc,
    _require,
    _row_positions,
    _stacked_barh,
    _texts,
    _wrap_to_width,
)
from analysis.tables.formatting import format_integer

__all__ = ["likert_diverging_bars"]

#: Largest share of the figure width given to the item labels (full wordings, wrapped).
_LIKERT_LABEL_SHARE = 0.5


def _levels_of(data: pd.DataFrame, level: str, levels, scale_value) -> list[object]:
    if isinstance(levels, Mapping):
        if scale_value not in levels:
            raise InputError("likert_diverging_bars: no levels given for a response scale.", value=scale_value,
                             expected=f"one of {list(levels)}")
        return list(levels[scale_value])
    return _order(data[level], levels)


def _neutral_of(lv: list[object], neutral, scale_value) -> object | None:
    if isinstance(neutral, Mapping):
        neutral = neutral.get(scale_value)
    if neutral is None:
        return lv[len(lv) // 2] if len(lv) % 2 == 1 else None
    if neutral is False:
        return None
    if neutral not in lv:
        raise InputError("Neutral level not among the levels.", value=neutral, expected=f"one of {lv}")
    return neutral


def likert_diverging_bars(
    data: pd.DataFrame,
    *,
    item: str = "item",
    level: str = "level",
    share: str = "share",
    levels: Sequence[object] | Mapping[object, Sequence[object]] | None = None,
    neutral: object | None = None,
    item_order: Sequence[object] | None = None,
    sort: bool = True,
    title: str | None = None,
    min_label: float = 0.06,
    n: str | None = None,
    scale: str | None = None,
    scale_titles: Mapping[object, str] | None = None,
    locale: str = "fr",
) -> Figure:
    """Diverging stacked bars of a block of Likert items, one panel per response scale.

    Disagreement extends left of zero and agreement right; the neutral point (if
    any) straddles zero. Shares are rescaled to sum to 1 within each item. The colours
    keep distinct grey levels and the disagreement side is hatched, so that the chart
    survives greyscale printing.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table: one row per item and scale point, with the share (0-1) answering it.
    item, level, share : str
        Column names.
    levels : sequence or mapping, optional
        Scale points from most negative to most positive; default the categorical
        order of `level`, else the order of appearance. With ``scale``, a mapping
        scale -> points (each panel has its own legend).
    neutral : object or mapping, optional
        The neutral point; default the middle one when the number of levels is odd.
        Pass ``False`` for a scale without a neutral point. With ``scale``, may be a
        mapping scale -> neutral point.
    item_order : sequence, optional
        Items from top to bottom; default by net agreement when ``sort`` is True.
    sort : bool, default True
    title : str, optional
    min_label : float, default 0.06
        Segments narrower than this share get no percentage label.
    n : str, optional
        Column with the number of respondents of each item, written right of its bar (``n = 1 002``).
    scale : str, optional
        Column naming the response scale of each item (e.g. the XLSForm ``list_name``);
        items of different scales go to separate panels, each with the legend of its scale.
    scale_titles : mapping, optional
        Scale -> title of its panel.
    locale : {"fr", "en"}, default "fr"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"item": ["A"] * 3 + ["B"] * 3, "level": ["Non", "Neutre", "Oui"] * 2,
    ...                   "share": [0.2, 0.3, 0.5, 0.6, 0.1, 0.3]})
    >>> fig = likert_diverging_bars(d)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['B', 'A']
    """
    cols = [item, level, share] + [c for c in (n, scale) if c]
    _require(data, cols, "likert_diverging_bars")
    loc, tx = _texts(locale)
    scales = list(pd.unique(data[scale])) if scale else [None]
    panels = []
    size = _rc()["ytick.labelsize"]
    for sc in scales:
        part = data[data[scale] == sc] if scale else data
        lv = _levels_of(part, level, levels, sc)
        neutral_level = _neutral_of(lv, neutral, sc)
        wide = part.pivot_table(index=item, columns=level, values=share, aggfunc="sum", observed=True)
        wide = wide.reindex(columns=lv).fillna(0.0)
        totals = wide.sum(axis=1)
        if (totals <= 0).any():
            raise InputError("Each item needs a positive total share.", value=list(totals[totals <= 0].index))
        wide = wide.div(totals, axis=0)
        k = lv.index(neutral_level) if neutral_level is not None else len(lv) // 2
        neg_levels = lv[:k]
        pos_levels = lv[k + 1 :] if neutral_level is not None else lv[k:]
        present = set(wide.index)
        if item_order is not None:
            items = [i for i in list(item_order)[::-1] if i in present]
        elif sort:
            net = wide[pos_levels].sum(axis=1) - wide[neg_levels].sum(axis=1)
            items = list(net.sort_values(kind="stable").index)  # most positive on top
        else:
            items = list(_order(part[item], None))[::-1]
        wide = wide.reindex(items)
        half = wide[neutral_level] / 2 if neutral_level is not None else pd.Series(0.0, index=wide.index)
        ns = None
        if n:
            counts = part.groupby(item, observed=True)[n].max()
            ns = [("n = " + format_integer(counts.get(i), loc)) if pd.notna(counts.get(i)) else "" for i in items]
        panels.append({
            "scale": sc, "levels": lv, "neutral": neutral_level, "wide": wide, "items": items, "half": half,
            "neg": neg_levels, "pos": pos_levels, "ns": ns,
            "colours": _diverging_colours(len(lv), neutral_level is not None),
            "hatches": _hatches(len(lv), neutral_level is not None),
            # labels at most half the width, in balanced lines; rows as far apart as the labels need
            "labels": _wrap_to_width(items, _LIKERT_LABEL_SHARE * FIGURE_WIDTH, size),
            # the legend of the scale below the panel, centred on the figure
            "ncol": _legend_columns(lv, 5, handlelength=1.2, columnspacing=1.2,
                                    width=FIGURE_WIDTH - (0.6 if n else 0.0)),
        })
    lim = max(max(float((p["wide"][p["neg"]].sum(axis=1) + p["half"]).max()),
                  float((p["wide"][p["pos"]].sum(axis=1) + p["half"]).max())) for p in panels)
    lim = min(1.0, np.ceil(lim * 10) / 10 + 0.05)
    n_panels = len(panels)
    heights = []
    for j, p in enumerate(panels):
        legend_rows = math.ceil(len(p["levels"]) / p["ncol"])
        extra = 0.55 + 0.15 * legend_rows + (0.2 if j == n_panels - 1 else 0.0)  # ticks, legend, x label
        extra += 0.25 if (scale_titles or {}).get(p["scale"]) else 0.0
        p["y"], p["rows"] = _row_positions(p["labels"], 0.34, size)
        heights.append(p["rows"] + extra)
    with mpl.rc_context(_rc()):
        fig = _new_figure(FIGURE_WIDTH, sum(heights) + (0.3 if title else 0.05))
        axes = fig.subplots(n_panels, 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
        for j, (ax, p) in enumerate(zip(axes, panels)):
            wide, lv, items = p["wide"], p["levels"], p["items"]
            y = p["y"]  # in inches: each row as tall as its label
            left_start = -(wide[p["neg"]].sum(axis=1) + p["half"])
            _stacked_barh(ax, y, [wide[name].to_numpy(dtype=float) for name in lv], p["colours"],
                          [str(name) for name in lv], left_start.to_numpy(dtype=float), 0.24, min_label, loc,
                          hatches=p["hatches"])
            ax.axvline(0, color="#333333", linewidth=0.8, zorder=0.5)
            ax.set_yticks(y, p["labels"])
            ax.set_ylim(-0.03, p["rows"] + 0.03)
            ax.set_xlim(-lim, lim)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]))
            _number_axis(ax.xaxis, loc, percent=True, absolute=True)
            last = j == n_panels - 1
            if last:
                ax.set_xlabel(tx["likert_x"])
            ax.spines["left"].set_visible(False)
            ax.tick_params(axis="y", length=0)
            ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
            if p["ns"] is not None:
                right = ax.twinx()
                right.set_ylim(ax.get_ylim())
                right.set_yticks(y, p["ns"])
                right.tick_params(axis="y", length=0, labelsize=7, colors="#333333")
                for side in ("left", "right", "top", "bottom"):
                    right.spines[side].set_visible(False)
            # the legend of this panel's scale, below its axis (and below the x label of the last panel)
            drop = 20 + (15 if last else 0)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=p["ncol"], frameon=False,
                      handlelength=1.2, columnspacing=1.2,
                      bbox_transform=blended_transform_factory(fig.transFigure, ax.transAxes)
                      + ScaledTranslation(0, -drop / 72, fig.dpi_scale_trans))
            panel_title = (scale_titles or {}).get(p["scale"])
            if panel_title:
                _panel_title(fig, ax, panel_title, fontstyle="italic")
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return fig
