"""PLS-SEM on seminr's fixtures: what is not a comparison of values.

Every number compared with seminr's published test fixtures (paths, weights, loadings, R²,
reliability, HTMT, Fornell-Larcker, VIF, f², PLSc, interactions, higher-order constructs, the
bootstrap in distribution) is a row of the parity catalogue, ``pls_rows`` in
``tests/parity/catalogue.py`` (asserted by ``tests/parity/test_parity.py``, listed in
``docs/parity.md``). Here: the shape of the results on the same models (which cells exist,
which are NaN), so that a comparison cannot pass by comparing nothing.
"""

import numpy as np
import pandas as pd
import pytest

from analysis.plssem import pls
from tests.parity.catalogue import PLS_DATA, PLS_MODELS, pls_fixture


@pytest.fixture(scope="module")
def mobi():
    return pd.read_csv(PLS_DATA / "mobi.csv")


@pytest.mark.parametrize(("model", "options", "attr", "name"), [
    ("simple", {"scheme": "factorial"}, "weights", "factorial_weights.csv"),
    ("interactions", {"scheme": "factorial", "interaction": "orthogonal"}, "weights", "weights.csv"),
    ("simple", {"scheme": "factorial", "consistent": True}, "loadings", "loadings1.csv"),
    ("hoc", {}, "loadings", "hoc-loadings.csv"),
    ("hoc", {}, "path_matrix", "hoc-paths.csv"),
])
def test_every_row_and_column_of_the_fixture_exists(mobi, model, options, attr, name):
    got = getattr(pls(PLS_MODELS[model], mobi, bootstrap=0, **options), attr)
    ref = pls_fixture(name)
    assert set(ref.index) <= set(got.index) and set(ref.columns) <= set(got.columns)


def test_htmt_is_the_lower_triangle(mobi):
    # seminr fills the upper triangle; si-survey the lower one, NaN elsewhere
    res = pls(PLS_MODELS["simple"], mobi, bootstrap=0)
    ref = pls_fixture("htmt.csv")
    got = res.htmt.T.reindex(index=ref.index, columns=ref.columns)
    mask = ref.notna().to_numpy()
    assert got.notna().to_numpy()[mask].all()
    assert got.isna().to_numpy()[~mask].all()


def test_f2_rows_and_the_nan_of_interaction_components():
    data = pd.read_csv(PLS_DATA / "corp_rep_data.csv").replace(-99, np.nan)
    res = pls(PLS_MODELS["corp_rep"], data, bootstrap=0)
    ref = pls_fixture("interaction_fsquare.csv")
    got = res.f2
    assert len(got) == 15
    expected_nan = [bool(np.isnan(ref.loc[r.rhs, r.lhs])) for r in got.itertuples()]
    assert list(got["f2"].isna()) == expected_nan
    assert set(got.loc[got["f2"].isna(), "rhs"]) == {"CUSA", "SC"}
