"""Parity with R: every comparison of the catalogue (``tests/parity/catalogue.py``) within its
tolerance.

One test per section of the catalogue (psych, lavaan, ordinal, sem, survey, regression, pls,
descriptives); a failure lists every quantity outside its tolerance with both values, the
differences, the tolerance and why that tolerance was chosen. ``docs/parity.md`` is written
from the same rows by ``tools/make_parity_docs.py``.
"""

from __future__ import annotations

import warnings

import pytest

from tests.parity.catalogue import GENERATORS


@pytest.fixture(scope="module")
def rows_by_section():
    cache: dict[str, list] = {}

    def get(name: str) -> list:
        if name not in cache:
            gen = dict(GENERATORS)[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # R's cases include Heywood and boundary fits
                cache[name] = list(gen(False))
        return cache[name]

    return get


@pytest.mark.parametrize("section", [name for name, _ in GENERATORS])
def test_section_within_tolerance(section, rows_by_section):
    rows = rows_by_section(section)
    assert rows, f"the {section} section of the catalogue compares nothing"
    bad = [
        f"{r.section} / {r.case} / {r.quantity}: R {r.r_value!r}, si-survey {r.py_value!r}, "
        f"max abs {r.max_abs:.3g}, max rel {r.max_rel:.3g}, tolerance {r.tolerance} ({r.why})"
        for r in rows
        if not r.ok
    ]
    assert not bad, "outside tolerance:\n" + "\n".join(bad)


def test_every_comparison_says_why():
    from tests.parity.catalogue import Row, compare

    row = compare("s", "c", "q", [1.0], [1.0], atol=1e-10)
    assert isinstance(row, Row) and row.why
    assert compare("s", "c", "q", [1.0], [1.0], rtol=1e-3, why="because").why == "because"


def test_compare_is_assert_allclose():
    """A row is ok exactly when ``numpy.testing.assert_allclose`` would pass."""
    import numpy as np
    from numpy.testing import assert_allclose

    from tests.parity.catalogue import compare

    rng = np.random.default_rng(1)
    for _ in range(200):
        r = rng.normal(size=5)
        ours = r + rng.normal(scale=10.0 ** rng.integers(-12, -2), size=5)
        rtol, atol = 10.0 ** rng.integers(-9, -3), 10.0 ** rng.integers(-9, -3)
        try:
            assert_allclose(ours, r, rtol=rtol, atol=atol)
            expected = True
        except AssertionError:
            expected = False
        assert compare("s", "c", "q", ours, r, rtol=rtol, atol=atol).ok is expected
