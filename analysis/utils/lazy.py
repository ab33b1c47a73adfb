"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A subpackage lists its public names and the private module that defines each;
the module is imported on first use, so ``import analysis`` and the
``si-survey`` command start quickly and importing one engine does not import
the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable, Callable]:
    """Return the ``__getattr__`` and ``__dir__`` of a package with lazy exports.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping
        Public name -> module (relative to the package, e.g. ``"_cfa"``) that defines it.

    Returns
    -------
    (getattr, dir) : tuple of callables
        To assign to the package's ``__getattr__`` and ``__dir__``.

    Examples
    --------
    >>> get, names = lazy_exports("analysis.cbsem", {"cfa": "_cfa"})
    >>> get("cfa").__module__
    'analysis.cbsem._cfa'
    >>> "cfa" in names()
    True
    """
    exports = dict(exports)

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        import sys

        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        import sys

        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
