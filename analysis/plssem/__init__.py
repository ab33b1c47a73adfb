"""PLS-SEM (partial least squares path modelling), as seminr and SmartPLS compute it.

:func:`pls` estimates a PLS path model written in lavaan-style syntax (``=~`` mode-A /
reflective constructs, ``<~`` mode-B composites, ``~`` paths, ``A:B`` interaction terms,
constructs of constructs for higher-order models) and returns a :class:`PLSResults` with the
tidy parameter table, R², reliability, HTMT, Fornell-Larcker, f², VIF, PLSpredict Q², and
bootstrap standard errors, t-values, p-values and percentile intervals.

Why not the ``seminr`` package from PyPI (0.2.1, a Python port of the R package)? It was
installed in a scratch environment and run on seminr's R fixtures (mobi data): it matches
them on every quantity tried (paths, weights, loadings, R², rho_A, reliability, HTMT,
PLSc, orthogonal and product-indicator interactions, higher-order constructs): max absolute
difference 3e-15, 5e-10 where the fixture has 9 digits. No quantity differs. It was not
adopted because (1) it is licensed GPL-3.0-only, which the MIT-licensed si-survey cannot
take as a dependency without relicensing; (2) its bootstrap re-runs the whole estimate per
draw in Python: 25-88 ms per draw for 2,000 cases x 40 indicators, i.e. 2 to 7 minutes for
5,000 draws depending on the load of the machine (target: under 10 s;
``benchmarks/bench_pls.py``); (3) its models are built with seminr's R-style constructors
(``constructs()``, ``composite()``, ``relationships()``), which would still need a
lavaan-syntax layer with errors that name the model line. This module is an independent
implementation of the same algorithm (learned from seminr's R code, not copied), batched
over bootstrap draws, and agrees with seminr's fixtures to the same precision
(``docs/pls.md``).

Model syntax
------------
See :mod:`analysis.plssem._syntax`. In short::

    Image        =~ IMAG1 + IMAG2 + IMAG3     # mode A (PLSc-corrected if consistent=True)
    Quality      <~ PERQ1 + PERQ2             # mode B
    Satisfaction =~ Image + Value             # higher-order construct (two-stage)
    Loyalty      ~ Satisfaction + Image + Image:Value   # paths, with an interaction term

The interaction method is the ``interaction`` argument (``"two_stage"`` by default, as
SmartPLS; ``"product_indicator"``, ``"orthogonal"``; or a dict ``{"A:B": method}``).
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "pls": "_pls",
    "PLSResults": "_results",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
