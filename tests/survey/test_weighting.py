"""Tests of analysis.survey._weighting: design weights, post-stratification and raking (margins,
errors, convergence, unbiasedness). The comparisons with R survey (postStratify, rake) are in the
parity catalogue (tests/parity/catalogue.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.errors import EstimationWarning, InputError
from analysis.survey._calibration import Raking
from analysis.survey._design import SurveyDesign
from analysis.survey._weighting import (
    design_weights,
    poststratify,
    rake,
    stratum_population,
)

DATA = config.PROJECT_ROOT / "tests" / "data"
POP_STYPE = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1500, "Yes": 4694}


@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(DATA / "apistrat.csv")


@pytest.fixture(scope="module")
def dstrat(apistrat) -> SurveyDesign:
    return SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")


# --------------------------------------------------------------------------- post-stratification
def test_poststratify_stype_returns_a_design(dstrat):
    dps = poststratify(dstrat, strata="stype", population_totals=POP_STYPE)
    assert isinstance(dps, SurveyDesign) and len(dps.calibration) == 1


def test_poststratified_totals_are_reproduced(dstrat):
    pop = pd.DataFrame({"awards": ["No", "Yes"], "Freq": [2300, 3894]})
    dps = dstrat.poststratify("awards", pop)
    # the calibrated totals are reproduced exactly, with (numerically) zero SE
    tot = dps.total("awards")
    np.testing.assert_allclose(tot.estimate.to_numpy(), [2300, 3894], rtol=1e-12)
    assert np.all(tot.se.to_numpy() < 1e-6)


def test_poststratify_data_frame_returns_weights(apistrat, dstrat):
    pop = {"No": 2300, "Yes": 3894}
    w = poststratify(apistrat, "pw", strata="awards", population_totals=pop)
    assert isinstance(w, pd.Series) and w.index.equals(apistrat.index)
    np.testing.assert_allclose(w.to_numpy(), dstrat.poststratify("awards", pop).weights.to_numpy(),
                               rtol=1e-12)


def test_poststratify_two_variables_multiindex(apistrat):
    cells = apistrat.groupby(["stype", "awards"])["pw"].sum() * 1.1
    w = poststratify(apistrat, "pw", strata=["stype", "awards"], population_totals=cells)
    np.testing.assert_allclose(w.to_numpy(), apistrat["pw"].to_numpy() * 1.1, rtol=1e-12)


def test_poststratify_errors(apistrat):
    with pytest.raises(InputError, match="absent from the population"):
        poststratify(apistrat, "pw", strata="stype", population_totals={"E": 1, "H": 2})
    with pytest.raises(InputError, match="partial"):
        poststratify(apistrat, "pw", strata="stype",
                     population_totals={"E": 1, "H": 2, "M": 3, "X": 4})
    with pytest.warns(EstimationWarning, match="ignored"):
        poststratify(apistrat, "pw", strata="stype",
                     population_totals={"E": 1, "H": 2, "M": 3, "X": 4}, partial=True)
    with pytest.raises(InputError, match="not found"):
        poststratify(apistrat, "pw", strata="nope", population_totals={"E": 1})
    with pytest.raises(InputError, match="non-negative"):
        poststratify(apistrat, "pw", strata="stype", population_totals={"E": -1, "H": 2, "M": 3})


# --------------------------------------------------------------------------- raking
def test_rake_records_its_calibration(dstrat):
    drk = rake(dstrat, margins={"stype": POP_STYPE, "sch.wide": POP_SCHWIDE}, tol=1e-12)
    assert isinstance(drk.calibration[-1], Raking)


def test_rake_data_frame_hits_margins(apistrat):
    w = rake(apistrat, "pw", margins={"stype": POP_STYPE, "sch.wide": POP_SCHWIDE})
    for var, pop in (("stype", POP_STYPE), ("sch.wide", POP_SCHWIDE)):
        got = w.groupby(apistrat[var]).sum()
        np.testing.assert_allclose(got[list(pop)].to_numpy(), list(pop.values()), rtol=1e-9)


def test_rake_warns_without_convergence(apistrat):
    with pytest.warns(EstimationWarning, match="converge"):
        rake(apistrat, "pw", margins={"stype": POP_STYPE, "sch.wide": POP_SCHWIDE}, max_iter=1,
             tol=1e-14)


def test_rake_bad_margins(apistrat):
    with pytest.raises(InputError, match="margins"):
        rake(apistrat, "pw", margins={})
    with pytest.raises(InputError):
        rake(apistrat, "pw", margins={"stype": {"E": 1}})


# --------------------------------------------------------------------------- design weights
def test_design_weights_inverse_inclusion_probability():
    sample = pd.DataFrame({"region": ["R01", "R01", "R02", "R02", "R02"],
                           "legal_form": ["association", "cooperative", "association",
                                          "association", "cooperative"]})
    pop = pd.DataFrame({"region": ["R01", "R01", "R02", "R02"],
                        "legal_form": ["association", "cooperative"] * 2,
                        "N": [120, 30, 300, 10]})
    w = design_weights(sample, pop, strata=["region", "legal_form"])
    assert w.tolist() == [120.0, 30.0, 150.0, 150.0, 10.0]
    n_h = stratum_population(sample, pop, ["region", "legal_form"])
    assert n_h.tolist() == [120.0, 30.0, 300.0, 300.0, 10.0]
    # the design built from them reproduces R's weights-from-fpc rule
    d = SurveyDesign(sample.assign(N=n_h), strata=["region", "legal_form"], fpc="N",
                     lonely_psu="certainty")
    np.testing.assert_allclose(d.weights.to_numpy(), w.to_numpy())


def test_design_weights_errors_and_warnings():
    sample = pd.DataFrame({"h": ["a", "a", "b"]})
    with pytest.raises(InputError, match="absent"):
        design_weights(sample, {"a": 10}, "h")
    with pytest.warns(EstimationWarning, match="no sampled unit"):
        design_weights(sample, {"a": 10, "b": 5, "c": 7}, "h")
    with pytest.raises(InputError, match="more sampled units"):
        design_weights(sample, {"a": 1, "b": 5}, "h")
    with pytest.raises(InputError, match="missing value"):
        design_weights(pd.DataFrame({"h": ["a", None]}), {"a": 10}, "h")


# --------------------------------------------------------------------------- simulation
@pytest.mark.slow
def test_weighted_means_unbiased_over_replications():
    """Stratified sample with unequal allocation: weighted means are unbiased, naive are not."""
    rng = np.random.default_rng(20261127)
    sizes = {"R01.association": 4000, "R01.cooperative": 800, "R02.association": 9000,
             "R02.cooperative": 1500, "R03.association": 2500, "R03.cooperative": 400}
    means = {"R01.association": 10.0, "R01.cooperative": 25.0, "R02.association": 5.0,
             "R02.cooperative": 40.0, "R03.association": 15.0, "R03.cooperative": 30.0}
    n_h = {"R01.association": 40, "R01.cooperative": 40, "R02.association": 40,
           "R02.cooperative": 40, "R03.association": 30, "R03.cooperative": 30}
    pop = pd.concat([pd.DataFrame({"stratum": h, "y": rng.gamma(2.0, means[h] / 2.0, N)})
                     for h, N in sizes.items()], ignore_index=True)
    true_overall = pop["y"].mean()
    true_strata = pop.groupby("stratum")["y"].mean()
    reps = 50
    est, naive, ses, by_est = [], [], [], []
    for _ in range(reps):
        idx = np.concatenate([rng.choice(np.flatnonzero(pop["stratum"].to_numpy() == h), n,
                                         replace=False) for h, n in n_h.items()])
        sample = pop.iloc[idx].reset_index(drop=True)
        sample["w"] = design_weights(sample, sizes, "stratum")
        sample["N"] = stratum_population(sample, sizes, "stratum")
        d = SurveyDesign(sample, weights="w", strata="stratum", fpc="N")
        m = d.mean("y")
        est.append(m.estimate)
        ses.append(m.se)
        naive.append(sample["y"].mean())
        by_est.append(d.mean("y", by="stratum").estimate.to_numpy())
    est, by_est = np.array(est), np.array(by_est)
    mc_se = est.std(ddof=1) / np.sqrt(reps)
    # unbiased: the Monte Carlo mean is within 3.5 Monte Carlo SEs of the truth
    assert abs(est.mean() - true_overall) < 3.5 * mc_se
    # the naive (unweighted) mean is visibly biased in this design
    assert abs(np.mean(naive) - true_overall) > 10 * mc_se
    # the design SE estimates the sampling SD (within 30 % over 50 replications)
    assert np.mean(ses) == pytest.approx(est.std(ddof=1), rel=0.3)
    mc_se_h = by_est.std(axis=0, ddof=1) / np.sqrt(reps)
    diff = np.abs(by_est.mean(axis=0) - true_strata.to_numpy())
    assert np.all(diff < 3.5 * mc_se_h)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d.total("y")
