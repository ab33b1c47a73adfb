"""Parity of analysis.cbsem.sem with lavaan 0.6 sem() (tests/reference/sem_reference.json).

Cases: PoliticalDemocracy (latent regressions, equality constraints, residual covariances,
defined indirect and total effects) under ML and MLR; Holzinger-Swineford with observed
covariates (sex, ageyr; fixed.x) under ML, MLR, ML + FIML and MLR + FIML with missing cells,
and in two groups with equal loadings; an observed-variable mediation, with bootstrap
intervals compared within Monte-Carlo error.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import config
from analysis.cbsem import cfa, product_indicators, sem
from analysis.errors import InputError

REF = json.loads((config.TESTS_REFERENCE_DIR / "sem_reference.json").read_text())
DATA = config.PROJECT_ROOT / "tests" / "data"
PD = pd.read_csv(DATA / "political_democracy.csv")
HS = pd.read_csv(DATA / "holzinger1939.csv")
HS_MISSING = pd.read_csv(DATA / "holzinger1939_missing.csv").merge(
    HS[["id", "sex", "ageyr"]], on="id"
)

FIT = [
    "npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea",
    "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "aic", "bic", "logl", "unrestricted.logl",
]  # fmt: skip
SCALED = [
    "chisq.scaled", "chisq.scaling.factor", "baseline.chisq.scaled", "cfi.scaled",
    "tli.scaled", "cfi.robust", "tli.robust", "rmsea.scaled", "rmsea.robust",
]  # fmt: skip


def _ref_params(key) -> pd.DataFrame:
    ref = pd.DataFrame({c: pd.Series(v) for c, v in REF[key]["params"].items()})
    ref["rhs"] = ref["rhs"].astype(str)
    ref["k"] = ref.groupby(["lhs", "op", "rhs"]).cumcount()
    return ref


def _merged(key, res) -> pd.DataFrame:
    got = res.params.sort_values("group", kind="stable").copy()
    got["k"] = got.groupby(["lhs", "op", "rhs"]).cumcount()
    m = _ref_params(key).merge(got, on=["lhs", "op", "rhs", "k"], how="left",
                                suffixes=("_ref", ""))  # fmt: skip
    assert m["estimate"].notna().all(), m.loc[m["estimate"].isna(), ["lhs", "op", "rhs"]]
    return m


def _close(got, want, rtol, what):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    ok = np.isfinite(want)
    if not ok.any():
        return
    # relative to the value, with a floor for values near zero
    err = np.abs(got[ok] - want[ok]) / np.maximum(np.abs(want[ok]), 1e-2)
    assert err.max() < rtol, (what, float(err.max()))


CASES = {
    "pd_ml": (lambda: sem(REF["pd_model"], PD), 1e-3, FIT),
    "pd_mlr": (lambda: sem(REF["pd_model"], PD, estimator="MLR"), 1e-3, FIT + SCALED),
    "hs_ml": (lambda: sem(REF["hs_model"], HS), 1e-3, FIT),
    "hs_mlr": (lambda: sem(REF["hs_model"], HS, estimator="MLR"), 1e-3, FIT + SCALED),
    "hs_ml_fiml": (
        lambda: sem(REF["hs_model"], HS_MISSING, missing="fiml"),
        5e-3,
        FIT + ["cfi.robust", "rmsea.robust"],
    ),
    "hs_mlr_fiml": (
        lambda: sem(REF["hs_model"], HS_MISSING, estimator="MLR", missing="fiml"),
        5e-3,
        FIT + SCALED,
    ),
    "med_ml": (lambda: sem(REF["med_model"], PD), 1e-3, FIT),
    "hs_group": (
        lambda: sem(REF["hs_model"], HS, group="school", group_equal=["loadings"]),
        1e-3,
        FIT,
    ),
}


@pytest.fixture(scope="module")
def fits():
    return {}


@pytest.mark.parametrize("key", list(CASES))
def test_parameters_and_fit_match_lavaan(key, fits):
    make, rtol, names = CASES[key]
    res = fits.setdefault(key, make())
    m = _merged(key, res)
    _close(m["estimate"], m["est"], rtol, "estimate")
    _close(m["se"], m["se_ref"], rtol, "se")
    _close(m["std_all"], m["std_all_ref"], rtol, "std_all")
    ref_fit = REF[key]["fit"]
    for name in names:
        want = ref_fit[name] if ref_fit[name] is not None else np.nan
        _close([res.fit[name.replace(".", "_")]], [want], rtol, name)


@pytest.mark.parametrize("key", ["pd_ml", "hs_ml", "hs_mlr_fiml", "med_ml"])
def test_r2_matches_lavaan(key):
    res = CASES[key][0]()
    want = pd.Series(REF[key]["r2"], dtype=float)
    assert set(res.r2.index) == set(want.index)
    assert_allclose(res.r2[want.index], want, rtol=1e-3)


def test_defined_parameters_are_rows_with_delta_method_se():
    res = sem(REF["pd_model"], PD)
    d = res.params[res.params["op"] == ":="].set_index("lhs")
    assert list(d.index) == ["indirect", "total"]
    assert d.loc["indirect", "rhs"] == "g1*g3"
    ref = _ref_params("pd_ml").set_index("lhs")
    for name in ("indirect", "total"):
        assert_allclose(d.loc[name, "estimate"], ref.loc[name, "est"], rtol=1e-4)
        assert_allclose(d.loc[name, "se"], ref.loc[name, "se"], rtol=1e-3)
        assert_allclose(d.loc[name, "std_all"], ref.loc[name, "std_all"], rtol=1e-3)


def test_effects_agree_with_the_defined_effects():
    res = sem(REF["pd_model"], PD)
    eff = res.effects.set_index(["outcome", "predictor", "effect"])
    d = res.params[res.params["op"] == ":="].set_index("lhs")
    assert_allclose(
        eff.loc[("dem65", "ind60", "indirect"), "estimate"], d.loc["indirect", "estimate"]
    )
    assert_allclose(eff.loc[("dem65", "ind60", "total"), "estimate"], d.loc["total", "estimate"])
    assert_allclose(eff.loc[("dem65", "ind60", "total"), "se"], d.loc["total", "se"], rtol=1e-4)
    assert_allclose(
        eff.loc[("dem65", "ind60", "indirect"), "se"], d.loc["indirect", "se"], rtol=1e-4
    )
    # a pair without an indirect path has no indirect row
    assert ("dem60", "ind60", "indirect") not in eff.index
    assert set(res.effects["effect"]) == {"direct", "indirect", "total"}


def test_bootstrap_matches_lavaan_within_monte_carlo_error():
    res = sem(REF["med_model"], PD, se="bootstrap", bootstrap=2000, seed=11)
    assert res.boot.shape[0] >= 1990
    got = res.params.set_index("lhs").loc["indirect"]
    ref = _ref_params("med_boot").set_index("lhs").loc["indirect"]
    se_ref = REF["med_boot_se_indirect"]
    assert abs(got["se"] - se_ref) / se_ref < 0.10
    assert abs(got["ci_low"] - ref["ci_lower"]) < 0.25 * se_ref
    assert abs(got["ci_high"] - ref["ci_upper"]) < 0.25 * se_ref
    # the effects table carries the same bootstrap summary
    eff = res.effects.set_index(["outcome", "predictor", "effect"]).loc[("y5", "x1", "indirect")]
    assert_allclose([eff["se"], eff["ci_low"]], [got["se"], got["ci_low"]], rtol=1e-10)


def test_bootstrap_is_reproducible_and_bca_runs():
    a = sem(REF["med_model"], PD, se="bootstrap", bootstrap=50, seed=3)
    b = sem(REF["med_model"], PD, se="bootstrap", bootstrap=50, seed=3)
    pd.testing.assert_frame_equal(a.params, b.params)
    c = sem(REF["med_model"], PD, se="bootstrap", bootstrap=200, seed=3, ci="bca")
    row = c.params.set_index("lhs").loc["indirect"]
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert any("BCa" in n for n in c.notes)


def test_fiml_bootstrap_runs():
    res = sem(REF["hs_model"], HS_MISSING, missing="fiml", se="bootstrap", bootstrap=5, seed=1)
    assert np.isfinite(res.params["se"]).all()


@pytest.mark.parametrize(
    "model, line, word",
    [
        ("y1 ~ x1\ny5 ~ y1 + nothere", 2, "nothere"),
        ("y1 ~ a*x1\ny5 ~ b*y1\nind := a*q", 3, "q"),
        ("y1 ~ a*x1\nind := a*", 2, "ind"),
    ],
)
def test_bad_models_name_the_line(model, line, word):
    with pytest.raises(InputError) as exc:
        sem(model, PD)
    assert exc.value.row == line
    assert word in str(exc.value)


def test_unidentified_model_is_refused():
    # two loadings and a free factor variance: one parameter too many
    model = "f =~ NA*x1 + x2\nf ~~ f\ny1 ~ f"
    with pytest.raises(InputError, match="not identified"):
        sem(model, PD)


def test_refused_combinations():
    with pytest.raises(InputError, match="WLSMV cannot be combined"):
        sem(REF["med_model"], PD, estimator="WLSMV", missing="fiml")
    with pytest.raises(InputError, match="bootstrap"):
        sem(REF["med_model"], PD, estimator="WLSMV", se="bootstrap")


def test_robust_se_is_the_mlr_sandwich():
    a = sem(REF["hs_model"], HS, se="robust")
    m = _merged("hs_mlr", a)
    _close(m["se"], m["se_ref"], 1e-3, "se")


def test_latent_interaction_by_product_indicators():
    model = (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
        "speed ~ visual + textual + visualxtextual"
    )
    res = sem(model, HS, interactions=[("visual", "textual")])
    assert any("double-mean-centred" in n for n in res.notes)
    assert ("speed", "~", "visualxtextual") in set(
        zip(res.params.lhs, res.params.op, res.params.rhs)
    )
    data, line = product_indicators(HS, ["x1", "x2", "x3"], ["x4", "x5", "x6"], "vt")
    assert line == "vt =~ vt_1 + vt_2 + vt_3"
    assert_allclose(data[["vt_1", "vt_2", "vt_3"]].mean(), 0.0, atol=1e-12)


def test_cfa_is_unchanged_by_the_structural_additions():
    # a cfa() result does not carry the sem() extras
    res = cfa("visual =~ x1 + x2 + x3", HS)
    assert res.r2 is None and res.effects is None
