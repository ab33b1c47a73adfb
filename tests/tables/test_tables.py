"""Tests of the table builder, number formatting, model tables and small-cell suppression."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import ConfigError, InputError
from analysis.tables.builder import Table
from analysis.tables.formatting import (
    format_integer,
    format_number,
    format_percent,
    format_pvalue,
    get_locale,
    stars_for,
    stars_legend,
)
from analysis.tables.model_table import model_table
from analysis.tables.suppression import suppress_small_cells

NNBSP = "\u202f"
MINUS = "\u2212"


# ----------------------------------------------------------------------------- formatting
class TestFormatting:
    def test_french_number(self):
        assert format_number(1234567.891, 2) == f"1{NNBSP}234{NNBSP}567,89"
        assert format_number(-0.5, 1) == f"{MINUS}0,5"
        assert format_number(0.125, 2) == "0,13"  # half away from zero, not banker's
        assert format_number(2.675, 2) == "2,68"  # no binary artefact

    def test_english_number(self):
        assert format_number(1234567.891, 2, "en") == "1,234,567.89"
        assert format_integer(999.6, "en") == "1,000"

    def test_negative_zero_has_no_sign(self):
        assert format_number(-0.001, 2) == "0,00"

    def test_missing(self):
        assert format_number(float("nan")) == "\u2014"
        assert format_number(None) == "\u2014"
        assert format_percent(pd.NA) == "\u2014"

    def test_percent(self):
        assert format_percent(0.1234) == f"12,3{NNBSP}%"
        assert format_percent(0.1234, 0, "en") == "12%"
        assert format_percent(45.0, 1, scale_values=False) == f"45,0{NNBSP}%"

    @pytest.mark.parametrize(
        ("p", "fr", "en"),
        [(0.0001, "< ,001", "< .001"), (0.0312, ",031", ".031"), (0.5, ",500", ".500"),
         (0.9999, "1,000", "1.000"), (0.001, ",001", ".001")],
    )
    def test_pvalue_apa(self, p, fr, en):
        assert format_pvalue(p) == fr
        assert format_pvalue(p, locale="en") == en

    def test_stars(self):
        assert [stars_for(p) for p in (0.5, 0.049, 0.009, 0.0009, np.nan)] == ["", "*", "**", "***", ""]
        assert stars_legend((0.1, 0.05)) == "*p < ,10. **p < ,05."
        with pytest.raises(ConfigError):
            stars_for(0.1, (0.01, 0.05))

    def test_unknown_locale(self):
        with pytest.raises(ConfigError):
            get_locale("de")

    @settings(max_examples=200, deadline=None)
    @given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 4))
    def test_roundtrip_en(self, x, d):
        text = format_number(x, d, "en").replace(",", "").replace(MINUS, "-")
        assert abs(float(text) - x) <= 0.5 * 10**-d + 1e-9 * max(1, abs(x))

    @settings(max_examples=200, deadline=None)
    @given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 4))
    def test_fr_is_en_with_other_marks(self, x, d):
        fr = format_number(x, d, "fr")
        en = format_number(x, d, "en")
        assert fr == en.replace(",", NNBSP).replace(".", ",")


# ----------------------------------------------------------------------------- builder
@pytest.fixture
def df():
    return pd.DataFrame(
        {
            "bloc": ["G", "G", "F"],
            "item": ["a", "b", "c"],
            "n": [1200, 30, 4],
            "share": [0.5, 0.25, 0.125],
            "b": [0.1234, -1.5, np.nan],
            "p": [0.0001, 0.02, 0.5],
        }
    )


class TestBuilder:
    def test_immutable(self, df):
        t = Table(df)
        t2 = t.fmt_number("b", 1).tab_header("Titre")
        assert t.title is None and t.formats == ()
        assert t2 is not t and t2.title == "Titre"
        with pytest.raises(AttributeError):
            t.title = "x"  # type: ignore[misc]

    def test_input_frame_copied(self, df):
        t = Table(df)
        df.loc[0, "n"] = -1
        assert t.data.loc[0, "n"] == 1200

    def test_full_render(self, df):
        t = (
            Table(df)
            .tab_stub("item", groupname_col="bloc")
            .tab_spanner("Effectifs", ["n", "share"])
            .cols_label({"item": "Item", "share": "%"})
            .fmt_integer("n")
            .fmt_percent("share")
            .fmt_number("b", 2)
            .fmt_stars("p", "b")
            .cols_hide("p")
            .tab_note("Une note.")
            .tab_source("Enquête.")
        )
        r = t.render()
        assert r.column_labels == ("Item", "n", "%", "b")
        assert [s.label for s in r.sections] == ["G", "F"]
        assert r.body_text()[0] == ["a", f"1{NNBSP}200", f"50,0{NNBSP}%", "0,12***"]
        assert r.body_text()[2][-1] == "\u2014"
        assert r.spanner_rows[0][0].start == 1 and r.spanner_rows[0][0].stop == 3
        assert [n.lead for n in r.notes] == ["Note.", None, "Source\u00a0:"]
        assert r.alignments == ("l", "r", "r", "r")

    def test_locale_switch_keeps_spec(self, df):
        t = Table(df).fmt_percent("share").tab_note("x").sub_missing("n.d.")
        r = t.with_locale("en").render()
        assert r.body_text()[0][3] == "50.0%"
        assert r.body_text()[2][4] == "n.d."

    def test_row_groups_by_position_and_stub(self, df):
        t = Table(df.drop(columns="bloc")).tab_stub("item").tab_row_group("Fin", ["c"])
        r = t.render()
        assert [(s.label, len(s.rows)) for s in r.sections] == [(None, 2), ("Fin", 1)]
        with pytest.raises(ConfigError):
            t.tab_row_group("Encore", [2])
        with pytest.raises(InputError):
            t.tab_row_group("X", ["zzz"])

    def test_bad_column_is_input_error(self, df):
        with pytest.raises(InputError) as err:
            Table(df).fmt_number("nope")
        assert err.value.column == "nope"

    def test_spanner_errors(self, df):
        t = Table(df).tab_spanner("A", ["n", "share"])
        with pytest.raises(ConfigError):
            t.tab_spanner("B", ["share", "b"])
        with pytest.raises(ConfigError):
            Table(df).tab_spanner("C", ["n", "b"]).render()  # not adjacent

    def test_stars_default_column(self, df):
        r = Table(df[["b", "p"]]).fmt_stars("p").render()
        assert r.body_text()[0][0].endswith("***")
        assert r.notes[-1].text.startswith("*p")

    def test_multiindex_rejected(self):
        frame = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")]))
        with pytest.raises(InputError):
            Table(frame)

    def test_to_frame(self, df):
        out = Table(df).tab_stub("item", groupname_col="bloc").to_frame()
        assert list(out.columns[:2]) == ["group", "item"]

    def test_empty_note_ignored(self, df):
        assert Table(df).tab_note("  ").notes == ()


# ----------------------------------------------------------------------------- model table
@dataclass(frozen=True)
class FakeResult:
    """Stand-in with the interface of analysis.regression.RegressionResult."""

    coefficients: pd.DataFrame
    fit: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


def _coefs(terms, est, se, p):
    est, se = np.asarray(est, float), np.asarray(se, float)
    return pd.DataFrame(
        {"estimate": est, "se": se, "statistic": est / se, "p_value": p,
         "ci_low": est - 1.96 * se, "ci_high": est + 1.96 * se},
        index=pd.Index(terms, name="term"),
    )


@pytest.fixture
def models():
    ols = FakeResult(
        _coefs(["Intercept", "x1", "x2"], [1.0, 0.5, -0.25], [0.2, 0.1, 0.2], [0.0001, 0.004, 0.21]),
        pd.Series({"n": 1200, "r2": 0.2345, "adj_r2": 0.23, "aic": 100.0, "bic": 110.0, "llf": -48.0}),
    )
    logit = FakeResult(
        _coefs(["Intercept", "x1"], [-2.0, 0.8], [0.5, 0.3], [0.0001, 0.011]),
        pd.Series({"n": 900, "pseudo_r2": 0.11, "aic": 80.0, "bic": 90.0}),
    )
    return {"MCO": ols, "Logit": logit}


class TestModelTable:
    def test_layout(self, models):
        r = model_table(models, coef_labels={"x1": "Âge", "x2": "Taille"}).render()
        body = r.body_text()
        assert r.column_labels == ("Variable", "MCO", "Logit")
        assert body[0] == ["Âge", "0,50**", "0,80*"]
        assert body[1] == ["", "(0,10)", "(0,30)"]
        assert body[2] == ["Taille", f"{MINUS}0,25", ""]
        assert body[4][0] == "Constante"
        fit = [row[0] for row in body[6:]]
        assert fit == ["N", "R²", "R² ajusté", "Pseudo-R² de McFadden", "AIC", "BIC"]
        assert body[6] == ["N", f"1{NNBSP}200", "900"]
        assert body[7] == ["R²", ",235", ""]  # APA: bounded by 1, no leading zero
        assert r.sections[-1].label == ""  # rule above fit rows
        texts = [n.text for n in r.notes]
        assert "Erreurs types entre parenthèses." in texts[0]
        assert texts[-1].startswith("*p < ,05")

    def test_ci_and_english(self, models):
        r = model_table(models, stat="ci", stars=False, locale="en", fit_rows=("n",)).with_locale("en").render()
        assert r.body_text()[1][1] == "[0.61, 1.39]"
        assert all(n.lead is not None for n in r.notes)  # no star legend
        assert r.body_text()[0][1] == "1.00"

    def test_drops_empty_fit_rows_and_omits(self, models):
        r = model_table({"A": models["MCO"]}, coef_omit=["x2"]).render()
        labels = [row[0] for row in r.body_text()]
        assert "Pseudo-R² de McFadden" not in labels and "Taille" not in labels and "x2" not in labels

    def test_reference_notes(self, models):
        r = model_table(models, reference_notes={"Forme juridique": "association"}).render()
        assert "Forme juridique = association" in r.notes[0].text

    def test_errors(self, models):
        with pytest.raises(ConfigError):
            model_table(models, stat="t")
        with pytest.raises(ConfigError):
            model_table({})
        with pytest.raises(ConfigError):
            model_table(models, fit_rows=("rmse",))
        with pytest.raises(InputError):
            model_table({"bad": object()})
        bad = FakeResult(pd.DataFrame({"estimate": [1.0]}, index=["x"]))
        with pytest.raises(InputError):
            model_table({"bad": bad})


# ----------------------------------------------------------------------------- suppression
def _published_counts(frame, cols, marker="s"):
    vals = frame[cols].to_numpy().ravel()
    return [v for v in vals if not (isinstance(v, str) and v == marker)]


def _recoverable(original, frame, cols, marker="s"):
    """A hidden cell alone in its row or column (totals known) can be recovered."""
    hidden = (frame[cols] == marker).to_numpy()
    rows = hidden.sum(axis=1)
    colsum = hidden.sum(axis=0)
    return bool(((rows == 1) & (hidden.shape[1] > 1)).any() or ((colsum == 1) & (hidden.shape[0] > 1)).any())


class TestSuppression:
    def test_primary_and_complementary(self):
        df = pd.DataFrame(
            {"region": ["A", "B", "C", "Total"], "assoc": [12, 3, 20, 35], "coop": [8, 9, 15, 32],
             "total": [20, 12, 35, 67]}
        )
        frame, note = suppress_small_cells(df, ["assoc", "coop", "total"])
        assert frame.loc[1, "assoc"] == "s"
        assert all(v >= 5 for v in _published_counts(frame, ["assoc", "coop", "total"]))
        assert not _recoverable(df, frame, ["assoc", "coop", "total"])
        assert "inférieurs à 5" in note and "autre" in note
        assert df.loc[1, "assoc"] == 3  # input untouched

    def test_percentages_follow(self):
        df = pd.DataFrame({"n": [2, 50, 48], "pct": [0.02, 0.5, 0.48]})
        frame, note = suppress_small_cells(df, "n", percent_columns={"n": "pct"})
        hidden_n = frame["n"] == "s"
        assert (hidden_n == (frame["pct"] == "s")).all()
        assert hidden_n.sum() == 2
        assert "pourcentages" in note

    def test_nothing_to_hide(self):
        df = pd.DataFrame({"n": [10, 20]})
        frame, note = suppress_small_cells(df, "n")
        assert note == "" and frame["n"].tolist() == [10, 20]

    def test_keep_zeros_and_english(self):
        df = pd.DataFrame({"a": [0, 10, 12], "b": [7, 9, 3], "c": [20, 30, 40]})
        frame, note = suppress_small_cells(df, ["a", "b", "c"], keep_zeros=True, locale="en")
        assert frame.loc[0, "a"] == 0 and note.startswith("Counts below 5")

    def test_errors(self):
        df = pd.DataFrame({"n": [1, 2], "t": ["x", "y"]})
        with pytest.raises(InputError):
            suppress_small_cells(df, "nope")
        with pytest.raises(InputError):
            suppress_small_cells(df, "t")
        with pytest.raises(ConfigError):
            suppress_small_cells(df, "n", threshold=0)
        with pytest.raises(ConfigError):
            suppress_small_cells(df, "n", complementary="diagonal")

    @settings(max_examples=150, deadline=None)
    @given(
        st.integers(1, 6).flatmap(
            lambda ncol: st.lists(st.lists(st.integers(0, 40), min_size=ncol, max_size=ncol), min_size=1, max_size=7)
        ),
        st.integers(1, 10),
    )
    def test_no_small_count_published_and_not_recoverable(self, rows, threshold):
        df = pd.DataFrame(rows, columns=[f"c{j}" for j in range(len(rows[0]))])
        cols = list(df.columns)
        frame, _ = suppress_small_cells(df, cols, threshold=threshold)
        assert all(v >= threshold for v in _published_counts(frame, cols))
        hidden = (frame[cols] == "s").to_numpy()
        if hidden.sum() and hidden.size > 1:
            # a line with a single hidden cell is allowed only if nothing else can be hidden in it
            for axis in (0, 1):
                counts = hidden.sum(axis=axis)
                length = hidden.shape[axis]
                assert not ((counts == 1) & (length > 1)).any()


# ----------------------------------------------------------------------------- integration
def test_suppressed_frame_renders_with_marker():
    df = pd.DataFrame({"region": ["A", "B", "C"], "n_assoc": [12, 3, 20], "n_coop": [8, 9, 15],
                       "pct": [0.6, 0.25, 0.57]})
    frame, note = suppress_small_cells(df, ["n_assoc", "n_coop"], percent_columns={"n_assoc": "pct"})
    t = Table(frame).tab_stub("region").fmt_integer(["n_assoc", "n_coop"]).fmt_percent("pct").tab_note(note)
    r = t.render()
    assert r.body_text()[1] == ["B", "s", "s", "s"]
    assert r.alignments == ("l", "r", "r", "r")  # the marker keeps number alignment
    assert r.notes[0].text.startswith("Les effectifs inférieurs à 5")


def test_empty_table_renders_header_only():
    r = Table(pd.DataFrame({"a": pd.Series([], dtype=float)})).render()
    assert r.n_body_rows == 0 and r.column_labels == ("a",)


def test_repr_and_html_repr(df):
    t = Table(df).tab_header("Titre", number=2)
    assert "Tableau 2. Titre" in repr(t)
    assert "<table>" in t._repr_html_()


def test_french_typography_on_texts_only_in_french():
    t = Table(pd.DataFrame({"q": ["Oui ; non"]})).tab_header("Titre : sous-titre")
    assert t.render().title == "Titre\u00a0: sous-titre"
    assert t.render().body_text() == [["Oui\u202f; non"]]
    assert t.with_locale("en").render().title == "Titre : sous-titre"


def test_model_table_ordinal_cut_points_last_without_stars():
    @dataclass(frozen=True)
    class Ordinal:
        coefficients: pd.DataFrame
        fit: pd.Series
        thresholds: tuple = ("1/2", "2/3")
        conf_level: float = 0.9

    res = Ordinal(_coefs(["1/2", "x", "2/3"], [-1.0, 0.5, 1.0], [0.1, 0.1, 0.1], [0.0001] * 3),
                  pd.Series({"n": 100, "pseudo_r2": 0.05}))
    r = model_table({"Ordinal": res}, stat="ci").render()
    assert [s.label for s in r.sections] == [None, "Seuils", ""]
    assert r.sections[0].rows[0][1].text == "0,50***"
    assert [row[0].text for row in r.sections[1].rows] == ["1/2", "", "2/3", ""]
    assert r.sections[1].rows[0][1].text == f"{MINUS}1,00"  # no stars on cut points
    assert "Intervalles de confiance à 90" in r.notes[0].text


def test_unformatted_integers_not_grouped_but_fmt_integer_is():
    t = Table(pd.DataFrame({"annee": [2020], "n": [12000]}))
    assert t.render().body_text() == [["2020", "12000"]]
    assert t.fmt_integer("n").render().body_text() == [["2020", f"12{NNBSP}000"]]


def test_bad_latex_label():
    with pytest.raises(ConfigError):
        Table(pd.DataFrame({"a": [1]})).tab_label("tab 1 {x}")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_render_column_lists_same_as_dataframe_at(locale):
    """render() reads whole columns when the index is 0..n-1; the cells are those DataFrame.at gives."""
    df = pd.DataFrame({
        "grp": ["a", "a", "b", None],
        "name": ["x", "y", "z", "w"],
        "i64": np.array([1, 2000, -3, 4], dtype="int64"),
        "f64": [0.5, np.nan, -0.0, 1234.5678],
        "f32": np.array([0.1, 0.2, np.nan, 3.5], dtype="float32"),
        "nullable": pd.array([1, None, 3, 40000], dtype="Int64"),
        "flag": [True, False, True, False],
        "cat": pd.Categorical(["lo", "hi", None, "lo"]),
        "mixed": [np.float64(0.25), "—", None, 7],
        "when": pd.to_datetime(["2026-01-01", None, "2025-06-30", "2024-02-29"]),
        "p": [0.001, 0.04, np.nan, 0.5],
    })
    t = (Table(df).with_locale(locale).tab_stub("name", groupname_col="grp").fmt_number(["f64", "f32"], 2)
         .fmt_integer("nullable").fmt_pvalue("p").fmt_stars("p", "f64"))
    by_at = dataclasses.replace(t)  # the same table read cell by cell (Table itself always resets the index)
    object.__setattr__(by_at, "data", t.data.set_axis(pd.Index([0, 1, 2, 3], dtype="int64")))
    assert not isinstance(by_at.data.index, pd.RangeIndex)
    assert t.render() == by_at.render()
