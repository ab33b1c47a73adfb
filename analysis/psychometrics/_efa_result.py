"""Results of an exploratory factor analysis (:func:`analysis.psychometrics.efa`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.psychometrics._factor_fit import FactorFit

__all__ = ["EFAResult"]


@dataclass(frozen=True)
class EFAResult:
    """Result of :func:`efa`.

    Attributes
    ----------
    loadings : DataFrame
        Rotated loadings (pattern matrix), items x factors, columns ``MR1..``/``ML1..``/
        ``PA1..``/``ULS1..`` as psych names them, ordered and signed as psych does.
    structure : DataFrame
        Structure matrix ``loadings @ phi``.
    communalities : Series
        ``h2`` = diagonal of ``L L'`` of the unrotated solution (psych ``communality``).
    uniquenesses : Series
        ``u2 = diag(R) - h2`` (psych ``uniquenesses``).
    phi : DataFrame or None
        Factor correlations of an oblique rotation.
    variance : DataFrame
        Rows ``ss_loadings, proportion, cumulative, proportion_explained,
        cumulative_proportion``, one column per factor (psych ``Vaccounted``).
    fit : FactorFit
        Chi-square, df, p value, RMSEA with CI, TLI, RMSR, BIC... as psych reports.
    weights : DataFrame
        Regression (Thurstone) factor-score weights ``R^{-1} L phi``.
    scores : DataFrame or None
        Factor scores of the rows (``scores="regression"`` or ``"bartlett"``).
    correlation : DataFrame
        The correlation matrix analysed.
    eigenvalues : numpy.ndarray
        Eigenvalues of the correlation matrix (psych ``e.values``).
    reduced_eigenvalues : numpy.ndarray
        Eigenvalues of the correlation matrix with communalities on the diagonal
        (psych ``values``).
    method, rotation : str
        Factoring method and rotation.
    n_factors : int
        Number of factors.
    n : int
        Number of observations (rows).
    converged : bool
        Whether extraction and rotation converged.
    iterations : int
        Iterations of the extraction.
    rotmat : numpy.ndarray or None
        Rotation matrix (psych ``rot.mat``).
    warnings : list of str
        Heywood cases, non-convergence, smoothing of non-positive-definite matrices.
    """

    loadings: pd.DataFrame
    structure: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    phi: pd.DataFrame | None
    variance: pd.DataFrame
    fit: FactorFit
    weights: pd.DataFrame
    scores: pd.DataFrame | None
    correlation: pd.DataFrame
    eigenvalues: np.ndarray
    reduced_eigenvalues: np.ndarray
    method: str
    rotation: str
    n_factors: int
    n: int | None
    converged: bool
    iterations: int
    rotmat: np.ndarray | None
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Loadings in a wide table with ``h2``, ``u2`` and ``complexity`` (psych print)."""
        out = self.loadings.copy()
        out["h2"] = self.communalities
        out["u2"] = self.uniquenesses
        L = self.loadings.to_numpy()
        out["complexity"] = (L ** 2).sum(axis=1) ** 2 / (L ** 4).sum(axis=1)
        return out

    def tidy(self) -> pd.DataFrame:
        """Long table: ``item, factor, estimate`` (one row per loading)."""
        tidy = self.loadings.rename_axis(index="item", columns="factor").stack()
        return tidy.rename("estimate").reset_index()

    def _repr_html_(self) -> str:
        head = (f"<p>Factor analysis: {self.method}, {self.rotation} rotation, "
                f"{self.n_factors} factors, n = {self.n}</p>")
        warn = "".join(f"<p><b>Warning:</b> {w}</p>" for w in self.warnings)
        return head + warn + self.to_frame().to_html() + self.fit._repr_html_()
