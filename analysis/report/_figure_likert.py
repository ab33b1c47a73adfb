"""Likert figures: diverging stacked bars of the answers to a block of items."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.errors import InputError
from analysis.report._figure_style import (
    _LABEL_SHARE,
    FIGURE_WIDTH,
    _diverging_colours,
    _legend_columns,
    _new_figure,
    _number_axis,
    _order,
    _rc,
    _require,
    _row_pitch,
    _stacked_barh,
    _texts,
    _wrap_to_width,
)

__all__ = ["likert_diverging_bars"]


def likert_diverging_bars(
    data: pd.DataFrame,
    *,
    item: str = "item",
    level: str = "level",
    share: str = "share",
    levels: Sequence[object] | None = None,
    neutral: object | None = None,
    item_order: Sequence[object] | None = None,
    sort: bool = True,
    title: str | None = None,
    min_label: float = 0.06,
    locale: str = "fr",
) -> Figure:
    """Diverging stacked bars of a block of Likert items.

    Disagreement extends left of zero and agreement right; the neutral point (if
    any) straddles zero. Shares are rescaled to sum to 1 within each item.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table: one row per item and scale point, with the share (0-1) answering it.
    item, level, share : str
        Column names.
    levels : sequence, optional
        Scale points from most negative to most positive; default the categorical
        order of `level`, else the order of appearance.
    neutral : object, optional
        The neutral point; default the middle one when the number of levels is odd.
        Pass ``False`` for a scale without a neutral point.
    item_order : sequence, optional
        Items from top to bottom; default by net agreement when ``sort`` is True.
    sort : bool, default True
    title : str, optional
    min_label : float, default 0.06
        Segments narrower than this share get no percentage label.
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
    _require(data, [item, level, share], "likert_diverging_bars")
    loc, tx = _texts(locale)
    lv = _order(data[level], levels)
    if neutral is None:
        neutral_level = lv[len(lv) // 2] if len(lv) % 2 == 1 else None
    elif neutral is False:
        neutral_level = None
    else:
        neutral_level = neutral
        if neutral_level not in lv:
            raise InputError("Neutral level not among the levels.", value=neutral, expected=f"one of {lv}")
    wide = data.pivot_table(index=item, columns=level, values=share, aggfunc="sum", observed=True)
    wide = wide.reindex(columns=lv).fillna(0.0)
    totals = wide.sum(axis=1)
    if (totals <= 0).any():
        raise InputError("Each item needs a positive total share.", value=list(totals[totals <= 0].index))
    wide = wide.div(totals, axis=0)
    k = lv.index(neutral_level) if neutral_level is not None else len(lv) // 2
    neg_levels = lv[:k]
    pos_levels = lv[k + 1 :] if neutral_level is not None else lv[k:]
    if item_order is not None:
        items = list(item_order)
    elif sort:
        net = wide[pos_levels].sum(axis=1) - wide[neg_levels].sum(axis=1)
        items = list(net.sort_values(kind="stable").index)  # most positive on top
    else:
        items = list(_order(data[item], None))[::-1]
    wide = wide.reindex(items)
    half_neutral = wide[neutral_level] / 2 if neutral_level is not None else 0.0
    colours = _diverging_colours(len(lv), neutral_level is not None)
    # labels at most ~45 % of the width, in balanced lines; rows as far apart as the labels need
    labels = _wrap_to_width(items, _LABEL_SHARE * FIGURE_WIDTH, _rc()["ytick.labelsize"])
    ncol = _legend_columns(lv, 5, handlelength=1.2, columnspacing=1.2)
    with mpl.rc_context(_rc()):
        legend_rows = math.ceil(len(lv) / ncol)
        height = 1.2 + 0.15 * max(0, legend_rows - 2) + _row_pitch(labels, 0.34) * len(items)
        fig = _new_figure(FIGURE_WIDTH, height)
        ax = fig.add_subplot()
        y = np.arange(len(items))
        left_start = -(wide[neg_levels].sum(axis=1) + half_neutral)
        _stacked_barh(ax, y, [wide[name].to_numpy(dtype=float) for name in lv], colours,
                      [str(name) for name in lv], left_start.to_numpy(dtype=float), 0.7, min_label, loc)
        ax.axvline(0, color="#333333", linewidth=0.8, zorder=0.5)
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.6, len(items) - 0.4)
        lim = max(float((wide[neg_levels].sum(axis=1) + half_neutral).max()),
                  float((wide[pos_levels].sum(axis=1) + half_neutral).max()))
        lim = min(1.0, np.ceil(lim * 10) / 10 + 0.05)
        ax.set_xlim(-lim, lim)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]))
        _number_axis(ax.xaxis, loc, percent=True, absolute=True)
        ax.set_xlabel(tx["likert_x"])
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
        fig.legend(loc="outside lower center", ncol=ncol, frameon=False, handlelength=1.2, columnspacing=1.2)
        if title:
            ax.set_title(title, loc="left")
    return fig
