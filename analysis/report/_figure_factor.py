"""Factor-analysis figures: scree plot with parallel analysis, loadings heat map, CFA loadings."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.errors import ConfigError
from analysis.report._figure_style import (
    _QUALITATIVE,
    FIGURE_WIDTH,
    _new_figure,
    _number_axis,
    _order,
    _panel_title,
    _rc,
    _require,
    _row_pitch,
    _row_positions,
    _texts,
    _wrap,
    _wrap_to_width,
)
from analysis.tables.formatting import format_number

__all__ = ["scree_plot", "loadings_heatmap", "cfa_loadings_plot"]


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
        One row per position; e.g. ``analysis.psychometrics.parallel_analysis(...).to_frame()``
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
                    markerfacecolor="none", markeredgecolor=_QUALITATIVE[0], markeredgewidth=1,
                    label=tx["retained_circles"])
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
        Loadings below it in absolute value are written in grey, the others in bold (said below the map).
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
        _number_axis(bar.ax.yaxis, loc, leading_zero=False)
        bar.outline.set_visible(False)
        if annotate:  # what the bold and grey numbers mean
            fig.supxlabel(tx["bold_loadings"].format(t=format_number(threshold, 2, loc, leading_zero=False)),
                          fontsize=8, x=0.01, ha="left")
        if title:
            ax.set_title(title, loc="left", pad=18)
    return fig


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
        Dotted reference line (a common threshold for standardised loadings), named in the legend.
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
    lo = float(min(0.0, loadings[ci_low if has_ci else estimate].min()))
    hi = float(max(1.0, loadings[ci_high if has_ci else estimate].max()))
    # full item wordings, wrapped at word boundaries into at most ~60 % of the width (a dot plot
    # needs little room; fewer lines keep the figure within a page)
    texts = [str((item_labels or {}).get(i, i)) for i in loadings[item]]
    wrapped = dict(zip(texts, _wrap_to_width(texts, 0.6 * FIGURE_WIDTH, _rc()["ytick.labelsize"])))
    size = _rc()["ytick.labelsize"]
    rows = {f: _row_positions([wrapped[str((item_labels or {}).get(i, i))]
                               for i in loadings.loc[loadings[factor] == f, item].iloc[::-1]], 0.24, size)
            for f in factors}
    with mpl.rc_context(_rc()):
        fig = _new_figure(FIGURE_WIDTH, 1.1 + sum(r[1] for r in rows.values()) + 0.3 * len(factors))
        axes = fig.subplots(len(factors), 1, sharex=True, squeeze=False,
                            gridspec_kw={"height_ratios": [rows[f][1] + 0.3 for f in factors]})[:, 0]
        for ax, f in zip(axes, factors):
            d = loadings[loadings[factor] == f].iloc[::-1]
            y = rows[f][0]  # in inches: each row as tall as its label
            est = d[estimate].to_numpy(dtype=float)
            colour = _QUALITATIVE[0]
            if has_ci:
                err = np.vstack([est - d[ci_low].to_numpy(dtype=float), d[ci_high].to_numpy(dtype=float) - est])
                ax.errorbar(est, y, xerr=err, fmt="none", ecolor=colour, elinewidth=1, capsize=2,
                            label=tx["ci95"])
            ax.plot(est, y, "o", color=colour, markersize=5, label=tx["point_estimate"])
            ax.set_yticks(y, [wrapped[str((item_labels or {}).get(i, i))] for i in d[item]])
            ax.set_ylim(-0.05, rows[f][1] + 0.05)
            _panel_title(fig, ax, str(f), fontweight="bold")
            if reference is not None:
                ax.axvline(reference, color="#555555", linestyle=":", linewidth=1.2,
                           label=tx["reference_line"].format(t=format_number(reference, 2, loc, leading_zero=False)))
            ax.axvline(0, color="#333333", linewidth=0.6)
            ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
            ax.tick_params(axis="y", length=0)
        axes[-1].set_xlim(lo - 0.05, hi + 0.05)
        _number_axis(axes[-1].xaxis, loc, leading_zero=False)
        axes[-1].set_xlabel(tx["std_loading"])
        found = dict(zip(*axes[0].get_legend_handles_labels()[::-1]))
        labels = sorted(found, key=lambda x: [tx["point_estimate"], tx["ci95"]].index(x)
                        if x in (tx["point_estimate"], tx["ci95"]) else 2)
        fig.legend([found[x] for x in labels], labels, frameon=False, loc="outside lower center", ncol=len(labels))
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return fig
