"""Funding and regional figures: funding mix bars and bars per region."""

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
    _PRINT_HATCHES,
    _PRINT_PALETTE,
    _QUALITATIVE,
    FIGURE_WIDTH,
    _legend_columns,
    _new_figure,
    _number_axis,
    _order,
    _rc,
    _require,
    _row_pitch,
    _stacked_barh,
    _texts,
    _wrap,
)
from analysis.tables.formatting import format_integer, format_number

__all__ = ["funding_mix_bars", "regional_bars"]


def funding_mix_bars(
    data: pd.DataFrame,
    *,
    group: str = "group",
    source: str = "source",
    share: str = "share",
    source_order: Sequence[object] | None = None,
    group_order: Sequence[object] | None = None,
    min_label: float = 0.05,
    title: str | None = None,
    locale: str = "fr",
) -> Figure:
    """Stacked 100 % bars of the funding mix (share of each source) by group.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table ``group, source, share``; shares are rescaled to sum to 1 per group.
    group, source, share : str
        Column names.
    source_order, group_order : sequence, optional
        Stacking order of sources and top-to-bottom order of groups.
    min_label : float, default 0.05
        Segments narrower than this share get no percentage label.
    title : str, optional
    locale : {"fr", "en"}, default "fr"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"group": ["Association"] * 2 + ["Coopérative"] * 2,
    ...                   "source": ["Dons", "Ventes"] * 2, "share": [0.7, 0.3, 0.1, 0.9]})
    >>> len(funding_mix_bars(d).axes[0].patches)
    4
    """
    _require(data, [group, source, share], "funding_mix_bars")
    loc, tx = _texts(locale)
    sources = _order(data[source], source_order)
    groups = _order(data[group], group_order)
    if len(sources) > len(_PRINT_PALETTE):
        raise InputError("funding_mix_bars: too many sources for a readable palette.",
                         value=len(sources), expected=f"at most {len(_PRINT_PALETTE)} (group the small ones)")
    wide = data.pivot_table(index=group, columns=source, values=share, aggfunc="sum", observed=True)
    wide = wide.reindex(index=groups, columns=sources).fillna(0.0)
    wide = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    # the legend below the bars, in as many columns as fit; the figure grows with its rows so
    # that the bars keep about two thirds of the height
    ncol = _legend_columns(sources, 4, handlelength=1.2)
    with mpl.rc_context(_rc()):
        legend_rows = math.ceil(len(sources) / ncol)
        margins = 0.55 + 0.17 * legend_rows + (0.25 if title else 0.0)  # x axis, legend, title
        bars = max(0.4 * len(groups) + 0.2, 1.9 * margins)
        fig = _new_figure(FIGURE_WIDTH, bars + margins)
        ax = fig.add_subplot()
        y = np.arange(len(groups))[::-1]
        _stacked_barh(ax, y, [wide[s].to_numpy(dtype=float) for s in sources], _PRINT_PALETTE,
                      [str(s) for s in sources], np.zeros(len(groups)), 0.65, min_label, loc,
                      hatches=_PRINT_HATCHES)
        ax.set_yticks(y, [_wrap(g, 30) for g in groups])
        ax.set_xlim(0, 1)
        _number_axis(ax.xaxis, loc, percent=True)
        ax.set_xlabel(tx["share"])
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        fig.legend(frameon=False, loc="outside lower center", ncol=ncol, handlelength=1.2)
        if title:
            ax.set_title(title, loc="left")
    return fig


def regional_bars(
    data: pd.DataFrame,
    *,
    region: str = "region",
    value: str = "value",
    ci_low: str | None = None,
    ci_high: str | None = None,
    n: str | None = None,
    percent: bool = False,
    sort: bool = True,
    xlabel: str | None = None,
    value_label: str | None = None,
    ci_label: str | None = None,
    title: str | None = None,
    locale: str = "fr",
) -> Figure:
    """Horizontal bars by region (no map), largest on top, value written at the end.

    With confidence-interval columns, the intervals are drawn as error bars and a legend
    says what the bar and the line are; with ``n``, each region's count is written right
    of the plot (``n = 123``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per region: ``region, value`` and optionally CI and count columns.
    region, value : str
        Column names.
    ci_low, ci_high : str, optional
        Confidence-interval columns, drawn as error bars.
    n : str, optional
        Column with the number of observations of each region.
    percent : bool, default False
        Values are shares in [0, 1], shown as percentages.
    sort : bool, default True
    xlabel, title : str, optional
    value_label, ci_label : str, optional
        Legend of the bars and of the intervals (default "Moyenne" and "IC à 95 % de la moyenne").
    locale : {"fr", "en"}, default "fr"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"region": ["A", "B"], "value": [0.2, 0.5]})
    >>> [t.get_text() for t in regional_bars(d, percent=True).axes[0].get_yticklabels()]  # bottom to top
    ['A', 'B']
    """
    cols = [region, value] + [c for c in (ci_low, ci_high, n) if c]
    _require(data, cols, "regional_bars")
    loc, tx = _texts(locale)
    d = data.sort_values(value, ascending=True, kind="stable") if sort else data.iloc[::-1]
    vals = d[value].to_numpy(dtype=float)
    labels = [_wrap(r, 30) for r in d[region]]
    has_ci = bool(ci_low and ci_high)
    with mpl.rc_context(_rc()):
        fig = _new_figure(FIGURE_WIDTH, 0.9 + (0.3 if has_ci else 0.0) + _row_pitch(labels, 0.3) * len(d))
        ax = fig.add_subplot()
        y = np.arange(len(d))
        ax.barh(y, vals, height=0.65, color=_QUALITATIVE[4] if has_ci else _QUALITATIVE[0],
                label=value_label or tx["mean"])
        top = float(np.nanmax(vals)) if len(vals) else 1.0
        if has_ci:
            err = np.vstack([vals - d[ci_low].to_numpy(dtype=float), d[ci_high].to_numpy(dtype=float) - vals])
            ax.errorbar(vals, y, xerr=err, fmt="none", ecolor="black", elinewidth=1.1, capsize=3,
                        label=ci_label or tx["mean_ci_95"])
            top = max(top, float(np.nanmax(d[ci_high].to_numpy(dtype=float))))
        if not np.isfinite(top) or top <= 0:
            top = 1.0
        all_int = bool(np.all(np.mod(vals[np.isfinite(vals)], 1) == 0))
        value_decimals = 0 if all_int else (2 if top < 10 else 1)
        ends = np.fmax(vals, d[ci_high].to_numpy(dtype=float)) if has_ci else vals
        for yi, v, end in zip(y, vals, ends):
            if not np.isfinite(v):
                continue
            if percent:
                text = format_number(v * 100, 1, loc) + loc.percent
            else:
                text = format_number(v, value_decimals, loc)
            ax.text(end + top * 0.015, yi, text, va="center", ha="left", fontsize=7)
        ax.set_yticks(y, labels)
        ax.set_xlim(0, top * 1.15)
        if percent:
            _number_axis(ax.xaxis, loc, percent=True)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=all_int, steps=[1, 2, 2.5, 5, 10]))
            _number_axis(ax.xaxis, loc)
        ax.set_xlabel(xlabel or (tx["share"] if percent else tx["count"]))
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
        if n:
            right = ax.twinx()
            right.set_ylim(ax.get_ylim())
            right.set_yticks(y, [tx["n_of"].format(n=format_integer(c, loc)) if pd.notna(c) else ""
                                 for c in d[n]])
            right.tick_params(axis="y", length=0, labelsize=7, colors="#333333")
            for side in ("left", "right", "top", "bottom"):
                right.spines[side].set_visible(False)
        if has_ci:
            fig.legend(*ax.get_legend_handles_labels(), frameon=False, loc="outside lower center", ncol=2)
        if title:
            ax.set_title(title, loc="left")
    return fig
