"""Factor extraction as ``psych::fa``: minres, ML, ULS (L-BFGS-B on the uniquenesses, as R's
``optim``) and iterated principal axes.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from analysis.errors import InputError
from analysis.psychometrics._correlation import _eig_desc, _warn, smc

__all__: list[str] = []

#: Extraction methods and the prefix of their factor names (psych's ``MR1``, ``ML1``...).
_METHOD_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA", "uls": "ULS"}
_LOWER = 0.005  # psych's lower bound on the uniquenesses in optim(..., lower = .005)


def _lbfgsb(fun_grad, start, upper, maxit=100):
    """L-BFGS-B with R optim's settings for psych (parscale .01, factr 1e7, m 5).

    ``fun_grad(psi)`` returns the objective and psych's gradient from one eigen
    decomposition.
    """
    scale = 0.01

    def fg(x):
        f, g = fun_grad(x * scale)
        return f, g * scale

    res = optimize.minimize(
        fg, start / scale, jac=True, method="L-BFGS-B",
        bounds=[(_LOWER / scale, upper / scale)] * len(start),
        options={"maxcor": 5, "ftol": 1e7 * np.finfo(float).eps, "gtol": 0.0,
                 "maxiter": maxit})
    return res.x * scale, res


def _minres_fun_grad(psi, S, nf, uls=False):
    """minres objective (psych fit.residuals) and psych's gradient (FAgr.minres).

    For a correlation matrix both use the eigen decomposition of ``S - diag(psi)``.
    """
    Sd = S.copy()
    np.fill_diagonal(Sd, 1.0 - psi)
    vals, vecs = _eig_desc(Sd)
    v1 = np.where(vals[:nf] < np.finfo(float).eps, 100 * np.finfo(float).eps, vals[:nf])
    L = vecs[:, :nf] * np.sqrt(v1)
    resid = Sd - L @ L.T
    # psych: minres sums the squared lower-triangle residuals, uls all squared residuals
    f = float(np.sum(resid ** 2)) if uls else float(np.sum(np.tril(resid, -1) ** 2))
    if not np.allclose(np.diag(S), 1.0):  # covariance input: psych's gradient uses S - psi
        return f, _minres_gradient(psi, S, nf)
    L2 = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))
    return f, np.sum(L2 * L2, axis=1) + psi - np.diag(S)


def _minres_gradient(psi, S, nf):
    vals, vecs = _eig_desc(S - np.diag(psi))
    L = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))
    return np.sum(L * L, axis=1) + psi - np.diag(S)


def _ml_fun_grad(psi, S, nf):
    """ML objective (psych FAfn) and gradient (FAgr) from one eigen decomposition."""
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _eig_desc(S * np.outer(sc, sc))
    e = vals[nf:]
    f = float(-(np.sum(np.log(e) - e) - nf + S.shape[0]))
    L = np.sqrt(psi)[:, None] * (vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0)))
    g = (np.sum(L * L, axis=1) + psi - np.diag(S)) / psi ** 2
    return f, g


def _ml_loadings(psi, S, nf):
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _eig_desc(S * np.outer(sc, sc))
    L = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0))
    return np.sqrt(psi)[:, None] * L


def _ml_gradient(psi, S, nf):
    L = _ml_loadings(psi, S, nf)
    g = np.sum(L * L, axis=1) + psi - np.diag(S)
    return g / psi ** 2


def _wls_loadings(psi, S, nf):
    vals, vecs = _eig_desc(S - np.diag(psi))
    return vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))


def _extract(R: np.ndarray, nf: int, method: str, msgs: list, max_iter: int = 50,
             min_err: float = 0.001, smc_start: bool = True):
    """Unrotated loadings, reduced-matrix eigenvalues and convergence info.

    ``smc_start=False`` starts principal axes from unit communalities (psych ``SMC=FALSE``,
    which fa.parallel uses for the simulated matrices); the other methods always start
    from the SMCs, as in psych.
    """
    s = smc(R)
    info: dict = {"converged": True}
    if method in ("minres", "uls", "ml"):
        start = np.diag(R) - s
        upper = max(s.max(), 1.0)
        if method == "ml":
            psi, res = _lbfgsb(lambda x: _ml_fun_grad(x, R, nf), start, upper)
            L = _ml_loadings(psi, R, nf)
            grad = _ml_gradient(psi, R, nf)
        else:
            uls = method == "uls"
            psi, res = _lbfgsb(lambda x: _minres_fun_grad(x, R, nf, uls), start, upper)
            L = _wls_loadings(psi, R, nf)
            grad = _minres_gradient(psi, R, nf)
        # projected gradient at the solution (zero where a bound is active and pushes out)
        free = ~(((psi <= _LOWER + 1e-10) & (grad > 0)) | ((psi >= upper - 1e-10) & (grad < 0)))
        pg = np.max(np.abs(grad[free])) if free.any() else 0.0
        info.update(psi=psi, iterations=int(res.nit), optimizer=str(res.message),
                    projected_gradient=float(pg))
        if res.nit >= 100 and not res.success:
            info["converged"] = False
            _warn(msgs, f"{method} factoring did not converge in 100 iterations "
                        f"(largest projected gradient {pg:.2g})")
        elif pg > 1e-3:
            info["converged"] = False
            _warn(msgs, f"{method} factoring stopped away from a stationary point "
                        f"(largest projected gradient {pg:.2g}; optimizer: {res.message})")
        model = L @ L.T
        Sd = R.copy()
        np.fill_diagonal(Sd, np.diag(model))
        values = np.linalg.eigvalsh(Sd)[::-1]
        info["communalities"] = 1.0 - psi
    elif method == "pa":
        rmat = R.copy()
        start = s if smc_start else np.ones_like(s)
        np.fill_diagonal(rmat, start)
        comm = float(np.sum(start))
        err = comm
        i = 1
        history = []
        while err > min_err:
            vals, vecs = _eig_desc(rmat)
            if np.any(vals[:nf] < 0):  # psych stops here too ("imaginary eigen value")
                L = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))
                info["converged"] = False
                _warn(msgs, "negative eigenvalue in principal-axis iterations; stopped "
                            "(imaginary loadings set to zero)")
                break
            L = vecs[:, :nf] * np.sqrt(vals[:nf])
            new = np.sum(L * L, axis=1)
            comm1 = float(new.sum())
            np.fill_diagonal(rmat, new)
            err = abs(comm - comm1)
            comm = comm1
            history.append(comm1)
            i += 1
            if i > max_iter:
                info["converged"] = False
                _warn(msgs, f"principal-axis factoring: maximum iterations ({max_iter}) "
                            "exceeded")
                err = 0
        values = vals
        info.update(iterations=len(history), communality_iterations=history,
                    communalities=np.sum(L * L, axis=1))
    else:  # pragma: no cover - checked by the caller
        raise InputError("unknown factoring method", value=method)
    return L, values, info
