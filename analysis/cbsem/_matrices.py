"""Model matrices of a parameter table, implied moments and their analytic derivatives
(lavaan ``lav_model``).

:class:`SEMModel` maps a vector of free parameters to the LISREL "all-y" matrices per group
(``lambda``, ``theta``, ``psi``, ``beta``, ``nu``, ``alpha``, and the hooks ``tau``, ``delta``
for ordered indicators), to the implied moments, and to their derivatives.

Matrices per group (all-y LISREL notation, as lavaan)::

    eta   = alpha + B eta + zeta,      Var(zeta) = Psi
    y     = nu + Lambda eta + eps,     Var(eps)  = Theta
    Sigma = Lambda A Psi A' Lambda' + Theta,   A = (I - B)^-1
    mu    = nu + Lambda A alpha

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36. https://doi.org/10.18637/jss.v048.i02
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["SEMModel"]


class SEMModel:
    """Map a free-parameter vector to model matrices, implied moments and their derivatives.

    Parameters
    ----------
    partable : pandas.DataFrame
        Output of :func:`build_partable` (its ``attrs`` carry the variable names).
    group_labels : sequence, optional
        Labels of the groups, in the order of the ``group`` column.

    Attributes
    ----------
    partable : pandas.DataFrame
        The parameter table.
    ov_names, lv_names : list of str
        Observed and latent variable names, in matrix order.
    ngroups, npar : int
        Number of groups and of free parameters (after equality constraints).
    meanstructure : bool
        Whether the model has a mean structure.
    group_labels : list
        Group labels.

    Notes
    -----
    ``Sigma = Lambda A Psi A' Lambda' + Theta`` and ``mu = nu + Lambda A alpha`` with
    ``A = (I - B)^-1``. The derivatives with respect to a free parameter are analytic, e.g.
    for a loading ``lambda_ij``: ``dSigma = e_i c' + c e_i'`` with ``c = (Lambda A Psi A')[:, j]``,
    and ``dmu = e_i (A alpha)_j``; a parameter shared by several rows (equality constraint)
    gets the sum of their derivatives.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cbsem import build_partable, SEMModel
    >>> m = SEMModel(build_partable("f =~ x1 + x2 + x3"))  # R: lavaan::lavInspect(fit, "implied")
    >>> x = np.array([0.8, 0.6, 0.5, 0.5, 0.5, 1.0])  # 2 loadings, 3 residuals, 1 variance
    >>> sigma, mu = m.implied(x)[0]
    >>> round(float(sigma[0, 1]), 10), round(float(sigma[1, 1]), 10)
    (0.8, 1.14)
    """

    def __init__(self, partable: pd.DataFrame, group_labels: Sequence | None = None):
        self.partable = partable
        self.ov_names = list(partable.attrs["ov_names"])
        self.lv_names = list(partable.attrs["lv_names"])
        self.ngroups = int(partable.attrs["ngroups"])
        self.meanstructure = bool(partable.attrs["meanstructure"])
        self.group_labels = (
            list(group_labels) if group_labels is not None else list(range(1, self.ngroups + 1))
        )
        self.npar = int(partable["free"].max()) if len(partable) else 0
        p, m = len(self.ov_names), len(self.lv_names)
        self.nthresholds = len(partable.attrs.get("thresholds", []))
        self._shapes = {
            "lambda": (p, m),
            "theta": (p, p),
            "psi": (m, m),
            "beta": (m, m),
            "nu": (p, 1),
            "alpha": (m, 1),
            "tau": (self.nthresholds, 1),
            "delta": (p, 1),
        }
        self._groups = []
        for g in range(1, self.ngroups + 1):
            sub = partable[partable["group"] == g]
            fixed = sub[sub["free"] == 0]
            freer = sub[sub["free"] > 0]
            self._groups.append(
                dict(
                    fixed=list(
                        zip(
                            fixed["matrix"],
                            fixed["row"],
                            fixed["col"],
                            fixed["value"].astype(float),
                        )
                    ),
                    free=list(zip(freer["matrix"], freer["row"], freer["col"], freer["free"] - 1)),
                )
            )
        self.has_beta = bool((partable["matrix"] == "beta").any())
        # the same entries as index arrays per matrix (vectorised matrices and derivatives)
        self._index = []
        for grp in self._groups:
            fixed, free = {}, {}
            for name in self._shapes:
                f = [(r, c, v) for nm, r, c, v in grp["fixed"] if nm == name]
                fixed[name] = (
                    np.array([e[0] for e in f], dtype=int),
                    np.array([e[1] for e in f], dtype=int),
                    np.array([e[2] for e in f], dtype=float),
                )
                e = np.array([(r, c, k) for nm, r, c, k in grp["free"] if nm == name], dtype=int)
                free[name] = tuple(e.reshape(-1, 3).T)
            self._index.append((fixed, free))
        ph = partable.attrs.get("phantom_lambda", [])
        self._phantom = tuple(np.array(ph, dtype=int).T) if len(ph) else None
        self._free_col = partable["free"].to_numpy()
        self._value_col = partable["value"].to_numpy(dtype=float)

    # ------------------------------------------------------------------ matrices
    def matrices(self, x: np.ndarray) -> list[dict[str, np.ndarray]]:
        """Model matrices per group for parameter vector ``x``.

        Returns a list (one per group) of dicts with keys ``lambda, theta, psi, beta, nu,
        alpha, tau, delta`` (``nu``, ``alpha``, ``tau``, ``delta`` as 1-d arrays; ``delta``
        defaults to ones, everything else to zeros before the table is applied).
        """
        x = np.asarray(x, dtype=float)
        out = []
        for fixed, free in self._index:
            mats = {k: np.zeros(s) for k, s in self._shapes.items()}
            mats["delta"][:] = 1.0
            for name, m in mats.items():
                r, c, v = fixed[name]
                if len(r):
                    m[r, c] = v
                    if name in ("theta", "psi"):
                        m[c, r] = v
            for name, m in mats.items():
                r, c, k = free[name]
                if len(r):
                    m[r, c] = x[k]
                    if name in ("theta", "psi"):
                        m[c, r] = x[k]
            if self._phantom is not None:  # observed variables in regressions
                mats["lambda"][self._phantom] = 1.0
            for k in ("nu", "alpha", "tau", "delta"):
                mats[k] = mats[k][:, 0]
            out.append(mats)
        return out

    def _ia(self, mats):
        m = len(self.lv_names)
        if self.has_beta:
            return np.linalg.inv(np.eye(m) - mats["beta"])
        return np.eye(m)

    def implied(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Implied covariance matrix and mean vector per group: ``[(Sigma, mu), ...]``."""
        out = []
        for mats in self.matrices(x):
            a = self._ia(mats)
            lam_a = mats["lambda"] @ a
            sigma = lam_a @ mats["psi"] @ lam_a.T + mats["theta"]
            mu = mats["nu"] + lam_a @ mats["alpha"]
            out.append((sigma, mu))
        return out

    def latent_moments(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Implied covariance and mean of the latent variables per group."""
        out = []
        for mats in self.matrices(x):
            a = self._ia(mats)
            out.append((a @ mats["psi"] @ a.T, a @ mats["alpha"]))
        return out

    def jacobian(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Derivatives of the implied moments per group.

        Returns
        -------
        list of (dsigma, dmu)
            ``dsigma`` has shape ``(npar, p, p)`` (full symmetric matrices) and ``dmu`` shape
            ``(npar, p)``: the derivative of ``Sigma`` and ``mu`` of that group with respect to
            each free parameter.
        """
        p = len(self.ov_names)
        out = []
        for grp, mats in zip(self._groups, self.matrices(x)):
            a = self._ia(mats)
            lam, psi, alpha = mats["lambda"], mats["psi"], mats["alpha"]
            lam_a = lam @ a
            lm = lam_a @ psi @ a.T  # Lambda A Psi A'   (p x m)
            a_alpha = a @ alpha
            ds = np.zeros((self.npar, p, p))
            dm = np.zeros((self.npar, p))
            free = self._index[len(out)][1]
            r, c, k = free["lambda"]
            if len(k):
                cols = lm[:, c].T
                np.add.at(ds, (k, r), cols)
                np.add.at(ds, (k, slice(None), r), cols)
                np.add.at(dm, (k, r), a_alpha[c])
            r, c, k = free["theta"]
            if len(k):
                np.add.at(ds, (k, r, c), 1.0)
                off = r != c
                np.add.at(ds, (k[off], c[off], r[off]), 1.0)
            r, c, k = free["psi"]
            if len(k):
                t = lam_a[:, r].T[:, :, None] * lam_a[:, c].T[:, None, :]
                t = np.where((r == c)[:, None, None], t, t + np.transpose(t, (0, 2, 1)))
                np.add.at(ds, k, t)
            r, c, k = free["nu"]
            if len(k):
                np.add.at(dm, (k, r), 1.0)
            r, c, k = free["alpha"]
            if len(k):
                np.add.at(dm, k, lam_a[:, r].T)
            for name, r, c, k in grp["free"]:
                if name == "beta":
                    u = lam_a[:, r]
                    row = a[c, :] @ psi @ lam_a.T  # (A Psi A' Lambda')[c]
                    t = np.outer(u, row)
                    ds[k] += t + t.T
                    dm[k] += u * (a[c, :] @ alpha)
                # tau and delta do not enter (Sigma, mu): left to the ordinal estimator
            out.append((ds, dm))
        return out

    def jacobian_dot(
        self,
        x: np.ndarray,
        gsigma: Sequence[np.ndarray],
        gmu: Sequence[np.ndarray] | None = None,
    ) -> np.ndarray:
        """Chain rule through the implied moments, without the full Jacobian.

        Parameters
        ----------
        x : ndarray
            Free parameters.
        gsigma : sequence of ndarray
            Per group, a ``p x p`` matrix ``G`` (e.g. the derivative of a function with
            respect to ``Sigma``).
        gmu : sequence of ndarray, optional
            Per group, a vector ``g`` of length ``p`` (derivative with respect to ``mu``).

        Returns
        -------
        ndarray
            ``sum_g [tensordot(dSigma_g, G_g) + dmu_g @ g_g]`` where ``(dSigma_g, dmu_g)`` is
            :meth:`jacobian`; a few matrix products instead of an ``npar x p x p`` array.
        """
        out = np.zeros(self.npar)
        for g, ((_fixed, free), mats) in enumerate(zip(self._index, self.matrices(x))):
            a = self._ia(mats)
            lam_a = mats["lambda"] @ a
            lm = lam_a @ mats["psi"] @ a.T
            gs = np.asarray(gsigma[g], dtype=float)
            sym = gs + gs.T
            parts = []
            r, c, k = free["lambda"]
            if len(k):
                parts.append((k, (sym @ lm)[r, c]))
            r, c, k = free["theta"]
            if len(k):
                parts.append((k, np.where(r == c, gs[r, c], sym[r, c])))
            r, c, k = free["psi"]
            if len(k):
                m = lam_a.T @ gs @ lam_a
                parts.append((k, np.where(r == c, m[r, c], m[r, c] + m[c, r])))
            r, c, k = free["beta"]
            if len(k):
                rows = a @ mats["psi"] @ lam_a.T  # (A Psi A' Lambda')
                parts.append((k, (lam_a.T @ sym @ rows.T)[r, c]))
            if gmu is not None:
                gm = np.asarray(gmu[g], dtype=float)
                a_alpha = a @ mats["alpha"]
                gl = gm @ lam_a
                r, c, k = free["lambda"]
                if len(k):
                    parts.append((k, gm[r] * a_alpha[c]))
                r, c, k = free["beta"]
                if len(k):
                    parts.append((k, gl[r] * a_alpha[c]))
                r, c, k = free["nu"]
                if len(k):
                    parts.append((k, gm[r]))
                r, c, k = free["alpha"]
                if len(k):
                    parts.append((k, gl[r]))
            for k, v in parts:
                out += np.bincount(k, weights=v, minlength=self.npar)
        return out

    def jacobian_factors(self, x: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        """Low-rank form of the covariance derivatives, for fast casewise computations.

        Returns
        -------
        list of (u, v, coef, index)
            Per group, arrays ``u`` and ``v`` of shape ``(p, q)``, ``coef`` and ``index`` of
            length ``q`` such that
            ``dSigma/dx_k = sum_{j: index[j] == k} coef[j] (u_j v_j' + v_j u_j')``.
            A quadratic form is then ``z' dSigma_k z = sum_j 2 coef_j (z'u_j)(z'v_j)``,
            which costs ``O(n p q)`` for ``n`` cases instead of ``O(n p^2 npar)``.
        """
        p = len(self.ov_names)
        eye = np.eye(p)
        out = []
        for grp, mats in zip(self._groups, self.matrices(x)):
            a = self._ia(mats)
            lam_a = mats["lambda"] @ a
            lm = lam_a @ mats["psi"] @ a.T
            us, vs, cs, ks = [], [], [], []
            for name, r, c, k in grp["free"]:
                if name == "lambda":
                    us.append(eye[r]), vs.append(lm[:, c]), cs.append(1.0)
                elif name == "theta":
                    us.append(eye[r]), vs.append(eye[c]), cs.append(0.5 if r == c else 1.0)
                elif name == "psi":
                    (
                        us.append(lam_a[:, r]),
                        vs.append(lam_a[:, c]),
                        cs.append(0.5 if r == c else 1.0),
                    )
                elif name == "beta":
                    row = a[c, :] @ mats["psi"] @ lam_a.T
                    us.append(lam_a[:, r]), vs.append(row), cs.append(1.0)
                else:
                    continue
                ks.append(k)
            u = np.array(us).T.reshape(p, len(us))
            v = np.array(vs).T.reshape(p, len(vs))
            out.append((u, v, np.array(cs, dtype=float), np.array(ks, dtype=int)))
        return out

    def x_start(self) -> np.ndarray:
        """Starting vector from the ``value`` column of the free rows (first row per index)."""
        x = np.full(self.npar, np.nan)
        pt = self.partable
        for k, v in zip(pt["free"], pt["value"]):
            if k > 0 and np.isnan(x[k - 1]):
                x[k - 1] = v
        return x

    def x_to_table(self, x: np.ndarray) -> np.ndarray:
        """Value of every row of the parameter table (fixed values and free estimates)."""
        out = self._value_col.copy()
        fr = self._free_col
        out[fr > 0] = np.asarray(x)[fr[fr > 0] - 1]
        return out
