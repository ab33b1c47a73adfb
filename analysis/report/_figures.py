"""Thesis figures (matplotlib), French labels by default.

Each function takes a tidy DataFrame (one row per plotted value, column names
given as keyword arguments with sensible defaults) and returns a
:class:`matplotlib.figure.Figure`; nothing is shown and no global pyplot state
is used (figures are drawn with the Agg canvas). :func:`save_figure` writes a
300-dpi PNG and a PDF atomically, without dates in their metadata, so that the
same data give byte-identical files.

Numbers on axes follow the locale (``0,5`` and ``20 %`` in French).

Examples
--------
>>> import pandas as pd
>>> from analysis.report._figures import regional_bars
>>> fig = regional_bars(pd.DataFrame({"region": ["Souss-Massa", "Oriental"], "value": [12, 30]}))
>>> fig.axes[0].get_xlabel()
'Effectif'
"""

from __future__ import annotations

import contextlib
import gc
import io
import math
import os
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, MaxNLocator

from analysis.utils.atomic import atomic_write_bytes
from analysis.errors import ConfigError, InputError
from analysis.tables.formatting import Locale, format_number, get_locale

__all__ = [
    "FIGURE_WIDTH",
    "likert_diverging_bars",
    "scree_plot",
    "loadings_heatmap",
    "cfa_loadings_plot",
    "coefficient_plot",
    "funding_mix_bars",
    "regional_bars",
    "missingness_plot",
    "tidy_coefficients",
    "missing_shares",
    "figure_bytes",
    "save_figure",
]

#: Width of a figure in inches (a thesis text block of about 16 cm).
FIGURE_WIDTH = 6.3

#: Largest share of the figure width given to the item labels of a Likert chart.
_LABEL_SHARE = 0.45

#: Colour-blind-safe qualitative palette (Okabe & Ito).
_QUALITATIVE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]

_TEXTS = {
    "fr": {
        "likert_x": "Part des répondants",
        "eigen_x": "Rang du facteur",
        "eigen_y": "Valeur propre",
        "observed": "Données observées",
        "simulated": "Données simulées (analyse parallèle)",
        "kaiser": "Critère de Kaiser (1)",
        "suggested": "Facteurs suggérés\u00a0: {k}",
        "item": "Item",
        "factor": "Facteur",
        "std_loading": "Saturation standardisée",
        "estimate": "Coefficient (IC à 95 %)",
        "count": "Effectif",
        "share": "Part",
        "missing_x": "Part de valeurs manquantes",
        "threshold": "Seuil ({t})",
        "loading": "Saturation",
    },
    "en": {
        "likert_x": "Share of respondents",
        "eigen_x": "Factor number",
        "eigen_y": "Eigenvalue",
        "observed": "Observed data",
        "simulated": "Simulated data (parallel analysis)",
        "kaiser": "Kaiser criterion (1)",
        "suggested": "Suggested factors: {k}",
        "item": "Item",
        "factor": "Factor",
        "std_loading": "Standardised loading",
        "estimate": "Estimate (95% CI)",
        "count": "Count",
        "share": "Share",
        "missing_x": "Share of missing values",
        "threshold": "Threshold ({t})",
        "loading": "Loading",
    },
}


# --------------------------------------------------------------------------- helpers
def _serif_fonts() -> list[str]:
    wanted = ["Times New Roman", "Liberation Serif", "TeX Gyre Termes", "DejaVu Serif"]
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in wanted if f in installed] or ["DejaVu Serif"]


def _rc() -> dict[str, object]:
    return {
        "font.family": "serif",
        "font.serif": _serif_fonts(),
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.axisbelow": True,
        "axes.unicode_minus": True,
        "pdf.fonttype": 42,
        "svg.hashsalt": "si-survey",
    }


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _texts(locale: str | Locale) -> tuple[Locale, dict[str, str]]:
    loc = get_locale(locale)
    return loc, _TEXTS[loc.code]


class _LocaleFormatter(Formatter):
    """Tick labels in the locale, with just enough decimals to tell the ticks apart."""

    def __init__(self, loc: Locale, decimals: int | None, percent: bool, absolute: bool):
        self.loc, self.fixed, self.percent, self.absolute = loc, decimals, percent, absolute
        self.decimals = decimals if decimals is not None else 1

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        if self.fixed is not None:
            return
        vals = np.asarray(locs, dtype=float) * (100 if self.percent else 1)
        vals = vals[np.isfinite(vals)]
        scale = max(1.0, float(np.abs(vals).max())) if len(vals) else 1.0
        for d in range(0, 7):
            if np.allclose(np.round(vals, d), vals, rtol=0, atol=1e-9 * scale):
                self.decimals = d
                return
        self.decimals = 6

    def __call__(self, x: float, pos: int | None = None) -> str:
        value = abs(x) if self.absolute else x
        if self.percent:
            return format_number(value * 100, self.decimals, self.loc) + self.loc.percent
        return format_number(value, self.decimals, self.loc)


def _number_axis(
    axis, loc: Locale, decimals: int | None = None, *, percent: bool = False, absolute: bool = False
) -> None:
    """Locale-aware tick labels (``0,5``, ``20 %``); decimals chosen from the ticks by default."""
    axis.set_major_formatter(_LocaleFormatter(loc, decimals, percent, absolute))


def _require(data: pd.DataFrame, columns: Sequence[str], what: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{what} needs a DataFrame.", value=type(data).__name__, expected="pandas.DataFrame")
    for c in columns:
        if c not in data.columns:
            raise InputError(f"{what}: column missing.", column=c, expected=f"columns {list(columns)}")
    if data.empty:
        raise InputError(f"{what}: no rows to plot.")
    return data


def _order(values: pd.Series, order: Sequence[object] | None) -> list[object]:
    if order is not None:
        return list(order)
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna())
        return [c for c in values.cat.categories if c in present]
    return list(pd.unique(values.dropna()))


def _diverging_colours(n: int, neutral: bool) -> list[str]:
    """ColorBrewer RdBu colours from disagreement (red) to agreement (blue), neutral in grey."""
    from matplotlib.colors import to_hex

    cmap = mpl.colormaps["RdBu"]
    colours = [to_hex(cmap(x)) for x in np.linspace(0.08, 0.92, n)]
    if neutral:
        colours[n // 2] = "#BDBDBD"
    return colours


def _wrap(label: object, width: int = 38) -> str:
    """Break a long axis label over lines (at most `width` characters each)."""
    return "\n".join(textwrap.wrap(str(label), width, break_long_words=False)) or str(label)


_MEASURE: list = []


def _text_width(text: str, size: float) -> float:
    """Width in inches of one line of text at `size` points, in the serif font the text will be drawn in.

    The figures' texts ask for the generic family ``serif``, which matplotlib resolves when the
    figure is drawn, with the rc settings of that moment (``font.serif``), not those of
    :func:`_rc`; so the width is the larger of that font and the preferred one of :func:`_rc`.
    Call it outside ``rc_context(_rc())`` to measure the font that a figure saved afterwards uses.
    """
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    if not _MEASURE:
        _MEASURE.append(RendererAgg(1, 1, 72))  # 72 dpi: pixels are points
    widths = [_MEASURE[0].get_text_width_height_descent(text, FontProperties(family=family, size=size),
                                                        ismath=False)[0]
              for family in ("serif", _serif_fonts()[0])]
    return max(widths) / 72


def _wrap_to_width(labels: Sequence[object], max_width: float, size: float) -> list[str]:
    """Break labels into lines at most `max_width` inches wide (a word longer than that keeps its line).

    The width actually used is the narrowest (down to 60 % of `max_width`) at which no label
    takes more lines than at `max_width`: the lines are balanced and the bars keep the rest.
    """
    texts = [str(x) for x in labels]
    words = [t.split() for t in texts]
    widths = {w: _text_width(w, size) for ws in words for w in ws}
    space = _text_width("a a", size) - 2 * _text_width("a", size)

    def wrap(limit: float) -> list[list[str]]:
        out = []
        for ws in words:
            lines: list[list[str]] = []
            run = 0.0
            for w in ws:
                if lines and run + space + widths[w] <= limit:
                    lines[-1].append(w)
                    run += space + widths[w]
                else:
                    lines.append([w])
                    run = widths[w]
            out.append(lines)
        return out

    best = wrap(max_width)
    counts = [len(lines) for lines in best]
    limit = max_width
    while limit > 0.6 * max_width:
        trial = wrap(limit - 0.05)
        if [len(lines) for lines in trial] != counts:
            break
        best, limit = trial, limit - 0.05
    return ["\n".join(" ".join(line) for line in lines) or text for lines, text in zip(best, texts)]


def _row_pitch(labels: Sequence[str], minimum: float, size: float = 8.0) -> float:
    """Inches between rows of a bar or dot chart, so that labels of several lines do not touch."""
    lines = max((str(x).count("\n") + 1 for x in labels), default=1)
    return max(minimum, (lines * 1.2 * size + 3) / 72)


def _legend_columns(labels: Sequence[object], max_cols: int, *, handlelength: float = 2.0,
                    columnspacing: float = 2.0, size: float = 8.0, width: float = FIGURE_WIDTH) -> int:
    """Columns of a legend below the plot: the fewest rows that fit across the figure, balanced.

    Text widths are measured by :func:`_text_width` (call it before ``rc_context(_rc())``); matplotlib
    fills the columns first, so among the column counts giving the fewest rows the smallest is taken.
    """
    labels = [str(x) for x in labels]
    if not labels:
        return 1
    em = size / 72
    entries = [(handlelength + 0.8) * em + _text_width(x, size) for x in labels]  # handle, handletextpad
    best = 1
    for ncol in range(1, min(max_cols, len(labels)) + 1):
        rows = math.ceil(len(labels) / ncol)
        cols = np.array_split(np.asarray(entries), ncol)  # as matplotlib fills the columns
        total = sum(float(col.max()) for col in cols) + columnspacing * em * (ncol - 1) + 2 * em
        if total > width - 0.2:
            break
        if rows < math.ceil(len(labels) / best):
            best = ncol
    return best


def _text_colour(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"


# --------------------------------------------------------------------------- Likert
def _stacked_barh(ax, y, parts, colours, labels, start, height, min_label, loc) -> None:
    """Stacked horizontal bars, one segment per part, each share >= ``min_label`` written inside (in %)."""
    for values, colour, label in zip(parts, colours, labels):
        ax.barh(y, values, left=start, height=height, color=colour, edgecolor="white", linewidth=0.5, label=label)
        for yi, x0, w in zip(y, start, values):
            if w >= min_label:
                ax.text(x0 + w / 2, yi, format_number(w * 100, 0, loc), ha="center", va="center",
                        fontsize=7, color=_text_colour(colour))
        start = start + values


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


# --------------------------------------------------------------------------- EFA
def scree_plot(
    eigen: pd.DataFrame,
    *,
    kind: str = "fa",
    position: str = "position",
    observed: str | None = None,
    simulated: str | None = None,
    kaiser: bool = False,
    n_factors: int | None = None,
    title: str | None = None,
    locale: str = "fr",
) -> Figure:
    """Scree plot of observed eigenvalues with the parallel-analysis curve.

    Parameters
    ----------
    eigen : pandas.DataFrame
        One row per position; e.g. ``analysis.psychometrics._factor.parallel_analysis(...).to_frame()``
        (columns ``position, observed_fa, simulated_fa_quantile, ...``).
    kind : {"fa", "pc"}, default "fa"
        Which eigenvalues to show when the column names are not given.
    position, observed, simulated : str
        Column names; default ``observed_<kind>`` and ``simulated_<kind>_quantile``
        (else ``simulated_<kind>_mean``).
    kaiser : bool, default False
        Draw the eigenvalue-one line (meaningful for principal components).
    n_factors : int, optional
        Number of factors to highlight; default the leading observed eigenvalues above
        the simulated ones (the parallel-analysis rule).
    title : str, optional
    locale : {"fr", "en"}, default "fr"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> e = pd.DataFrame({"position": [1, 2, 3], "observed_fa": [2.5, 0.6, 0.1],
    ...                   "simulated_fa_quantile": [0.4, 0.2, 0.05]})
    >>> scree_plot(e).axes[0].get_ylabel()
    'Valeur propre'
    """
    if kind not in ("fa", "pc"):
        raise ConfigError(f"scree_plot: kind must be 'fa' or 'pc', got {kind!r}.")
    observed = observed or f"observed_{kind}"
    if simulated is None:
        for cand in (f"simulated_{kind}_quantile", f"simulated_{kind}_mean", "simulated"):
            if isinstance(eigen, pd.DataFrame) and cand in eigen.columns:
                simulated = cand
                break
        else:
            simulated = f"simulated_{kind}_quantile"
    _require(eigen, [position, observed, simulated], "scree_plot")
    loc, tx = _texts(locale)
    d = eigen.sort_values(position)
    x = d[position].to_numpy()
    obs = d[observed].to_numpy(dtype=float)
    sim = d[simulated].to_numpy(dtype=float)
    above = obs > sim
    n_keep = int(np.argmin(above)) if not above.all() else len(above)
    if n_factors is not None:
        n_keep = int(n_factors)
    with mpl.rc_context(_rc()):
        fig = _new_figure(FIGURE_WIDTH, 3.4)
        ax = fig.add_subplot()
        ax.plot(x, obs, marker="o", color=_QUALITATIVE[0], linewidth=1.4, markersize=4, label=tx["observed"])
        ax.plot(x, sim, marker="^", linestyle="--", color=_QUALITATIVE[5], linewidth=1.2, markersize=4,
                label=tx["simulated"])
        if kaiser:
            ax.axhline(1.0, color="#777777", linestyle=":", linewidth=1, label=tx["kaiser"])
        if n_keep > 0:
            ax.plot(x[:n_keep], obs[:n_keep], linestyle="none", marker="o", markersize=8,
                    markerfacecolor="none", markeredgecolor=_QUALITATIVE[0], markeredgewidth=1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _number_axis(ax.yaxis, loc)
        ax.set_xlabel(tx["eigen_x"])
        ax.set_ylabel(tx["eigen_y"])
        ax.grid(axis="y", color="#E5E5E5", linewidth=0.6)
        ax.legend(frameon=False, loc="upper right", title=tx["suggested"].format(k=n_keep), title_fontsize=8)
        if title:
            ax.set_title(title, loc="left")
    return fig


def loadings_heatmap(
    loadings: pd.DataFrame,
    *,
    item: str = "item",
    factor: str = "factor",
    loading: str = "loading",
    item_labels: Mapping[str, str] | None = None,
    threshold: float = 0.3,
    annotate: bool = True,
    title: str | None = None,
    locale: str = "fr",
) -> Figure:
    """Heatmap of factor loadings (items in rows, factors in columns).

    Parameters
    ----------
    loadings : pandas.DataFrame
        Long table ``item, factor, loading`` (one row per item and factor).
    item, factor, loading : str
        Column names.
    item_labels : mapping, optional
        Item code to the label shown.
    threshold : float, default 0.3
        Loadings below it in absolute value are written in grey.
    annotate : bool, default True
        Write the loadings in the cells.
    title : str, optional
    locale : {"fr", "en"}, default "fr"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"item": ["a", "a", "b", "b"], "factor": ["F1", "F2"] * 2,
    ...                   "loading": [0.8, 0.1, -0.05, 0.7]})
    >>> [t.get_text() for t in loadings_heatmap(d).axes[0].get_xticklabels()]
    ['F1', 'F2']
    """
    _require(loadings, [item, factor, loading], "loadings_heatmap")
    loc, tx = _texts(locale)
    items = _order(loadings[item], None)
    factors = _order(loadings[factor], None)
    wide = loadings.pivot_table(index=item, columns=factor, values=loading, aggfunc="first", observed=True)
    wide = wide.reindex(index=items, columns=factors)
    labels = [_wrap((item_labels or {}).get(i, i)) for i in items]
    longest = max(len(line) for s in labels for line in s.split("\n"))
    with mpl.rc_context(_rc()):
        width = min(FIGURE_WIDTH, 1.6 + 0.055 * longest + 0.75 * len(factors))
        fig = _new_figure(width, 1.0 + _row_pitch(labels, 0.26) * len(items))
        ax = fig.add_subplot()
        values = wide.to_numpy(dtype=float)
        im = ax.imshow(values, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -1.0, 1.0), aspect="auto")
        if annotate:
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    v = values[i, j]
                    if np.isnan(v):
                        continue
                    colour = "white" if abs(v) > 0.6 else ("black" if abs(v) >= threshold else "#8A8A8A")
                    ax.text(j, i, format_number(v, 2, loc, leading_zero=False), ha="center", va="center",
                            fontsize=7, color=colour, fontweight="bold" if abs(v) >= threshold else "normal")
        ax.set_xticks(range(len(factors)), [str(f) for f in factors])
        ax.set_yticks(range(len(items)), labels)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for side in ("left", "bottom", "top", "right"):
            ax.spines[side].set_visible(False)
        bar = fig.colorbar(im, ax=ax, shrink=0.8, aspect=30, pad=0.02, ticks=[-1, -0.5, 0, 0.5, 1])
        bar.set_label(tx["loading"])
        _number_axis(bar.ax.yaxis, loc)
        bar.outline.set_visible(False)
        if title:
            ax.set_title(title, loc="left", pad=18)
    return fig


# --------------------------------------------------------------------------- CFA
def cfa_loadings_plot(
    loadings: pd.DataFrame,
    *,
    factor: str = "factor",
    item: str = "item",
    estimate: str = "estimate",
    ci_low: str | None = "ci_low",
    ci_high: str | None = "ci_high",
    reference: float | None = 0.7,
    item_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    locale: str = "fr",
) -> Figure:
    """Dot plot of standardised CFA loadings, one panel per factor.

    Parameters
    ----------
    loadings : pandas.DataFrame
        One row per item: ``factor, item, estimate`` and optionally ``ci_low, ci_high``.
    factor, item, estimate, ci_low, ci_high : str
        Column names (the CI columns are used when present).
    reference : float or None, default 0.7
        Dotted reference line (a common threshold for standardised loadings).
    item_labels : mapping, optional
    title : str, optional
    locale : {"fr", "en"}, default "fr"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"factor": ["F1", "F1", "F2"], "item": ["a", "b", "c"],
    ...                   "estimate": [0.8, 0.6, 0.75]})
    >>> len(cfa_loadings_plot(d).axes)
    2
    """
    _require(loadings, [factor, item, estimate], "cfa_loadings_plot")
    loc, tx = _texts(locale)
    has_ci = bool(ci_low and ci_high and ci_low in loadings.columns and ci_high in loadings.columns)
    factors = _order(loadings[factor], None)
    counts = [int((loadings[factor] == f).sum()) for f in factors]
    lo = float(min(0.0, loadings[ci_low if has_ci else estimate].min()))
    hi = float(max(1.0, loadings[ci_high if has_ci else estimate].max()))
    pitch = _row_pitch([_wrap((item_labels or {}).get(i, i)) for i in loadings[item]], 0.24)
    with mpl.rc_context(_rc()):
        fig = _new_figure(FIGURE_WIDTH, 0.8 + pitch * sum(counts) + 0.3 * len(factors))
        axes = fig.subplots(len(factors), 1, sharex=True, squeeze=False,
                            gridspec_kw={"height_ratios": [c + 0.8 for c in counts]})[:, 0]
        for k, (ax, f) in enumerate(zip(axes, factors)):
            d = loadings[loadings[factor] == f].iloc[::-1]
            y = np.arange(len(d))
            est = d[estimate].to_numpy(dtype=float)
            colour = _QUALITATIVE[k % len(_QUALITATIVE)]
            if has_ci:
                err = np.vstack([est - d[ci_low].to_numpy(dtype=float), d[ci_high].to_numpy(dtype=float) - est])
                ax.errorbar(est, y, xerr=err, fmt="none", ecolor=colour, elinewidth=1, capsize=2)
            ax.plot(est, y, "o", color=colour, markersize=5)
            ax.set_yticks(y, [_wrap((item_labels or {}).get(i, i)) for i in d[item]])
            ax.set_ylim(-0.7, len(d) - 0.3)
            ax.set_title(str(f), loc="left", fontsize=9, fontweight="bold")
            if reference is not None:
                ax.axvline(reference, color="#777777", linestyle=":", linewidth=1)
            ax.axvline(0, color="#333333", linewidth=0.6)
            ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
            ax.tick_params(axis="y", length=0)
        axes[-1].set_xlim(lo - 0.05, hi + 0.05)
        _number_axis(axes[-1].xaxis, loc)
        axes[-1].set_xlabel(tx["std_loading"])
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return fig


# --------------------------------------------------------------------------- regressions
def tidy_coefficients(results: Mapping[str, object], *, drop_thresholds: bool = True) -> pd.DataFrame:
    """Stack the ``coefficients`` of several results into one long table with a ``model`` column.

    The cut points of ordinal models (terms listed in a result's ``thresholds``) are
    left out unless ``drop_thresholds=False``.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> c = pd.DataFrame({"estimate": [1.0], "ci_low": [0.5], "ci_high": [1.5]}, index=["x"])
    >>> tidy_coefficients({"M1": SimpleNamespace(coefficients=c)})[["model", "term"]].values.tolist()
    [['M1', 'x']]
    """
    frames = []
    for name, res in results.items():
        coefs = getattr(res, "coefficients", None)
        if not isinstance(coefs, pd.DataFrame):
            raise InputError(f"Model {name!r} has no 'coefficients' DataFrame.", value=type(res).__name__)
        d = coefs.copy()
        d.index = d.index.astype(str)
        if drop_thresholds:
            cuts = {str(t) for t in (getattr(res, "thresholds", None) or ())}
            d = d[~d.index.isin(cuts)]
        frames.append(d.rename_axis("term").reset_index().assign(model=str(name)))
    if not frames:
        raise InputError("tidy_coefficients() needs at least one model.")
    out = pd.concat(frames, ignore_index=True)
    return out[["model", "term"] + [c for c in out.columns if c not in ("model", "term")]]


def coefficient_plot(
    coefs: pd.DataFrame,
    *,
    model: str = "model",
    term: str = "term",
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    term_labels: Mapping[str, str] | None = None,
    drop: Sequence[str] = ("Intercept", "const", "(Intercept)", "_cons"),
    xlabel: str | None = None,
    title: str | None = None,
    locale: str = "fr",
) -> Figure:
    """Coefficients with confidence intervals for several models (dodged per model).

    Parameters
    ----------
    coefs : pandas.DataFrame
        Long table ``model, term, estimate, ci_low, ci_high`` (see :func:`tidy_coefficients`).
    model, term, estimate, ci_low, ci_high : str
        Column names.
    term_labels : mapping, optional
        Term to label; when given, only these terms are shown, in this order (top first).
    drop : sequence of str
        Terms left out (the intercept by default).
    xlabel, title : str, optional
    locale : {"fr", "en"}, default "fr"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"model": ["M1", "M2"], "term": ["x", "x"], "estimate": [0.5, 0.3],
    ...                   "ci_low": [0.1, -0.1], "ci_high": [0.9, 0.7]})
    >>> [t.get_text() for t in coefficient_plot(d).axes[0].get_yticklabels()]
    ['x']
    """
    _require(coefs, [model, term, estimate, ci_low, ci_high], "coefficient_plot")
    loc, tx = _texts(locale)
    d = coefs[~coefs[term].astype(str).isin(drop)]
    if term_labels:
        terms = [t for t in term_labels if t in set(d[term].astype(str))]
    else:
        terms = [str(t) for t in _order(d[term].astype(str), None)]
    if not terms:
        raise InputError("coefficient_plot: no term left to plot.", expected="some non-intercept terms")
    models = [str(m) for m in _order(d[model].astype(str), None)]
    n_m = len(models)
    step = 0.7 / max(n_m, 1)
    markers = ["o", "s", "D", "^", "v", "P", "X", "*"]
    labels = [_wrap((term_labels or {}).get(t, t)) for t in terms]
    ncol = _legend_columns(models, 4)
    with mpl.rc_context(_rc()):
        fig = _new_figure(FIGURE_WIDTH, 1.2 + len(terms) * _row_pitch(labels, 0.3 * max(1, n_m * 0.6)))
        ax = fig.add_subplot()
        base = np.arange(len(terms))[::-1].astype(float)
        for k, m in enumerate(models):
            dm = d[d[model].astype(str) == m].assign(_t=lambda x: x[term].astype(str)).set_index("_t")
            dm = dm.reindex(terms)
            offset = (k - (n_m - 1) / 2) * step
            y = base - offset
            est = dm[estimate].to_numpy(dtype=float)
            err = np.vstack([est - dm[ci_low].to_numpy(dtype=float), dm[ci_high].to_numpy(dtype=float) - est])
            colour = _QUALITATIVE[k % len(_QUALITATIVE)]
            ax.errorbar(est, y, xerr=err, fmt=markers[k % len(markers)], color=colour, ecolor=colour,
                        elinewidth=1.1, capsize=2, markersize=4.5, label=m)
        ax.axvline(0, color="#333333", linewidth=0.8, linestyle="--")
        ax.set_yticks(base, labels)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]))
        _number_axis(ax.xaxis, loc)
        ax.set_xlabel(xlabel or tx["estimate"])
        if n_m > 1:
            fig.legend(frameon=False, loc="outside lower center", ncol=ncol)
        if title:
            ax.set_title(title, loc="left")
    return fig


# --------------------------------------------------------------------------- funding, regions
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
    if len(sources) > len(_QUALITATIVE):
        raise InputError("funding_mix_bars: too many sources for a readable palette.",
                         value=len(sources), expected=f"at most {len(_QUALITATIVE)} (group the small ones)")
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
        _stacked_barh(ax, y, [wide[s].to_numpy(dtype=float) for s in sources], _QUALITATIVE,
                      [str(s) for s in sources], np.zeros(len(groups)), 0.65, min_label, loc)
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
    percent: bool = False,
    sort: bool = True,
    xlabel: str | None = None,
    title: str | None = None,
    locale: str = "fr",
) -> Figure:
    """Horizontal bars by region (no map), largest on top, value written at the end.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per region: ``region, value`` and optionally CI columns.
    region, value : str
        Column names.
    ci_low, ci_high : str, optional
        Confidence-interval columns, drawn as error bars.
    percent : bool, default False
        Values are shares in [0, 1], shown as percentages.
    sort : bool, default True
    xlabel, title : str, optional
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
    cols = [region, value] + [c for c in (ci_low, ci_high) if c]
    _require(data, cols, "regional_bars")
    loc, tx = _texts(locale)
    d = data.sort_values(value, ascending=True, kind="stable") if sort else data.iloc[::-1]
    vals = d[value].to_numpy(dtype=float)
    labels = [_wrap(r, 30) for r in d[region]]
    with mpl.rc_context(_rc()):
        fig = _new_figure(FIGURE_WIDTH, 0.9 + _row_pitch(labels, 0.3) * len(d))
        ax = fig.add_subplot()
        y = np.arange(len(d))
        ax.barh(y, vals, height=0.65, color=_QUALITATIVE[0])
        top = float(np.nanmax(vals)) if len(vals) else 1.0
        if ci_low and ci_high:
            err = np.vstack([vals - d[ci_low].to_numpy(dtype=float), d[ci_high].to_numpy(dtype=float) - vals])
            ax.errorbar(vals, y, xerr=err, fmt="none", ecolor="#333333", elinewidth=0.9, capsize=2)
            top = max(top, float(np.nanmax(d[ci_high].to_numpy(dtype=float))))
        if not np.isfinite(top) or top <= 0:
            top = 1.0
        all_int = bool(np.all(np.mod(vals[np.isfinite(vals)], 1) == 0))
        value_decimals = 0 if all_int else (2 if top < 10 else 1)
        ends = np.fmax(vals, d[ci_high].to_numpy(dtype=float)) if ci_low and ci_high else vals
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
        if title:
            ax.set_title(title, loc="left")
    return fig


# --------------------------------------------------------------------------- missingness
def missing_shares(data: pd.DataFrame) -> pd.DataFrame:
    """Share of missing values per column, as the tidy input of :func:`missingness_plot`.

    Examples
    --------
    >>> import pandas as pd
    >>> missing_shares(pd.DataFrame({"a": [1, None], "b": [1, 2]})).values.tolist()
    [['a', 0.5], ['b', 0.0]]
    """
    shares = data.isna().mean()
    return pd.DataFrame({"variable": [str(c) for c in shares.index], "share_missing": shares.to_numpy(dtype=float)})


def missingness_plot(
    data: pd.DataFrame,
    *,
    variable: str = "variable",
    share_missing: str = "share_missing",
    threshold: float | None = 0.05,
    sort: bool = True,
    title: str | None = None,
    locale: str = "fr",
) -> Figure:
    """Share of missing values per variable (bars), with an optional threshold line.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per variable (see :func:`missing_shares`).
    variable, share_missing : str
        Column names.
    threshold : float or None, default 0.05
        Variables above it are highlighted, and a dotted line is drawn.
    sort : bool, default True
        Most-missing variable on top.
    title : str, optional
    locale : {"fr", "en"}, default "fr"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"variable": ["q1", "q2"], "share_missing": [0.01, 0.2]})
    >>> missingness_plot(d).axes[0].get_xlabel()
    'Part de valeurs manquantes'
    """
    _require(data, [variable, share_missing], "missingness_plot")
    loc, tx = _texts(locale)
    d = data.sort_values(share_missing, ascending=True, kind="stable") if sort else data.iloc[::-1]
    vals = d[share_missing].to_numpy(dtype=float)
    n = len(d)
    label_size = 8 if n <= 40 else max(4.5, 8 - (n - 40) / 15)
    with mpl.rc_context(_rc()):
        fig = _new_figure(FIGURE_WIDTH, min(9.0, 0.9 + (0.22 if n <= 40 else 0.13) * n))
        ax = fig.add_subplot()
        y = np.arange(n)
        colours = [_QUALITATIVE[5] if threshold is not None and v > threshold else _QUALITATIVE[0] for v in vals]
        ax.barh(y, vals, height=0.7, color=colours)
        if threshold is not None:
            ax.axvline(threshold, color="#555555", linestyle=":", linewidth=1,
                       label=tx["threshold"].format(t=format_number(threshold * 100, 0, loc) + loc.percent))
            ax.legend(frameon=False, loc="lower right")
        ax.set_yticks(y, [str(v) for v in d[variable]], fontsize=label_size)
        ax.set_ylim(-0.6, n - 0.4)
        top = max(float(np.nanmax(vals)) if n else 0.0, threshold or 0.0, 0.01)
        ax.set_xlim(0, min(1.0, top * 1.1))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 5, 10]))
        _number_axis(ax.xaxis, loc, percent=True)
        ax.set_xlabel(tx["missing_x"])
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
        if title:
            ax.set_title(title, loc="left")
    return fig


# --------------------------------------------------------------------------- saving
#: Metadata left out of the saved files (dates, software versions), by format.
_METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "svg": {"Date": None, "Creator": None},
}


def figure_bytes(
    fig: Figure,
    formats: Sequence[str] = ("png", "pdf"),
    *,
    dpi: int = 300,
    png_compress_level: int | None = None,
) -> list[bytes]:
    """Render a figure in several formats, laying it out once; no dates in the metadata.

    The layout engine (constrained layout) runs for the first format, exactly as
    ``savefig`` runs it; the later formats reuse that layout instead of computing
    it again, and skip the extra pass that ``savefig`` draws for it. The first file
    is what ``savefig`` alone writes; the later ones can differ from a separate
    ``savefig`` by a fraction of a point in the position of the axes (text
    extents measured by the first renderer).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    formats : sequence of {"png", "pdf", "svg"}, default ("png", "pdf")
    dpi : int, default 300
        Resolution of the PNG (and of the layout).
    png_compress_level : int, optional
        zlib level of the PNG (Pillow's default, 6, when None).

    Returns
    -------
    list of bytes
        One per format, in the order of ``formats``.

    Examples
    --------
    >>> import pandas as pd
    >>> fig = regional_bars(pd.DataFrame({"region": ["A"], "value": [1]}))
    >>> png, pdf = figure_bytes(fig)
    >>> png[:4], pdf[:5]
    (b'\\x89PNG', b'%PDF-')
    >>> figure_bytes(fig) == [png, pdf]
    True
    """
    for fmt in formats:
        if fmt not in _METADATA:
            raise ConfigError(f"save_figure: unknown format {fmt!r}; expected png, pdf or svg.")
    engine = fig.get_layout_engine()
    out = []
    try:
        for fmt in formats:
            buf = io.BytesIO()
            extra = {"pil_kwargs": {"compress_level": png_compress_level}} \
                if fmt == "png" and png_compress_level is not None else {}
            with mpl.rc_context({"svg.hashsalt": "si-survey"}):
                fig.savefig(buf, format=fmt, dpi=dpi, metadata=_METADATA[fmt], **extra)
            out.append(buf.getvalue())
            if engine is not None and fig.get_layout_engine() is engine:
                # keep the layout just computed; no engine at all (not "none", which
                # still makes savefig draw the figure once more before saving)
                with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
                    fig.set_layout_engine(None)
    finally:
        if engine is not None and fig.get_layout_engine() is not engine:
            fig.set_layout_engine(engine)
    return out


def save_figure(
    fig: Figure,
    path_stem: str | os.PathLike[str],
    *,
    dpi: int = 300,
    formats: Sequence[str] = ("png", "pdf"),
) -> list[Path]:
    """Write a figure as PNG (300 dpi) and PDF, atomically, with no dates in the metadata.

    The figure is laid out once, for the first format (see :func:`figure_bytes`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path_stem : path-like
        Path without extension; ``.png`` and ``.pdf`` are added.
    dpi : int, default 300
        Resolution of the PNG.
    formats : sequence of {"png", "pdf", "svg"}, default ("png", "pdf")

    Returns
    -------
    list of Path

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> fig = regional_bars(pd.DataFrame({"region": ["A"], "value": [1]}))
    >>> stem = pathlib.Path(tempfile.mkdtemp()) / "fig"
    >>> [p.name for p in save_figure(fig, stem)]
    ['fig.png', 'fig.pdf']
    >>> save_figure(fig, stem)[1].read_bytes() == (stem.with_suffix(".pdf")).read_bytes()
    True
    """
    stem = Path(path_stem)
    if stem.suffix.lower() in (".png", ".pdf", ".svg"):
        stem = stem.with_suffix("")
    data = figure_bytes(fig, formats, dpi=dpi)
    return [atomic_write_bytes(stem.parent / f"{stem.name}.{fmt}", b) for fmt, b in zip(formats, data)]
