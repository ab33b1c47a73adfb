"""Result objects of the fits: :class:`CFAResults` (ML, MLR, FIML), :class:`WLSMVResult`
(ordinal DWLS/WLSMV) and :class:`DifferenceTest`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.cbsem._matrices import SEMModel

__all__ = ["CFAResults", "WLSMVResult", "DifferenceTest"]


@dataclass
class CFAResults:
    """Results of :func:`cfa`.

    Attributes
    ----------
    model : str
        The model syntax.
    estimator, missing : str
        Options used (``"ML"``/``"MLR"``, ``"listwise"``/``"fiml"``).
    fit : pandas.Series
        Fit measures with lavaan's ``fitMeasures`` names, dots replaced by underscores (see
        :data:`FIT_MEASURES`; for MLR also :data:`SCALED_FIT_MEASURES`: the ``_scaled`` and
        ``_robust`` variants and ``scaling_factor``; with FIML the ``_robust`` ones also
        for ML).
    params : pandas.DataFrame
        Parameter table: ``lhs, op, rhs, group, group_label, label, free, estimate, se,
        statistic, p_value, ci_low, ci_high, std_all`` (fixed parameters have ``se`` 0 and
        ``ci_low == ci_high == estimate`` as in lavaan's ``parameterEstimates``).
    std_solution : pandas.DataFrame
        Completely standardised solution (lavaan ``standardizedSolution(type = "std.all")``):
        ``lhs, op, rhs, group, estimate, se, statistic, p_value, ci_low, ci_high``.
        Loadings and regressions are scaled by the implied standard deviations, variances
        by the implied variances, and covariances by the square roots of their own variance
        parameters (residual correlations, lavaan's ``cov.std = TRUE``).
    std_loadings : pandas.DataFrame
        The ``=~`` rows of ``std_solution``.
    composite_reliability, ave : pandas.DataFrame
        Per factor (rows) and group (columns): composite reliability
        ``(sum l)^2 / ((sum l)^2 + sum theta)`` and average variance extracted ``mean(l^2)``
        from the standardised loadings ``l`` and residual variances ``theta``.
    htmt : pandas.DataFrame
        Heterotrait-monotrait ratios between factors, from the whole data (pooled over
        groups), see :func:`htmt`.
    vcov : numpy.ndarray
        Covariance matrix of the free parameters.
    converged : bool
        Whether the optimiser converged.
    iterations : int
        Number of iterations.
    warnings : list of str
        Problems found (non-convergence, Heywood cases, non-positive-definite matrices);
        each was also emitted as an :class:`~analysis.errors.EstimationWarning`.
    nobs : list of int
        Number of cases used per group.
    group_labels : list
        Labels of the groups.
    sem_model : analysis.cbsem.SEMModel
        The model (parameter table, matrices); ``sem_model.matrices(x)`` gives the
        estimated Lambda, Theta, Psi, ... per group.
    x : numpy.ndarray
        Estimates of the free parameters (order of ``sem_model.partable["free"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis import config
    >>> from analysis.cbsem import cfa
    >>> hs = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
    >>> res = cfa("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", hs)
    >>> # R: lavaan::standardizedSolution(fit)
    >>> list(res.std_loadings["rhs"][:3]), bool((res.std_loadings["estimate"] > 0).all())
    (['x1', 'x2', 'x3'], True)
    """

    model: str
    estimator: str
    missing: str
    fit: pd.Series
    params: pd.DataFrame
    std_solution: pd.DataFrame
    composite_reliability: pd.DataFrame
    ave: pd.DataFrame
    htmt: pd.DataFrame
    vcov: np.ndarray
    converged: bool
    iterations: int
    nobs: list
    group_labels: list
    warnings: list = field(default_factory=list)
    sem_model: SEMModel | None = field(default=None, repr=False)
    x: np.ndarray | None = field(default=None, repr=False)
    _trace_h1: list | None = field(default=None, repr=False)
    #: :func:`analysis.cbsem.sem` only: R-squared of the endogenous variables, direct /
    #: indirect / total effects, the bootstrap draws of the free parameters, method notes
    r2: pd.Series | None = field(default=None, repr=False)
    effects: pd.DataFrame | None = field(default=None, repr=False)
    boot: np.ndarray | None = field(default=None, repr=False)
    notes: list = field(default_factory=list, repr=False)
    _info: np.ndarray | None = field(default=None, repr=False)

    @property
    def std_loadings(self) -> pd.DataFrame:
        """Standardised loadings (std.all) with delta-method SEs."""
        return self.std_solution[self.std_solution["op"] == "=~"].reset_index(drop=True)

    def implied(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Model-implied covariance matrix and mean vector per group."""
        return self.sem_model.implied(self.x)

    def to_frame(self) -> pd.DataFrame:
        """The parameter table (same as :attr:`params`)."""
        return self.params.copy()

    def summary_frame(self) -> pd.DataFrame:
        """Fit measures as a one-column tidy table (``measure``, ``estimate``)."""
        return self.fit.rename("estimate").rename_axis("measure").reset_index()

    def _repr_html_(self) -> str:
        f = self.fit
        head = (
            f"<p><b>CFA ({self.estimator}, missing={self.missing})</b>: "
            f"N = {int(f['ntotal'])}, chisq = {f['chisq']:.3f}, df = {int(f['df'])}, "
            f"CFI = {f['cfi']:.3f}, RMSEA = {f['rmsea']:.3f}, SRMR = {f['srmr']:.3f}"
            f"{'' if self.converged else ' (NOT converged)'}</p>"
        )
        return head + self.params.to_html(index=False, float_format=lambda v: f"{v:.3f}")


@dataclass
class WLSMVResult:
    """A fitted CFA of ordered indicators (DWLS estimation, WLSMV inference).

    Attributes
    ----------
    params : pandas.DataFrame
        One row per model parameter (and group): ``lhs, op, rhs, group, label, free,
        estimate, se, statistic, p_value, ci_low, ci_high, std_all`` (``std_all`` is the
        completely standardised solution, lavaan's ``est.std``). Residual variances of the
        latent responses are derived (``1/delta^2 - diag(Lambda Psi Lambda')``), se 0.
    std_solution : pandas.DataFrame
        lavaan ``standardizedSolution()``: ``lhs, op, rhs, group, estimate, se, statistic,
        p_value, ci_low, ci_high`` (delta-method SEs); ``std_loadings`` holds its ``=~`` rows.
    fit : pandas.Series
        ``fit_measures`` with ``_`` for ``.``, plus ``scaling_factor`` and
        ``shift_parameter`` (the vocabulary of :class:`analysis.cbsem.CFAResults`).
    model : str
        The model syntax.
    missing : str
        ``"listwise"``.
    iterations : int
        Gauss-Newton iterations.
    fit_measures : dict
        lavaan's names: ``npar, fmin, chisq, df, pvalue, chisq.scaled, df.scaled,
        pvalue.scaled, chisq.scaling.factor, chisq.shift.parameter, baseline.chisq,
        baseline.df, baseline.pvalue, baseline.chisq.scaled, baseline.pvalue.scaled,
        baseline.chisq.scaling.factor, cfi, tli, cfi.scaled, tli.scaled, cfi.robust,
        tli.robust, rmsea, rmsea.scaled, rmsea.robust, srmr, srmr_bentler,
        srmr_bentler_nomean, crmr, crmr_nomean, wrmr``. The ``.robust`` indices
        (Savalei, 2021, as lavaan 0.6-13+) are NaN where lavaan gives NA (free scaling
        factors or latent means, e.g. equal thresholds across groups). The same with ``_``
        for ``.`` is :attr:`fit` (and :meth:`fit_frame`).
    nobs : list of int
        Cases per group (after listwise deletion).
    group_labels : list
        Group labels (order of first appearance in the data).
    converged : bool
        Whether the DWLS minimisation converged.
    partable : pandas.DataFrame
        The parameter table (from :func:`analysis.cbsem.build_partable`).
    sample : list of SampleStats
        Thresholds, polychoric correlations and NACOV per group.
    x : numpy.ndarray
        Free parameter estimates.
    vcov : numpy.ndarray
        Robust covariance matrix of ``x``.
    warnings : list of str
        Problems met (non-convergence, empty cells, negative residual variances ...).
    """

    params: pd.DataFrame
    fit_measures: dict
    nobs: list
    group_labels: list
    converged: bool
    partable: pd.DataFrame
    sample: list
    x: np.ndarray
    vcov: np.ndarray
    std_solution: pd.DataFrame = field(default_factory=pd.DataFrame)
    model: str = ""
    missing: str = "listwise"
    iterations: int = 0
    estimator: str = "WLSMV"
    warnings: list = field(default_factory=list)
    # internals for difference tests
    _delta: list = field(default_factory=list, repr=False)
    _w: list = field(default_factory=list, repr=False)
    _resid: list = field(default_factory=list, repr=False)

    @property
    def fit(self) -> pd.Series:
        """Fit measures as a Series, lavaan names with ``_`` for ``.`` (``cfi_scaled`` ...).

        Also ``scaling_factor`` (= ``chisq_scaling_factor``) and ``shift_parameter``, the names
        :mod:`analysis.cbsem._cfa` and :mod:`analysis.cbsem._invariance` use.
        """
        out = {k.replace(".", "_"): v for k, v in self.fit_measures.items()}
        out["scaling_factor"] = self.fit_measures["chisq.scaling.factor"]
        out["shift_parameter"] = self.fit_measures["chisq.shift.parameter"]
        return pd.Series(out, dtype=float)

    @property
    def std_loadings(self) -> pd.DataFrame:
        """Standardised loadings (std.all) with delta-method SEs."""
        return self.std_solution[self.std_solution["op"] == "=~"].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Parameter table (see ``params``)."""
        return self.params.copy()

    def summary_frame(self) -> pd.DataFrame:
        """Fit measures as a one-column tidy table (``measure``, ``estimate``)."""
        return self.fit.rename("estimate").rename_axis("measure").reset_index()

    def fit_frame(self) -> pd.DataFrame:
        """Fit measures as a one-column table (index: names with ``_`` instead of ``.``)."""
        return pd.DataFrame(
            {"estimate": pd.Series({k.replace(".", "_"): v for k, v in self.fit_measures.items()})}
        )

    def standardized(self) -> pd.DataFrame:
        """Completely standardised loadings and (co)variances (lavaan ``std.all``)."""
        cols = ["lhs", "op", "rhs", "group", "std_all"]
        return self.params.loc[self.params["op"].isin(["=~", "~~"]), cols].reset_index(drop=True)

    def __repr__(self) -> str:
        f = self.fit_measures
        return (
            f"WLSMV CFA: n = {sum(self.nobs)}, groups = {len(self.nobs)}, "
            f"chisq.scaled = {f['chisq.scaled']:.3f} (df = {f['df']:g}), "
            f"CFI.scaled = {f['cfi.scaled']:.3f}, RMSEA.scaled = {f['rmsea.scaled']:.3f}"
        )

    def _repr_html_(self) -> str:
        notes = "".join(f"<p><em>{html.escape(w)}</em></p>" for w in self.warnings)
        return (
            f"<p><strong>{html.escape(repr(self))}</strong></p>"
            + self.params.to_html(index=False)
            + notes
        )


@dataclass(frozen=True)
class DifferenceTest:
    """Scaled chi-square difference test between two nested WLSMV models.

    Attributes
    ----------
    statistic : float
        Scaled difference statistic (lavaan's ``Chisq diff``).
    df : float
        Difference in degrees of freedom.
    p_value : float
        Upper-tail chi-square probability.
    chisq_h0, chisq_h1 : float
        Standard (unscaled) statistics of the restricted and the less restricted model.
    method : str
        ``"satorra.2000"`` (scaled-shifted version, lavaan's default for WLSMV).
    """

    statistic: float
    df: float
    p_value: float
    chisq_h0: float
    chisq_h1: float
    method: str = "satorra.2000"

    def to_frame(self) -> pd.DataFrame:
        """One-row table: ``statistic, df, p_value, chisq_h0, chisq_h1, method``."""
        return pd.DataFrame([self.__dict__])
