"""Recovery tests: the analyses recover what the simulator put in.

Acceptance criteria of the issues "Psychometrics I" (CFA), "Descriptives, survey design and
regression" (H1-H3 models, design weights) and the cleaning pipeline, proved on data from
:mod:`analysis.simulate`, whose truth is known:

* ``truth_params.json``: structural coefficients (``structural``), the item measurement
  parameters (``measurement``: latent, loading, thresholds), the loading of the dimensions on
  their construct (``dimension_loading``), the latent variances (``latent_moments``) and the
  sample design (``sample_design``: ``N_frame``, ``inclusion_probability``);
* ``truth_latent.parquet``: the true latent scores of every organisation, joined to the cleaned
  rows by ``_uuid`` (through the cleaning's private link table ``resp_id`` <-> ``_uuid``).

The whole pipeline is used (simulated Kobo export -> :func:`analysis.cleaning._clean.clean_data` ->
:func:`analysis.study._dataset.prepare_analysis_data`), so a recovery failure can come from any stage.
Default tests use n = 5,000 (one clean export) and n = 2,000 (messy vs clean); replications are
marked ``slow``. Every test names the truth it uses in its docstring.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.cbsem import cfa, fit_wlsmv
from analysis.cleaning._clean import clean_data
from analysis.regression import regress
from analysis.simulate import implied_item_correlations, simulate_export, simulate_survey
from analysis.study._analysis_plan import load_analysis_plan
from analysis.study._constructs import load_constructs, prepare_items
from analysis.study._dataset import LEGAL_FORM_GROUPS, design_weights_for, prepare_analysis_data
from analysis.survey._design import SurveyDesign

N_CLEAN = 5000
SEED_CLEAN = 20261
N_MESSY = 2000
SEED_MESSY = 20262
CONTROLS = "log_members + org_age + C(legal_form) + C(sector) + C(region)"
HIGHER_ORDER = ("si_presence", "internal_capacity", "external_barriers")


# --------------------------------------------------------------------------- helpers and fixtures


def _no_habits() -> dict:
    """The simulation parameters without answering habits (acquiescence, midpoint).

    Acquiescence is a method factor shared by every agreement item, which the blueprint
    measurement model does not contain; the estimators are checked here against the model
    that generated the answers. ``tests/test_simulate.py`` checks the habits themselves.
    """
    from analysis.simulate._model import load_simulation_config

    cfg = load_simulation_config(config.QUESTIONNAIRE_DIR / "simulation.yaml")
    cfg["measurement"]["acquiescence"] = {"loading": 0.0, "mean_shift": 0.0, "lists": []}
    cfg["measurement"]["midpoint"] = {"share_persons": 0.0, "rate": 0.0, "lists": []}
    return cfg


def _pipeline(out: Path, n: int, seed: int, clean_only: bool) -> SimpleNamespace:
    """Simulate an export (without answering habits), clean it, add scores; join the true latent scores."""
    paths = simulate_export(n=n, seed=seed, out_dir=out, clean_only=clean_only, params=_no_habits())
    params = json.loads(Path(paths["truth_params"]).read_text(encoding="utf-8"))
    latent = pd.read_parquet(paths["truth_latent"])
    res = clean_data([paths["export"]])
    data = prepare_analysis_data(res.data)
    # the link table has one row per submission received: exact duplicates share resp_id and _uuid
    link = res.link[["resp_id", "_uuid"]].drop_duplicates().copy()
    truth = latent.astype({"_uuid": str})[["_uuid", "org_id", "stratum", "side", "inclusion_probability", "true_n_members"]
                   + [c for c in latent.columns if c.startswith("eta_")]
                   + ["support_used"]].rename(columns={"support_used": "true_support_used"})
    # a near duplicate (same organisation re-submitted, new _uuid) may be the row kept: its
    # organisation is that of the original submission (truth_ledger.csv)
    ledger = pd.read_csv(paths["truth_ledger"], dtype=str, keep_default_na=False)
    near = ledger.loc[ledger["kind"] == "duplicate_near", ["_uuid", "original_uuid"]].drop_duplicates("_uuid")
    orig = link["_uuid"].astype(str).map(dict(zip(near["_uuid"], near["original_uuid"])))
    link["_org_uuid"] = orig.where(orig.notna(), link["_uuid"].astype(str))
    merged = (data.merge(link, on="resp_id", how="left", validate="one_to_one")
                  .merge(truth.rename(columns={"_uuid": "_org_uuid"}), on="_org_uuid", how="left",
                         validate="many_to_one"))
    return SimpleNamespace(paths=paths, params=params, latent=latent, clean=res, data=data, merged=merged)


@pytest.fixture(scope="module")
def clean5k(tmp_path_factory) -> SimpleNamespace:
    """Clean-only export of 5,000 organisations (seed 20261) through the whole pipeline."""
    return _pipeline(tmp_path_factory.mktemp("clean5k"), N_CLEAN, SEED_CLEAN, clean_only=True)


@pytest.fixture(scope="module")
def spec():
    return load_constructs()


def _factors(model: str) -> dict[str, list[str]]:
    """``factor -> indicators`` of the ``=~`` lines of a lavaan model."""
    out = {}
    for line in model.splitlines():
        line = line.split("#", 1)[0]
        if "=~" in line:
            lhs, rhs = line.split("=~")
            out[lhs.strip()] = [t.strip() for t in rhs.split("+")]
    return out


def _first_order_model(spec) -> str:
    """The first-order factors of the blueprint measurement model (``constructs.yaml``)."""
    f = _factors(spec.measurement_model)
    return "\n".join(f"{k} =~ {' + '.join(v)}" for k, v in f.items() if k not in HIGHER_ORDER)


def _factor_latent(params: dict, items: list[str]) -> str:
    """The simulator's latent behind a first-order factor (e.g. ``si_presence.novelty``)."""
    lat = {params["measurement"][i]["latent"] for i in items}
    assert len(lat) == 1, lat
    return lat.pop()


def _true_item_std_loading(params: dict, item: str) -> float:
    """Standardised loading of the latent response ``y* = l eta + sqrt(1 - l^2) e`` on ``eta``.

    ``l sd(eta) / sqrt(l^2 var(eta) + 1 - l^2)``, with ``var(eta)`` the variance of the true
    latent (``latent_moments``); the sign of reverse-keyed items is undone (items are reversed
    by :func:`analysis.study._constructs.prepare_items`).
    """
    m = params["measurement"][item]
    lam = abs(float(m["loading"]))
    v = float(params["latent_moments"][m["latent"]]["var"])
    return lam * np.sqrt(v) / np.sqrt(lam**2 * v + 1 - lam**2)


def _true_second_order_loading(params: dict, construct: str, dim_latent: str) -> float:
    """``gamma sd(construct) / sd(dimension)``: dimension = gamma * construct + sqrt(1 - gamma^2) e."""
    g = float(params["dimension_loading"])
    vc = float(params["latent_moments"][construct]["var"])
    vd = float(params["latent_moments"][dim_latent]["var"])
    return g * np.sqrt(vc / vd)


def _exact_moment_sample(corr: np.ndarray, columns: list[str], seed: int = 0) -> pd.DataFrame:
    """Rows whose covariance (divisor n) is exactly ``corr``: ML on them = the population ML fit."""
    p = corr.shape[0]
    m = p + 200
    z = np.random.default_rng(seed).standard_normal((m, p))
    z -= z.mean(axis=0)
    s = z.T @ z / m
    z = z @ np.linalg.inv(np.linalg.cholesky(s)).T
    x = z @ np.linalg.cholesky(corr).T + 3.0
    return pd.DataFrame(x, columns=columns)


def _cover(table: pd.DataFrame, term: str, truth: float) -> bool:
    row = table.loc[term]
    return bool(row["ci_low"] <= truth <= row["ci_high"])


def _ci_text(table: pd.DataFrame, term: str, truth: float) -> str:
    row = table.loc[term]
    return f"{term}: {row['estimate']:.4f} [{row['ci_low']:.4f}, {row['ci_high']:.4f}] vs truth {truth}"


# --------------------------------------------------------------------------- 1. CFA


def test_pipeline_joins_every_analysed_row_to_its_truth(clean5k):
    """Every analysed row finds its organisation in ``truth_latent`` (join by ``_uuid``)."""
    m = clean5k.merged
    assert len(m) > 0.95 * N_CLEAN
    assert m["org_id"].notna().all()
    assert not m["org_id"].duplicated().any()
    # the join is right: the observed member count is the true one in a clean export
    np.testing.assert_array_equal(pd.to_numeric(m["n_members"]).to_numpy(), m["true_n_members"].to_numpy())


def test_cfa_wlsmv_recovers_latent_response_loadings(clean5k, spec):
    """WLSMV (polychorics) on the first-order model recovers the latent-response loadings.

    Truth: the simulator draws ``y* = l eta + sqrt(1 - l^2) e`` and cuts it at thresholds; the
    standardised loading of ``y*`` on its dimension is ``l sd(eta) / sqrt(l^2 var(eta) + 1 - l^2)``
    (``truth_params``: ``measurement`` loadings, ``latent_moments`` variances). WLSMV models the
    latent responses (polychoric correlations), so its standardised loadings estimate exactly
    this, without the attenuation of Pearson correlations of 5-point items. Tolerance 0.05
    (acceptance criterion; the SEs are about 0.01 at n = 5,000). The first-order factor
    correlations are compared with the correlations of the true dimension scores of the same
    organisations (``truth_latent.parquet``): within 0.05 for the dimensions of one construct
    (about 0.7); the 120 correlations each within 0.05 or 3.5 SEs (Bonferroni, family-wise
    below 5 %), since the weak ones between constructs have SEs of about 0.02.
    """
    params = clean5k.params
    model = _first_order_model(spec)
    items = prepare_items(clean5k.merged, spec).dropna()
    fit = fit_wlsmv(model, items, ordered=True)
    assert not fit.warnings
    std = fit.std_loadings
    truth = np.array([_true_item_std_loading(params, i) for i in std["rhs"]])
    err = np.abs(std["estimate"].to_numpy() - truth)
    worst = int(np.argmax(err))
    assert err.max() < 0.05, (std["rhs"].iloc[worst], std["estimate"].iloc[worst], truth[worst])
    # no systematic bias either: the mean error is well within the tolerance
    assert abs(np.mean(std["estimate"].to_numpy() - truth)) < 0.02

    factors = _factors(model)
    lat = {f: "eta_" + _factor_latent(params, v) for f, v in factors.items()}
    ok = clean5k.merged.loc[items.index]
    true_corr = ok[list(lat.values())].corr()
    sol = fit.std_solution
    cov = sol[(sol["op"] == "~~") & (sol["lhs"] != sol["rhs"]) & sol["lhs"].isin(lat) & sol["rhs"].isin(lat)]
    assert len(cov) == len(lat) * (len(lat) - 1) // 2
    diffs = pd.DataFrame([(r.lhs, r.rhs, r.estimate, r.se, true_corr.loc[lat[r.lhs], lat[r.rhs]])
                          for r in cov.itertuples()], columns=["lhs", "rhs", "estimate", "se", "truth"])
    diffs["z"] = (diffs["estimate"] - diffs["truth"]) / diffs["se"]
    # 120 correlations: each within 0.05 or, for the weak ones between constructs (SE about
    # 0.02), within a Bonferroni bound of 3.5 SEs (family-wise below 5 %)
    bad = diffs[((diffs["estimate"] - diffs["truth"]).abs() >= 0.05) & (diffs["z"].abs() >= 3.5)]
    assert bad.empty, bad
    strong = diffs["truth"].abs() > 0.3  # the dimensions of one construct (about 0.7)
    assert strong.sum() >= 15 + 6 + 6 + 1  # at least the pairs of dimensions of one construct
    assert (diffs.loc[strong, "estimate"] - diffs.loc[strong, "truth"]).abs().max() < 0.05


def test_cfa_ml_second_order_recovers_population_values(clean5k, spec):
    """ML CFA of the blueprint model (with the second-order factors) against its population values.

    Truth, first-order loadings: ML on Pearson correlations of 5-point items does not estimate
    the latent-response loadings (discretisation attenuates the correlations), so the target is
    the *population value of the ML estimate*: the model is fitted by :func:`analysis.cbsem.cfa` to
    the model-implied Pearson correlation matrix of the discretised items
    (:func:`analysis.simulate.implied_item_correlations`, from the true thresholds and loadings
    in ``truth_params`` and the moments of the true latent scores of the organisations analysed),
    given as a data set whose covariance is exactly that matrix. Tolerance 0.05.
    Truth, second-order loadings: ``dimension = gamma * construct + sqrt(1 - gamma^2) e``
    (``dimension_loading``), i.e. ``gamma sd(construct) / sd(dimension)`` (``latent_moments``);
    tolerance 0.05. The discretisation leaves these nearly unattenuated (the check also
    compares them with the population ML values, within 0.03).
    """
    params = clean5k.params
    model = spec.measurement_model
    items = prepare_items(clean5k.merged, spec).dropna()
    fit = cfa(model, items)
    assert fit.converged and not fit.warnings

    # population target: the same model fitted to the implied correlations of the discretised items
    cols = list(items.columns)
    ok = clean5k.merged.loc[items.index]
    eta = {c[4:]: c for c in ok.columns if c.startswith("eta_")}
    moments = {k: {"mean": float(ok[v].mean()), "var": float(ok[v].var())} for k, v in eta.items()}
    cov = ok[list(eta.values())].cov()
    latent_cov = {(a, b): float(cov.loc[eta[a], eta[b]]) for a in eta for b in eta}
    r = implied_item_correlations(cols, params["measurement"], moments, latent_cov)
    sign = np.array([-1.0 if i in set(spec.reverse_items) else 1.0 for i in cols])
    r = r * np.outer(sign, sign)  # prepare_items reversed these items: their correlations flip sign
    pop = cfa(model, _exact_moment_sample(r, cols))
    assert pop.converged

    est = fit.std_loadings.set_index(["lhs", "rhs"])["estimate"]
    target = pop.std_loadings.set_index(["lhs", "rhs"])["estimate"]
    first = [k for k in est.index if k[0] not in HIGHER_ORDER]
    err = (est[first] - target[first]).abs()
    assert err.max() < 0.05, err.sort_values().tail(3)
    # the attenuation is real: the latent-response loadings are higher than the ML target
    latent_resp = pd.Series([_true_item_std_loading(params, k[1]) for k in first], index=pd.MultiIndex.from_tuples(first))
    assert (latent_resp - target[first]).mean() > 0.03

    factors = _factors(model)
    second = [k for k in est.index if k[0] in HIGHER_ORDER]
    assert len(second) == 14
    for c, d in second:
        truth = _true_second_order_loading(params, c, _factor_latent(params, factors[d]))
        assert abs(est[(c, d)] - truth) < 0.05, (c, d, est[(c, d)], truth)
        assert abs(target[(c, d)] - truth) < 0.03, (c, d, target[(c, d)], truth)


# --------------------------------------------------------------------------- 2. regressions


def _structural(params: dict, name: str) -> dict:
    return params["structural"][name]["coef"]


def test_h1_h3_true_latent_scores_cover_structural_coefficients(clean5k):
    """H1 and H3 on the true latent scores: the 95 % CIs cover the structural coefficients.

    Truth (``truth_params["structural"]["perceived_impact"]``): ``impact = a[form] + 0.50 SI +
    0.15 support + 0.20 SI x support + e``. The outcome and SI are the true latent scores
    (``truth_latent.parquet``, joined by ``_uuid``), ``support_used`` the true indicator; the
    model adds the analysis plan's controls (which do not enter the true equation, so they do
    not bias it) and uses HC3 SEs as the plan. Without centring, the SI coefficient is the H1
    slope without support and the product term the H3 moderation.
    """
    c = _structural(clean5k.params, "perceived_impact")
    r = regress(f"eta_perceived_impact ~ eta_si_presence * true_support_used + {CONTROLS}",
                clean5k.merged, se="hc3")
    tab = r.coefficients
    terms = {"eta_si_presence": c["si_presence"], "true_support_used": c["support_used"],
             "eta_si_presence:true_support_used": c["si_presence:support_used"]}
    for term, truth in terms.items():
        assert _cover(tab, term, truth), _ci_text(tab, term, truth)


def test_h2_true_latent_scores_cover_structural_coefficients(clean5k):
    """H2 on the true latent scores: the 95 % CIs cover the structural coefficients.

    Truth (``truth_params["structural"]["si_presence"]``): ``SI = a[form] + 0.45 capacity
    - 0.30 barriers + e``, all true latent scores (``truth_latent.parquet``); plan controls, HC3.
    """
    c = _structural(clean5k.params, "si_presence")
    r = regress(f"eta_si_presence ~ eta_internal_capacity + eta_external_barriers + {CONTROLS}",
                clean5k.merged, se="hc3")
    tab = r.coefficients
    for term, truth in (("eta_internal_capacity", c["internal_capacity"]),
                        ("eta_external_barriers", c["external_barriers"])):
        assert _cover(tab, term, truth), _ci_text(tab, term, truth)


def test_h1_beneficiaries_negbin_true_latent_covers_coefficients(clean5k):
    """H1 (count): the negative binomial on the true latent SI covers the true coefficients.

    Truth (``truth_params["structural"]["beneficiaries"]``): ``log E[beneficiaries_y3] = 2.8 +
    0.55 log(members) + 0.35 SI - 0.8 cooperative`` (a gamma frailty times yearly gamma noise:
    not exactly NB2, but the log-linear mean is right, so NB2 ML is consistent; HC3 SEs).
    ``log(members)`` is the log of the count (not the plan's ``log(members + 1)``); the age of
    the organisation is added as an irrelevant control.
    """
    c = _structural(clean5k.params, "beneficiaries")
    d = clean5k.merged.copy()
    d["log_n_members"] = np.log(pd.to_numeric(d["n_members"]))
    d["coop"] = (d["side"] == "cooperative").astype(float)
    r = regress("beneficiaries_y3 ~ log_n_members + eta_si_presence + coop + org_age", d, model="negbin", se="hc3")
    tab = r.coefficients
    for term, truth in (("eta_si_presence", c["si_presence"]), ("log_n_members", c["log_members"]),
                        ("coop", c["cooperative"])):
        assert _cover(tab, term, truth), _ci_text(tab, term, truth)


def _latent_formula(formula: str) -> str:
    for s in ("perceived_impact", "si_presence", "internal_capacity", "external_barriers"):
        formula = re.sub(rf"\bscore_{s}\b", f"eta_{s}", formula)
    return formula


@pytest.mark.parametrize("model_name, focal", [
    ("h1_impact", ["score_si_presence"]),
    ("h2_si_presence", ["score_internal_capacity", "score_external_barriers"]),
])
def test_plan_models_on_observed_scores_are_attenuated(clean5k, model_name, focal):
    """Analysis-plan models on the observed scores: right sign, significant, attenuated.

    Truth: the same formula fitted on the true latent scores of the same organisations
    (``truth_latent.parquet``; its coefficients cover the structural truth, see the tests
    above). Scores (means of 1-5 items) are on another scale than the latents, so the
    comparison uses standardised coefficients (beta weights): measurement error in the
    predictor and in the outcome shrinks a beta weight towards 0, hence
    ``0 < beta(observed) / beta(latent) < 1``; the ratio must also stay above 0.5 (reliable
    scales, no gross distortion by scoring). The simulator does not document an attenuated
    truth on the score scale.
    """
    spec_m = load_analysis_plan().models[model_name]
    obs = regress(spec_m.formula, clean5k.merged, model=spec_m.model, se=spec_m.se)
    lat = regress(_latent_formula(spec_m.formula), clean5k.merged, model=spec_m.model, se=spec_m.se)
    b_obs, b_lat = obs.std_coefficients, lat.std_coefficients
    for term in focal:
        row = obs.coefficients.loc[term]
        lt = term.replace("score_", "eta_")
        assert np.sign(row["estimate"]) == np.sign(lat.coefficients.loc[lt, "estimate"]) != 0
        assert row["p_value"] < 1e-6, (term, row["p_value"])
        ratio = b_obs[term] / b_lat[lt]
        assert 0.5 < ratio < 1.0, (term, b_obs[term], b_lat[lt], ratio)


def test_h1_negbin_on_observed_scores_is_attenuated(clean5k):
    """Plan model ``h1_beneficiaries_negbin`` on the observed SI score: positive, significant, attenuated.

    Truth: the same formula on the true latent SI (``truth_latent.parquet``), whose coefficient
    estimates ``d_SI = 0.35`` (``truth_params``). The effect per standard deviation of the
    predictor (coefficient x SD) must be positive and smaller on the observed score
    (measurement error), but not below half the latent one.
    """
    spec_m = load_analysis_plan().models["h1_beneficiaries_negbin"]
    d = clean5k.merged
    obs = regress(spec_m.formula, d, model="negbin", se=spec_m.se).coefficients.loc["score_si_presence"]
    lat = regress(_latent_formula(spec_m.formula), d, model="negbin", se=spec_m.se).coefficients
    assert obs["estimate"] > 0 and obs["p_value"] < 1e-6, obs
    per_sd_obs = obs["estimate"] * d["score_si_presence"].std()
    per_sd_lat = lat.loc["eta_si_presence", "estimate"] * d["eta_si_presence"].std()
    assert 0.5 * per_sd_lat < per_sd_obs < per_sd_lat, (per_sd_obs, per_sd_lat)


@pytest.mark.slow
def test_true_latent_ci_coverage_over_replications():
    """40 replications (n = 2,000): the 95 % CIs of H1-H3 cover the structural truth about 95 % of the time.

    Truth: ``truth_params["structural"]`` (``perceived_impact``: SI 0.50, support 0.15, SI x
    support 0.20; ``si_presence``: capacity 0.45, barriers -0.30). Regressions on the true
    latent scores of :func:`analysis.simulate.simulate_survey` (``latent_frame``), with the
    legal-form intercepts, HC3 SEs. Each coverage count must be at least 33 of 40 (binomial
    probability of fewer than 33 at 95 % coverage: about 0.3 %) and the mean estimate within
    3.5 Monte-Carlo SEs of the truth; one sample of n = 100,000 must also be within 3 SEs.
    """
    reps = 40
    rows = []
    for k in range(reps):
        r = simulate_survey(2000, seed=7000 + k, clean_only=True)
        lat = r.latent_frame()
        lat.columns = [c.replace(".", "__") for c in lat.columns]
        st = r.sim.cfg["structural"]
        h13 = regress("eta_perceived_impact ~ eta_si_presence * support_used + C(legal_form)", lat, se="hc3")
        h2 = regress("eta_si_presence ~ eta_internal_capacity + eta_external_barriers + C(legal_form)", lat, se="hc3")
        pi, si = st["perceived_impact"]["coef"], st["si_presence"]["coef"]
        for tab, term, truth in ((h13, "eta_si_presence", pi["si_presence"]),
                                 (h13, "support_used", pi["support_used"]),
                                 (h13, "eta_si_presence:support_used", pi["si_presence:support_used"]),
                                 (h2, "eta_internal_capacity", si["internal_capacity"]),
                                 (h2, "eta_external_barriers", si["external_barriers"])):
            c = tab.coefficients.loc[term]
            rows.append({"term": term, "truth": truth, "estimate": c["estimate"],
                         "covered": c["ci_low"] <= truth <= c["ci_high"]})
    res = pd.DataFrame(rows).groupby("term").agg(truth=("truth", "first"), mean=("estimate", "mean"),
                                                 sd=("estimate", "std"), covered=("covered", "sum"))
    print(res)
    assert (res["covered"] >= 33).all(), res
    # mean estimates: 5 terms, Bonferroni bound of 3.5 Monte-Carlo SEs (family-wise 0.25 %)
    assert ((res["mean"] - res["truth"]).abs() < 3.5 * res["sd"] / np.sqrt(reps)).all(), res
    # and no bias at n = 100,000 (one sample): every estimate within 3 SEs of the truth
    r = simulate_survey(100_000, seed=4242, clean_only=True)
    lat = r.latent_frame()
    st = r.sim.cfg["structural"]
    h13 = regress("eta_perceived_impact ~ eta_si_presence * support_used + C(legal_form)", lat).coefficients
    h2 = regress("eta_si_presence ~ eta_internal_capacity + eta_external_barriers + C(legal_form)", lat).coefficients
    pi, si = st["perceived_impact"]["coef"], st["si_presence"]["coef"]
    for tab, term, truth in ((h13, "eta_si_presence", pi["si_presence"]), (h13, "support_used", pi["support_used"]),
                             (h13, "eta_si_presence:support_used", pi["si_presence:support_used"]),
                             (h2, "eta_internal_capacity", si["internal_capacity"]),
                             (h2, "eta_external_barriers", si["external_barriers"])):
        assert abs(tab.loc[term, "estimate"] - truth) < 3 * tab.loc[term, "se"], _ci_text(tab, term, truth)


def test_h3_moderation_on_observed_scores(clean5k):
    """H3 (plan model ``h3_moderation_used``) on observed scores: positive, significant moderation.

    Truth: ``c_int = 0.20 > 0`` (``truth_params["structural"]["perceived_impact"]``); on the score
    scale the product term is attenuated, so only its sign and significance are checked, plus
    that its estimate is below the one on the true latent scores (same formula).
    """
    spec_m = load_analysis_plan().models["h3_moderation_used"]
    obs = regress(spec_m.formula, clean5k.merged, se=spec_m.se, center=list(spec_m.center))
    lat_center = [_latent_formula(c) for c in spec_m.center]
    lat = regress(_latent_formula(spec_m.formula), clean5k.merged, se=spec_m.se, center=lat_center)
    row = obs.coefficients.loc["score_si_presence:support_used"]
    assert row["estimate"] > 0 and row["p_value"] < 0.01, row
    assert row["estimate"] < lat.coefficients.loc["eta_si_presence:support_used", "estimate"]


# --------------------------------------------------------------------------- 4. cleaning end to end


@pytest.fixture(scope="module")
def messy_and_clean(tmp_path_factory):
    """The same 2,000 organisations (seed 20262) exported messy and clean-only."""
    root = tmp_path_factory.mktemp("messy_vs_clean")
    messy = _pipeline(root / "messy", N_MESSY, SEED_MESSY, clean_only=False)
    clean = _pipeline(root / "clean", N_MESSY, SEED_MESSY, clean_only=True)
    return messy, clean


def test_messy_and_clean_exports_share_organisations(messy_and_clean):
    """Precondition: for one seed the messy and clean exports hold the same organisations."""
    messy, clean = messy_and_clean
    a, b = messy.latent, clean.latent
    assert a["_uuid"].tolist() == b["_uuid"].tolist()
    np.testing.assert_array_equal(a["eta_si_presence"], b["eta_si_presence"])


def test_cleaning_does_not_distort_h1(messy_and_clean):
    """End to end: the H1 estimate after cleaning a messy export lies in the clean-only 95 % CI.

    Truth: the clean-only export of the same organisations (same seed; every planted problem
    off), through the same pipeline. Plan model ``h1_impact`` on observed scores, HC3.
    """
    messy, clean = messy_and_clean
    spec_m = load_analysis_plan().models["h1_impact"]
    rm = regress(spec_m.formula, messy.data, se=spec_m.se).coefficients.loc["score_si_presence"]
    rc = regress(spec_m.formula, clean.data, se=spec_m.se).coefficients.loc["score_si_presence"]
    assert rc["ci_low"] <= rm["estimate"] <= rc["ci_high"], (rm["estimate"], rc["ci_low"], rc["ci_high"])
    # the analysed rows of the messy export are real organisations, each once (tests and
    # duplicates gone), and most of the organisations are kept
    assert messy.merged["org_id"].notna().all()
    assert not messy.merged["org_id"].duplicated().any()
    assert len(messy.data) > 0.9 * len(clean.data)


# --------------------------------------------------------------------------- 3. weights


def _expected_latent(params: dict, name: str, form: str, side: str, _seen=()) -> float:
    """E[latent | legal form] from the structural equations (linear terms only, E[S] = 0)."""
    st = params["structural"][name]
    icpt = st.get("intercept", 0.0)
    value = float(icpt.get(form, 0.0)) if isinstance(icpt, dict) else float(icpt)
    milieu = params["parameters"]["population"]["milieu"][side]
    for term, coef in (st.get("coef") or {}).items():
        assert ":" not in term, f"{name}: product term {term} not handled"
        if term == "S":
            e = 0.0
        elif term == "rural":
            e = float(milieu["rural"]) / float(sum(milieu.values()))
        elif term in ("coop", "cooperative"):
            e = float(side == "cooperative")
        else:
            e = _expected_latent(params, term, form, side)
        value += float(coef) * e
    return value


def _population_mean_si(params: dict) -> float:
    """Population mean of the true SI latent: sum_h N_h E[SI | stratum h] / N (frame of the simulator)."""
    rec = pd.DataFrame(params["sample_design"])
    mu = [_expected_latent(params, "si_presence", f, s) for f, s in zip(rec["legal_form"], rec["side"])]
    return float(np.average(mu, weights=rec["N_frame"]))


@functools.lru_cache(maxsize=1)
def _weight_replications(reps: int = 50, n: int = 2000) -> SimpleNamespace:
    """Means of the true SI over ``reps`` simulated samples: design-weighted, unweighted, package weights."""
    weighted, unweighted, package, params = [], [], [], None
    for k in range(reps):
        r = simulate_survey(n, seed=9000 + k, clean_only=True)
        lat = r.latent_frame()
        if params is None:
            params = {"structural": r.sim.cfg["structural"], "parameters": r.sim.cfg,
                      "sample_design": r.sim.design.to_records()}
        des = SurveyDesign(lat, weights="design_weight", strata="stratum", lonely_psu="certainty")
        weighted.append(float(des.mean("eta_si_presence").to_frame()["estimate"].iloc[0]))
        unweighted.append(float(lat["eta_si_presence"].mean()))
        # the package's design weights (population.yaml strata) on the same sample
        d = lat[["region", "legal_form", "eta_si_presence"]].astype({"region": object, "legal_form": object})
        d["legal_form_group"] = d["legal_form"].map(LEGAL_FORM_GROUPS)
        d["design_stratum"], d["design_weight"] = design_weights_for(d)
        d = d[d["design_weight"].notna()]
        package.append(float(np.average(d["eta_si_presence"], weights=d["design_weight"])))
    out = SimpleNamespace(truth=_population_mean_si(params), reps=reps)
    for name, x in (("weighted", weighted), ("unweighted", unweighted), ("package", package)):
        x = np.asarray(x)
        setattr(out, name, (float(x.mean()), float(x.std(ddof=1) / np.sqrt(reps))))
    print(f"truth {out.truth:.4f}; weighted {out.weighted}; unweighted {out.unweighted}; "
          f"package weights {out.package} (mean, MC SE)")
    return out


@pytest.mark.slow
def test_design_weighted_mean_is_unbiased_and_unweighted_is_not():
    """50 replications (n = 2,000): the design-weighted mean of the true SI is unbiased.

    Truth: the population mean of the true latent SI over the simulator's frame,
    ``sum_h N_h E[SI | h] / N``, with ``E[SI | h]`` from the documented structural equations
    (``truth_params``: intercepts by legal form, coefficients, share of rural organisations by
    side; ``E[S] = 0``) and ``N_h`` the frame sizes (``sample_design``). The sample
    over-represents cooperatives (40 % vs 15.5 % of the frame), whose SI is lower, so the
    unweighted mean is biased. Weighted: Hajek mean with the simulator's inclusion probabilities
    (``SurveyDesign(weights=1/pi, strata=stratum)``); it must be within 3 Monte-Carlo SEs of the
    truth; the unweighted mean more than 5 MC SEs away.
    """
    rep = _weight_replications()
    (w, mc_w), (u, mc_u) = rep.weighted, rep.unweighted
    assert abs(w - rep.truth) < 3 * mc_w, (w, rep.truth, mc_w)
    assert abs(u - rep.truth) > 5 * mc_u, (u, rep.truth, mc_u)


@pytest.mark.slow
def test_package_design_weights_unbiased():
    """Same replications with the package's design weights (:func:`analysis.study._dataset.design_weights_for`).

    Truth: as :func:`test_design_weighted_mean_is_unbiased_and_unweighted_is_not`. The package
    weights ``N_h / n_h`` over the strata region x legal form of ``questionnaire/sampling_frame.csv``
    (the frame the simulator samples from), with ``n_h`` the rows in the sample.
    """
    rep = _weight_replications()
    p, mc_p = rep.package
    assert abs(p - rep.truth) < 3 * mc_p, (p, rep.truth, mc_p)
