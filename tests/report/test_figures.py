"""Tests of the figures of analysis.report: structure of each figure, French/English labels, stable files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.errors import ConfigError, InputError
from analysis.report import (
    cfa_loadings_plot,
    coefficient_plot,
    funding_mix_bars,
    likert_diverging_bars,
    loadings_heatmap,
    missing_shares,
    missingness_plot,
    regional_bars,
    save_figure,
    scree_plot,
    tidy_coefficients,
)

LEVELS = ["Pas du tout d'accord", "Plutôt pas d'accord", "Neutre", "Plutôt d'accord", "Tout à fait d'accord"]


@pytest.fixture
def likert():
    rng = np.random.default_rng(3)
    rows = []
    for item in ["Gouvernance participative", "Nouveaux services", "Numérique"]:
        shares = rng.dirichlet(np.ones(5))
        rows += [{"item": item, "level": lev, "share": s} for lev, s in zip(LEVELS, shares)]
    d = pd.DataFrame(rows)
    d["level"] = pd.Categorical(d["level"], LEVELS)
    return d


def _panel_title(ax) -> str:
    return "".join(t.get_text() for t in ax.texts if t.get_gid() == "panel-title")


def _ytick_texts(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def test_likert_diverging(likert):
    fig = likert_diverging_bars(likert, title="Bloc C")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == 5 * 3
    # each item spans exactly 100 %, the neutral bar straddles zero
    rows = sorted({round(p.get_y() + p.get_height() / 2, 9) for p in ax.patches})
    assert len(rows) == 3
    for centre in rows:
        bars = [p for p in ax.patches if abs(p.get_y() + p.get_height() / 2 - centre) < 1e-6]
        assert sum(p.get_width() for p in bars) == pytest.approx(1.0)
        neutral = bars[2]
        assert neutral.get_x() == pytest.approx(-neutral.get_width() / 2)
    assert ax.get_xlabel() == "Part des répondants"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == LEVELS
    # axis shows positive percentages on both sides, with a decimal comma locale
    fig.canvas.draw()
    assert all("\u2212" not in t.get_text() for t in ax.get_xticklabels())


def test_likert_sorted_by_net_agreement():
    d = pd.DataFrame({"item": ["A"] * 2 + ["B"] * 2, "level": ["Non", "Oui"] * 2, "share": [0.9, 0.1, 0.2, 0.8]})
    ax = likert_diverging_bars(d, locale="en").axes[0]
    assert _ytick_texts(ax) == ["A", "B"]  # bottom to top: B (most agreement) on top
    assert ax.get_xlabel() == "Share of respondents"


def test_likert_errors(likert):
    with pytest.raises(InputError):
        likert_diverging_bars(likert.drop(columns="share"))
    with pytest.raises(InputError):
        likert_diverging_bars(likert, neutral="Peut-être")
    with pytest.raises(InputError):
        likert_diverging_bars(likert.iloc[0:0])


def test_scree_plot():
    e = pd.DataFrame({"position": [1, 2, 3, 4], "observed_fa": [3.0, 1.2, 0.2, 0.1],
                      "simulated_fa_quantile": [0.5, 0.3, 0.25, 0.1], "observed_pc": [3.5, 1.5, 0.8, 0.2],
                      "simulated_pc_mean": [1.3, 1.1, 0.9, 0.7]})
    fig = scree_plot(e)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Valeur propre" and ax.get_xlabel() == "Rang du facteur"
    assert ax.get_legend().get_title().get_text() == "Facteurs suggérés\u00a0: 2"
    fig_pc = scree_plot(e, kind="pc", kaiser=True, locale="en")
    assert fig_pc.axes[0].get_legend().get_title().get_text() == "Suggested factors: 2"
    with pytest.raises(ConfigError):
        scree_plot(e, kind="xx")


def test_loadings_heatmap():
    d = pd.DataFrame({"item": np.repeat(["a", "b", "c"], 2), "factor": ["F1", "F2"] * 3,
                      "loading": [0.8, 0.1, 0.7, -0.2, 0.05, 0.9]})
    fig = loadings_heatmap(d, item_labels={"a": "Item A"})
    ax = fig.axes[0]
    assert _ytick_texts(ax) == ["Item A", "b", "c"]
    texts = sorted(t.get_text() for t in ax.texts)
    assert ",80" in texts and "\u2212,20" in texts
    assert fig._supxlabel.get_text().startswith("En gras\u00a0: saturations de valeur absolue d'au moins ,30")


def test_cfa_loadings_plot():
    d = pd.DataFrame({"factor": ["F1", "F1", "F2"], "item": ["a", "b", "c"], "estimate": [0.8, 0.6, 0.75],
                      "ci_low": [0.7, 0.5, 0.65], "ci_high": [0.9, 0.7, 0.85]})
    fig = cfa_loadings_plot(d, title="AFC")
    assert [_panel_title(ax) for ax in fig.axes] == ["F1", "F2"]
    assert fig.axes[-1].get_xlabel() == "Saturation standardisée"
    assert _ytick_texts(fig.axes[0]) == ["b", "a"]  # first item on top


def test_coefficient_plot_from_results():
    class Res:
        def __init__(self, shift):
            self.coefficients = pd.DataFrame(
                {"estimate": [1.0, 0.5 + shift, -0.3], "se": [0.1] * 3, "statistic": [1] * 3, "p_value": [0.1] * 3,
                 "ci_low": [0.8, 0.3 + shift, -0.5], "ci_high": [1.2, 0.7 + shift, -0.1]},
                index=["Intercept", "x1", "x2"])

    tidy = tidy_coefficients({"M1": Res(0), "M2": Res(0.2)})
    assert list(tidy.columns[:3]) == ["model", "term", "estimate"] and len(tidy) == 6
    fig = coefficient_plot(tidy, term_labels={"x2": "Taille", "x1": "Âge"})
    ax = fig.axes[0]
    by_position = sorted(zip(ax.get_yticks(), _ytick_texts(ax)), reverse=True)
    assert [label for _, label in by_position] == ["Taille", "Âge"]  # mapping order, from the top
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["M1", "M2"]
    assert "intervalle de confiance à 95" in legend.get_title().get_text()  # the marks explained
    with pytest.raises(InputError):
        coefficient_plot(tidy[tidy.term == "Intercept"])


def test_funding_mix_bars():
    d = pd.DataFrame({"group": ["Association"] * 3 + ["Coopérative"] * 3,
                      "source": ["Public", "Dons", "Ventes"] * 2, "share": [2, 1, 1, 0.1, 0.1, 0.8]})
    ax = funding_mix_bars(d).axes[0]
    assert len(ax.patches) == 6
    ends = {}
    for p in ax.patches:
        ends[round(p.get_y(), 6)] = max(ends.get(round(p.get_y(), 6), 0), p.get_x() + p.get_width())
    assert all(v == pytest.approx(1.0) for v in ends.values())  # rescaled to 100 %
    too_many = pd.DataFrame({"group": "A", "source": [f"s{i}" for i in range(12)], "share": 1.0})
    with pytest.raises(InputError):
        funding_mix_bars(too_many)


def test_regional_bars_with_ci():
    d = pd.DataFrame({"region": ["Souss-Massa", "Oriental", "Fès-Meknès"], "value": [0.2, 0.5, 0.35],
                      "lo": [0.1, 0.4, 0.3], "hi": [0.3, 0.6, 0.4]})
    ax = regional_bars(d, percent=True, ci_low="lo", ci_high="hi").axes[0]
    assert _ytick_texts(ax) == ["Souss-Massa", "Fès-Meknès", "Oriental"]
    assert "50,0\u202f%" in [t.get_text() for t in ax.texts]
    assert ax.get_xlabel() == "Part"


def test_missingness():
    raw = pd.DataFrame({"a": [1, None, None, 4], "b": [1, 2, 3, 4], "c": [None, 2, 3, 4]})
    shares = missing_shares(raw)
    assert shares.set_index("variable")["share_missing"].to_dict() == {"a": 0.5, "b": 0.0, "c": 0.25}
    ax = missingness_plot(shares).axes[0]
    assert _ytick_texts(ax) == ["b", "c", "a"]
    assert ax.get_xlabel() == "Part de valeurs manquantes"


def test_save_figure_stable_and_atomic(tmp_path, likert):
    from PIL import Image

    fig = likert_diverging_bars(likert)
    png, pdf = save_figure(fig, tmp_path / "likert")
    assert png.name == "likert.png" and pdf.name == "likert.pdf"
    with Image.open(png) as im:
        assert round(im.info["dpi"][0]) == 300
        assert "Software" not in im.info
    first = (png.read_bytes(), pdf.read_bytes())
    save_figure(likert_diverging_bars(likert), tmp_path / "likert.png")  # a suffix is replaced
    assert (png.read_bytes(), pdf.read_bytes()) == first
    assert b"CreationDate" not in first[1] and b"ModDate" not in first[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["likert.pdf", "likert.png"]
    with pytest.raises(ConfigError):
        save_figure(fig, tmp_path / "x", formats=("gif",))


@pytest.mark.parametrize("values", [[0.43, 0.612, 0.05], [12, 300, 45], [0.004, 0.012, 0.02]])
def test_tick_labels_distinct_and_french(values):
    d = pd.DataFrame({"region": ["A", "B", "C"], "value": values})
    fig = regional_bars(d)
    fig.canvas.draw()
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    labels = [t.get_text() for t, x in zip(ax.get_xticklabels(), ax.get_xticks()) if lo <= x <= hi]
    assert len(set(labels)) == len(labels)
    assert not any("." in lab for lab in labels)


def test_figure_bytes_lays_out_once(likert):
    """The first format is what savefig alone writes; the others reuse its layout; engine restored."""
    import io

    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from analysis.report import figure_bytes

    plain = io.BytesIO()
    likert_diverging_bars(likert).savefig(plain, format="png", dpi=300, metadata={"Software": None})
    fig = likert_diverging_bars(likert)
    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)
    png, pdf = figure_bytes(fig)
    assert png == plain.getvalue()
    assert fig.get_layout_engine() is engine
    assert figure_bytes(fig) == [png, pdf]
    calls = []
    execute = engine.execute
    engine.execute = lambda f: (calls.append(1), execute(f))
    figure_bytes(fig, ("png", "pdf", "svg"))
    assert len(calls) == 1  # one layout for the three files
    with pytest.raises(ConfigError):
        figure_bytes(fig, ("png", "gif"))
    assert fig.get_layout_engine() is engine


def _bars(k: int) -> Figure:
    return regional_bars(pd.DataFrame({"region": [f"R{j}" for j in range(k)], "value": np.arange(1, k + 1)}))


def test_figure_renderer_same_bytes_with_workers():
    from analysis.report import figure_bytes
    from analysis.report._figure_render import FigureRenderer, split_by_cost

    assert split_by_cost([3, 3, 1], 3) == [[0], [1], [2]]
    assert split_by_cost([], 2) == [[], []]
    serial = [figure_bytes(_bars(k)) for k in range(2, 7)]
    for workers in (1, 2, 4):
        with FigureRenderer([_bars(k) for k in range(2, 7)], workers=workers, head_start=5) as renderer:
            assert renderer.finish() == serial


def test_figure_renderer_unpicklable_worker_error_names_the_figure():
    import multiprocessing
    import os

    from matplotlib.artist import Artist

    from analysis.errors import SiSurveyError
    from analysis.report._figure_render import FigureRenderer

    parent = os.getpid()

    class Unpicklable(Exception):
        def __init__(self, a, b):  # pickle calls Unpicklable(*args): one argument only
            super().__init__(f"{a} and {b}")

    class Boom(Artist):
        def draw(self, renderer):
            if os.getpid() != parent:
                raise Unpicklable("cannot", "travel")

    figs = [_bars(3), _bars(4)]
    for fig in figs:
        fig.add_artist(Boom())
    with pytest.raises(SiSurveyError, match=r"figure '(first|second)' could not be rendered \(in a worker "
                                            r"process\): Unpicklable: cannot and travel"):
        with FigureRenderer(figs, names=["first", "second"], workers=2) as renderer:
            renderer.finish()
    assert not multiprocessing.active_children()


# --------------------------------------------------------------------------- layout: labels and legends readable
LONG_ITEMS = [
    "Nos activités apportent des solutions qui n'existaient pas dans notre… (si_nov_01)",
    "Les besoins auxquels nous répondons sont déjà bien couverts par les s… (si_fin_04, R)",
    "Les bénéficiaires participent à la conception de nos activités. (si_par_01)",
    "D'autres organisations ont repris ou imité nos pratiques. (si_dif_01)",
    "Nos activités valorisent les ressources locales (savoir-faire, produi… (si_ter_01)",
    "Court",
    "Un libellé d'item très long, tel qu'un questionnaire peut en avoir quand la question est posée en entier "
    "avec ses exemples et ses précisions, et qui prend plusieurs lignes (q_long)",
]

FUNDING_SOURCES = ["Cotisations des membres", "Dons de particuliers", "Sponsoring et mécénat d'entreprises",
                   "Subventions publiques", "Bailleurs de fonds internationaux et coopération",
                   "Activités marchandes (ventes de biens ou services)", "Autres", "Emprunts et microcrédit"]


def _drawn_extents(fig, texts):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in texts
            if t.get_visible() and (not hasattr(t, "get_text") or t.get_text())]


def _assert_no_overlap(fig, ax):
    """Consecutive y tick labels do not intersect, stay left of the axes and inside the figure."""
    boxes = sorted(_drawn_extents(fig, ax.get_yticklabels()), key=lambda b: b.y0)
    assert len(boxes) >= 2
    for low, high in zip(boxes, boxes[1:]):
        assert low.y1 <= high.y0, f"tick labels overlap by {low.y1 - high.y0:.1f} px"
    ax_box = ax.get_window_extent(fig.canvas.get_renderer())
    fig_box = fig.bbox
    for b in boxes:
        assert b.x1 <= ax_box.x0 + 1e-6
        assert b.x0 >= fig_box.x0 - 1e-6 and b.y0 >= fig_box.y0 - 1e-6 and b.y1 <= fig_box.y1 + 1e-6


def _likert_long(items):
    rng = np.random.default_rng(7)
    rows = [{"item": it, "level": lev, "share": s}
            for it in items for lev, s in zip(LEVELS, rng.dirichlet(np.ones(5) * 3))]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("n", [len(LONG_ITEMS), 24])
def test_likert_long_labels_do_not_overlap(n):
    items = (LONG_ITEMS * 4)[:n]
    items = [f"{it} [{k}]" for k, it in enumerate(items)]  # distinct items
    fig = likert_diverging_bars(_likert_long(items), levels=LEVELS, title="Bloc C")
    ax = fig.axes[0]
    _assert_no_overlap(fig, ax)
    # the labels take at most about half the width: the bars keep the rest
    label_right = ax.get_window_extent(fig.canvas.get_renderer()).x0
    assert label_right / fig.bbox.width < 0.55
    # the legend stays below the axes, inside the figure
    legend, = _drawn_extents(fig, [ax.get_legend()])
    assert legend.y1 <= ax.get_window_extent(fig.canvas.get_renderer()).y0
    assert legend.x0 >= 0 and legend.x1 <= fig.bbox.width


def test_likert_height_grows_with_label_lines():
    short = likert_diverging_bars(_likert_long(["A", "B", "C"]), levels=LEVELS)
    long = likert_diverging_bars(_likert_long(LONG_ITEMS[-1:] * 1 + ["B", "C"]), levels=LEVELS)
    assert long.get_figheight() > short.get_figheight()


def test_funding_mix_legend_leaves_room_for_the_bars():
    d = pd.DataFrame({"group": ["Associations"] * 8 + ["Coopératives"] * 8, "source": FUNDING_SOURCES * 2,
                      "share": [0.37, 0.27, 0.03, 0.15, 0.02, 0.09, 0.06, 0.01,
                                0.1, 0.01, 0.01, 0.1, 0.01, 0.74, 0.01, 0.02]})
    for title in (None, "Financement"):
        fig = funding_mix_bars(d, title=title)
        ax = fig.axes[0]
        legend, = _drawn_extents(fig, fig.legends)
        assert ax.get_position().height >= 0.6  # the bars keep most of the height
        assert fig.legends[0]._ncols >= 2
        ax_box = ax.get_tightbbox(fig.canvas.get_renderer())  # with tick labels and x label
        assert legend.y1 <= ax_box.y0 + 1e-6
        assert legend.x0 >= 0 and legend.x1 <= fig.bbox.width and legend.y0 >= 0
        _assert_no_overlap(fig, ax)


def test_other_charts_long_labels_do_not_overlap():
    long = {k: LONG_ITEMS[-1] + f" {k}" for k in "abc"}
    figs = [
        regional_bars(pd.DataFrame({"region": list(long.values()), "value": [1, 2, 3]})),
        cfa_loadings_plot(pd.DataFrame({"factor": ["F1"] * 3, "item": list("abc"), "estimate": [0.7, 0.6, 0.8]}),
                          item_labels=long),
        coefficient_plot(pd.DataFrame({"model": "M1", "term": list("abc"), "estimate": [0.1, 0.2, 0.3],
                                       "ci_low": [0.0, 0.1, 0.2], "ci_high": [0.2, 0.3, 0.4]}), term_labels=long),
        loadings_heatmap(pd.DataFrame({"item": list("abc"), "factor": "F1", "loading": [0.7, 0.6, 0.8]}),
                         item_labels=long),
    ]
    for fig in figs:
        _assert_no_overlap(fig, fig.axes[0])


def test_no_figure_workers_inside_a_jupyter_kernel(monkeypatch):
    import sys
    import types

    from analysis.report._figure_render import default_workers

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert default_workers() == 1


# --------------------------------------------------------------------------- print: fonts, greyscale, every mark explained
def _pdf_fonts(pdf: bytes, tmp_path) -> list[tuple[str, str]]:
    """(name, type) of every font of a PDF: ``pdffonts`` when installed, else the font dictionaries."""
    import re
    import shutil
    import subprocess
    import zlib

    if shutil.which("pdffonts"):
        path = tmp_path / "fonts.pdf"
        path.write_bytes(pdf)
        lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        out = []
        for line in lines.splitlines()[2:]:
            kind = re.search(r"\s(Type 3|Type 1C?|CID TrueType|TrueType|CID Type 0C?|Type 0)\s", line)
            out.append((line.split()[0], kind.group(1) if kind else "?"))
        return out
    data = pdf
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, flags=re.S):  # object streams
        try:
            data += zlib.decompress(stream)
        except zlib.error:
            pass
    fonts = [(name.decode(), sub.decode()) for sub, name in
             re.findall(rb"/Subtype\s*/(Type0|TrueType|Type1|CIDFontType2)\b[^>]*?/BaseFont\s*/([^\s/>]+)", data)]
    return fonts + [("(Type 3 font)", "Type3")] * len(re.findall(rb"/Subtype\s*/Type3\b", data))


def test_pdf_embeds_a_times_clone_as_truetype(tmp_path, likert):
    """The tables' serif (a Times clone) is the font the PDF embeds, as TrueType (Type 42), never Type 3,
    whatever the rc settings of the caller when the figure is saved."""
    import matplotlib as mpl

    from analysis.report import figure_bytes
    from analysis.report._figure_style import SERIF_FAMILIES, _serif_fonts

    if _serif_fonts()[0] not in SERIF_FAMILIES[:4]:
        pytest.skip("no Times clone installed (Debian: fonts-liberation or fonts-texgyre)")
    fig = likert_diverging_bars(likert, title="Bloc C")
    with mpl.rc_context({"font.family": "sans-serif", "pdf.fonttype": 3}):  # a caller's settings
        _, pdf = figure_bytes(fig)
    fonts = _pdf_fonts(pdf, tmp_path)
    assert fonts
    assert not [f for f in fonts if "3" in f[1]], fonts
    compact = _serif_fonts()[0].replace(" ", "")
    assert all(compact in name for name, _ in fonts), fonts
    assert not any("DejaVu" in name for name, _ in fonts)


def _patch_grey(fig, patch) -> float:
    """Median grey level (0-255) of a bar once the figure is printed in greyscale."""
    from PIL import Image

    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    grey = np.asarray(Image.fromarray(rgba[..., :3]).convert("L"), dtype=float)
    box = patch.get_window_extent(fig.canvas.get_renderer())
    h = grey.shape[0]
    x0, x1 = int(np.ceil(box.x0)) + 1, int(np.floor(box.x1)) - 1
    y0, y1 = h - int(np.floor(box.y1)) + 1, h - int(np.ceil(box.y0)) - 1
    return float(np.median(grey[y0:y1, x0:x1]))


def test_likert_survives_greyscale_printing():
    d = pd.DataFrame({"item": "A", "level": LEVELS, "share": [0.2] * 5})
    fig = likert_diverging_bars(d, levels=LEVELS)
    ax = fig.axes[0]
    greys = [_patch_grey(fig, p) for p in sorted(ax.patches, key=lambda p: p.get_x())]
    assert len(greys) == 5
    steps = np.abs(np.diff(greys))
    assert steps.min() >= 25, greys  # adjacent answers differ in lightness
    assert min(abs(a - b) for i, a in enumerate(greys) for b in greys[i + 1:]) >= 20, greys  # all of them
    assert [bool(p.get_hatch()) for p in sorted(ax.patches, key=lambda p: p.get_x())] == [True, True, False,
                                                                                          False, False]


def test_likert_one_panel_and_legend_per_scale_with_n():
    agree = ["Pas d'accord", "Plutôt pas", "Neutre", "Plutôt d'accord", "D'accord"]
    impact = ["Aucun", "Faible", "Moyen", "Fort", "Très fort"]
    rows = []
    for item, scale, levels, n in (("Domaine 1", "impact5", impact, 975), ("Domaine 2", "impact5", impact, 980),
                                   ("Changement", "agree5", agree, 1002)):
        rows += [{"item": item, "level": lev, "share": 0.2, "scale": scale, "n": n} for lev in levels]
    fig = likert_diverging_bars(pd.DataFrame(rows), levels={"impact5": impact, "agree5": agree}, scale="scale",
                                n="n", scale_titles={"impact5": "Impact par domaine"}, title="Impact perçu")
    bars = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert len(bars) == 2
    assert [t.get_text() for t in bars[0].get_legend().get_texts()] == impact
    assert [t.get_text() for t in bars[1].get_legend().get_texts()] == agree
    assert sorted(_ytick_texts(bars[0])) == ["Domaine 1", "Domaine 2"] and _ytick_texts(bars[1]) == ["Changement"]
    assert _panel_title(bars[0]) == "Impact par domaine"
    n_texts = [t for ax in fig.axes if ax.get_legend() is None for t in _ytick_texts(ax)]
    assert sorted(n_texts) == ["n = 1\u202f002", "n = 975", "n = 980"]
    _assert_no_overlap(fig, bars[0])


def test_coefficient_plot_one_panel_per_outcome_with_model_names():
    d = pd.DataFrame({"model": ["m1", "m1", "m2", "m3"], "term": ["x", "z", "x", "w"],
                      "estimate": [0.5, 0.1, 0.4, -0.2], "ci_low": [0.3, -0.1, 0.2, -0.4],
                      "ci_high": [0.7, 0.3, 0.6, 0.0],
                      "outcome": ["Impact", "Impact", "Impact", "Présence"]})
    fig = coefficient_plot(d, outcome="outcome", model_labels={"m1": "Modèle (1), H1", "m2": "Modèle (2), H1 bis",
                                                               "m3": "Modèle (3), H2"})
    assert [_panel_title(ax) for ax in fig.axes] == ["Impact", "Présence"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Modèle (1), H1", "Modèle (2), H1 bis",
                                                                  "Modèle (3), H2"]
    assert _ytick_texts(fig.axes[1]) == ["w"]


def test_regional_bars_draw_the_promised_intervals_and_n():
    d = pd.DataFrame({"region": ["Oriental", "Souss-Massa"], "value": [0.3, 0.2], "lo": [0.25, 0.1],
                      "hi": [0.35, 0.3], "n": [83, 121]})
    fig = regional_bars(d, ci_low="lo", ci_high="hi", n="n")
    ax = fig.axes[0]
    (bars,) = [c for c in ax.containers if hasattr(c, "has_xerr") and c.has_xerr]
    segments = bars.lines[2][0].get_segments()
    assert sorted((round(s[0][0], 6), round(s[1][0], 6)) for s in segments) == [(0.1, 0.3), (0.25, 0.35)]
    assert _ytick_texts(fig.axes[1]) == ["n = 121", "n = 83"]  # bottom to top, as the regions
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["Moyenne", "Intervalle de confiance à 95\u00a0% de la moyenne"]


def test_panel_titles_stay_inside_the_figure():
    title = "Changement des comportements et de la communauté, un titre de panneau assez long"
    d = pd.DataFrame({"factor": [title, title, "F2"], "item": ["a", "b", "c"], "estimate": [0.8, 0.6, 0.7]})
    long = {k: LONG_ITEMS[-1] + f" {k}" for k in "abc"}
    fig = cfa_loadings_plot(d, item_labels=long)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        (text,) = [t for t in ax.texts if t.get_gid() == "panel-title"]
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
        assert box.y0 >= ax.get_window_extent(renderer).y1  # above its panel


def test_cfa_loadings_show_wordings_and_explain_the_threshold():
    long = "Les bénéficiaires participent aux décisions importantes de l'organisation, y compris budgétaires"
    d = pd.DataFrame({"factor": ["F1", "F1"], "item": ["a", "b"], "estimate": [0.8, 0.6],
                      "ci_low": [0.7, 0.5], "ci_high": [0.9, 0.7]})
    fig = cfa_loadings_plot(d, item_labels={"a": long + " (a)", "b": "Court (b)"})
    labels = _ytick_texts(fig.axes[0])
    assert labels[1].replace("\n", " ") == long + " (a)"  # whole, broken between words only
    assert all(len(line) > 0 and "…" not in line for line in labels[1].split("\n"))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["Estimation", "IC à 95\u00a0%", "Seuil usuel (,70)"]
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[-1].get_xticklabels() if t.get_text()]
    assert "0" in ticks and ",4" in ticks and "1,0" in ticks  # loadings: no leading zero, as in the tables


def test_reverse_mark_never_wrapped_alone():
    from analysis.report._figure_style import _wrap_to_width

    label = "Le départ d'une ou deux personnes clés mettrait nos activités en danger. (ic_hr_03,\u00a0R)"
    for width in (1.5, 2.0, 2.5, 3.0, 3.5):
        (wrapped,) = _wrap_to_width([label], width, 8)
        assert all(line not in ("R)", "\u00a0R)") for line in wrapped.split("\n"))
        assert "(ic_hr_03,\u00a0R)" in wrapped


def test_scree_plot_explains_every_mark():
    e = pd.DataFrame({"position": [1, 2, 3, 4], "observed_pc": [3.5, 1.5, 0.8, 0.2],
                      "simulated_pc_mean": [1.3, 1.1, 0.9, 0.7]})
    ax = scree_plot(e, kind="pc", kaiser=True).axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["Données observées", "Données simulées (analyse parallèle)", "Critère de Kaiser (1)",
                     "Facteurs retenus"]
    assert len(ax.get_legend().legend_handles) == len(ax.get_lines())  # every line drawn is in the legend


def test_funding_sources_distinct_in_greyscale():
    """Two sources never print alike: their grey levels differ, or their hatchings do."""
    from matplotlib.colors import to_hex

    from analysis.report._figure_style import _luma

    d = pd.DataFrame({"group": "Associations", "source": FUNDING_SOURCES, "share": 1.0})
    ax = funding_mix_bars(d).axes[0]
    looks = [(_luma(to_hex(p.get_facecolor())), p.get_hatch() or "") for p in ax.patches]
    assert len(looks) == len(FUNDING_SOURCES)
    for i, (grey_a, hatch_a) in enumerate(looks):
        for grey_b, hatch_b in looks[i + 1:]:
            assert hatch_a != hatch_b or abs(grey_a - grey_b) >= 40, looks
