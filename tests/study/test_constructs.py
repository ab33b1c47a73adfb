"""Tests of analysis.study._constructs: the constructs spec, scale scores, hybridisation index."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from analysis import config
from analysis.errors import ConfigError, InputError
from analysis.study._constructs import (
    hybridisation,
    load_constructs,
    prepare_items,
    score_constructs,
)
from analysis.study._instrument import load_questionnaire


@functools.lru_cache(maxsize=1)
def _cached_spec():
    return load_constructs()


@pytest.fixture(scope="module")
def q():
    return load_questionnaire()


@pytest.fixture(scope="module")
def spec(q):
    return load_constructs(questionnaire=q)


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "questionnaire"
    dest.mkdir(parents=True)
    for name in ("survey.csv", "choices.csv", "settings.csv", "constructs.yaml"):
        shutil.copy(config.QUESTIONNAIRE_DIR / name, dest / name)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _row(spec, **values) -> pd.DataFrame:
    """One organisation answering 3 (neutral) everywhere except ``values``."""
    base = {i: 3 for i in spec.items}
    base.update(values)
    return pd.DataFrame([base])


# -------------------------------------------------------------------- spec
def test_constructs_and_score_columns(spec):
    assert spec.names == ["si_presence", "internal_capacity", "external_barriers", "perceived_impact",
                          "hybridisation"]
    assert [d.name for d in spec["si_presence"].dimensions] == [
        "novelty", "social_finality", "participation", "governance", "territory", "diffusion"]
    assert [d.name for d in spec["internal_capacity"].dimensions] == [
        "human_resources", "financial", "management", "communication"]
    assert [d.name for d in spec["external_barriers"].dimensions] == [
        "financial", "regulatory", "sociocultural", "public_support"]
    assert "score_si_presence" in spec.score_columns
    assert "score_si_presence__novelty" in spec.score_columns
    assert "score_hybridisation__hhi" in spec.score_columns
    assert len(spec.score_columns) == len(set(spec.score_columns))


def test_every_item_exists_and_is_likert(spec, q):
    likert = set(q.likert_items)
    assert set(spec.items) <= likert
    assert 60 <= len(spec.items) <= 80
    for c in spec.reflective:
        assert c.reverse, f"{c.name} has no reverse-keyed item"
        for d in c.dimensions:
            assert len(d.items) >= 3
            assert all(i.startswith(d.items[0].rsplit("_", 1)[0]) for i in d.items)
    assert spec.measurement_model.count("=~") == 19


def test_problem_groups_cover_the_grid(spec, q):
    grouped = [i for g in spec.problem_groups.values() for i in g["items"]]
    assert sorted(grouped) == sorted(n for n in q.names if n.startswith("prob_"))


def test_unknown_item_is_named(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "constructs.yaml", "si_nov_03, si_nov_04]", "si_nov_03, si_nov_99]")
    _edit(folder / "constructs.yaml", "reverse: [si_nov_04]", "reverse: []")
    with pytest.raises(ConfigError, match="si_nov_99"):
        load_constructs(folder / "constructs.yaml")


def test_non_likert_item_is_named(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "constructs.yaml", "items: [ic_hr_01, ic_hr_02, ic_hr_03]",
          "items: [ic_hr_01, ic_hr_02, ic_hr_03, n_members]")
    with pytest.raises(ConfigError, match="n_members.*not a Likert"):
        load_constructs(folder / "constructs.yaml")


def test_reverse_not_in_items_and_model_typo(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "constructs.yaml", "reverse: [ic_hr_03]", "reverse: [ic_fin_03]")
    with pytest.raises(ConfigError, match="ic_fin_03"):
        load_constructs(folder / "constructs.yaml")
    folder2 = _copy(tmp_path / "b")
    _edit(folder2 / "constructs.yaml", "imp_dom ~ si_presence", "imp_dom ~ si_presense")
    with pytest.raises(ConfigError, match="si_presense.*did you mean 'si_presence'"):
        load_constructs(folder2 / "constructs.yaml")


def test_measurement_model_follows_the_dimensions(tmp_path, spec):
    assert not spec.measurement_model_written
    assert "si_nov =~ si_nov_01 + si_nov_02 + si_nov_03 + si_nov_04" in spec.measurement_model
    assert "si_presence =~ si_nov + si_fin + si_par + si_gov + si_ter + si_dif" in spec.measurement_model
    assert "perceived_impact =~" not in spec.measurement_model  # two dimensions: two correlated factors


def test_written_measurement_model_must_name_every_item(tmp_path):
    folder = _copy(tmp_path)
    model = "\n".join("  " + line for line in load_constructs().measurement_model.splitlines())
    model = model.replace(" + si_nov_04", "")
    text = (folder / "constructs.yaml").read_text(encoding="utf-8")
    (folder / "constructs.yaml").write_text(text + "\nmeasurement_model: |\n" + model + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="item 'si_nov_04'.*not in measurement_model"):
        load_constructs(folder / "constructs.yaml")


# ----------------------------------------------------------------- scoring
def test_reverse_keying(spec):
    # human_resources: ic_hr_01, ic_hr_02, ic_hr_03 (reversed)
    s = score_constructs(_row(spec, ic_hr_01=4, ic_hr_02=2, ic_hr_03=5), spec)
    assert_allclose(s["score_internal_capacity__human_resources"], (4 + 2 + (6 - 5)) / 3)
    s = score_constructs(_row(spec, ic_hr_01=5, ic_hr_02=5, ic_hr_03=1), spec)
    assert_allclose(s["score_internal_capacity__human_resources"], 5.0)


def test_dont_know_and_refusal_are_missing(spec):
    s = score_constructs(_row(spec, ic_hr_01=4, ic_hr_02=98, ic_hr_03=2), spec)
    assert_allclose(s["score_internal_capacity__human_resources"], (4 + 4) / 2)
    s = score_constructs(_row(spec, ic_hr_01=4, ic_hr_02=99, ic_hr_03=2), spec)
    assert_allclose(s["score_internal_capacity__human_resources"], 4.0)
    # 97 (sans objet) in the impact domains
    s = score_constructs(_row(spec, imp_dom_01=5, imp_dom_02=97, imp_dom_03=4, imp_dom_04=97,
                              imp_dom_05=3, imp_dom_06=98, imp_dom_07=99, imp_dom_08=5), spec)
    assert_allclose(s["score_perceived_impact__domains"], (5 + 4 + 3 + 5) / 4)


def test_min_valid_items_rule(spec):
    # min_valid = 2 for ic_hr: one valid item -> NaN
    s = score_constructs(_row(spec, ic_hr_01=4, ic_hr_02=98, ic_hr_03=np.nan), spec)
    assert np.isnan(s["score_internal_capacity__human_resources"].iloc[0])
    # two valid -> a score
    s = score_constructs(_row(spec, ic_hr_01=4, ic_hr_02=98, ic_hr_03=4), spec)
    assert_allclose(s["score_internal_capacity__human_resources"], 3.0)
    # out-of-range values are missing too
    s = score_constructs(_row(spec, ic_hr_01=7, ic_hr_02=0, ic_hr_03=4), spec)
    assert np.isnan(s["score_internal_capacity__human_resources"].iloc[0])


def test_construct_score_is_mean_of_dimensions(spec):
    vals = {"ic_hr_01": 5, "ic_hr_02": 5, "ic_hr_03": 1,  # hr = 5
            "ic_fin_01": 2, "ic_fin_02": 2, "ic_fin_03": 4,  # fin = 2
            "ic_mgt_01": 4, "ic_mgt_02": 3, "ic_mgt_03": 2,  # mgt = 3
            "ic_com_01": 98, "ic_com_02": 99, "ic_com_03": 5}  # com: 1 valid -> NaN
    s = score_constructs(_row(spec, **vals), spec)
    assert np.isnan(s["score_internal_capacity__communication"].iloc[0])
    assert_allclose(s["score_internal_capacity"], (5 + 2 + 3) / 3)  # 3 dims >= min 3
    vals.update(ic_mgt_01=98, ic_mgt_02=98)
    s = score_constructs(_row(spec, **vals), spec)
    assert np.isnan(s["score_internal_capacity"].iloc[0])  # only 2 dims < 3


def test_scores_accept_string_codes_and_keep_index(spec):
    df = _row(spec, si_nov_01="5", si_nov_02="4", si_nov_03="98", si_nov_04="2").astype(str)
    df.index = ["org_a"]
    s = score_constructs(df, spec)
    assert list(s.index) == ["org_a"]
    assert_allclose(s["score_si_presence__novelty"], (5 + 4 + 4) / 3)
    assert s.columns[0] == "score_si_presence"


def test_missing_item_column_is_input_error(spec):
    df = _row(spec).drop(columns=["si_dif_02"])
    with pytest.raises(InputError, match="si_dif_02"):
        score_constructs(df, spec)


def test_vectorised_matches_row_by_row(spec):
    rng = np.random.default_rng(7)
    codes = np.array([1, 2, 3, 4, 5, 97, 98, 99, np.nan])
    df = pd.DataFrame(rng.choice(codes, size=(300, len(spec.items)), p=[.17] * 5 + [.04] * 3 + [.03]),
                      columns=spec.items)
    s = score_constructs(df, spec, include_hybridisation=False)
    c = spec["external_barriers"]
    for k in range(len(df)):
        dims = []
        for d in c.dimensions:
            vals = [df.at[k, i] for i in d.items]
            vals = [(6 - v if i in d.reverse else v) for v, i in zip(vals, d.items) if v in (1, 2, 3, 4, 5)]
            dims.append(np.mean(vals) if len(vals) >= d.min_valid else np.nan)
            assert_allclose(s.at[k, d.score_column], dims[-1])
        ok = [x for x in dims if not np.isnan(x)]
        expected = np.mean(ok) if len(ok) >= c.min_valid_dimensions else np.nan
        assert_allclose(s.at[k, "score_external_barriers"], expected)


# ----------------------------------------------------------- hybridisation
def _shares(spec, **values):
    row = {s: np.nan for s in spec["hybridisation"].shares}
    row.update(values)
    return pd.DataFrame([row])


def test_hhi_hand_examples(spec):
    h = hybridisation(_shares(spec, fund_dues=50, fund_market=50), spec)
    assert_allclose(h["score_hybridisation__hhi"], 0.5)
    assert_allclose(h["score_hybridisation"], 0.5)
    assert h["score_hybridisation__n_sources"].iloc[0] == 2
    assert_allclose(h["score_hybridisation__market_share"], 0.5)

    h = hybridisation(_shares(spec, fund_dues=100, fund_loans=0), spec)
    assert_allclose(h["score_hybridisation__hhi"], 1.0)
    assert h["score_hybridisation__n_sources"].iloc[0] == 1
    assert_allclose(h["score_hybridisation__market_share"], 0.0)

    h = hybridisation(_shares(spec, fund_dues=60, fund_donations=30, fund_subsidy_indh=10), spec)
    assert_allclose(h["score_hybridisation__hhi"], 0.36 + 0.09 + 0.01)
    assert_allclose(h["score_hybridisation"], 1 - 0.46)

    h = hybridisation(_shares(spec, fund_dues=25, fund_donations=25, fund_market=25, fund_loans=25), spec)
    assert_allclose(h["score_hybridisation__hhi"], 0.25)


def test_hhi_invalid_rows(spec):
    df = pd.concat([_shares(spec), _shares(spec, fund_dues=-5, fund_market=105),
                    _shares(spec, fund_dues=0), _shares(spec, fund_dues=40, fund_market=40)],
                   ignore_index=True)
    h = hybridisation(df, spec)
    assert h["score_hybridisation__hhi"].iloc[:3].isna().all()
    assert h["score_hybridisation__n_sources"].iloc[:3].isna().all()
    # shares summing to 80: normalised by the total by default, or by 100
    assert_allclose(h["score_hybridisation__hhi"].iloc[3], 0.5)
    h100 = hybridisation(df, spec, normalize=False)
    assert_allclose(h100["score_hybridisation__hhi"].iloc[3], 0.32)


def test_score_constructs_adds_hybridisation(spec):
    df = _row(spec).assign(**{s: 0.0 for s in spec["hybridisation"].shares}).assign(fund_dues=100.0)
    s = score_constructs(df, spec)
    assert_allclose(s["score_hybridisation__hhi"], 1.0)
    assert set(spec.score_columns) == set(s.columns)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=100, allow_nan=False), min_size=1, max_size=11))
def test_hhi_bounds_property(values):
    spec = _cached_spec()
    shares = spec["hybridisation"].shares
    row = dict.fromkeys(shares, 0.0)
    total = sum(values)
    for s, v in zip(shares, values):
        row[s] = 100 * v / total
    h = hybridisation(pd.DataFrame([row]), spec)
    k = len(values)
    hhi = h["score_hybridisation__hhi"].iloc[0]
    assert 1 / k - 1e-12 <= hhi <= 1 + 1e-12
    assert h["score_hybridisation__n_sources"].iloc[0] == k
    assert_allclose(h["score_hybridisation"].iloc[0], 1 - hhi)



@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 3, 4, 5, 97, 98, 99, -1, 6, None]), min_size=60, max_size=60))
def test_scores_stay_on_the_scale(codes):
    spec = _cached_spec()
    row = {i: (np.nan if c is None else c) for i, c in zip(spec.items, codes)}
    s = score_constructs(pd.DataFrame([row]), spec, include_hybridisation=False).iloc[0]
    ok = s.dropna()
    assert ((ok >= 1) & (ok <= 5)).all()
    # a construct has a score only if enough of its dimensions do
    for c in spec.reflective:
        n_dims = sum(not np.isnan(s[d.score_column]) for d in c.dimensions)
        assert np.isnan(s[c.score_column]) == (n_dims < c.min_valid_dimensions)


def test_prepare_items(spec):
    df = _row(spec, si_nov_01=5, si_nov_04=2, si_fin_01=98, imp_dom_02=97)
    x = prepare_items(df, spec)
    assert list(x.columns) == spec.items
    assert x.at[0, "si_nov_01"] == 5 and x.at[0, "si_nov_04"] == 4  # reversed
    assert np.isnan(x.at[0, "si_fin_01"]) and np.isnan(x.at[0, "imp_dom_02"])
    raw = prepare_items(df, spec, construct="si_presence", reverse=False)
    assert raw.shape[1] == 24 and raw.at[0, "si_nov_04"] == 2
    assert [d.latent for d in spec["si_presence"].dimensions] == [
        "si_nov", "si_fin", "si_par", "si_gov", "si_ter", "si_dif"]
    for c in spec.reflective:
        for d in c.dimensions:
            assert f"{d.latent} =~" in spec.measurement_model


def test_construct_reliability_matches_alpha_on_prepared_items():
    """One call gives, per construct and dimension, the alpha of analysis.psychometrics._reliability.alpha."""
    import numpy as np
    import pandas as pd

    from analysis.psychometrics._reliability import alpha
    from analysis.study._constructs import construct_reliability, load_constructs, prepare_items

    spec = load_constructs()
    rng = np.random.default_rng(7)
    items = spec.items
    latent = rng.normal(size=(400, 1))
    X = np.clip(np.round(3 + latent + rng.normal(scale=0.9, size=(400, len(items)))), 1, 5)
    df = pd.DataFrame(X, columns=items)
    for i in spec.reverse_items:
        df[i] = 6 - df[i]
    df.iloc[0, 0] = 98  # a "don't know" code is missing, not a 98
    tab = construct_reliability(df, spec)
    prepared = prepare_items(df, spec)
    assert set(tab["construct"]) == {c.name for c in spec.reflective}
    for _, row in tab.iterrows():
        c = spec[row["construct"]]
        cols = c.items if row["dimension"] == "" else next(d.items for d in c.dimensions if d.name == row["dimension"])
        expected = alpha(prepared[list(cols)])
        np.testing.assert_allclose(row["alpha"], expected.alpha, rtol=1e-12)
        np.testing.assert_allclose(row["ci_low"], expected.ci_low, rtol=1e-12)
    whole = tab[(tab["construct"] == "si_presence") & (tab["dimension"] == "")].iloc[0]
    assert 0 < whole["omega_h"] <= whole["omega_total"] <= 1
