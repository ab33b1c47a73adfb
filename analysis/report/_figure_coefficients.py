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
    _new_figure,
    _number_axis,
    _order,
    _panel_title,
    _rc,
    _require,
    _row_pitch,
    _texts,
    _wrap,
)

__all__ = ["tidy_coefficients", "coefficient_plot"]

_MARKERS = ["o", "s", "D", "^", "v", "P", "X", "*"]


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
    outcome: str | None = None,
    term_labels: Mapping[str, str] | None = None,
    model_labels: Mapping[str, str] | None = None,
    drop: Sequence[str] = ("Intercept", "const", "(Intercept)", "_cons"),
    xlabel: str | None = None,
    title: str | None = None,
    locale: str = "fr",
) -> Figure:
    """Coefficients with confidence intervals for several models (dodged per model), one panel per outcome.

    Each point is a coefficient, each bar its confidence interval (the legend's title says
    so); every model keeps its colour and marker across the panels.

    Parameters
    ----------
    coefs : pandas.DataFrame
        Long table ``model, term, estimate, ci_low, ci_high`` (see :func:`tidy_coefficients`).
    model, term, estimate, ci_low, ci_high : str
        Column names.
    outcome : str, optional
        Column naming the dependent variable of each model: one panel per outcome, titled with it.
    term_labels : mapping, optional
        Term to label; when given, only these terms are shown, in this order (top first).
    model_labels : mapping, optional
        Model to its name in the legend (default the model).
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
    _require(coefs, [model, term, estimate, ci_low, ci_high] + ([outcome] if outcome else []), "coefficient_plot")
    loc, tx = _texts(locale)
    d = coefs[~coefs[term].astype(str).isin(drop)]
    if d.empty:
        raise InputError("coefficient_plot: no term left to plot.", expected="some non-intercept terms")
    models = [str(m) for m in _order(d[model].astype(str), None)]
    names = {m: str((model_labels or {}).get(m, m)) for m in models}
    style = {m: (_QUALITATIVE[k % len(_QUALITATIVE)], _MARKERS[k % len(_MARKERS)]) for k, m in enumerate(models)}
    outcomes = [str(o) for o in _order(d[outcome].astype(str), None)] if outcome else [None]
    panels = []
    for o in outcomes:
        part = d[d[outcome].astype(str) == o] if outcome else d
        present = set(part[term].astype(str))
        if term_labels:
            terms = [t for t in term_labels if t in present]
        else:
            terms = [str(t) for t in _order(part[term].astype(str), None)]
        part_models = [m for m in models if m in set(part[model].astype(str))]
        if terms:
            panels.append((o, part, terms, part_models, [_wrap((term_labels or {}).get(t, t)) for t in terms]))
    if not panels:
        raise InputError("coefficient_plot: no term left to plot.", expected="some non-intercept terms")
    # the legend below the plot, one model a line (model names can be long)
    legend_labels = [_wrap(names[m], 100) for m in models]
    ncol = 1
    legend_rows = sum(x.count("\n") + 1 for x in legend_labels)
    heights = [len(t) * _row_pitch(lab, 0.3 * max(1, len(pm) * 0.6)) + (0.35 if o is not None else 0.1)
               for o, _, t, pm, lab in panels]
    with mpl.rc_context(_rc()):
        fig = _new_figure(FIGURE_WIDTH, sum(heights) + 0.7 + 0.16 * (legend_rows + 1) + (0.3 if title else 0.0))
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False,
                            gridspec_kw={"height_ratios": heights})[:, 0]
        for ax, (o, part, terms, part_models, labels) in zip(axes, panels):
            base = np.arange(len(terms))[::-1].astype(float)
            n_m = len(part_models)
            step = 0.7 / max(n_m, 1)
            for k, m in enumerate(part_models):
                dm = part[part[model].astype(str) == m].assign(_t=lambda x: x[term].astype(str)).set_index("_t")
                dm = dm.reindex(terms)
                y = base - (k - (n_m - 1) / 2) * step
                est = dm[estimate].to_numpy(dtype=float)
                err = np.vstack([est - dm[ci_low].to_numpy(dtype=float), dm[ci_high].to_numpy(dtype=float) - est])
                colour, marker = style[m]
                ax.errorbar(est, y, xerr=err, fmt=marker, color=colour, ecolor=colour,
                            elinewidth=1.1, capsize=2, markersize=4.5, label=names[m])
            ax.axvline(0, color="#333333", linewidth=0.8, linestyle="--")
            ax.set_yticks(base, labels)
            ax.set_ylim(-0.6, len(terms) - 0.4)
            ax.tick_params(axis="y", length=0)
            ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
            if o is not None:
                _panel_title(fig, ax, o, fontstyle="italic")
        axes[-1].xaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]))
        _number_axis(axes[-1].xaxis, loc)
        axes[-1].set_xlabel(xlabel or tx["estimate"])
        handles = {}
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
        order = [names[m] for m in models if names[m] in handles]
        fig.legend([handles[x] for x in order], [_wrap(x, 100) for x in order], frameon=False,
                   loc="outside lower center", ncol=ncol, title=tx["coef_marks"], title_fontsize=8)
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return fig
