"""The ``pls`` function: parse, estimate, bootstrap (see the package docstring)."""

from __future__ import annotations

import numbers
import warnings

import pandas as pd

from analysis.errors import EstimationWarning, InputError
from analysis.plssem._bootstrap import run_bootstrap
from analysis.plssem._estimate import fit, prepare_data
from analysis.plssem._results import PLSResults
from analysis.plssem._syntax import INTERACTION_METHODS, parse_model
from analysis.utils.blas import single_blas_thread

__all__ = ["pls", "PLSResults"]

SCHEMES = ("path", "factorial", "centroid")


@single_blas_thread
def pls(model, data, scheme="path", consistent=False, bootstrap=5000, seed=None, *,
        interaction="two_stage", missing="mean", ci_level=0.95):
    """Estimate a PLS-SEM model (seminr's ``estimate_pls`` + ``bootstrap_model``).

    Parameters
    ----------
    model : str
        The model in lavaan-style syntax (see the module docstring).
    data : DataFrame
        One row per case, the indicators as numeric columns.
    scheme : {"path", "factorial", "centroid"}
        Inner weighting scheme (seminr's ``path_weighting`` / ``path_factorial``; default
        path weighting, as seminr and SmartPLS).
    consistent : bool
        PLSc (Dijkstra & Henseler, 2015): correct the correlations of the ``=~`` constructs
        for measurement error with rho_A (paths, R², loadings of those constructs).
    bootstrap : int
        Number of bootstrap draws (0 skips the bootstrap; SmartPLS and seminr recommend
        5,000 for final results).
    seed : int, optional
        Seed of the bootstrap draws (and of the PLSpredict folds); the only source of
        randomness.
    interaction : str or dict
        How interaction terms ``A:B`` are built: ``"two_stage"`` (product of first-stage
        scores), ``"product_indicator"`` (products of standardised indicators) or
        ``"orthogonal"`` (the products residualised on the indicators), or a dict per term.
    missing : {"mean", "listwise"}
        Missing indicator values replaced by the column mean (seminr's and SmartPLS's
        default) or cases dropped.
    ci_level : float
        Level of the percentile bootstrap intervals.

    Returns
    -------
    PLSResults
        ``.params`` (weights, loadings, paths, indirect and total effects, with bootstrap
        inference), ``.r2``, ``.r2_adj``, ``.reliability``, ``.htmt``, ``.htmt_ci``,
        ``.fornell_larcker``, ``.f2``, ``.vif``, ``.q2``, ``.scores``.

    Raises
    ------
    InputError
        A model line that names an unknown variable, an empty or duplicated construct, a
        construct in no path; a non-numeric or constant indicator; a bad option.

    Notes
    -----
    The algorithm (Wold, Lohmöller) iterates outer weights until the sum of their absolute
    changes is below 1e-7 (at most 300 iterations), as seminr. Mode A weights are the
    correlations of the indicators with the inner proxy, mode B the regression weights.
    Path coefficients are OLS on the construct scores. Bootstrap: ``se`` is the standard
    deviation of the draws, ``statistic = estimate / se``, two-sided p-value from Student's
    t with ``n_boot - 1`` df, percentile confidence intervals.

    References
    ----------
    Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2022). *A Primer on Partial
    Least Squares Structural Equation Modeling (PLS-SEM)* (3rd ed.). Sage.
    Dijkstra, T. K., & Henseler, J. (2015). Consistent partial least squares path modeling.
    *MIS Quarterly*, 39(2), 297-316.
    Ray, S., Danks, N. P., & Calero Valdez, A. (2022). seminr (R package).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=300); y = 0.5 * x + rng.normal(scale=0.8, size=300)
    >>> df = pd.DataFrame({f"x{i}": x + rng.normal(scale=0.6, size=300) for i in (1, 2, 3)}
    ...                   | {f"y{i}": y + rng.normal(scale=0.6, size=300) for i in (1, 2, 3)})
    >>> res = pls("X =~ x1 + x2 + x3\\nY =~ y1 + y2 + y3\\nY ~ X", df, bootstrap=200, seed=1)
    >>> # R: seminr::estimate_pls(df, mm, sm) then bootstrap_model(..., nboot = 200)
    >>> res.params.query("type == 'path'")[["lhs", "op", "rhs", "estimate"]].round(3)
       lhs op rhs  estimate
    12   Y  ~   X     0.486
    >>> round(float(res.r2["Y"]), 3)
    0.236
    >>> res.reliability.round(3)
       alpha  rho_a  rho_c    ave
    X  0.848  0.851  0.908  0.767
    Y  0.895  0.896  0.935  0.826
    >>> bool(res.params.loc[12, "ci_low"] > 0.3)
    True
    """
    if scheme not in SCHEMES:
        raise InputError("unknown inner weighting scheme", value=scheme,
                         expected="'path', 'factorial' or 'centroid'")
    if not isinstance(bootstrap, numbers.Integral) or isinstance(bootstrap, bool) \
            or bootstrap < 0:
        raise InputError("bootstrap must be a number of draws", value=bootstrap,
                         expected="an integer >= 0")
    if not 0 < ci_level < 1:
        raise InputError("ci_level must be between 0 and 1", value=ci_level)
    methods = interaction.values() if isinstance(interaction, dict) else [interaction]
    for m in methods:
        if m not in INTERACTION_METHODS:
            raise InputError("unknown interaction method", value=m,
                             expected="'two_stage', 'product_indicator' or 'orthogonal'")
    if not isinstance(data, pd.DataFrame):
        raise InputError("the data must be a pandas DataFrame", value=type(data).__name__)
    spec = parse_model(model, data.columns)
    if isinstance(interaction, dict):
        unknown = [k for k in interaction if k not in spec.interactions]
        if unknown:
            raise InputError(f"interaction '{unknown[0]}' is not a term of the model",
                             expected="one of " + (", ".join(spec.interactions) or "none"))
    frame = prepare_data(data, spec, missing)
    result = fit(frame, spec, scheme, bool(consistent), interaction)
    boot = None
    if bootstrap > 0:
        boot = run_bootstrap(frame, spec, result, scheme=scheme, consistent=bool(consistent),
                             interaction=interaction, n_boot=int(bootstrap), seed=seed)
        if boot["n_failed"]:
            warnings.warn(f"{boot['n_failed']} of {bootstrap} bootstrap draws could not be "
                          "estimated and were left out", EstimationWarning, stacklevel=2)
        if boot["n_nonconverged"]:
            warnings.warn(f"the PLS algorithm did not converge in {boot['n_nonconverged']} of "
                          f"{bootstrap} bootstrap draws (kept, as seminr does)",
                          EstimationWarning, stacklevel=2)
    return PLSResults(result, spec, frame, boot, scheme=scheme, consistent=bool(consistent),
                      interaction=interaction, ci_level=ci_level, seed=seed)
