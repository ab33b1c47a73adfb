"""Parity of analysis.psychometrics._reliability with R psych 2.2.9 (tests/reference/psych_reference.json)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from analysis.config import PROJECT_ROOT
from analysis.errors import EstimationWarning, InputError
from analysis.psychometrics._reliability import AlphaResult, OmegaResult, alpha, omega

DATA = PROJECT_ROOT / "tests" / "data"
REF = json.loads((PROJECT_ROOT / "tests" / "reference" / "psych_reference.json").read_text())

# Closed-form statistics: only floating-point rounding separates us from R.
TOL = 1e-10
# omega goes through two iterative factor analyses and a rotation (psych's stopping rules
# are reproduced exactly), so a little more room.
TOL_OMEGA = 1e-8

ITEM_COLUMNS = [("n", "n"), ("raw_r", "raw.r"), ("std_r", "std.r"), ("r_cor", "r.cor"),
                ("r_drop", "r.drop"), ("mean", "mean"), ("sd", "sd")]
DROP_COLUMNS = [("alpha_if_deleted", "raw_alpha"), ("std_alpha_if_deleted", "std.alpha"),
                ("g6_if_deleted", "G6(smc)"), ("average_r_if_deleted", "average_r"),
                ("signal_noise_if_deleted", "S/N"), ("alpha_se_if_deleted", "alpha se"),
                ("var_r_if_deleted", "var.r"), ("median_r_if_deleted", "med.r")]


def _table(m) -> pd.DataFrame:
    return pd.DataFrame(np.array(m["values"], dtype=float), index=m["rows"], columns=m["cols"])


@pytest.fixture(scope="module", params=list(REF["alpha"]))
def scale(request, bfi_items):
    ref = REF["alpha"][request.param]
    cols = [k.lstrip("-") for k in ref["keys"]]
    return alpha(bfi_items[cols], keys=ref["keys"]), ref


class TestAlphaParity:
    """The five bfi scales, reverse-keyed items A1, C4, C5, E1, E2, O2, O5."""

    def test_total(self, scale):
        res, ref = scale
        t = ref["total"]
        for ours, theirs in [(res.alpha, "raw_alpha"), (res.std_alpha, "std.alpha"),
                             (res.g6, "G6(smc)"), (res.average_r, "average_r"),
                             (res.signal_noise, "S/N"), (res.ase, "ase"), (res.mean, "mean"),
                             (res.sd, "sd"), (res.median_r, "median_r")]:
            assert_allclose(ours, t[theirs], atol=TOL, err_msg=theirs)

    def test_feldt_interval(self, scale):
        res, ref = scale
        assert_allclose(res.ci_low, ref["feldt"]["lower"], atol=TOL)
        assert_allclose(res.ci_high, ref["feldt"]["upper"], atol=TOL)
        assert res.ci_low < res.alpha < res.ci_high

    def test_item_statistics(self, scale):
        res, ref = scale
        theirs = _table(ref["item_stats"])
        for ours, col in ITEM_COLUMNS:
            assert_allclose(res.items[ours].to_numpy(), theirs[col].to_numpy(), atol=TOL,
                            err_msg=col)

    def test_alpha_if_deleted(self, scale):
        res, ref = scale
        theirs = _table(ref["alpha_drop"])
        for ours, col in DROP_COLUMNS:
            assert_allclose(res.items[ours].to_numpy(), theirs[col].to_numpy(), atol=TOL,
                            err_msg=col)

    def test_n_and_keys(self, scale):
        res, ref = scale
        assert res.n == 2800
        assert res.n_items == 5
        assert list(res.keys) == [-1 if k.startswith("-") else 1 for k in ref["keys"]]


def test_key_spellings_agree(bfi_items):
    items = bfi_items[["C1", "C2", "C3", "C4", "C5"]]
    a = alpha(items, keys=["C1", "C2", "C3", "-C4", "-C5"])
    b = alpha(items, keys=["-C4", "-C5"])
    c = alpha(items, keys=[1, 1, 1, -1, -1])
    assert a.alpha == b.alpha == c.alpha
    pd.testing.assert_frame_equal(a.items, c.items)


def test_reversal_uses_data_range(bfi_items):
    items = bfi_items[["A1", "A2"]].dropna()
    res = alpha(items, keys=["-A1"])
    lo, hi = items.to_numpy().min(), items.to_numpy().max()
    assert_allclose(res.items.loc["A1", "mean"], lo + hi - items["A1"].mean())


def test_two_items(bfi_items):
    res = alpha(bfi_items[["A2", "A3"]])
    C = bfi_items[["A2", "A3"]].cov().to_numpy()  # pairwise covariances, as psych (cov2cor(C))
    r = C[0, 1] / np.sqrt(C[0, 0] * C[1, 1])
    assert_allclose(res.std_alpha, 2 * r / (1 + r), atol=1e-12)
    assert_allclose(res.items["std_alpha_if_deleted"], r)


def test_unreversed_item_warns(bfi_items):
    with pytest.warns(EstimationWarning, match="reversed"):
        res = alpha(bfi_items[["A1", "A2", "A3", "A4", "A5"]])
    assert res.warnings


def test_listwise(bfi_items):
    items = bfi_items[["N1", "N2", "N3", "N4", "N5"]]
    res = alpha(items, missing="listwise")
    assert res.n == len(items.dropna())
    assert_allclose(res.alpha, alpha(items.dropna()).alpha, atol=1e-12)


def test_alpha_tables(bfi_items):
    res = alpha(bfi_items[["N1", "N2", "N3", "N4", "N5"]])
    assert isinstance(res, AlphaResult)
    frame = res.to_frame()
    assert list(frame.columns) == ["coefficient", "estimate", "se", "ci_low", "ci_high", "n"]
    assert frame.loc[0, "coefficient"] == "alpha"
    assert "Cronbach" in res._repr_html_()
    assert len(res.scores) == len(bfi_items)


def test_alpha_input_errors(bfi_items):
    with pytest.raises(InputError):
        alpha(bfi_items[["A1", "A2"]], keys=["-Z9"])
    with pytest.raises(InputError):
        alpha(bfi_items[["A1", "A2"]], keys=[1, 0])
    const = pd.DataFrame({"a": [1.0, 2, 3], "b": [2.0, 2, 2], "c": [1.0, 3, 2]})
    with pytest.raises(InputError) as err:
        alpha(const)
    assert err.value.column == "b"
    with pytest.raises(InputError):
        alpha(bfi_items[["A1", "A2"]], missing="fiml")


# ------------------------------------------------------------------------ omega ----

@pytest.fixture(scope="module")
def omega_bfi(bfi_items):
    return omega(bfi_items, n_factors=5)


def test_omega_matches_psych(omega_bfi):
    ref = REF["omega"]
    res = omega_bfi
    assert isinstance(res, OmegaResult)
    assert_allclose(res.omega_h, ref["omega_h"], atol=TOL_OMEGA)
    assert_allclose(res.omega_total, ref["omega_total"], atol=TOL_OMEGA)
    assert_allclose(res.omega_limit, ref["omega_lim"], atol=TOL_OMEGA)
    assert_allclose(res.alpha, ref["alpha"], atol=TOL_OMEGA)
    assert_allclose(res.g6, ref["G6"], atol=TOL_OMEGA)
    assert_allclose(res.ecv, ref["ecv"], atol=TOL_OMEGA)
    assert_allclose(res.g_loadings.to_numpy(), ref["gloading"], atol=TOL_OMEGA)


def test_omega_schmid_leiman_and_groups(omega_bfi):
    ref = REF["omega"]
    sl = _table(ref["sl"])
    assert list(omega_bfi.schmid_leiman.columns) == list(sl.columns)
    # psych marks reflected items with a trailing "-"; we keep the names and report keys
    assert list(omega_bfi.schmid_leiman.index) == [r.rstrip("-") for r in sl.index]
    flipped = [r.rstrip("-") for r in sl.index if r.endswith("-")]
    assert list(omega_bfi.keys[omega_bfi.keys == -1].index) == flipped
    assert_allclose(omega_bfi.schmid_leiman.to_numpy(), sl.to_numpy(), atol=TOL_OMEGA)
    group = _table(ref["group"])
    assert_allclose(omega_bfi.group_omegas.to_numpy(), group.to_numpy(), atol=TOL_OMEGA,
                    equal_nan=True)
    assert_allclose(omega_bfi.phi.to_numpy(), _table(ref["phi"]).to_numpy(), atol=TOL_OMEGA)


def test_omega_holzinger():
    hs = pd.read_csv(DATA / "holzinger1939.csv")[[f"x{i}" for i in range(1, 10)]]
    res = omega(hs, n_factors=3)
    ref = REF["omega_hs"]
    assert_allclose(res.omega_h, ref["omega_h"], atol=TOL_OMEGA)
    assert_allclose(res.omega_total, ref["omega_total"], atol=TOL_OMEGA)
    assert_allclose(res.ecv, ref["ecv"], atol=TOL_OMEGA)
    assert_allclose(res.schmid_leiman.to_numpy(), _table(ref["sl"]).to_numpy(), atol=TOL_OMEGA)


def test_omega_polychoric_matches_psych(bfi_items):
    pytest.importorskip("analysis.psychometrics._polychoric")
    res = omega(bfi_items, n_factors=5, corr="polychoric")
    ref = REF["omega_poly"]
    # limited by the polychoric module's agreement with psych::polychoric
    assert_allclose(res.omega_h, ref["omega_h"], atol=1e-4)
    assert_allclose(res.omega_total, ref["omega_total"], atol=1e-4)
    assert_allclose(res.schmid_leiman.to_numpy(), _table(ref["sl"]).to_numpy(), atol=5e-4)


def test_omega_flips_reverse_keyed_items(omega_bfi):
    # bfi has reverse-keyed items with negative general loadings: psych reflects them
    assert (omega_bfi.keys == -1).any()
    assert (omega_bfi.schmid_leiman["g"] >= 0).all()


def test_omega_two_factors_warns(bfi_items):
    with pytest.warns(EstimationWarning, match="three factors"):
        res = omega(bfi_items.iloc[:, :10], n_factors=2)
    assert res.warnings


def test_omega_tables_and_errors(omega_bfi, bfi_items):
    frame = omega_bfi.to_frame()
    assert list(frame.columns) == ["coefficient", "estimate", "n"]
    assert "omega_h" in omega_bfi._repr_html_()
    with pytest.raises(InputError):
        omega(bfi_items, n_factors=1)
    with pytest.raises(InputError):
        omega(bfi_items, rotation="varimax")


# ------------------------------------------------------------- properties ----

@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 7))
def test_alpha_formula_and_std_alpha_invariance(seed, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 1)) + rng.normal(size=(60, k))
    d = pd.DataFrame(X, columns=[f"i{j}" for j in range(k)])
    res = alpha(d)
    total_var = X.sum(axis=1).var(ddof=1)
    expected = k / (k - 1) * (1 - X.var(axis=0, ddof=1).sum() / total_var)
    assert_allclose(res.alpha, expected, atol=1e-12)
    # standardised alpha ignores each item's scale and location
    scaled = d * rng.uniform(0.5, 3, size=k) + rng.uniform(-5, 5, size=k)
    assert_allclose(alpha(scaled).std_alpha, res.std_alpha, atol=1e-12)
