"""The analysis plan (analysis.study._analysis_plan): questionnaire/analysis_plan.yaml read, checked
and run with the regression and descriptives engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ConfigError, InputError
from analysis.regression import RegressionResult
from analysis.study._analysis_plan import load_analysis_plan, run_analysis_plan, run_comparisons


def _plan_data(n=800, seed=11) -> pd.DataFrame:
    """Synthetic organisations with every variable of questionnaire/analysis_plan.yaml."""
    rng = np.random.default_rng(seed)
    cap = rng.normal(3, 0.7, n)
    bar = rng.normal(3, 0.7, n)
    si = 1 + 0.5 * cap - 0.3 * bar + rng.normal(0, 0.5, n)
    sup = rng.integers(0, 5, n)
    d = pd.DataFrame({
        "score_internal_capacity": cap, "score_external_barriers": bar,
        "score_si_presence": si, "support_n_types": sup,
        "support_used": (sup > 0).astype(int),
        "funding_diversity": rng.uniform(0, 0.8, n),
        "funding_market_share": rng.uniform(0, 1, n),
        "funding_n_sources": rng.integers(1, 6, n),
        "legal_form": rng.choice(["association", "aup", "cooperative"], n),
        "sector": rng.choice(["education", "agriculture", "crafts"], n),
        "region": rng.choice([f"R{i:02d}" for i in range(1, 6)], n),
        "org_age": rng.integers(1, 40, n),
        "log_members": np.log1p(rng.integers(5, 300, n)),
    })
    d["legal_form_group"] = np.where(d["legal_form"] == "cooperative", "cooperative",
                                     "association")
    d["score_perceived_impact"] = (1 + 0.4 * si + 0.1 * sup + 0.15 * (si - si.mean())
                                   * (sup - sup.mean()) + rng.normal(0, 0.5, n))
    d["beneficiaries_y3"] = rng.negative_binomial(2, 2 / (2 + np.exp(1 + 0.3 * si)))
    lat = 0.8 * cap - 0.5 * bar + rng.logistic(size=n)
    d["si_self_identified"] = 1 + np.searchsorted([-0.5, 0.3, 1.0, 1.8], lat)
    d.loc[rng.random(n) < 0.03, "si_self_identified"] = np.nan
    return d


def test_analysis_plan_loads_and_runs():
    plan = load_analysis_plan()
    assert {m.hypothesis for m in plan.models.values()} == {"H1", "H2", "H3"}
    assert {m.model for m in plan.models.values()} == {"ols", "logit", "ordinal", "poisson",
                                                       "negbin"}
    d = _plan_data()
    results = run_analysis_plan(d, plan)
    assert list(results) == list(plan.models)
    for name, r in results.items():
        assert isinstance(r, RegressionResult), name
        assert r.extra["spec"].name == name
        assert np.isfinite(r.coefficients["se"]).all(), name
    # the derived logit outcome drops the rows with a missing item (not coded as False)
    logit = results["h2_self_identified_logit"]
    assert logit.fit["n"] == d["si_self_identified"].notna().sum()
    assert results["h2_self_identified_ordinal"].thresholds == ("1|2", "2|3", "3|4", "4|5")
    h3 = results["h3_moderation_n_types"]
    assert h3.coefficients.loc["score_si_presence:support_n_types", "ci_low"] <= 0.15
    assert "simple_slopes" in h3.extra and len(h3.extra["simple_slopes"]) == 3
    assert results["h3_moderation_used"].extra["simple_slopes"]["moderator_value"].tolist() \
        == [0.0, 1.0]
    assert results["h1_beneficiaries_negbin"].fit["theta"] > 0


def test_analysis_plan_errors(tmp_path):
    bad = tmp_path / "plan.yaml"
    bad.write_text("models:\n  m1: {formula: 'y ~ {nothing}'}\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_analysis_plan(bad)
    bad.write_text("models:\n  m1: {formula: 'y ~ x', model: probit}\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_analysis_plan(bad)
    with pytest.raises(InputError, match="h1_impact"):
        run_analysis_plan(_plan_data().drop(columns=["org_age"]), models=["h1_impact"])


def test_plan_comparisons_h4():
    out = run_comparisons(_plan_data())
    assert "score_si_presence" in out and "legal_form_group_x_support_used" in out
    g = out["score_si_presence"]
    assert list(g.groups["group"]) == ["association", "cooperative"]
