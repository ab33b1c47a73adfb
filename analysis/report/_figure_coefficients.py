"""Regression figures: tidy coefficients of fitted models and the coefficient plot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.errors import InputError
from analysis.report._figure_style import (
    _QUALITATIVE,
    FIGURE_WIDTH,
    _legend_columns,
    _new_figure,
    _number_axis,
    _order,
    _rc,
    _require,
    _row_pitch,
    _texts,
    _wrap,
)

__all__ = ["tidy_coefficients", "coefficient_plot"]


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
