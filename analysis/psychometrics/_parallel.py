"""Horn's parallel analysis (``psych::fa.parallel``): how many factors and components to keep.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import EstimationWarning, InputError
from analysis.psychometrics._correlation import _numeric_frame, _pairwise_cor, correlation_matrix
from analysis.psychometrics._extraction import _METHOD_PREFIX, _extract
from analysis.utils.blas import one_blas_thread, single_blas_thread

__all__ = ["ParallelResult", "parallel_analysis"]


@dataclass(frozen=True)
class ParallelResult:
    """Horn's parallel analysis (psych ``fa.parallel``).

    Attributes
    ----------
    n_factors : int
        Suggested number of factors: observed factor eigenvalues above the simulated
        quantile, counted from the first until the first one that is not.
    n_components : int
        Same rule for principal-component eigenvalues.
    eigen : DataFrame
        One row per position ``1..p`` with columns ``observed_fa``, ``observed_pc``,
        ``simulated_fa_mean``, ``simulated_fa_quantile``, ``simulated_pc_mean``,
        ``simulated_pc_quantile`` and, with ``resample=True``, the ``resampled_*`` columns.
    n_iter : int
        Number of simulated data sets.
    quantile : float
        Quantile of the simulated eigenvalues used in the rule.
    n : int
        Number of rows simulated (rows of the data).
    seed : int or None
        Seed of the simulation.
    warnings : list of str
        Problems met.
    """

    n_factors: int
    n_components: int
    eigen: pd.DataFrame
    n_iter: int
    quantile: float
    n: int
    seed: int | None
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The eigenvalue table (see ``eigen``) with a ``position`` column."""
        return self.eigen.reset_index()

    def _repr_html_(self) -> str:
        return (f"<p>Parallel analysis suggests {self.n_factors} factors and "
                f"{self.n_components} components ({self.n_iter} simulations)</p>"
                + self.eigen.to_html())


def _fa_values(R: np.ndarray, fm: str, smc_start: bool = True) -> np.ndarray:
    """Eigenvalues of R with one-factor communalities on the diagonal (psych fa()$values)."""
    sink: list = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        _, values, _ = _extract(R, 1, fm, sink, smc_start=smc_start)
    return values


def _wishart_correlations(rng, n: int, p: int, n_iter: int) -> np.ndarray:
    """Correlation matrices of ``n`` iid N(0, I_p) rows, drawn via Bartlett's decomposition.

    The cross-product matrix of centred normal data is Wishart(n - 1, I); with ``A`` lower
    triangular, ``A_ii^2 ~ chi2(n - i)`` (i = 1..p), ``A_ij ~ N(0, 1)`` below the diagonal,
    ``A A'`` has exactly that distribution.
    """
    out = np.empty((n_iter, p, p))
    df = (n - 1) - np.arange(p)
    il = np.tril_indices(p, -1)
    for it in range(n_iter):
        A = np.zeros((p, p))
        A[np.diag_indices(p)] = np.sqrt(rng.chisquare(df))
        A[il] = rng.standard_normal(len(il[0]))
        W = A @ A.T
        d = np.sqrt(np.diag(W))
        out[it] = W / np.outer(d, d)
    return out


@single_blas_thread
def parallel_analysis(data, n_iter: int = 20, fm: str = "minres", corr: str = "pearson",
                      quantile: float = 0.95, seed: int | None = None,
                      missing: str = "pairwise", resample: bool = False) -> ParallelResult:
    """Horn's parallel analysis for the number of factors and components (``psych::fa.parallel``).

    Parameters
    ----------
    data : DataFrame
        Items in columns.
    n_iter : int, default 20
        Number of simulated data sets.
    fm : {"minres", "ml", "pa", "uls"}, default "minres"
        Factoring method for the one-factor reduced eigenvalues (psych ``fm``).
    corr : {"pearson", "spearman", "polychoric"}, default "pearson"
        Correlation of the observed data (simulated data always use Pearson, as psych).
    quantile : float, default 0.95
        Quantile of the simulated eigenvalues the observed ones must exceed.
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`.
    missing : {"pairwise", "listwise"}, default "pairwise"
        Missing-data rule for the observed correlations.
    resample : bool, default False
        Also resample each column independently (psych's "resampled data" lines, which do
        not enter its suggested numbers when simulation is on). Costs ``n x p`` random draws
        per iteration.

    Returns
    -------
    ParallelResult

    Notes
    -----
    Observed: eigenvalues of ``R`` (components) and of ``R`` with the communalities of a
    one-factor ``fm`` solution on the diagonal (factors), as psych. Simulated: the same for
    correlation matrices of ``n`` independent standard-normal rows; these are drawn
    directly from their exact distribution (the cross-product matrix is Wishart(n - 1, I),
    generated by Bartlett's decomposition) instead of generating ``n x p`` normal numbers.
    The suggested number is the count of leading observed eigenvalues greater than the
    ``quantile`` of the simulated ones (psych: ``which(!(obs > sim.ci))[1] - 1``).

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika*, 30, 179-185.
    Bartlett, M. S. (1933). On the theory of statistical regression. *Proceedings of the
    Royal Society of Edinburgh*, 53, 260-283.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> d = pd.DataFrame(rng.normal(size=(300, 1)) + rng.normal(size=(300, 6)))
    >>> parallel_analysis(d, seed=1).n_factors  # R: psych::fa.parallel(d)$nfact
    1
    """
    if fm not in _METHOD_PREFIX:
        raise InputError("unknown factoring method", value=fm,
                         expected="'minres', 'ml', 'pa' or 'uls'")
    if not (0 < quantile < 1):
        raise InputError("quantile must be between 0 and 1", value=quantile)
    if not (isinstance(n_iter, (int, np.integer)) and n_iter >= 1):
        raise InputError("n_iter must be a positive whole number", value=n_iter)
    msgs: list = []
    frame = _numeric_frame(data)
    if missing == "listwise":
        frame = frame.dropna()
    n, p = frame.shape
    rng = np.random.default_rng(seed)
    # one BLAS thread throughout: the work is many small matrices plus one n x p product,
    # and on a shared machine a second thread mostly waits
    with one_blas_thread():
        if corr == "pearson":  # the frame is already numeric: skip a second conversion
            R = _pairwise_cor(frame.to_numpy())
            if np.isnan(R).any():
                raise InputError("some pairs of items have no observations in common (or no "
                                 "variance), so their correlation is undefined")
        else:
            R = correlation_matrix(frame, corr=corr, missing=missing).to_numpy()
        obs_pc = np.linalg.eigvalsh(R)[::-1]
        obs_fa = _fa_values(R, fm)
        sims = _wishart_correlations(rng, n, p, n_iter)
        sim_pc = np.empty((n_iter, p))
        sim_fa = np.empty((n_iter, p))
        for i in range(n_iter):
            sim_pc[i] = np.linalg.eigvalsh(sims[i])[::-1]
            sim_fa[i] = _fa_values(sims[i], fm, smc_start=False)
        if resample:
            X = np.asfortranarray(frame.to_numpy())
            Xs = np.empty_like(X, order="F")
            rs_pc = np.empty((n_iter, p))
            rs_fa = np.empty((n_iter, p))
            for i in range(n_iter):
                # each column resampled on its own, missing cells included (psych sample(y))
                for j in range(p):
                    np.take(X[:, j], rng.integers(0, n, size=n), out=Xs[:, j])
                C = _pairwise_cor(Xs)
                rs_pc[i] = np.linalg.eigvalsh(C)[::-1]
                rs_fa[i] = _fa_values(C, fm, smc_start=False)

    def q(a):  # R's quantile type 7 = numpy's default "linear"
        return np.quantile(a, quantile, axis=0)

    table = {
        "observed_fa": obs_fa, "observed_pc": obs_pc,
        "simulated_fa_mean": sim_fa.mean(axis=0), "simulated_fa_quantile": q(sim_fa),
        "simulated_pc_mean": sim_pc.mean(axis=0), "simulated_pc_quantile": q(sim_pc),
    }
    if resample:
        table.update({"resampled_fa_mean": rs_fa.mean(axis=0),
                      "resampled_fa_quantile": q(rs_fa),
                      "resampled_pc_mean": rs_pc.mean(axis=0),
                      "resampled_pc_quantile": q(rs_pc)})
    eigen = pd.DataFrame(table, index=pd.RangeIndex(1, p + 1, name="position"))

    def count(obs, ref):
        below = np.flatnonzero(~(obs > ref))
        return int(below[0]) if below.size else int(len(obs))

    return ParallelResult(count(obs_fa, table["simulated_fa_quantile"]),
                          count(obs_pc, table["simulated_pc_quantile"]), eigen, int(n_iter),
                          float(quantile), int(n), seed, msgs)
