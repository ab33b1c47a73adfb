"""KMO and Bartlett's test (analysis.psychometrics._adequacy) against R psych 2.2.9
(values in tests/reference/psych_reference.json)."""

from __future__ import annotations

import json

import pytest
from numpy.testing import assert_allclose

from analysis.config import PROJECT_ROOT
from analysis.errors import InputError
from analysis.psychometrics import bartlett, correlation_matrix, kmo

REF = json.loads((PROJECT_ROOT / "tests" / "reference" / "psych_reference.json").read_text())


def test_kmo_matches_psych(bfi_items):
    res = kmo(bfi_items)
    assert_allclose(res.overall, REF["kmo"]["overall"], rtol=0, atol=1e-10)
    assert_allclose(res.items.to_numpy(), list(REF["kmo"]["items"].values()), atol=1e-10)
    assert list(res.items.index) == list(REF["kmo"]["items"])
    assert res.n == 2800
    frame = res.to_frame()
    assert frame["item"].iloc[-1] == "overall"
    assert "<p>" in res._repr_html_()


def test_bartlett_matches_psych(bfi_items):
    res = bartlett(bfi_items)
    ref = REF["bartlett"]
    assert_allclose(res.statistic, ref["statistic"], rtol=1e-10)
    assert res.df == ref["df"]
    assert res.n == ref["n"]
    assert_allclose(res.p_value, ref["p_value"], atol=1e-12)
    assert list(res.to_frame().columns) == ["test", "statistic", "df", "p_value", "n"]


def test_bartlett_on_matrix_needs_n(bfi_items):
    R = correlation_matrix(bfi_items)
    with pytest.raises(InputError):
        bartlett(R)
    res = bartlett(R, n=2800)
    assert_allclose(res.statistic, REF["bartlett"]["statistic"], rtol=1e-10)
