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


def _ytick_texts(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def test_likert_diverging(likert):
    fig = likert_diverging_bars(likert, title="Bloc C")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == 5 * 3
    # each item spans exactly 100 %, the neutral bar straddles zero
    for k in range(3):
        bars = [p for p in ax.patches if abs(p.get_y() + p.get_height() / 2 - k) < 1e-9]
        assert sum(p.get_width() for p in bars) == pytest.approx(1.0)
        neutral = bars[2]
        assert neutral.get_x() == pytest.approx(-neutral.get_width() / 2)
    assert ax.get_xlabel() == "Part des répondants"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == LEVELS
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


def test_cfa_loadings_plot():
    d = pd.DataFrame({"factor": ["F1", "F1", "F2"], "item": ["a", "b", "c"], "estimate": [0.8, 0.6, 0.75],
                      "ci_low": [0.7, 0.5, 0.65], "ci_high": [0.9, 0.7, 0.85]})
    fig = cfa_loadings_plot(d, title="AFC")
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["F1", "F2"]
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
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["M1", "M2"]
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
    legend, = _drawn_extents(fig, fig.legends)
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
