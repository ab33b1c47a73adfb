"""KMO and Bartlett's test (analysis.psychometrics._adequacy): results, tables and errors.

The comparisons with R psych are in the parity catalogue (tests/parity/catalogue.py)."""

from __future__ import annotations

import pytest

from analysis.errors import InputError
from analysis.psychometrics import bartlett, correlation_matrix, kmo


def test_kmo_result_and_tables(bfi_items):
    res = kmo(bfi_items)
    assert list(res.items.index) == list(bfi_items.columns)
    assert res.n == 2800
    frame = res.to_frame()
    assert frame["item"].iloc[-1] == "overall"
    assert "<p>" in res._repr_html_()


def test_bartlett_table(bfi_items):
    res = bartlett(bfi_items)
    assert list(res.to_frame().columns) == ["test", "statistic", "df", "p_value", "n"]


def test_bartlett_on_matrix_needs_n(bfi_items):
    R = correlation_matrix(bfi_items)
    with pytest.raises(InputError):
        bartlett(R)
    assert bartlett(R, n=2800).statistic == pytest.approx(bartlett(bfi_items).statistic, rel=1e-10)
