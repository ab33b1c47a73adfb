"""pls(): model syntax errors, bootstrap reproducibility and routes, recovery on simulated data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.plssem import pls
from analysis.plssem._bootstrap import _batched, _moment_draws, _per_draw, run_bootstrap
from analysis.plssem._estimate import fit, prepare_data
from analysis.plssem._syntax import parse_model

DATA = Path(__file__).resolve().parents[1] / "data" / "pls"
SIMPLE = """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Value        =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Satisfaction ~ Image + Expectation + Value
"""


@pytest.fixture(scope="module")
def mobi():
    return pd.read_csv(DATA / "mobi.csv")


def simulate(n, seed=0, lam=0.75):
    """X -> M -> Y and X -> Y with standardised latent variables, 4 indicators each."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    m = 0.5 * x + np.sqrt(1 - 0.25) * rng.standard_normal(n)
    # Y = 0.3 X + 0.4 M + e, Var(Y) = 1
    var_lin = 0.3**2 + 0.4**2 + 2 * 0.3 * 0.4 * 0.5
    y = 0.3 * x + 0.4 * m + np.sqrt(1 - var_lin) * rng.standard_normal(n)
    cols = {}
    for name, eta in (("x", x), ("m", m), ("y", y)):
        for j in range(1, 5):
            cols[f"{name}{j}"] = lam * eta + np.sqrt(1 - lam**2) * rng.standard_normal(n)
    model = ("X =~ x1 + x2 + x3 + x4\nM =~ m1 + m2 + m3 + m4\nY =~ y1 + y2 + y3 + y4\n"
             "M ~ X\nY ~ X + M")
    return pd.DataFrame(cols), model


@pytest.mark.parametrize("model, fragment", [
    ("A =~ IMAG1 + NOPE\nB =~ CUSA1 + CUSA2\nB ~ A", "model line 1 'A =~ IMAG1 + NOPE'"),
    ("A =~ IMAG1 + IMAG2\nB =~\nB ~ A", "model line 2 'B =~': construct 'B' has no indicator"),
    ("A =~ IMAG1 + IMAG2\nB =~ CUSA1\nB ~ A + C", "'C' is not a construct"),
    ("A =~ IMAG1 + IMAG2\nB =~ CUSA1\nB ~ A + IMAG3", "'IMAG3' is a column of the data"),
    ("A =~ IMAG1 + IMAG2\nB =~ CUSA1\nC =~ CUEX1\nB ~ A", "construct 'C' is in no path"),
    ("A =~ IMAG1 + IMAG2\nB =~ CUSA1\nB ~ A + A:D", "'D' in 'A:D' is not a construct"),
    ("A =~ IMAG1 + IMAG2\nB =~ CUSA1\nB ~ A\nA ~ B", "loop"),
    ("A =~ IMAG1 + IMAG2\nA =~ CUSA1", "defined twice"),
    ("A =~ IMAG1 + IMAG2\nB =~ CUSA1 + A\nB ~ A", "mixes indicators and constructs"),
    ("A =~ IMAG1 + IMAG2\nB =~ CUSA1\nB ~ A ~ C", "exactly one of"),
    ("A =~ IMAG1 + IMAG2\nB =~ CUSA1", "has no path"),
    ("", "empty"),
])
def test_bad_models(mobi, model, fragment):
    with pytest.raises(InputError) as err:
        pls(model, mobi, bootstrap=0)
    message = str(err.value)
    assert fragment in message
    assert message.count(". ") == 0  # one sentence


def test_bad_options(mobi):
    with pytest.raises(InputError, match="scheme"):
        pls(SIMPLE, mobi, scheme="pathway", bootstrap=0)
    with pytest.raises(InputError, match="bootstrap"):
        pls(SIMPLE, mobi, bootstrap=-1)
    with pytest.raises(InputError, match="interaction"):
        pls(SIMPLE, mobi, bootstrap=0, interaction="moderated")
    bad = mobi.assign(IMAG1=1.0)
    with pytest.raises(InputError, match="'IMAG1' has no variance"):
        pls(SIMPLE, bad, bootstrap=0)
    with pytest.raises(InputError, match="not numeric"):
        pls(SIMPLE, mobi.assign(IMAG2="x"), bootstrap=0)


def test_no_bootstrap_gives_nan_inference(mobi):
    res = pls(SIMPLE, mobi, bootstrap=0)
    assert res.n_boot == 0
    assert res.params[["se", "statistic", "p_value", "ci_low", "ci_high"]].isna().all().all()
    assert list(res.params.columns) == ["lhs", "op", "rhs", "type", "estimate", "se",
                                        "statistic", "p_value", "ci_low", "ci_high"]


def test_bootstrap_reproducible(mobi):
    a = pls(SIMPLE, mobi, bootstrap=300, seed=7)
    b = pls(SIMPLE, mobi, bootstrap=300, seed=7)
    c = pls(SIMPLE, mobi, bootstrap=300, seed=8)
    pd.testing.assert_frame_equal(a.params, b.params)
    pd.testing.assert_frame_equal(a.htmt_ci, b.htmt_ci)
    assert not np.allclose(a.params["se"], c.params["se"])
    paths = a.params.query("type == 'path'")
    assert (paths["ci_low"] < paths["estimate"]).all()
    assert (paths["estimate"] < paths["ci_high"]).all()
    np.testing.assert_allclose(paths["statistic"], paths["estimate"] / paths["se"])


def test_batched_route_equals_per_draw_route(mobi):
    # same draws (one generator, chunk-size invariant), two implementations
    spec = parse_model(SIMPLE, mobi.columns)
    frame = prepare_data(mobi, spec, "mean")
    for consistent in (False, True):
        f0 = fit(frame, spec, "path", consistent, "two_stage")
        a = _batched(frame, f0, "path", consistent, 40, np.random.default_rng(3))
        b = _per_draw(frame, spec, f0, "path", consistent, "two_stage", 40,
                      np.random.default_rng(3))
        for key in ("paths", "weights", "loadings", "total", "htmt"):
            np.testing.assert_allclose(np.nan_to_num(a[key]), np.nan_to_num(b[key]),
                                       atol=1e-6, err_msg=key)


def test_higher_order_and_interaction_bootstrap(mobi):
    model = """
    Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
    Expectation =~ CUEX1 + CUEX2 + CUEX3
    Quality =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5
    Loyalty =~ CUSL1 + CUSL2 + CUSL3
    Value =~ PERV1 + PERV2
    Nick =~ Quality + Loyalty
    Satisfaction =~ CUSA1 + CUSA2 + CUSA3
    Satisfaction ~ Image + Expectation + Value + Nick + Image:Expectation
    """
    res = pls(model, mobi, bootstrap=20, seed=1)
    assert res.n_boot == 20
    p = res.params.set_index(["type", "lhs", "rhs"])
    assert np.isfinite(p.loc[("path", "Satisfaction", "Image:Expectation"), "se"])
    assert np.isfinite(p.loc[("loading", "Nick", "Quality"), "se"])
    assert "Quality" in res.reliability.index and "Nick" in res.htmt.index
    f2 = res.f2.set_index("rhs")["f2"]
    assert np.isnan(f2["Image"]) and np.isfinite(f2["Image:Expectation"])


HOC_INTERACTION = """
Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation =~ CUEX1 + CUEX2 + CUEX3
Quality =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5
Loyalty =~ CUSL1 + CUSL2 + CUSL3
Value =~ PERV1 + PERV2
Nick =~ Quality + Loyalty
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Satisfaction ~ Image + Expectation + Value + Nick + Image:Expectation + Nick:Value
"""


@pytest.mark.parametrize("interaction, consistent, scheme", [
    ("two_stage", False, "path"),
    ("two_stage", True, "factorial"),
    ("product_indicator", False, "path"),
    ({"Image:Expectation": "product_indicator"}, True, "path"),
])
def test_moment_route_equals_per_draw_route(mobi, interaction, consistent, scheme):
    # higher-order and interaction models: the same draws, the estimate of every draw from its
    # moments (_moment_draws) equals the full re-fit on its rows (_per_draw)
    spec = parse_model(HOC_INTERACTION, mobi.columns)
    frame = prepare_data(mobi, spec, "mean")
    f0 = fit(frame, spec, scheme, consistent, interaction)
    a = _moment_draws(frame, spec, f0, scheme, consistent, interaction, 30,
                      np.random.default_rng(5))
    b = _per_draw(frame, spec, f0, scheme, consistent, interaction, 30, np.random.default_rng(5))
    np.testing.assert_array_equal(a["ok"], b["ok"])
    np.testing.assert_array_equal(a["conv"], b["conv"])
    for key in ("paths", "weights", "loadings", "total", "htmt"):
        np.testing.assert_allclose(a[key], b[key], rtol=0, atol=1e-10, err_msg=key)


def test_moment_route_failed_draws_and_orthogonal(mobi):
    # a constant indicator in a resample fails the draw in both routes; the orthogonal method
    # keeps the per-draw route
    model = "A =~ IMAG1 + IMAG2\nB =~ CUSA1 + CUSA2\nC =~ CUEX1 + rare\nC ~ A + B + A:B"
    small = mobi.head(60).assign(rare=[1.0] + [0.0] * 59)
    spec = parse_model(model, small.columns)
    frame = prepare_data(small, spec, "mean")
    f0 = fit(frame, spec, "path", False, "two_stage")
    a = _moment_draws(frame, spec, f0, "path", False, "two_stage", 40, np.random.default_rng(2))
    b = _per_draw(frame, spec, f0, "path", False, "two_stage", 40, np.random.default_rng(2))
    assert 0 < (~b["ok"]).sum() < 40
    np.testing.assert_array_equal(a["ok"], b["ok"])
    np.testing.assert_allclose(a["paths"][a["ok"]], b["paths"][b["ok"]], rtol=0, atol=1e-10)
    f0 = fit(frame, spec, "path", False, "orthogonal")
    c = run_bootstrap(frame, spec, f0, scheme="path", consistent=False, interaction="orthogonal",
                      n_boot=5, seed=1)
    assert len(c["paths"]) + c["n_failed"] == 5


def test_recovery_plsc_and_indirect_effect():
    df, model = simulate(20_000, seed=2)
    res = pls(model, df, consistent=True, bootstrap=0)
    paths = res.path_matrix
    # PLSc is consistent for common-factor models: the true paths
    assert paths.loc["X", "M"] == pytest.approx(0.5, abs=0.03)
    assert paths.loc["X", "Y"] == pytest.approx(0.3, abs=0.03)
    assert paths.loc["M", "Y"] == pytest.approx(0.4, abs=0.03)
    lo = res.loadings.to_numpy()
    np.testing.assert_allclose(lo[lo != 0], 0.75, atol=0.03)
    ind = res.params.query("type == 'indirect'").set_index(["lhs", "rhs"])["estimate"]
    assert ind["Y", "X"] == pytest.approx(paths.loc["X", "M"] * paths.loc["M", "Y"], rel=1e-12)
    # plain PLS attenuates the paths (composites of error-laden indicators)
    plain = pls(model, df, bootstrap=0).path_matrix
    assert plain.loc["X", "M"] < paths.loc["X", "M"] - 0.02
    assert res.reliability["rho_a"].between(0.8, 0.9).all()


def test_missing_values(mobi):
    holes = mobi.copy()
    holes.loc[[3, 10, 40], "IMAG1"] = np.nan
    mean = pls(SIMPLE, holes, bootstrap=0)
    listwise = pls(SIMPLE, holes, bootstrap=0, missing="listwise")
    assert mean.n == 250 and listwise.n == 247
    assert not np.allclose(mean.path_matrix, listwise.path_matrix)


def test_q2_predict(mobi):
    res = pls(SIMPLE, mobi, bootstrap=0, seed=1)
    q2 = res.q2
    assert list(q2.index) == ["CUSA1", "CUSA2", "CUSA3"]
    assert q2["q2_predict"].between(0.1, 0.9).all()
    pd.testing.assert_frame_equal(q2, res.predict_q2(seed=1))


def test_schemes_agree_with_two_constructs(mobi):
    # with one path, the inner proxies of all three schemes are the other construct (up to a
    # positive factor when the correlation is positive): the same weights
    model = "Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\n" \
            "Satisfaction <~ CUSA1 + CUSA2 + CUSA3\nSatisfaction ~ Image"
    w = [pls(model, mobi, scheme=s, bootstrap=0).weights for s in ("path", "factorial",
                                                                    "centroid")]
    pd.testing.assert_frame_equal(w[0], w[1], atol=1e-7)
    pd.testing.assert_frame_equal(w[0], w[2], atol=1e-7)


def test_centroid_differs_from_factorial(mobi):
    a = pls(SIMPLE, mobi, scheme="centroid", bootstrap=0)
    b = pls(SIMPLE, mobi, scheme="factorial", bootstrap=0)
    assert a.converged and b.converged
    assert 1e-6 < np.abs(a.weights - b.weights).to_numpy().max() < 0.05


def test_specific_indirect_effects(mobi):
    # seminr test-bootstrap.R: Image -> Expectation -> Satisfaction (original estimate)
    model = SIMPLE + "Expectation ~ Image\n"
    res = pls(model, mobi, scheme="factorial", bootstrap=200, seed=3)
    spec = res.specific_indirect
    assert list(spec[["lhs", "rhs", "through"]].itertuples(index=False, name=None)) == [
        ("Satisfaction", "Image", "Expectation")]
    paths = res.path_matrix
    row = spec.iloc[0]
    assert row["estimate"] == pytest.approx(
        paths.loc["Image", "Expectation"] * paths.loc["Expectation", "Satisfaction"])
    total_ind = res.params.query("type == 'indirect'").set_index(["lhs", "rhs"])
    assert total_ind.loc[("Satisfaction", "Image"), "estimate"] == pytest.approx(row["estimate"])
    assert total_ind.loc[("Satisfaction", "Image"), "se"] == pytest.approx(row["se"])
    assert row["ci_low"] < row["estimate"] < row["ci_high"]


def test_single_item_construct_named_like_its_item(mobi):
    named = pls(SIMPLE.replace("Value        =~ PERV1 + PERV2", "PERV1 =~ PERV1")
                .replace("+ Value", "+ PERV1"), mobi, bootstrap=0)
    other = pls(SIMPLE.replace("Value        =~ PERV1 + PERV2", "Value =~ PERV1"),
                mobi, bootstrap=0)
    np.testing.assert_allclose(named.path_matrix.loc["PERV1", "Satisfaction"],
                               other.path_matrix.loc["Value", "Satisfaction"])


def test_interaction_option_per_term(mobi):
    model = SIMPLE.replace("Satisfaction ~ Image + Expectation + Value",
                           "Satisfaction ~ Image + Expectation + Value + Image:Value")
    res = pls(model, mobi, bootstrap=0, interaction={"Image:Value": "product_indicator"})
    assert "IMAG1*PERV1" in res.weights.index
    with pytest.raises(InputError, match="'Image:Expectation' is not a term of the model"):
        pls(model, mobi, bootstrap=0, interaction={"Image:Expectation": "orthogonal"})
