"""Normal-theory ML over missing-data patterns: data, fit function, gradient, information
(lavaan ``lav_model_objective``, ``lav_model_gradient``, ``lav_model_information``).

The data of each group are reduced to per-pattern sufficient statistics
(:mod:`analysis.cbsem._ml_data`), so that the fit function, its analytic gradient and the information
matrices of :class:`_MLProblem` cost nothing per case; casewise quantities (MLR scores) are
accumulated in chunks. :func:`_minimize` is the optimiser (Fisher scoring, then BFGS). The
saturated and independence models used by the fit measures live here as well. With several
missing-data patterns the information matrices use the low-rank factors of the covariance
derivatives, and the saturated model's information a closed form over the patterns.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36.
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance
structure analysis with nonnormal missing data. *Sociological Methodology*, 30, 165-200.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from analysis.cbsem._ml_data import (
    _LOG2PI,
    _GroupData,
    _integer_moment_cross,
    _pattern_inverses,
    _pseudo_complete,
    _size_groups,
    _spd_inverse,
)


# --------------------------------------------------------------------------- baseline model
class _IndependenceModel:
    """Baseline model: uncorrelated observed variables (free variances and means).

    With ``x_idx`` (fixed.x) the observed exogenous variables keep their sample covariance
    matrix and means (``x_moments``: one ``(cov, mean)`` per group) and the others are
    uncorrelated with them and with each other, as lavaan's baseline model.
    """

    def __init__(self, p: int, ngroups: int, meanstructure: bool, x_idx=None, x_moments=None):
        self.p, self.ngroups, self.meanstructure = p, ngroups, meanstructure
        self.linear = True  # moments are linear in the parameters
        xs = set(x_idx or ())
        self.free_idx = np.array([j for j in range(p) if j not in xs], dtype=int)
        self.x_idx = np.array(sorted(xs), dtype=int) if xs else None
        self.x_moments = x_moments
        self.q = len(self.free_idx)
        self.per = self.q * (2 if meanstructure else 1)
        self.npar = self.per * ngroups

    def implied(self, x):
        out = []
        q, y = self.q, self.free_idx
        for g in range(self.ngroups):
            v = x[g * self.per : g * self.per + q]
            mu = x[g * self.per + q : (g + 1) * self.per] if self.meanstructure else None
            if self.x_idx is None:
                out.append((np.diag(v), mu if mu is not None else np.zeros(self.p)))
                continue
            sigma = np.zeros((self.p, self.p))
            sigma[y, y] = v
            m = np.zeros(self.p)
            sxx, mx = self.x_moments[g]
            sigma[np.ix_(self.x_idx, self.x_idx)] = sxx
            if mu is not None:
                m[y] = mu
                m[self.x_idx] = mx
            out.append((sigma, m))
        return out

    def jacobian_factors(self, x):
        eye = np.eye(self.p)[:, self.free_idx]
        q = self.q
        idx = np.array([g * self.per + j for g in range(self.ngroups) for j in range(q)])
        return [
            (eye, eye, np.full(q, 0.5), idx[g * q : (g + 1) * q])
            for g in range(self.ngroups)
        ]

    def jacobian(self, x):
        out = []
        for g in range(self.ngroups):
            ds = np.zeros((self.npar, self.p, self.p))
            dm = np.zeros((self.npar, self.p))
            for j, jj in enumerate(self.free_idx):
                ds[g * self.per + j, jj, jj] = 1.0
                if self.meanstructure:
                    dm[g * self.per + self.q + j, jj] = 1.0
            out.append((ds, dm))
        return out


# --------------------------------------------------------------------------- core ML machinery
class _MLProblem:
    """ML fit function, gradient and information matrices of a model on grouped data."""

    def __init__(self, model, data: list[_GroupData], meanstructure: bool):
        self.model = model
        self.data = data
        self.meanstructure = meanstructure
        self.ntotal = sum(d.n for d in data)

    _INV_CACHE_BYTES = 256 * 2**20

    def _cache_entry(self, g: int, sigma: np.ndarray):
        key = sigma.tobytes()
        cache = self.__dict__.setdefault("_inv_cache", {})
        ent = cache.get(g)
        if ent is None or ent[0] != key:
            ent = cache[g] = (key, {}, [0], {})
        return ent

    def _full_inverse(self, g: int, sigma: np.ndarray):
        """``(P, log|Sigma|)`` with ``P = Sigma^-1`` of group ``g``, or None when ``Sigma``
        is not positive definite (cached with the batch inverses)."""
        ent = self._cache_entry(g, sigma)
        if "full" not in ent[3]:
            try:
                c = np.linalg.cholesky(sigma)
                ent[3]["full"] = (np.linalg.inv(sigma), 2.0 * np.sum(np.log(np.diag(c))))
            except np.linalg.LinAlgError:
                ent[3]["full"] = None
        return ent[3]["full"]

    def _batch_inv(self, g: int, bi: int, b, sigma: np.ndarray) -> np.ndarray:
        """``Sigma_oo^-1`` of the patterns of size group ``bi`` of group ``g`` (batched), kept
        for the last ``Sigma`` of each group: the fit function, its gradient and the
        information matrices at the same point (successive calls of the optimiser) share
        them (at most ``_INV_CACHE_BYTES`` kept).

        When ``Sigma`` is positive definite and the patterns miss fewer variables than they
        observe, ``Sigma_oo^-1 = P_oo - P_om P_mm^-1 P_mo`` (``P = Sigma^-1``, a Schur
        complement): ``O(po^2 m)`` per pattern with ``m`` missing variables instead of a
        factorisation in ``O(po^3)``."""
        ent = self._cache_entry(g, sigma)
        inv = ent[1].get(bi)
        if inv is None:
            full = self._full_inverse(g, sigma) if b.midx.shape[1] <= b.idx.shape[1] else None
            if full is None:
                inv = np.linalg.inv(sigma[b.ix])
            elif b.midx.shape[1] == 0:
                inv = np.repeat(full[0][None], len(b.sel), axis=0)
            else:
                pm = full[0]
                mi = b.midx
                pmm = pm[mi[:, :, None], mi[:, None, :]]
                pmo = pm[mi[:, :, None], b.idx[:, None, :]]
                inv = pm[b.ix] - np.matmul(pmo.transpose(0, 2, 1), np.linalg.solve(pmm, pmo))
            if ent[2][0] + inv.nbytes <= self._INV_CACHE_BYTES:
                ent[1][bi] = inv
                ent[2][0] += inv.nbytes
        return inv

    def _batch_logdet(self, g: int, b, sigma: np.ndarray):
        """``log|Sigma_oo|`` of the patterns of a size group, or None if one ``Sigma_oo`` is
        not positive definite: ``log|Sigma| + log|P_mm|`` when ``Sigma`` is positive
        definite (``|Sigma| = |Sigma_oo| |Sigma_mm.o|`` and ``Sigma_mm.o^-1 = P_mm``), else
        by a Cholesky factorisation of each ``Sigma_oo``."""
        full = self._full_inverse(g, sigma) if b.midx.shape[1] <= b.idx.shape[1] else None
        if full is not None:
            if b.midx.shape[1] == 0:
                return np.full(len(b.sel), full[1])
            mi = b.midx
            sign, ld = np.linalg.slogdet(full[0][mi[:, :, None], mi[:, None, :]])
            if np.all(sign > 0):
                return full[1] + ld
        try:
            c = np.linalg.cholesky(sigma[b.ix])
        except np.linalg.LinAlgError:
            return None
        return 2.0 * np.sum(np.log(np.diagonal(c, axis1=1, axis2=2)), axis=1)

    def _mu(self, g, mu):
        # without a mean structure the means are saturated: mu = sample mean
        return mu if self.meanstructure else self.data[g].mean

    def objective(self, x, grad: bool = True):
        """f(x) = -loglik(x)/N up to a constant (0.5 * sum_g n_g/N * F_ML,g); and gradient.

        The patterns are processed in batches of equal size (:func:`_size_groups`): one
        batched Cholesky factorisation and inverse per batch, the gradient with respect to
        ``Sigma`` and ``mu`` scattered back by index sums.
        """
        f = 0.0
        try:
            impl = self.model.implied(x)
        except np.linalg.LinAlgError:
            return (np.inf, None) if grad else np.inf
        gs_all, gm_all = [], []
        for g, (sigma, mu) in enumerate(impl):
            mu = self._mu(g, mu)
            terms = self._group_terms(g, sigma, mu, grad)
            if terms is None:
                return (np.inf, None) if grad else np.inf
            f += terms[0]
            gfull, gmu = terms[1], terms[2]
            p = len(mu)
            gs_all.append(gfull.reshape(p, p))
            gm_all.append(gmu)
        f = 0.5 * f / self.ntotal
        if not grad:
            return f
        dot = getattr(self.model, "jacobian_dot", None)
        if dot is not None:
            gvec = dot(x, gs_all, [-2.0 * gm for gm in gm_all] if self.meanstructure else None)
        else:
            gvec = np.zeros(len(x))
            for (ds, dm), gfull, gmu in zip(self.model.jacobian(x), gs_all, gm_all):
                gvec += np.tensordot(ds, gfull, axes=([1, 2], [0, 1]))
                if self.meanstructure:
                    gvec -= 2.0 * dm @ gmu
        return f, 0.5 * gvec / self.ntotal

    def _group_terms(self, g, sigma, mu, grad: bool = True, need_f: bool = True):
        """Sum over the cases of group ``g`` of ``log|Sigma_oo| + e' Sigma_oo^-1 e`` and, with
        ``grad``, the gradients of that sum with respect to the full ``Sigma`` (``p^2``,
        as ``sum n (A - A M A)``) and ``mu`` (``sum n A d``); None if some ``Sigma_oo`` is
        not positive definite. Without ``need_f`` the factorisations for the log
        determinants are skipped (the value returned is then meaningless)."""
        f = 0.0
        p = len(mu)
        gfull = np.zeros(p * p)
        gmu = np.zeros(p)
        for bi, b in enumerate(_size_groups(self.data[g])):
            logdet = np.zeros(len(b.sel))
            if need_f:
                logdet = self._batch_logdet(g, b, sigma)
                if logdet is None:
                    return None
            inv = self._batch_inv(g, bi, b, sigma)
            if b.case_x is not None:
                # sum_i e_i' A e_i and sum_i z_i z_i', z_i = A e_i, from the cases
                e = b.case_x - mu[b.idx][b.case_pid]
                z = np.empty_like(e)
                po = e.shape[1]
                for start, rs, c in b.case_blocks:
                    sl = slice(start, start + len(rs) * c)
                    z[sl] = np.matmul(e[sl].reshape(len(rs), c, po), inv[rs]).reshape(-1, po)
                f += float(b.n @ logdet + np.einsum("ij,ij->", e, z))
                if grad:
                    na = b.n[:, None, None] * inv
                    gfull += np.bincount(b.flat.ravel(), na.ravel(), minlength=p * p)
                    zf = np.zeros((len(e), p))
                    zf[np.arange(len(e))[:, None], b.idx[b.case_pid]] = z
                    gfull -= (zf.T @ zf).ravel()
                    gmu += zf.sum(axis=0)
                continue
            d = b.mean - mu[b.idx]
            m2 = b.cov + d[:, :, None] * d[:, None, :]
            f += float(b.n @ (logdet + np.sum(inv * m2, axis=(1, 2))))
            if grad:
                gm = b.n[:, None, None] * (inv - inv @ m2 @ inv)
                gfull += np.bincount(b.flat.ravel(), gm.ravel(), minlength=p * p)
                ad = np.matmul(inv, d[:, :, None])[:, :, 0] * b.n[:, None]
                gmu += np.bincount(b.idx.ravel(), ad.ravel(), minlength=p)
        return f, gfull, gmu

    def loglik(self, x) -> float:
        """Log-likelihood at ``x`` (from :meth:`_group_terms`, batched over patterns)."""
        total = 0.0
        for g, (sigma, mu) in enumerate(self.model.implied(x)):
            terms = self._group_terms(g, sigma, self._mu(g, mu), grad=False)
            if terms is None:
                return -np.inf
            nobs = sum(pat.n * len(pat.idx) for pat in self.data[g].patterns)
            total += -0.5 * (terms[0] + nobs * _LOG2PI)
        return float(total)

    def _lowrank(self) -> bool:
        """Use the low-rank information formulas: several missing-data patterns (FIML) and a
        model with :meth:`SEMModel.jacobian_factors`."""
        return hasattr(self.model, "jacobian_factors") and any(
            len(d.patterns) > 1 for d in self.data
        )

    def _pattern_chunks(self, g, sigma, mu, observed: bool, size: int = 256):
        """Per pattern of group ``g``, embedded in ``p x p`` (zeros at the missing variables):
        ``A = Sigma_oo^-1`` and, when ``observed``, ``B = A (S + d d') A`` and ``a = A d``;
        with the pattern sizes ``n``. Yields them for at most ``size`` patterns of equal
        size at a time (batched inverses, memory bounded whatever the number of patterns)."""
        p = sigma.shape[0]
        for bi, b in enumerate(_size_groups(self.data[g])):
            inv_b = self._batch_inv(g, bi, b, sigma)
            for start in range(0, len(b.sel), size):
                sl = slice(start, start + size)
                idx, flat = b.idx[sl], b.flat[sl]
                nr = len(idx)
                rr = np.arange(nr)[:, None]
                inv = inv_b[sl]
                va = np.zeros((nr, p * p))
                va[rr, flat.reshape(nr, -1)] = inv.reshape(nr, -1)
                vb = vad = None
                if observed:
                    d = b.mean[sl] - mu[idx]
                    ad = np.matmul(inv, d[:, :, None])[:, :, 0]
                    bm = inv @ b.cov[sl] @ inv + ad[:, :, None] * ad[:, None, :]
                    vb = np.zeros((nr, p * p))
                    vb[rr, flat.reshape(nr, -1)] = bm.reshape(nr, -1)
                    vb = vb.reshape(nr, p, p)
                    vad = np.zeros((nr, p))
                    vad[rr, idx] = ad
                yield b.n[sl], va.reshape(nr, p, p), vb, vad

    def _lowrank_information(self, x, observed: bool) -> np.ndarray:
        """Expected or (the analytic part of the) observed information from the low-rank
        factors of the covariance derivatives, summed over the missing-data patterns.

        With ``dSigma_k = sum_j c_j (u_j v_j' + v_j u_j')`` and, per pattern, ``P = W' A W``
        and ``Q = W' B W`` for the distinct columns ``W`` of ``[U V]`` (unit vectors and a
        few columns of ``Lambda Psi``), ``tr(A X_a A X_b) = 2 (P[u_a, v_b] P[v_a, u_b] +
        P[u_a, u_b] P[v_a, v_b])`` and ``tr(A X_a B X_b)`` likewise with one ``P`` replaced
        by ``Q``, for the pieces ``a, b``. The sums over patterns are taken first, for each
        piece ``a`` at once: ``K_a = sum_pattern n P[u_a, :]' Q[v_a, :]`` is a batch of
        matrix products, and the information is gathered from the ``K_a``. The mean terms
        ``dmu' A dmu`` are summed over patterns first.
        """
        k = len(x)
        info = np.zeros((k, k))
        for g, ((sigma, mu), (_ds, dm), (u, v, coef, index)) in enumerate(
            zip(self.model.implied(x), self.model.jacobian(x), self.model.jacobian_factors(x))
        ):
            mu = self._mu(g, mu)
            q = u.shape[1]
            wd, inv = np.unique(np.concatenate([u, v], axis=1), axis=1, return_inverse=True)
            inv = np.asarray(inv).ravel()
            su, sv = inv[:q], inv[q:]
            agg = np.zeros((q, k))
            agg[np.arange(q), index] = coef
            ar = np.arange(q)[:, None]
            d_ = wd.shape[1]
            kpp = np.zeros((q, d_, d_))
            k1 = np.zeros_like(kpp) if observed else None
            k2 = np.zeros_like(kpp) if observed else None
            a_sum = np.zeros_like(sigma)
            ay = np.zeros((d_, *sigma.shape)) if observed else None
            for n, va, vb, vad in self._pattern_chunks(g, sigma, mu, observed):
                # per pattern w' A w and w' B w, laid out [x, y, pattern] for the products
                pd_ = np.ascontiguousarray(np.matmul(np.matmul(wd.T, va), wd).transpose(1, 2, 0))
                kpp += _piece_products(pd_, su, pd_, sv, n)
                a_sum += np.tensordot(n, va, axes=1)  # sum of n A: the mean terms
                if observed:
                    qd = np.ascontiguousarray(np.matmul(np.matmul(wd.T, vb), wd).transpose(1, 2, 0))
                    k1 += _piece_products(pd_, su, qd, sv, n)  # sum n P[u_a, y] Q[v_a, w]
                    k2 += _piece_products(pd_, sv, qd, su, n)  # sum n P[v_a, y] Q[u_a, w]
                    # Ay[w] = sum n (w'a) A, for the mean cross terms below
                    ua = np.matmul(vad, wd) * n[:, None]  # R x d: n a' w
                    ay += (ua.T @ va.reshape(len(n), -1)).reshape(-1, *sigma.shape)
            t_aa = kpp[ar, sv[None, :], su[None, :]] + kpp[ar, su[None, :], sv[None, :]]
            if not observed:
                tsum = t_aa
            else:
                t_ab = (
                    k1[ar, sv[None, :], su[None, :]] + k1[ar, su[None, :], sv[None, :]]
                    + k2[ar, sv[None, :], su[None, :]] + k2[ar, su[None, :], sv[None, :]]
                )  # fmt: skip
                tsum = -2.0 * t_aa + 2.0 * t_ab
            blk = agg.T @ tsum @ agg
            if self.meanstructure:
                mam = dm @ a_sum @ dm.T
                blk = blk + (2.0 * mam if observed else mam)
                if observed:
                    # sum n (X_k a)' A m_l: X_k a = u (v'a) + v (u'a) per piece, so piece j
                    # gives u_j' Ay[v_j] m_l + v_j' Ay[u_j] m_l
                    ya = np.einsum("pa,apq->aq", wd[:, su], ay[sv]) + np.einsum(
                        "pa,apq->aq", wd[:, sv], ay[su]
                    )  # q x p
                    cross = agg.T @ (ya @ dm.T)
                    blk = blk + 2.0 * (cross + cross.T)
            info += blk
        return info / (2.0 * self.ntotal) if observed else info / self.ntotal

    def _saturated_information(self, x, observed: bool) -> np.ndarray:
        """Information of the saturated model (``vech(Sigma)``, ``mu``) in closed form.

        For ``sigma_ij`` (weight ``c = 1/2`` on the diagonal) and a pattern with
        ``A = Sigma_oo^-1`` (embedded in a ``p x p`` matrix of zeros), ``B = A M A``,
        ``D = B - A`` and ``a = A d``:
        ``tr(A X_ij A X_kl) = 2 c_ij c_kl (A_ik A_jl + A_il A_jk)`` and
        ``-tr(A X_ij A X_kl) + 2 tr(A X_ij B X_kl) = 2 c_ij c_kl (A_il D_jk + A_ik D_jl +
        A_jl B_ik + A_jk B_il)``, ``a' X_ij A e_t = c_ij (a_i A_jt + a_j A_it)``. The sums over
        patterns of the products are Gram matrices of the flattened pattern matrices
        (``sum_pattern n A_ik A_jl = (V' N V)[(i,k), (j,l)]``), of which only the blocks
        ``i >= j`` are needed (:func:`_vech_gram`); the ``D`` and ``B`` terms share one
        product (``[A; B]' N [D; A]``).
        """
        m = self.model
        p = m.p
        sigma, mu = m.implied(x)[0]
        rows, cols = m.rows, m.cols  # vech order of the parameters
        c = np.where(rows == cols, 0.5, 1.0)
        cc = np.outer(c, c)
        nv = m.nvech
        blk = np.zeros((nv, nv))
        a_sum = np.zeros((p, p))
        cm = np.zeros((p, p * p)) if observed else None
        for n, va, vb, vad in self._pattern_chunks(0, sigma, mu, observed):
            nr = len(n)
            fa = va.reshape(nr, -1)
            a_sum += np.tensordot(n, va, axes=1)
            if not observed:
                blk += _vech_gram(fa, n[:, None] * fa, p)  # sum n (A_ik A_jl + A_il A_jk)
                continue
            fd = (vb - va).reshape(nr, -1)
            fb = vb.reshape(nr, -1)
            # sum n (A_il D_jk + B_il A_jk + A_ik D_jl + B_ik A_jl): one product
            blk += _vech_gram(
                np.concatenate([fa, fb]), np.concatenate([n[:, None] * fd, n[:, None] * fa]), p
            )
            cm += (vad.T * n) @ fa  # (p, p^2): sum n a_i A_jt at [i, (j, t)]
        info = np.zeros((m.npar, m.npar))
        info[:nv, :nv] = cc * blk / self.ntotal
        info[nv:, nv:] = a_sum / self.ntotal
        if not observed:
            return info
        t_ = np.arange(p)[None, :]
        cross = c[:, None] * (cm[rows[:, None], cols[:, None] * p + t_]
                              + cm[cols[:, None], rows[:, None] * p + t_]) / self.ntotal  # fmt: skip
        info[:nv, nv:] = cross
        info[nv:, :nv] = cross.T
        return info

    def expected_information(self, x) -> np.ndarray:
        """Sum_g n_g/N * [0.5 tr(S^-1 dS_k S^-1 dS_l) + dmu_k' S^-1 dmu_l] (pattern-wise)."""
        if isinstance(self.model, _SaturatedModel):
            return self._saturated_information(x, observed=False)
        if self._lowrank():
            return self._lowrank_information(x, observed=False)
        info = np.zeros((len(x), len(x)))
        for g, ((sigma, _mu), (ds, dm)) in enumerate(
            zip(self.model.implied(x), self.model.jacobian(x))
        ):
            for pat in self.data[g].patterns:
                o = pat.idx
                inv = np.linalg.inv(sigma[np.ix_(o, o)])
                dso = ds[:, o][:, :, o]
                m = np.matmul(inv, dso)  # k x po x po
                mf = m.reshape(len(x), -1)
                mt = np.transpose(m, (0, 2, 1)).reshape(len(x), -1)
                blk = 0.5 * (mf @ mt.T)
                if self.meanstructure:
                    dmo = dm[:, o]
                    blk = blk + dmo @ inv @ dmo.T
                info += pat.n * blk
        return info / self.ntotal

    def numerical_observed_information(self, x) -> np.ndarray:
        """Hessian of f(x) by central differences of the analytic gradient."""
        k = len(x)
        h = np.empty((k, k))
        for j in range(k):
            step = 1e-5 * max(1.0, abs(x[j]))
            xp, xm = x.copy(), x.copy()
            xp[j] += step
            xm[j] -= step
            h[:, j] = (self.objective(xp)[1] - self.objective(xm)[1]) / (2 * step)
        return 0.5 * (h + h.T)

    def _pattern_terms(self, x, lowrank: bool = False):
        """Per group and pattern: (pattern, A = Sigma_oo^-1, B = A M A, a = A d), and the
        gradient of f with respect to the full Sigma (p x p) and mu of each group; with
        ``lowrank`` only the gradients (no per-pattern terms), from batched patterns."""
        out = []
        for g, (sigma, mu) in enumerate(self.model.implied(x)):
            mu = self._mu(g, mu)
            if lowrank:
                p = len(mu)
                _f, gfull, gmu = self._group_terms(g, sigma, mu, grad=True, need_f=False)
                out.append(([], 0.5 * gfull.reshape(p, p) / self.ntotal, -gmu / self.ntotal))
                continue
            terms = []
            gfull = np.zeros_like(sigma)
            gmu = np.zeros(len(mu))
            for pat in self.data[g].patterns:
                o = pat.idx
                a_inv = np.linalg.inv(sigma[pat.ix])
                d = pat.mean - mu[o]
                b = a_inv @ (pat.cov + np.outer(d, d)) @ a_inv
                ad = a_inv @ d
                terms.append((pat, a_inv, b, ad))
                gfull[pat.ix] += pat.n * (a_inv - b)
                gmu[o] += pat.n * ad
            out.append((terms, 0.5 * gfull / self.ntotal, -gmu / self.ntotal))
        return out

    def observed_information(self, x) -> np.ndarray:
        """Hessian of f(x) (the observed information per case), analytically.

        ``H = sum_pattern n/(2N) [-tr(A X_k A X_l) + 2 tr(A X_k B X_l) + 2 a' X_k A m_l
        + 2 a' X_l A m_k + 2 m_k' A m_l] + d/dx_l (J_k(x)' G)`` with ``A = Sigma_oo^-1``,
        ``B = A (S + d d') A``, ``a = A d``, ``X_k``/``m_k`` the derivatives of ``Sigma_oo``
        and ``mu_o``, and ``G`` the gradient of ``f`` with respect to the moments (held fixed
        in the last term, whose derivative is taken numerically on the model Jacobian only).
        """
        k = len(x)
        h = np.zeros((k, k))
        if isinstance(self.model, _SaturatedModel):
            return self._saturated_information(x, observed=True)
        lowrank = self._lowrank()
        pterms = self._pattern_terms(x, lowrank)
        if lowrank:
            h += self._lowrank_information(x, observed=True)
        for (ds, dm), (terms, _gs, _gm) in zip(self.model.jacobian(x), pterms):
            if lowrank:
                break
            for pat, a_inv, b, ad in terms:
                o = pat.idx
                xo = ds[:, o][:, :, o]
                pa = np.matmul(a_inv, xo)
                qb = np.matmul(b, xo)
                paf = pa.reshape(k, -1)
                pat_t = np.transpose(pa, (0, 2, 1)).reshape(k, -1)
                qbt = np.transpose(qb, (0, 2, 1)).reshape(k, -1)
                blk = -(paf @ pat_t.T) + 2.0 * (paf @ qbt.T)
                if self.meanstructure:
                    mo = dm[:, o]
                    u = xo @ ad  # k x po : X_k a
                    w = mo @ a_inv  # k x po : A m_l
                    cross = u @ w.T
                    blk = blk + 2.0 * (cross + cross.T) + 2.0 * (mo @ a_inv @ mo.T)
                h += pat.n / (2.0 * self.ntotal) * blk

        # second-derivative part: derivative of J(x)' G with the moment gradient G fixed
        gs_all = [gs for _t, gs, _gm in pterms]
        gm_all = [gm for _t, _gs, gm in pterms] if self.meanstructure else None
        dot = getattr(self.model, "jacobian_dot", None)

        def jg(z):
            if dot is not None:  # J(z)' G without building J(z)
                return dot(z, gs_all, gm_all)
            tot = np.zeros(k)
            for (dsz, dmz), (_t, gs, gm) in zip(self.model.jacobian(z), pterms):
                tot += np.tensordot(dsz, gs, axes=([1, 2], [0, 1]))
                if self.meanstructure:
                    tot += dmz @ gm
            return tot

        if not getattr(self.model, "linear", False):
            for j in range(k):
                step = 1e-5 * max(1.0, abs(x[j]))
                xp, xm = x.copy(), x.copy()
                xp[j] += step
                xm[j] -= step
                h[:, j] += (jg(xp) - jg(xm)) / (2 * step)
        return 0.5 * (h + h.T)

    def _score_blocks(self, x, group: int, chunk: int = 50000):
        """Casewise scores of one group, block by block: yields ``(rows, scores)`` with
        ``scores`` of shape ``(len(rows), npar)`` (see :meth:`casewise_scores`)."""
        sigma, mu = self.model.implied(x)[group]
        mu = self._mu(group, mu)
        _ds, dm = self.model.jacobian(x)[group]
        u, v, coef, index = self.model.jacobian_factors(x)[group]
        npar = len(x)
        # q x npar matrix that adds the pieces of each parameter; when every parameter has at
        # most one piece (no equality constraint within the group) a scatter does the same
        unique = len(np.unique(index)) == len(index)
        identity = len(index) == npar and np.array_equal(index, np.arange(npar))
        agg = np.zeros((len(index), npar))
        agg[np.arange(len(index)), index] = coef
        data = self.data[group]
        p = data.x.shape[1]
        q = u.shape[1]
        products = _column_products(np.concatenate([u, v], axis=1))
        wd, inv_w = np.unique(np.concatenate([u, v], axis=1), axis=1, return_inverse=True)
        inv_w = np.asarray(inv_w).ravel()
        su, sv = inv_w[:q], inv_w[q:]
        invs = _pattern_inverses(data, sigma, lambda bi, b: self._batch_inv(group, bi, b, sigma))
        for pat, inv in zip(data.patterns, invs):
            o = pat.idx
            # -0.5 tr(A dSigma_k) = -sum_j c_j u_j' A v_j over the pieces j of k
            pw = wd[o].T @ inv @ wd[o]  # distinct columns of [U V]: w' A w
            const = -(pw[su, sv] * coef) if identity else -(pw[su, sv] @ agg)
            for start in range(0, pat.n, chunk):
                rows = pat.rows[start : start + chunk]
                z = np.zeros((len(rows), p))
                z[:, o] = (data.x[np.ix_(rows, o)] - mu[o]) @ inv
                zuv = products(z)  # [z @ u, z @ v]
                if identity:
                    sc = zuv[:, :q] * zuv[:, q:] * coef
                    sc += const
                elif unique:
                    sc = np.zeros((len(rows), npar))
                    sc[:, index] = zuv[:, :q] * zuv[:, q:] * coef
                    sc += const
                else:
                    sc = (zuv[:, :q] * zuv[:, q:]) @ agg + const
                if self.meanstructure:
                    sc += z @ dm.T
                yield rows, sc

    def casewise_scores(self, x, group: int, chunk: int = 50000) -> np.ndarray:
        """Scores d loglik_i / d x of the cases of one group (n_g x npar).

        ``s_ik = 0.5 z_i' dSigma_k z_i - 0.5 tr(Sigma_oo^-1 dSigma_k) + z_i' dmu_k`` with
        ``z_i = Sigma_oo^-1 (y_i,o - mu_o)`` (zero for the missing entries); the quadratic
        forms use the low-rank factors of :meth:`SEMModel.jacobian_factors`.
        """
        out = np.zeros((self.data[group].n, len(x)))
        for rows, sc in self._score_blocks(x, group, chunk):
            out[rows] = sc
        return out


def _score_cross(problem: _MLProblem, x, group: int, buffer: int = 4_000_000) -> np.ndarray:
    """``s' s`` for the casewise scores ``s`` of one group, accumulated over blocks of cases
    (at most about ``buffer`` values held at once, whatever the number of cases).

    The scores of the parameters that do not enter the group's moments (those of the other
    groups) are zero: the product is taken over the other columns only.
    """
    npar = len(x)
    _ds, dm = problem.model.jacobian(x)[group]
    index = problem.model.jacobian_factors(x)[group][3]
    used = np.union1d(index, np.flatnonzero(np.any(dm != 0, axis=1))) if problem.meanstructure \
        else np.unique(index)  # fmt: skip
    nb = max(64, buffer // max(len(used), 1))
    buf = np.empty((min(nb, problem.data[group].n), len(used)))
    cross = np.zeros((len(used), len(used)))
    fill = 0
    for _rows, sc in problem._score_blocks(x, group, chunk=nb):
        sc = sc[:, used]
        if fill + len(sc) > len(buf):
            cross += buf[:fill].T @ buf[:fill]
            fill = 0
        buf[fill : fill + len(sc)] = sc
        fill += len(sc)
    cross += buf[:fill].T @ buf[:fill]
    if len(used) == npar:
        return cross
    out = np.zeros((npar, npar))
    out[np.ix_(used, used)] = cross
    return out


def _piece_products(left, lrows, right, rrows, n) -> np.ndarray:
    """``K[a, y, w] = sum_r n_r left[lrows_a, y, r] right[rrows_a, w, r]`` for every piece
    ``a``, from ``d x d x R`` stacks: one matrix product per distinct ``lrows`` value."""
    q, d, nr = len(lrows), left.shape[0], left.shape[2]
    out = np.empty((q, d, d))
    order = np.argsort(lrows, kind="stable")
    vals, starts = np.unique(lrows[order], return_index=True)
    bounds = [*starts.tolist(), q]
    for x, s, e in zip(vals, bounds[:-1], bounds[1:]):
        sel = order[s:e]
        rx = right[rrows[sel]].reshape(-1, nr)  # (|sel| d) x R
        out[sel] = ((left[x] * n) @ rx.T).reshape(d, len(sel), d).transpose(1, 0, 2)
    return out


def _vech_gram(left: np.ndarray, right: np.ndarray, p: int) -> np.ndarray:
    """``blk[(i,j), (k,l)] = M[(i,k), (j,l)] + M[(i,l), (j,k)]`` for the vech pairs ``i >= j``,
    ``k >= l`` (``np.tril_indices`` order), where ``M = left' right`` and ``left``, ``right``
    (``r x p^2``) hold flattened ``p x p`` matrices, one per row.

    ``M`` is computed block row by block row (``i``), each only for ``j <= i``: half of the
    full product, and never more than ``p x p^2`` values at once.
    """
    rows_t, cols_t = np.tril_indices(p)
    out = np.empty((len(rows_t), len(rows_t)))
    for i in range(p):
        gi = left[:, i * p : (i + 1) * p].T @ right[:, : (i + 1) * p]  # [k, (j, l)]
        t = gi.reshape(p, i + 1, p).transpose(1, 0, 2)  # [j, k, l]
        s = t + t.transpose(0, 2, 1)
        start = i * (i + 1) // 2
        out[start : start + i + 1] = s[:, rows_t, cols_t]
    return out


def _column_products(cols: np.ndarray):
    """A function ``z -> z @ cols`` that computes each distinct column once.

    The low-rank factors of the Jacobian repeat columns (a column of ``Lambda Psi`` for every
    loading of a factor) and hold unit vectors (residual variances, loadings): those are
    copied from ``z``, the other distinct columns come from one matrix product.
    """
    uniq, inv = np.unique(cols, axis=1, return_inverse=True)
    inv = np.asarray(inv).ravel()
    unit = ((uniq != 0).sum(axis=0) == 1) & (uniq.max(axis=0) == 1.0)
    pos = np.argmax(uniq[:, unit] != 0, axis=0)
    other = uniq[:, ~unit]

    def products(z):
        res = np.empty((len(z), uniq.shape[1]))
        res[:, unit] = z[:, pos]
        if other.shape[1]:
            res[:, ~unit] = z @ other
        return res[:, inv]

    return products


def _minimize(problem: _MLProblem, x0: np.ndarray, max_iter: int = 500, tol: float = 1e-10):
    """Minimise the ML fit function; returns ``(x, converged, iterations)``.

    Two Fisher scoring steps (expected information), then quasi-Newton steps: the last
    information matrix is updated by BFGS from the analytic gradients, so that an iteration
    costs one evaluation of the fit function and its gradient instead of an information
    matrix (two to three times dearer with many missing-data patterns). A fresh expected
    information is taken when an iteration does not halve the gradient (largest absolute
    value), when the step is not a descent direction, or when the line search fails. Backtracking line search
    (Armijo); near the optimum, where the decrease of ``f`` is below its rounding, a step
    that reduces the gradient is accepted. Stops when the gradient is below ``tol``, or below
    ``1e-7`` once neither ``f`` nor the gradient improve any more; L-BFGS as a fallback.
    """
    x = x0.copy()
    f, g = problem.objective(x)
    if not np.isfinite(f):
        # inadmissible start (Sigma not positive definite): a derivative-free search first
        res = optimize.minimize(
            lambda z: problem.objective(z, grad=False),
            x,
            method="Nelder-Mead",
            options={"maxiter": 2000},
        )
        x = res.x
        f, g = problem.objective(x)
    converged = False
    it = 0
    metric, fresh = None, False
    eye = np.eye(len(x))
    while it < max_iter:
        it += 1
        gmax = np.max(np.abs(g))
        if metric is None or it <= 2:
            metric, fresh = problem.expected_information(x), True
        try:
            step = np.linalg.solve(metric + 1e-12 * eye, g)
            if g @ step <= 0 and not fresh:  # not a descent direction: scoring
                metric, fresh = problem.expected_information(x), True
                step = np.linalg.solve(metric + 1e-12 * eye, g)
            if g @ step <= 0:
                step = g
        except np.linalg.LinAlgError:
            step = g
        t = 1.0
        while True:
            xn = x - t * step
            fn, gn = problem.objective(xn)
            if np.isfinite(fn) and fn <= f + 1e-4 * t * (g @ -step) + 1e-15:
                break
            if (
                np.isfinite(fn)
                and t * (g @ step) < 1e-13 * max(1.0, abs(f))
                and np.max(np.abs(gn)) < gmax
            ):  # the decrease is below the rounding of f: the gradient decides
                break
            t *= 0.5
            if t < 1e-10:
                break
        if t < 1e-10:
            if fresh:
                break
            metric = None  # the updated matrix failed: scoring from here
            continue
        gnmax = np.max(np.abs(gn))
        stalled = gnmax > 0.5 * gmax
        # BFGS update of the metric with the step s and the change of the gradient y
        s, y = xn - x, gn - g
        ms = metric @ s
        sy, sms = s @ y, s @ ms
        if sy > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y) and sms > 0:
            metric = metric - np.outer(ms, ms) / sms + np.outer(y, y) / sy
            fresh = False
        x, fprev, f, g = xn, f, fn, gn
        if gnmax < tol or (gnmax < 1e-7 and stalled and abs(fprev - f) <= 1e-13 * max(1.0, abs(f))):
            converged = True
            break
        if stalled:
            metric = None  # slow progress: a fresh expected information
    if not converged:
        res = optimize.minimize(
            problem.objective,
            x,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 20000, "ftol": 1e-16, "gtol": 1e-11},
        )
        if np.isfinite(res.fun) and res.fun <= f:
            x, f = res.x, res.fun
            g = problem.objective(x)[1]
        converged = bool(np.max(np.abs(g)) < 1e-6)
        it += int(res.nit)
    return x, converged, it


class _SaturatedModel:
    """Unrestricted model of one group: free ``vech(Sigma)`` (column-wise lower) and ``mu``."""

    def __init__(self, p: int):
        self.p, self.ngroups, self.meanstructure = p, 1, True
        self.linear = True
        self.rows, self.cols = np.tril_indices(p)
        self.nvech = len(self.rows)
        self.npar = self.nvech + p

    def pack(self, sigma, mu):
        return np.concatenate([sigma[self.rows, self.cols], mu])

    def implied(self, x):
        s = np.zeros((self.p, self.p))
        s[self.rows, self.cols] = x[: self.nvech]
        s[self.cols, self.rows] = x[: self.nvech]
        return [(s, x[self.nvech :])]

    def jacobian(self, x):
        ds = np.zeros((self.npar, self.p, self.p))
        k = np.arange(self.nvech)
        ds[k, self.rows, self.cols] = 1.0
        ds[k, self.cols, self.rows] = 1.0
        dm = np.zeros((self.npar, self.p))
        dm[self.nvech + np.arange(self.p), np.arange(self.p)] = 1.0
        return [(ds, dm)]

    def jacobian_factors(self, x):
        eye = np.eye(self.p)
        coef = np.where(self.rows == self.cols, 0.5, 1.0)
        return [(eye[:, self.rows], eye[:, self.cols], coef, np.arange(self.nvech))]


def _yb_trace_h1(gdata: list[_GroupData], ms: bool, x_idx=()) -> list[float]:
    """tr(B1 A1^-1) per group at the saturated model (Yuan-Bentler, Mplus variant).

    ``A1`` is the observed information and ``B1`` the first-order information (mean outer
    product of the casewise scores) of the unrestricted model at the sample (or EM) moments.
    For complete data it is a Mardia-type kurtosis: with
    ``m_i = (y_i - ybar)' S^-1 (y_i - ybar)`` the covariance part is
    ``mean(0.5 (m_i^2 - 2 m_i + p))``, plus ``mean(m_i)`` for the means; with missing data
    both matrices are computed over the missing-data patterns.
    """
    out = []
    for d in gdata:
        p = d.x.shape[1]
        if len(x_idx):
            # fixed.x: the moments of the exogenous variables are not estimated (lavaan)
            rows, cols = np.tril_indices(p)
            xs = np.zeros(p, dtype=bool)
            xs[list(x_idx)] = True
            keep = ~np.concatenate([xs[rows] & xs[cols], xs if ms else np.ones(p, dtype=bool)])
            out.append(float(np.trace(_h1_parts(d, keep)["a1_inv_b1"])))
            continue
        if d.complete:
            e = d.x - d.mean
            m = np.einsum("ij,ij->i", e @ np.linalg.inv(d.cov), e)
            t = np.mean(0.5 * (m**2 - 2 * m + p))
            if ms:
                t += np.mean(m)
            out.append(float(t))
            continue
        out.append(float(np.trace(_h1_parts(d)["a1_inv_b1"])))
    return out


def _h1_information(d: _GroupData) -> tuple[np.ndarray, np.ndarray]:
    """Observed and first-order information of the saturated model over the missing-data
    patterns, at the EM moments, per case; parameters ``(vech(Sigma), mu)``."""
    h1 = _h1_parts(d)
    return h1["a1"], h1["b1"]


class _H1Parts(dict):
    """Saturated-model matrices of one group (computed once, on first use): ``a1`` and
    ``b1`` (:func:`_h1_information`), ``a1_inv``, and ``wc`` (the complete-data
    information at the EM moments), restricted to the moments ``keep``."""

    def __init__(self, d: _GroupData, keep):
        super().__init__()
        self.d, self.keep = d, keep

    def __missing__(self, key):
        d, keep = self.d, self.keep
        if key in ("a1", "b1"):
            full = d.h1_info.setdefault(None, _H1Parts(d, None)) if keep is not None else self
            if keep is not None:
                val = full[key][np.ix_(keep, keep)]
            elif key == "a1":
                sat = _SaturatedModel(d.x.shape[1])
                val = _MLProblem(sat, [d], True).observed_information(sat.pack(d.cov, d.mean))
            else:
                val = _saturated_score_cross(d) / d.n
        elif key == "a1_inv":
            val = _spd_inverse(self["a1"])
        elif key == "a1_inv_b1":
            val = self["a1_inv"] @ self["b1"]
        elif key == "wc":
            sat = _SaturatedModel(d.x.shape[1])
            val = _MLProblem(sat, [_pseudo_complete(d)], True).observed_information(
                sat.pack(d.cov, d.mean)
            )
            if keep is not None:
                val = val[np.ix_(keep, keep)]
        else:
            raise KeyError(key)
        self[key] = val
        return val


    def wc_apply(self, x: np.ndarray) -> np.ndarray:
        """``Wc @ x`` without ``Wc``: for the covariance moments ``(Wc x)_ij = c_ij (A X A)_ij``
        with ``A`` the inverse EM covariance, ``X`` the symmetric matrix of the moments ``x``
        and ``c_ij = 1/2`` on the diagonal (``O(p^3)`` per column instead of ``O(p^4)``);
        ``A x`` for the means."""
        d, keep = self.d, self.keep
        p = d.x.shape[1]
        rows, cols = np.tril_indices(p)
        nv = len(rows)
        if keep is not None:
            full = np.zeros((nv + p, x.shape[1]))
            full[keep] = x
            x = full
        a = np.linalg.inv(d.cov)
        k = x.shape[1]
        # position in vech of every (i, j), then X as p x p x k and A X A by two products
        pos = np.zeros((p, p), dtype=int)
        pos[rows, cols] = np.arange(nv)
        pos[cols, rows] = np.arange(nv)
        s = x[:nv][pos.ravel()]  # p^2 x k: [(i, j), column]
        t = (a @ s.reshape(p, p * k)).reshape(p, p, k).transpose(1, 0, 2)
        y = (a @ np.ascontiguousarray(t).reshape(p, p * k)).reshape(p * p, k)  # A X A
        out = np.concatenate([np.where(rows == cols, 0.5, 1.0)[:, None] * y[rows * p + cols],
                              a @ x[nv:]])  # fmt: skip
        return out[keep] if keep is not None else out


def _saturated_score_cross(d: _GroupData, buffer: int = 4_000_000) -> np.ndarray:
    """``s' s`` for the casewise scores ``s`` of the saturated model at the EM moments
    (the same scores as :meth:`_MLProblem.casewise_scores` of :class:`_SaturatedModel`):
    ``s_i = (c_ij (z_i z_j - A_ij), z)`` with ``z = A (y_o - mu_o)`` (zero where missing),
    ``A`` the inverse covariance of the case's pattern and ``c_ij = 1/2`` on the diagonal,
    built for blocks of cases at once.

    A pattern with many cases and small integer answers (Likert items) takes the exact
    route of :func:`~analysis.cbsem._ml_data._integer_moment_cross` (raw moments summed in
    single precision without rounding, then mapped to the scores): about half the work of
    the casewise product, which costs ``n m^2 / 2`` for ``m`` moments.
    """
    p = d.x.shape[1]
    rows, cols = np.tril_indices(p)
    c = np.where(rows == cols, 0.5, 1.0)
    m = len(rows) + p
    cross = np.zeros((m, m))
    direct = []
    for pat, inv in zip(d.patterns, _pattern_inverses(d, d.cov)):
        po = len(pat.idx)
        got = None
        if pat.n >= 4 * (po * (po + 3) // 2 + 1):  # else the casewise product is cheaper
            got = _integer_moment_cross(d.x[np.ix_(pat.rows, pat.idx)], d.mean[pat.idx], inv)
        if got is None:
            direct.append((pat, inv))
            continue
        ro, co = np.tril_indices(po)
        gi, gj = pat.idx[ro], pat.idx[co]
        pos = np.concatenate([gi * (gi + 1) // 2 + gj, len(rows) + pat.idx])
        cross[np.ix_(pos, pos)] += got
    if not direct:
        return cross
    nd = sum(pat.n for pat, _inv in direct)
    z = np.zeros((nd, p))
    pid = np.zeros(nd, dtype=int)
    avech = np.zeros((len(direct), len(rows)))
    start = 0
    for r, (pat, inv) in enumerate(direct):
        sl = slice(start, start + pat.n)
        z[sl, pat.idx] = (d.x[np.ix_(pat.rows, pat.idx)] - d.mean[pat.idx]) @ inv
        full = np.zeros((p, p))
        full[pat.ix] = inv
        avech[r] = full[rows, cols]
        pid[sl] = r
        start += pat.n
    step = max(64, buffer // m)
    for start in range(0, nd, step):
        zc = z[start : start + step]
        sc = np.concatenate([(zc[:, rows] * zc[:, cols] - avech[pid[start : start + step]]) * c, zc],
                            axis=1)  # fmt: skip
        cross += sc.T @ sc
    return cross


def _h1_parts(d: _GroupData, keep=None) -> _H1Parts:
    """The cached :class:`_H1Parts` of ``d`` for the moments ``keep`` (None: all)."""
    if d.h1_info is None:
        d.h1_info = {}
    key = None if keep is None else np.asarray(keep, dtype=bool).tobytes()
    if key not in d.h1_info:
        d.h1_info[key] = _H1Parts(d, keep)
    return d.h1_info[key]
