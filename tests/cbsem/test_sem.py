"""Tests of analysis.cbsem.sem that are not comparisons with R: defined parameters and
effects, bootstrap, bad models, latent interactions. The comparisons with lavaan's sem()
(tests/reference/sem_reference.json) are in the parity catalogue (``tests/parity/catalogue.py``,
section ``sem``).
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


def test_defined_parameters_are_rows():
    res = sem(REF["pd_model"], PD)
    d = res.params[res.params["op"] == ":="].set_index("lhs")
    assert list(d.index) == ["indirect", "total"]
    assert d.loc["indirect", "rhs"] == "g1*g3"
    assert np.isfinite(d[["estimate", "se", "std_all"]].to_numpy()).all()


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


def test_bootstrap_effects_carry_the_bootstrap_summary():
    res = sem(REF["med_model"], PD, se="bootstrap", bootstrap=200, seed=11)
    got = res.params.set_index("lhs").loc["indirect"]
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
