"""Tests of analysis.survey._design against R survey 4.1 (tests/reference/survey_reference.R)."""

from __future__ import annotations

import json
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
REF = json.loads((config.TESTS_REFERENCE_DIR / "survey_reference.json").read_text())

# Tolerances (relative). Point estimates and interval bounds are closed-form (or converged
# IRLS to 1e-12), so 1e-6 is generous; SEs 1e-4 as agreed for the thesis (observed
# agreement is ~1e-9 or better, see the report in the commit history).
RTOL_EST = 1e-6
RTOL_SE = 1e-4
TOL = {"estimate": RTOL_EST, "ci_low": RTOL_EST, "ci_high": RTOL_EST, "deff": RTOL_EST,
       "se": RTOL_SE, "statistic": RTOL_SE, "p_value": RTOL_SE}


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


def check(result, ref_key: str, fields=("estimate", "se", "ci_low", "ci_high", "deff")):
    """Compare one result (SurveyEstimate or coefficient DataFrame) with an R reference."""
    ref = REF[ref_key]
    for name in fields:
        if ref.get(name) is None:
            continue
        want = np.ravel(np.asarray(ref[name], dtype=float))
        if isinstance(result, pd.DataFrame):
            got = result[name].to_numpy(dtype=float)
        else:
            got = np.ravel(np.asarray(getattr(result, name), dtype=float))
        np.testing.assert_allclose(got, want, rtol=TOL[name], err_msg=f"{ref_key}.{name}")


# --------------------------------------------------------------------------- parity with R
CASES = {
    # ref key: (design fixture, function of the design)
    "strat_mean": ("dstrat", lambda d: d.mean(["api00", "enroll"])),
    "strat_total": ("dstrat", lambda d: d.total(["api00", "enroll"])),
    "strat_prop_awards": ("dstrat", lambda d: d.proportion("awards")),
    "strat_ratio": ("dstrat", lambda d: d.ratio("api.stu", "enroll")),
    "strat_by_awards_mean": ("dstrat", lambda d: d.mean("api00", by="awards")),
    "strat_by_awards_total": ("dstrat", lambda d: d.total("enroll", by="awards")),
    "strat_by_stype_mean": ("dstrat", lambda d: d.mean("api00", by="stype")),
    "clus_mean": ("dclus1", lambda d: d.mean(["api00", "enroll"])),
    "clus_total": ("dclus1", lambda d: d.total("enroll")),
    "clus_prop_stype": ("dclus1", lambda d: d.proportion("stype")),
    "clus_ratio": ("dclus1", lambda d: d.ratio("api.stu", "enroll")),
    "clus_by_stype_mean": ("dclus1", lambda d: d.mean("api00", by="stype")),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_linear_estimates_match_r(key, request):
    fixture, fn = CASES[key]
    check(fn(request.getfixturevalue(fixture)), key)


@pytest.mark.parametrize("key, fixture, qs", [
    ("strat_quantile", "dstrat", [0.25, 0.5, 0.75]),
    ("clus_quantile", "dclus1", [0.5, 0.9]),
])
def test_quantiles_match_r(key, fixture, qs, request):
    # R: svyquantile(~api00, design, qs)  (qrule="math", interval.type="mean", df=degf)
    res = request.getfixturevalue(fixture).quantile("api00", qs)
    check(res, key, ("estimate", "se", "ci_low", "ci_high"))


def test_quantile_by_group_matches_r(dstrat):
    # R: svyby(~api00, ~awards, dstrat, svyquantile, quantiles=0.5, ci=TRUE)
    check(dstrat.quantile("api00", 0.5, by="awards"), "strat_by_awards_median", ("estimate", "se"))


def test_degrees_of_freedom(dstrat, dclus1):
    assert dstrat.degf == REF["strat_degf"] == 197
    assert dclus1.degf == REF["clus_degf"] == 14


def test_logit_interval_matches_svyciprop(dstrat):
    # R: svyciprop(~I(awards == "Yes"), dstrat)  (method="logit", df=degf)
    res = dstrat.proportion("awards", ci_method="logit")
    ref = REF["strat_ciprop_awards"]
    np.testing.assert_allclose(res.estimate["Yes"], ref["estimate"], rtol=RTOL_EST)
    np.testing.assert_allclose(res.se["Yes"], ref["se"], rtol=RTOL_SE)
    np.testing.assert_allclose([res.ci_low["Yes"], res.ci_high["Yes"]],
                               [ref["ci_low"], ref["ci_high"]], rtol=RTOL_EST)


def test_cluster_without_fpc_matches_r(apiclus1):
    # R: svymean(~api00, svydesign(id=~dnum, weights=~pw, data=apiclus1))
    check(SurveyDesign(apiclus1, weights="pw", cluster="dnum").mean("api00"), "clus_wr_mean",
          ("estimate", "se", "ci_low", "ci_high"))


@pytest.mark.parametrize("option", ["remove", "certainty", "adjust", "average"])
def test_lonely_psu_options_match_r(apistrat, option):
    # R: options(survey.lonely.psu=option); svymean(~api00, svydesign(~1, strata=~st2, ...))
    data = apistrat.copy()
    data["st2"] = data["stype"].astype(object)
    data.loc[0, "st2"] = "L"
    design = SurveyDesign(data, weights="pw", strata="st2", lonely_psu=option)
    check(design.mean("api00"), f"lonely_{option}", ("estimate", "se", "ci_low", "ci_high"))


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
GLM_CASES = {
    "strat_glm_gaussian": ("dstrat", "api00 ~ ell + meals + mobility", "gaussian"),
    "strat_glm_binomial": ("dstrat", 'I(Q("sch.wide") == "Yes") ~ ell + meals + mobility',
                           "binomial"),
    "strat_glm_poisson": ("dstrat", 'Q("api.stu") ~ ell + meals', "poisson"),
    "clus_glm_gaussian": ("dclus1", "api00 ~ ell + meals + mobility", "gaussian"),
}


@pytest.mark.parametrize("key", sorted(GLM_CASES))
def test_glm_matches_svyglm(key, request):
    fixture, formula, family = GLM_CASES[key]
    res = request.getfixturevalue(fixture).glm(formula, family=family)
    ref = REF[key]
    assert isinstance(res, RegressionResult)
    assert res.se_type == "design"
    assert list(res.coefficients.index) == [t.replace("(Intercept)", "Intercept")
                                            for t in ref["terms"]]
    check(res.coefficients, key, ("estimate", "se", "statistic", "p_value", "ci_low", "ci_high"))
    assert res.fit["df_resid"] == ref["df_resid"]
    np.testing.assert_allclose(res.fit["deviance"], ref["deviance"], rtol=RTOL_EST)
    np.testing.assert_allclose(res.vcov.to_numpy().ravel(order="F"), ref["vcov"], rtol=RTOL_SE)
    if ref.get("aic") is not None:
        np.testing.assert_allclose(res.fit["aic"], ref["aic"], rtol=RTOL_EST)


def test_glm_frame_vocabulary(dstrat):
    frame = dstrat.glm("api00 ~ ell + meals").to_frame()
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
def test_subset_design_matches_r(dstrat, apistrat):
    # R: dsub <- subset(dstrat, awards == "Yes"); svymean(~api00, dsub, deff=TRUE); degf(dsub)
    for sub in (dstrat.subset("awards == 'Yes'"), dstrat.subset(apistrat["awards"] == "Yes")):
        check(sub.mean("api00"), "sub_mean")
        assert sub.degf == REF["sub_degf"]
        check(sub.quantile("api00", 0.5), "sub_quantile", ("estimate", "se", "ci_low", "ci_high"))
        res = sub.glm("api00 ~ ell + meals")  # R: svyglm(api00 ~ ell + meals, dsub)
        check(res.coefficients, "sub_glm_gaussian",
              ("estimate", "se", "statistic", "p_value", "ci_low", "ci_high"))
        assert res.fit["df_resid"] == REF["sub_glm_gaussian"]["df_resid"]
        np.testing.assert_allclose(res.fit["aic"], REF["sub_glm_gaussian"]["aic"], rtol=RTOL_EST)
        assert res.fit["n"] == 113


def test_subset_bad_mask(dstrat):
    with pytest.raises(InputError, match="boolean"):
        dstrat.subset([True, False])
    with pytest.raises(InputError, match="expression"):
        dstrat.subset("no_such_column == 1")


def test_regress_delegates_to_design_glm(dstrat, apistrat):
    from analysis.regression import regress

    via_regress = regress("api00 ~ ell + meals + mobility", design=dstrat)
    check(via_regress.coefficients, "strat_glm_gaussian",
          ("estimate", "se", "statistic", "p_value", "ci_low", "ci_high"))
    logit = dstrat.glm('I(Q("sch.wide") == "Yes") ~ ell + meals + mobility', model="logit")
    check(logit.coefficients, "strat_glm_binomial", ("estimate", "se"))
    assert logit.model == "logit"
    with pytest.raises(InputError, match="design-based"):
        dstrat.glm("api00 ~ ell", model="ordinal")
    assert via_regress.term_columns["ell"] == ["ell"]


def test_contrasts_match_svycontrast(dstrat, dclus1):
    # R: svycontrast(svyby(~api00, ~awards, dstrat, svymean, covmat=TRUE), c(-1, 1))
    m = dstrat.mean("api00", by="awards")
    check(m.contrast([-1, 1]), "strat_contrast_awards", ("estimate", "se", "ci_low", "ci_high"))
    check(m.contrast({"Yes": 1, "No": -1}), "strat_contrast_awards", ("estimate", "se"))
    # R: svycontrast(svyby(~api00, ~stype, dclus1, svymean, covmat=TRUE),
    #                list(EvsH=c(1,-1,0), avg=c(1/3,1/3,1/3)))
    c = dclus1.mean("api00", by="stype").contrast({"EvsH": [1, -1, 0], "avg": [1 / 3] * 3})
    check(c, "clus_contrast_stype", ("estimate", "se", "ci_low", "ci_high"))
    assert list(c.to_frame()["variable"]) == ["EvsH", "avg"]
    with pytest.raises(InputError, match="one coefficient"):
        m.contrast([1, 2, 3])
    with pytest.raises(InputError, match="quantiles"):
        dstrat.quantile("api00", 0.5).contrast([1])
