"""Tests for analysis.utils.blas (one BLAS thread around the numerical kernels)."""

from __future__ import annotations

import pytest

from analysis.utils.blas import one_blas_thread, single_blas_thread

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [d["num_threads"] for d in threadpoolctl.threadpool_info() if d.get("user_api") == "blas"]


def test_one_thread_inside_and_restored_after():
    import numpy as np

    np.dot(np.ones((2, 2)), np.ones(2))  # BLAS loaded
    before = _blas_threads()
    if not before:
        pytest.skip("no BLAS library seen by threadpoolctl")
    with one_blas_thread():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_decorator_limits_and_keeps_the_function():
    @single_blas_thread
    def threads(x):
        """doc"""
        return x, _blas_threads()

    value, inside = threads(5)
    assert value == 5 and set(inside) <= {1}
    assert threads.__name__ == "threads" and threads.__doc__ == "doc"
