"""One BLAS thread around the numerical kernels of the package.

The matrices of the psychometric and regression code are small (p x p, npar x npar) or
thin (n x k with k below a few hundred): a second OpenBLAS thread gains little on them,
and loses several times over when the cores are shared with other work (OpenBLAS starts
its threads for every call). One thread also makes the results independent of the
machine's thread count. Without ``threadpoolctl`` nothing is changed.
"""

from __future__ import annotations

import contextlib
import functools

__all__ = ["one_blas_thread", "single_blas_thread"]

_CONTROLLER: list = []  # one threadpoolctl controller (it scans the loaded libraries), reused


def one_blas_thread():
    """Context manager: BLAS limited to one thread inside the ``with`` block.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     float((np.eye(3) @ np.ones(3)).sum())
    3.0
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def single_blas_thread(func):
    """Decorator: run ``func`` under :func:`one_blas_thread`.

    Examples
    --------
    >>> @single_blas_thread
    ... def total(x):
    ...     return sum(x)
    >>> total([1, 2])
    3
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)

    return wrapper
