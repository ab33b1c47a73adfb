"""Tests of analysis.survey._design: results, domains, contrasts, bad input and properties.

The comparisons with R survey 4.1 (tests/reference/survey_reference.R) are in the parity
catalogue (tests/parity/catalogue.py)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import config
from analysis.errors import EstimationWarning, InputError
from analysis.regression import RegressionResult
from analysis.survey._design import SurveyDesign, SurveyEstimate

DATA = config.PROJECT_ROOT / "tests" / "data"
@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(DATA / "apistrat.csv")


@pytest.fixture(scope="module")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(DATA / "apiclus1.csv")


@pytest.fixture(scope="module")
def dstrat(apistrat) -> SurveyDesign:
    # R: svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)
    return SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="module")
def dclus1(apiclus1) -> SurveyDesign:
    # R: svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc)
    return SurveyDesign(apiclus1, weights="pw", cluster="dnum", fpc="fpc")


def test_degrees_of_freedom(dstrat, dclus1):
    # n - H for the stratified design, clusters - 1 for the cluster design
    assert dstrat.degf == 197
    assert dclus1.degf == 14


def test_lonely_psu_fail_is_input_error(apistrat):
    data = apistrat.copy()
    data["st2"] = data["stype"].astype(object)
    data.loc[0, "st2"] = "L"
    with pytest.raises(InputError, match="single PSU"):
        SurveyDesign(data, weights="pw", strata="st2")


def test_certainty_stratum_is_not_lonely():
    df = pd.DataFrame({"y": [1.0, 2, 3, 9], "h": ["a", "a", "a", "b"], "N": [10, 10, 10, 1]})
    d = SurveyDesign(df, strata="h", fpc="N")  # stratum b: its only unit taken with certainty
    assert d.weights.tolist() == pytest.approx([10 / 3] * 3 + [1.0])
    assert math.isfinite(d.mean("y").se)


# --------------------------------------------------------------------------- svyglm
def test_glm_frame_vocabulary(dstrat):
    res = dstrat.glm("api00 ~ ell + meals")
    assert isinstance(res, RegressionResult)
    assert res.se_type == "design"
    frame = res.to_frame()
    for col in ("term", "estimate", "se", "statistic", "df", "p_value", "ci_low", "ci_high", "n"):
        assert col in frame.columns
    assert frame["term"].iloc[0] == "Intercept"


def test_glm_bad_input(dstrat):
    with pytest.raises(InputError, match="family"):
        dstrat.glm("api00 ~ ell", family="gamma")
    with pytest.raises(InputError, match="formula"):
        dstrat.glm("api00 ~ not_a_column")
    with pytest.raises(InputError, match="binomial"):
        dstrat.glm("api00 ~ ell", family="binomial")


def test_glm_drops_missing_rows(apistrat):
    data = apistrat.copy()
    data.loc[:4, "ell"] = np.nan
    res = SurveyDesign(data, weights="pw", strata="stype", fpc="fpc").glm("api00 ~ ell")
    assert res.fit["n"] == len(data) - 5


# --------------------------------------------------------------------------- results objects
def test_estimate_object_and_frame(dstrat):
    res = dstrat.mean("api00")
    assert isinstance(res, SurveyEstimate)
    assert isinstance(res.estimate, float) and isinstance(res.se, float)
    assert res.n == 200 and math.isinf(res.df)
    frame = dstrat.proportion("awards", by="stype").to_frame()
    assert list(frame.columns) == ["group", "stype", "variable", "level", "estimate", "se", "df",
                                   "ci_low", "ci_high", "deff", "n", "statistic_type"]
    assert len(frame) == 6
    assert frame.groupby("group")["estimate"].sum().to_numpy() == pytest.approx([1, 1, 1])


def test_vcov_of_proportions_is_singular(dstrat):
    v = dstrat.proportion("awards").vcov.to_numpy()
    assert v.shape == (2, 2)
    np.testing.assert_allclose(v[0, 1], -v[0, 0], rtol=1e-10)


def test_categorical_mean_gives_proportions(dstrat):
    a = dstrat.mean("awards").to_frame()
    b = dstrat.proportion("awards").to_frame()
    pd.testing.assert_frame_equal(a.drop(columns="statistic_type"),
                                  b.drop(columns="statistic_type"))


def test_total_of_categorical_counts_population(dstrat):
    res = dstrat.total("stype")
    # pw is stored in single precision in survey::apistrat, hence 1e-6
    np.testing.assert_allclose(res.estimate.to_numpy(), [4421, 755, 1018], rtol=1e-6)


def test_several_by_columns(dstrat):
    res = dstrat.mean("api00", by=["stype", "awards"])
    frame = res.to_frame()
    assert {"stype", "awards", "group"} <= set(frame.columns)
    assert len(frame) == 6
    assert frame["n"].sum() == 200


def test_t_interval_option(dstrat):
    res = dstrat.mean("api00", df=dstrat.degf)
    from scipy import stats

    q = stats.t.ppf(0.975, 197)
    assert res.ci_high == pytest.approx(res.estimate + q * res.se, rel=1e-12)


def test_missing_values_na_rm(apistrat):
    data = apistrat.copy()
    data.loc[[0, 1], "api00"] = np.nan
    d = SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")
    with pytest.warns(EstimationWarning, match="missing"):
        assert math.isnan(d.mean("api00").estimate)
    res = d.mean("api00", na_rm=True)
    keep = data["api00"].notna()
    w, y = data.loc[keep, "pw"], data.loc[keep, "api00"]
    assert res.estimate == pytest.approx(float((w * y).sum() / w.sum()), rel=1e-12)
    assert res.n == 198


def test_deff_nan_when_weights_too_small():
    df = pd.DataFrame({"y": [1.0, 2, 4, 3], "w": [0.5, 0.5, 0.5, 0.5]})
    assert math.isnan(SurveyDesign(df, weights="w").mean("y").deff)


def test_weights_from_fpc_when_missing(apistrat):
    d = SurveyDesign(apistrat, strata="stype", fpc="fpc")
    np.testing.assert_allclose(d.weights.to_numpy(), apistrat["pw"].to_numpy(), rtol=1e-6)


def test_fpc_as_sampling_fraction(apistrat):
    data = apistrat.copy()
    data["frac"] = 1 / data["pw"]
    a = SurveyDesign(data, weights="pw", strata="stype", fpc="frac").mean("api00")
    b = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc").mean("api00")
    assert a.se == pytest.approx(b.se, rel=1e-6)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    ({"weights": "nope"}, "not found"),
    ({"weights": "pw", "strata": "nope"}, "not found"),
    ({"weights": "pw", "lonely_psu": "drop"}, "lonely_psu"),
])
def test_bad_design_arguments(apistrat, kwargs, match):
    with pytest.raises(InputError, match=match):
        SurveyDesign(apistrat, **kwargs)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_bad_weights(apistrat, bad):
    data = apistrat.copy()
    data.loc[3, "pw"] = bad
    with pytest.raises(InputError) as err:
        SurveyDesign(data, weights="pw", strata="stype")
    assert err.value.row == 4 and err.value.column == "pw"


def test_clusters_not_nested(apistrat):
    data = apistrat.copy()
    data["cl"] = np.arange(len(data)) % 7  # cluster ids shared across strata
    with pytest.raises(InputError, match="nested"):
        SurveyDesign(data, weights="pw", strata="stype", cluster="cl")
    d = SurveyDesign(data, weights="pw", strata="stype", cluster="cl", nest=True)
    assert d.n_psu.sum() == 21


def test_fpc_errors(apistrat):
    data = apistrat.copy()
    data["fpc"] = data["fpc"].astype(float)
    data.loc[data["stype"] == "E", "fpc"] = 0.5  # mixes sizes and fractions
    with pytest.raises(InputError, match="mixes"):
        SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")
    data = apistrat.copy()
    data["fpc"] = 10  # fewer population units than sampled
    with pytest.raises(InputError, match="100%"):
        SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")


def test_non_numeric_variable(dstrat):
    with pytest.raises(InputError, match="numeric"):
        dstrat.ratio("name", "enroll")
    with pytest.raises(InputError, match="not found"):
        dstrat.mean("nope")
    with pytest.raises(InputError, match="quantile"):
        dstrat.quantile("api00", 1.5)


def test_no_warning_on_clean_data(dstrat):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dstrat.mean("api00", by="awards")
        dstrat.quantile("api00", [0.5])


# --------------------------------------------------------------------------- properties
_values = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=30)


@settings(max_examples=40, deadline=None)
@given(_values, st.floats(0.01, 100.0), st.integers(0, 2**31 - 1))
def test_mean_and_se_invariant_to_weight_scale(values, scale, seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"y": values, "w": rng.uniform(0.5, 5.0, len(values))})
    a = SurveyDesign(df, weights="w").mean("y")
    b = SurveyDesign(df.assign(w=df["w"] * scale), weights="w").mean("y")
    assert b.estimate == pytest.approx(a.estimate, rel=1e-9, abs=1e-9)
    assert b.se == pytest.approx(a.se, rel=1e-7, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(_values)
def test_equal_weights_se_is_textbook(values):
    # with-replacement SRS, equal weights: se = sd / sqrt(n)
    df = pd.DataFrame({"y": values, "w": 1.0})
    res = SurveyDesign(df, weights="w").mean("y")
    y = np.asarray(values)
    assert res.se == pytest.approx(y.std(ddof=1) / np.sqrt(len(y)), rel=1e-7, abs=1e-9)


def test_string_levels_with_missing_values():
    df = pd.DataFrame({"f": pd.array(["a", "b", None, "a", "b", "b"], dtype="str"),
                       "w": [1.0, 2, 1, 2, 1, 2]})
    d = SurveyDesign(df, weights="w")
    res = d.proportion("f", na_rm=True)
    assert res.estimate.tolist() == pytest.approx([3 / 8, 5 / 8])
    assert res.n.tolist() == [5, 5]
    with pytest.warns(EstimationWarning):
        assert np.isnan(d.proportion("f").estimate.to_numpy()).all()


# --------------------------------------------------------------------------- domains
def test_subset_by_mask_equals_subset_by_expression(dstrat, apistrat):
    by_text = dstrat.subset("awards == 'Yes'")
    by_mask = dstrat.subset(apistrat["awards"] == "Yes")
    pd.testing.assert_frame_equal(by_mask.mean("api00").to_frame(),
                                  by_text.mean("api00").to_frame())
    pd.testing.assert_frame_equal(by_mask.quantile("api00", 0.5).to_frame(),
                                  by_text.quantile("api00", 0.5).to_frame())
    assert by_mask.degf == by_text.degf
    a, b = by_mask.glm("api00 ~ ell + meals"), by_text.glm("api00 ~ ell + meals")
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients)
    assert a.fit["n"] == b.fit["n"] == 113


def test_subset_bad_mask(dstrat):
    with pytest.raises(InputError, match="boolean"):
        dstrat.subset([True, False])
    with pytest.raises(InputError, match="expression"):
        dstrat.subset("no_such_column == 1")


def test_regress_delegates_to_design_glm(dstrat):
    from analysis.regression import regress

    via_regress = regress("api00 ~ ell + meals + mobility", design=dstrat)
    pd.testing.assert_frame_equal(via_regress.coefficients,
                                  dstrat.glm("api00 ~ ell + meals + mobility").coefficients)
    formula = 'I(Q("sch.wide") == "Yes") ~ ell + meals + mobility'
    logit = dstrat.glm(formula, model="logit")
    pd.testing.assert_frame_equal(logit.coefficients,
                                  dstrat.glm(formula, family="binomial").coefficients)
    assert logit.model == "logit"
    with pytest.raises(InputError, match="design-based"):
        dstrat.glm("api00 ~ ell", model="ordinal")
    assert via_regress.term_columns["ell"] == ["ell"]


def test_contrasts_by_list_or_by_name(dstrat, dclus1):
    m = dstrat.mean("api00", by="awards")
    a, b = m.contrast([-1, 1]), m.contrast({"Yes": 1, "No": -1})
    np.testing.assert_allclose([b.estimate, b.se], [a.estimate, a.se], rtol=1e-12)
    c = dclus1.mean("api00", by="stype").contrast({"EvsH": [1, -1, 0], "avg": [1 / 3] * 3})
    assert list(c.to_frame()["variable"]) == ["EvsH", "avg"]
    with pytest.raises(InputError, match="one coefficient"):
        m.contrast([1, 2, 3])
    with pytest.raises(InputError, match="quantiles"):
        dstrat.quantile("api00", 0.5).contrast([1])
