"""Path diagram of a structural model (CB-SEM or PLS-SEM), laid out by layer.

Latent variables are drawn as ovals and observed variables as boxes; each layer holds the
variables whose predictors all sit in earlier layers (exogenous variables first, final outcomes
last). Every regression path is an arrow labelled with its coefficient (standardised by
default) and significance stars; a non-significant path is dashed. Endogenous variables carry
their R². The measurement part (the items) is left out: it is the subject of the CFA tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch

from analysis.errors import InputError
from analysis.report._figure_style import FIGURE_WIDTH, _rc, figure_labels
from analysis.tables.formatting import format_number, get_locale, stars_for

__all__ = ["path_diagram", "path_layers"]

def path_layers(paths: pd.DataFrame) -> dict[str, int]:
    """Layer of each variable of a set of regression paths (``lhs ~ rhs``).

    Exogenous variables are in layer 0; an outcome is one layer after its furthest predictor.

    Examples
    --------
    >>> p = pd.DataFrame({"lhs": ["m", "y", "y"], "rhs": ["x", "m", "x"]})
    >>> path_layers(p)
    {'x': 0, 'm': 1, 'y': 2}
    """
    preds: dict[str, set[str]] = {}
    order: list[str] = []
    for lhs, rhs in zip(paths["lhs"], paths["rhs"]):
        preds.setdefault(lhs, set()).add(rhs)
        preds.setdefault(rhs, set())
        for v in (rhs, lhs):
            if v not in order:
                order.append(v)
    layer: dict[str, int] = {}

    def visit(v: str, stack: tuple[str, ...] = ()) -> int:
        if v in layer:
            return layer[v]
        if v in stack:
            raise InputError("the structural model has a feedback loop; a path diagram by layer "
                             "needs a recursive model", value=" -> ".join((*stack, v)))
        layer[v] = 0 if not preds[v] else 1 + max(visit(p, (*stack, v)) for p in preds[v])
        return layer[v]

    for v in order:
        visit(v)
    # exogenous variables sit just before their first outcome, not all at the far left
    for v in order:
        if not preds[v]:
            outs = [layer[o] for o, ps in preds.items() if v in ps]
            if outs:
                layer[v] = max(0, min(outs) - 1) if min(outs) > 1 else 0
    return {v: layer[v] for v in order}


def path_diagram(
    params: pd.DataFrame,
    *,
    latent: set[str] | None = None,
    r2: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    standardized: bool = True,
    alpha: float = 0.05,
    lang: str = "fr",
) -> Figure:
    """Draw the structural part of a fitted model as a path diagram.

    Parameters
    ----------
    params : pandas.DataFrame
        The tidy parameter table of ``si.sem`` or ``si.pls``: ``lhs``, ``op``, ``rhs``,
        ``estimate``, ``p_value`` and, when ``standardized``, ``std_all``. Rows with
        ``op == "~"`` are the paths; ``=~`` and ``<~`` rows tell which variables are latent.
    latent : set of str, optional
        Latent variables (default: the left-hand sides of ``=~`` and ``<~`` rows).
    r2 : mapping, optional
        R² of the endogenous variables, written under them.
    labels : mapping, optional
        Variable name -> label to draw (default: the name).
    standardized : bool
        Label arrows with ``std_all`` (default) or ``estimate``.
    alpha : float
        Paths with ``p_value >= alpha`` are dashed.
    lang : {"fr", "en"}
        Language of the number format and the note.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> p = pd.DataFrame({"lhs": ["ind60", "dem65", "dem65", "ind60"], "op": ["~", "~", "~", "=~"],
    ...                   "rhs": ["x", "ind60", "x", "x1"], "estimate": [0.5, 0.4, 0.1, 1.0],
    ...                   "std_all": [0.45, 0.38, 0.08, 0.9], "p_value": [0.001, 0.02, 0.4, np.nan]})
    >>> fig = path_diagram(p, r2={"ind60": 0.2, "dem65": 0.3})
    >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("0"))
    ['0,08', '0,38*', '0,45**']
    """
    need = {"lhs", "op", "rhs", "estimate", "p_value"} | ({"std_all"} if standardized else set())
    missing = need - set(params.columns)
    if missing:
        raise InputError("the parameter table lacks columns for a path diagram",
                         value=", ".join(sorted(missing)), expected=", ".join(sorted(need)))
    paths = params.loc[params["op"] == "~"].reset_index(drop=True)
    if paths.empty:
        raise InputError("the model has no regression path (~) to draw")
    lat = set(latent) if latent is not None else \
        set(params.loc[params["op"].isin(["=~", "<~"]), "lhs"])
    labels = dict(labels or {})
    r2 = dict(r2 or {})
    loc = get_locale(lang)
    texts = figure_labels(loc.code)
    layers = path_layers(paths)
    n_layers = max(layers.values()) + 1
    by_layer: dict[int, list[str]] = {}
    for v, k in layers.items():
        by_layer.setdefault(k, []).append(v)
    tallest = max(len(v) for v in by_layer.values())
    import matplotlib as mpl

    with mpl.rc_context(_rc()):
        height = max(2.6, 1.05 * tallest + 0.9)
        fig = Figure(figsize=(FIGURE_WIDTH, height))
        ax = fig.add_axes((0, 0.1, 1, 0.9))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        box_w = min(0.19, 0.8 / n_layers)
        box_h = min(0.16, 0.55 / tallest)
        pos: dict[str, tuple[float, float]] = {}
        for k, names in by_layer.items():
            x = 0.1 + (0.8 * k / (n_layers - 1) if n_layers > 1 else 0.4)
            for i, v in enumerate(names):
                y = 0.5 if len(names) == 1 else 0.9 - 0.8 * i / (len(names) - 1)
                pos[v] = (x, y)
                text = labels.get(v, v)
                if v in lat:
                    ax.add_patch(Ellipse((x, y), box_w, box_h, facecolor="white",
                                         edgecolor="black", linewidth=1.0, zorder=2))
                else:
                    ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                                boxstyle="square,pad=0", facecolor="white",
                                                edgecolor="black", linewidth=1.0, zorder=2))
                ax.text(x, y, _wrap(text, 16), ha="center", va="center", fontsize=8, zorder=3)
                if v in r2 and np.isfinite(r2[v]):
                    ax.text(x, y - box_h / 2 - 0.03,
                            texts["path_r2"].format(v=format_number(r2[v], 2, loc, leading_zero=False)),
                            ha="center", va="top", fontsize=7, zorder=3)
        value_col = "std_all" if standardized else "estimate"
        for rec in paths.itertuples(index=False):
            (x0, y0), (x1, y1) = pos[rec.rhs], pos[rec.lhs]
            sig = np.isfinite(rec.p_value) and rec.p_value < alpha
            start = _edge((x0, y0), (x1, y1), box_w, box_h, oval=rec.rhs in lat)
            end = _edge((x1, y1), (x0, y0), box_w, box_h, oval=rec.lhs in lat)
            rad = 0.0 if layers[rec.lhs] - layers[rec.rhs] <= 1 else -0.18
            ax.add_patch(FancyArrowPatch(
                start, end, arrowstyle="-|>", mutation_scale=9, linewidth=1.0, color="black",
                linestyle="-" if sig else (0, (4, 3)), zorder=1,
                connectionstyle=f"arc3,rad={rad}",
            ))
            val = getattr(rec, value_col)
            label = format_number(val, 2, loc) + (stars_for(rec.p_value) if
                                                   np.isfinite(rec.p_value) else "")
            # the label sits on the curve's midpoint (a quadratic Bezier in display space)
            a, b = ax.transData.transform(start), ax.transData.transform(end)
            d = b - a
            ctrl = (a + b) / 2 + rad * np.array([d[1], -d[0]])
            mx, my = ax.transData.inverted().transform(0.25 * a + 0.5 * ctrl + 0.25 * b)
            ax.text(mx, my, label, ha="center", va="center", fontsize=7.5, zorder=4,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                          "edgecolor": "none"})
        fig.text(0.02, 0.03, texts["path_note" if standardized else "path_note_raw"], fontsize=7,
                 ha="left", va="bottom")
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _edge(a: tuple[float, float], b: tuple[float, float], w: float, h: float, *,
          oval: bool = False) -> tuple[float, float]:
    """Point where the segment from a to b leaves the node (box or oval of size w x h) at a."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return a
    if oval:
        s = 1.0 / np.hypot(dx / (w / 2), dy / (h / 2))
        return (a[0] + dx * min(s, 1.0), a[1] + dy * min(s, 1.0))
    sx = (w / 2) / abs(dx) if dx else np.inf
    sy = (h / 2) / abs(dy) if dy else np.inf
    s = min(sx, sy, 1.0)
    return (a[0] + dx * s, a[1] + dy * s)
