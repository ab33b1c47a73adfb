"""Common style, layout and saving of the thesis figures (matplotlib), French labels by default.

Each figure function (one module per family: ``_figure_likert``, ``_figure_factor``,
``_figure_coefficients``, ``_figure_funding``, ``_figure_missing``) takes a tidy
DataFrame (one row per plotted value, column names given as keyword arguments with
sensible defaults) and returns a :class:`matplotlib.figure.Figure`; nothing is shown
and no global pyplot state is used (figures are drawn with the Agg canvas).
:func:`save_figure` writes a 300-dpi PNG and a PDF atomically, without dates in
their metadata, so that the same data give byte-identical files.

Numbers on axes follow the locale (``0,5`` and ``20 %`` in French).

For print: the texts are set in the tables' serif, a Times metric clone from Debian
(:data:`SERIF_FAMILIES`: Liberation Serif, else TeX Gyre Termes), named as a concrete family so
that the saved file uses it whatever the rc settings at save time; :func:`figure_bytes` embeds
it as TrueType (Type 42), never Type 3. Ordered scales keep distinct grey levels (and the
disagreement side is hatched), unordered stacks combine colours and hatchings.

Examples
--------
>>> import pandas as pd
>>> from analysis.report import regional_bars
>>> fig = regional_bars(pd.DataFrame({"region": ["Souss-Massa", "Oriental"], "value": [12, 30]}))
>>> fig.axes[0].get_xlabel()
'Effectif'
"""

from __future__ import annotations

import functools
import io
import math
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from analysis.errors import ConfigError, InputError
from analysis.tables.formatting import Locale, format_number, get_locale
from analysis.utils.atomic import atomic_write_bytes

__all__ = ["FIGURE_WIDTH", "SERIF_FAMILIES", "figure_bytes", "save_figure"]

#: Width of a figure in inches (a thesis text block of about 16 cm).
FIGURE_WIDTH = 6.3

#: Largest share of the figure width given to the item labels of a Likert chart.
_LABEL_SHARE = 0.45

#: Colour-blind-safe qualitative palette (Okabe & Ito).
_QUALITATIVE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]

#: Palette of the stacked bars of unordered categories (funding sources), with a hatch each, so
#: that every category stays distinct once printed in greyscale: the plain colours have grey
#: levels at least 50 apart (blue 87, orange 162, yellow 213),
#: the colours of similar grey levels carry different hatchings.
_PRINT_PALETTE = ["#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#F0E442", "#CC79A7", "#4D4D4D"]
_PRINT_HATCHES = ["", "", "//", "..", "\\\\", "", "xx", "--"]

#: The serif families of the figures, in order of preference: Times metric clones from Debian
#: (``fonts-liberation``, ``fonts-texgyre``), the same design as the tables' Times New Roman.
SERIF_FAMILIES = ("Liberation Serif", "TeX Gyre Termes", "Times New Roman", "Nimbus Roman", "DejaVu Serif")


def _serif_fonts() -> list[str]:
    """The installed families of :data:`SERIF_FAMILIES` (DejaVu Serif, shipped with matplotlib, last)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in SERIF_FAMILIES if f in installed] or ["DejaVu Serif"]


def _rc() -> dict[str, object]:
    """The rc settings of every figure, when it is built and when it is saved (:func:`figure_bytes`).

    ``font.family`` names the concrete family (not the generic ``serif``), so that every text keeps
    it whatever the rc settings when the figure is drawn; fonts are embedded as TrueType (Type 42)
    in PDF and PostScript, never as Type 3.
    """
    serif = _serif_fonts()
    return {
        "font.family": serif,
        "font.serif": serif,
        "mathtext.fontset": "custom",
        "mathtext.rm": serif[0],
        "mathtext.it": f"{serif[0]}:italic",
        "mathtext.bf": f"{serif[0]}:bold",
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
        "ps.fonttype": 42,
        "hatch.linewidth": 0.6,
        "svg.fonttype": "path",
        "svg.hashsalt": "si-survey",
    }


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _texts(locale: str | Locale) -> tuple[Locale, dict[str, str]]:
    """The locale and the words of the figures (``figures.labels`` of ``texts/<lang>.yaml``)."""
    loc = get_locale(locale)
    return loc, figure_labels(loc.code)


def figure_labels(lang: str) -> dict[str, str]:
    """The words drawn in the figures (axes, legends, notes), from ``texts/<lang>.yaml``: the one
    place the report's fixed texts live (read once per language and questionnaire folder)."""
    from analysis import config

    return dict(_figure_labels(lang, str(config.QUESTIONNAIRE_DIR)))


@functools.lru_cache(maxsize=8)
def _figure_labels(lang: str, folder: str) -> dict[str, str]:
    from analysis.report._texts import load_texts

    return load_texts(lang, folder).section("figures.labels")


class _LocaleFormatter(Formatter):
    """Tick labels in the locale, with just enough decimals to tell the ticks apart."""

    def __init__(self, loc: Locale, decimals: int | None, percent: bool, absolute: bool,
                 leading_zero: bool = True):
        self.loc, self.fixed, self.percent, self.absolute = loc, decimals, percent, absolute
        self.leading_zero = leading_zero
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
        if value == 0:
            return "0"
        return format_number(value, self.decimals, self.loc, leading_zero=self.leading_zero or abs(value) >= 1)


def _number_axis(
    axis, loc: Locale, decimals: int | None = None, *, percent: bool = False, absolute: bool = False,
    leading_zero: bool = True,
) -> None:
    """Locale-aware tick labels (``0,5``, ``20 %``); decimals chosen from the ticks by default.

    ``leading_zero=False`` for values bounded by 1 (loadings, correlations: ``,5``, APA style, as the tables).
    """
    axis.set_major_formatter(_LocaleFormatter(loc, decimals, percent, absolute, leading_zero))


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


def _luma(colour: str) -> float:
    """Grey level (0-255) of a colour once printed in greyscale (ITU-R 601 luma, as Pillow's ``L`` mode)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return 255 * (0.299 * r + 0.587 * g + 0.114 * b)


def _colour_of_luma(cmap_name: str, target: float) -> str:
    """The colour of a sequential colormap whose grey level is closest to ``target`` (0-255)."""
    from matplotlib.colors import to_hex

    cmap = mpl.colormaps[cmap_name]
    samples = [to_hex(cmap(x)) for x in np.linspace(0.0, 1.0, 257)]
    return min(samples, key=lambda c: abs(_luma(c) - target))


def _diverging_colours(n: int, neutral: bool) -> list[str]:
    """Colours of an ordered scale, disagreement (reds) to agreement (blues), neutral in light grey.

    Chosen by their grey level so that the scale survives greyscale printing: every point
    differs from its neighbours and from the others by a clear step (disagreement from
    about 95 to 185 of 255, agreement from 155 to 60, the strongest points darkest, the
    neutral point 220); the disagreement side is also hatched (:func:`_hatches`).

    Examples
    --------
    >>> [round(_luma(c)) for c in _diverging_colours(5, True)]
    [95, 185, 220, 155, 60]
    """
    k = n // 2
    neg = np.linspace(95, 185, k) if k > 1 else np.array([140.0] * k)
    pos = np.linspace(155, 60, k) if k > 1 else np.array([70.0] * k)
    colours = [_colour_of_luma("Reds", t) for t in neg]
    if neutral:
        colours.append("#DCDCDC")  # luma 220
    colours += [_colour_of_luma("Blues", t) for t in pos]
    return colours


def _hatches(n: int, neutral: bool) -> list[str]:
    """Hatching of an ordered scale: the disagreement side hatched, so that it never reads as agreement in grey."""
    k = n // 2
    return ["////"] * k + [""] * (n - k)


def _wrap(label: object, width: int = 38) -> str:
    """Break a long axis label over lines (at most `width` characters each)."""
    return "\n".join(textwrap.wrap(str(label), width, break_long_words=False)) or str(label)


_MEASURE: list = []


def _text_width(text: str, size: float) -> float:
    """Width in inches of one line of text at `size` points, in the serif font the text will be drawn in.

    The figures' texts name the concrete family of :func:`_rc` (``font.family``), the one measured here.
    """
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    if not _MEASURE:
        _MEASURE.append(RendererAgg(1, 1, 72))  # 72 dpi: pixels are points
    width = _MEASURE[0].get_text_width_height_descent(text, FontProperties(family=_serif_fonts(), size=size),
                                                      ismath=False)[0]
    return width / 72


def _wrap_to_width(labels: Sequence[object], max_width: float, size: float) -> list[str]:
    """Break labels into lines at most `max_width` inches wide (a word longer than that keeps its line).

    The width actually used is the narrowest (down to 60 % of `max_width`) at which no label
    takes more lines than at `max_width`: the lines are balanced and the bars keep the rest.
    """
    texts = [str(x) for x in labels]
    words = [[w for w in t.split(" ") if w] for t in texts]  # a no-break space keeps its words together
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


def _panel_title(fig, ax, text: str, **kwargs) -> None:
    """Title of a panel, from the left edge of the figure (over the item labels), just above the axes.

    A title left-aligned on the axes would run off the figure when the labels take half the
    width; this one has the whole width. Constrained layout keeps room for it above the axes.
    """
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    transform = blended_transform_factory(fig.transFigure, ax.transAxes) + ScaledTranslation(
        4 / 72, 5 / 72, fig.dpi_scale_trans)
    ax.text(0.0, 1.0, text, transform=transform, ha="left", va="bottom", gid="panel-title",
            **{"fontsize": 9, **kwargs})


def _row_positions(labels: Sequence[str], minimum: float, size: float = 8.0) -> tuple[np.ndarray, float]:
    """Centres of the rows of a bar or dot chart, in inches from the bottom, each row as tall as its
    own label needs (at least ``minimum``); the first label at the bottom. Returns the centres and
    the total height: a label of three lines no longer spreads every row."""
    heights = np.array([max(minimum, ((str(x).count("\n") + 1) * 1.2 * size + 3) / 72) for x in labels])
    tops = np.cumsum(heights)
    return tops - heights / 2, float(tops[-1]) if len(tops) else 0.0


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



def _stacked_barh(ax, y, parts, colours, labels, start, height, min_label, loc, hatches=None) -> None:
    """Stacked horizontal bars, one segment per part, each share >= ``min_label`` written inside (in %).

    ``hatches``: a hatch pattern per part (drawn in white, so that the figures stay legible in grey).
    """
    hatches = list(hatches) if hatches is not None else [""] * len(colours)
    for values, colour, label, hatch in zip(parts, colours, labels, hatches):
        ax.barh(y, values, left=start, height=height, color=colour, edgecolor="white", linewidth=0.5, label=label,
                hatch=hatch or None)
        for yi, x0, w in zip(y, start, values):
            if w >= min_label:
                ax.text(x0 + w / 2, yi, format_number(w * 100, 0, loc), ha="center", va="center",
                        fontsize=7, color=_text_colour(colour))
        start = start + values


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
    >>> from analysis.report import regional_bars
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
            with mpl.rc_context(_rc()):  # the fonts and their embedding (Type 42), whatever the caller's rc
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
    >>> from analysis.report import regional_bars
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
