"""Missing-data figures: share of missing values per variable."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.report._figure_style import (
    _QUALITATIVE,
    FIGURE_WIDTH,
    _new_figure,
    _number_axis,
    _rc,
    _require,
    _texts,
)
from analysis.tables.formatting import format_number

__all__ = ["missing_shares", "missingness_plot"]


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
