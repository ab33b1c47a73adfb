"""Data of an ML fit: per-group, per-missing-data-pattern sufficient statistics, the EM
estimate of the saturated moments, and the log-likelihood over patterns (lavaan
``lav_samplestats``, ``lav_mvnorm_missing``).

:func:`_prepare` checks and splits the data by group and reduces every group to its
missing-data patterns (:class:`_Pattern`: cases, means and covariances of the observed
variables), with the sample (complete data) or EM (missing data) moments.

References
----------
Little, R. J. A., & Rubin, D. B. (2019). *Statistical analysis with missing data* (3rd ed.).
Wiley.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import InputError

_LOG2PI = np.log(2.0 * np.pi)


# --------------------------------------------------------------------------- data
@dataclass
class _Pattern:
    """Sufficient statistics of the cases of one group sharing a missing-data pattern."""

    idx: np.ndarray  # observed variable positions
    n: int
    mean: np.ndarray
    cov: np.ndarray  # divisor n
    rows: np.ndarray  # positions of the cases in the group's data matrix

    def __post_init__(self):
        self.ix = np.ix_(self.idx, self.idx)


@dataclass
class _GroupData:
    x: np.ndarray  # n x p, NaN = missing
    n: int
    patterns: list[_Pattern]
    complete: bool
    mean: np.ndarray  # h1 mean (sample, or EM)
    cov: np.ndarray  # h1 covariance (divisor n, or EM)
    h1_info: dict | None = None  # cached saturated-model matrices (see _ml._h1_parts)


def _patterns(x: np.ndarray) -> list[_Pattern]:
    obs = ~np.isnan(x)
    if obs.all():
        rows = np.arange(len(x))
        return [_Pattern(np.arange(x.shape[1]), len(x), *_moments(x), rows)]
    keys, inverse = _unique_rows(obs)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(keys) + 1))
    out = []
    for k, key in enumerate(keys):
        rows = order[bounds[k] : bounds[k + 1]]  # increasing, as np.flatnonzero
        idx = np.flatnonzero(key)
        sub = x[np.ix_(rows, idx)]
        out.append(_Pattern(idx, len(rows), *_moments(sub), rows))
    return out


def _unique_rows(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a boolean matrix in lexicographic order (as ``np.unique(obs,
    axis=0)``) and the position of each row among them.

    The rows are packed into big-endian 64-bit words (first column most significant), so
    the sort is over a few integer keys instead of a row-wise comparison of ``p`` booleans.

    Examples
    --------
    >>> keys, inv = _unique_rows(np.array([[True, False], [False, True], [True, False]]))
    >>> keys.tolist(), inv.tolist()
    ([[False, True], [True, False]], [1, 0, 1])
    """
    n, p = obs.shape
    nbytes = -(-p // 64) * 8
    packed = np.zeros((n, nbytes), dtype=np.uint8)
    packed[:, : -(-p // 8)] = np.packbits(obs, axis=1)
    words = packed.view(">u8").astype(np.uint64)  # n x nwords, order-preserving
    if words.shape[1] == 1:
        uniq, first, inverse = np.unique(words[:, 0], return_index=True, return_inverse=True)
    else:
        order = np.lexsort(words.T[::-1])
        sw = words[order]
        new = np.concatenate([[True], np.any(sw[1:] != sw[:-1], axis=1)])
        first = order[new]
        inverse = np.empty(n, dtype=np.intp)
        inverse[order] = np.cumsum(new) - 1
    return obs[first], np.asarray(inverse).ravel()


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = x.mean(axis=0)
    d = x - m
    return m, (d.T @ d) / len(x)


def _em_h1(x: np.ndarray, patterns: list[_Pattern], tol: float = 1e-5, max_iter: int = 500):
    """Saturated ML mean and covariance with missing data (EM algorithm).

    As lavaan's ``lav_mvnorm_missing_h1_estimate_moments``: start from the available-case
    means and variances (no covariances), stop when no mean or (co)variance changes by more
    than ``tol`` (lavaan's default 1e-5) between two iterations.

    The E step of a pattern with missing variables ``m`` regresses them on the observed
    ones through ``P = Sigma^-1``: ``b = Sigma_mo Sigma_oo^-1 = -P_mm^-1 P_mo`` and the
    residual covariance is ``P_mm^-1``, so only small ``m x m`` matrices are inverted, in
    batches of patterns with the same number of missing variables; the sums over the
    observed parts (``sum n (S + ybar ybar')``) do not change between iterations.
    """
    p = x.shape[1]
    mu = np.nanmean(x, axis=0)
    var0 = np.nanvar(x, axis=0)
    var0[~np.isfinite(var0) | (var0 == 0)] = 1.0
    sigma = np.diag(var0)
    n = len(x)
    rows, cols = np.tril_indices(p)
    t1_obs = np.zeros(p)
    t2_obs = np.zeros((p, p))
    for pat in patterns:
        t1_obs[pat.idx] += pat.n * pat.mean
        t2_obs[pat.ix] += pat.n * (pat.cov + np.outer(pat.mean, pat.mean))
    nmiss = np.array([p - len(pat.idx) for pat in patterns])
    batches = []
    for k in np.unique(nmiss[nmiss > 0]):
        sel = np.flatnonzero(nmiss == k)
        oi = np.array([patterns[r].idx for r in sel])
        mi = np.array([np.setdiff1d(np.arange(p), patterns[r].idx) for r in sel])
        batches.append((
            mi, oi, np.array([patterns[r].n for r in sel], dtype=float),
            np.array([patterns[r].mean for r in sel]), np.array([patterns[r].cov for r in sel]),
            (mi[:, :, None] * p + oi[:, None, :]).ravel(), (oi[:, :, None] * p + mi[:, None, :]).ravel(),
            (mi[:, :, None] * p + mi[:, None, :]).ravel(),
        ))  # fmt: skip
    for _ in range(max_iter):
        prev = np.concatenate([mu, sigma[rows, cols]])
        t1 = t1_obs.copy()
        t2 = t2_obs.ravel().copy()
        prec = np.linalg.inv(sigma)
        for mi, oi, nb, mean, cov, f_mo, f_om, f_mm in batches:
            c = np.linalg.inv(prec[mi[:, :, None], mi[:, None, :]])  # residual covariance
            b = -c @ prec[mi[:, :, None], oi[:, None, :]]  # R x m x o
            cm = mu[mi] + np.matmul(b, (mean - mu[oi])[:, :, None])[:, :, 0]  # E[y_m]
            t1 += np.bincount(mi.ravel(), (nb[:, None] * cm).ravel(), minlength=p)
            bc = b @ cov
            mo = nb[:, None, None] * (cm[:, :, None] * mean[:, None, :] + bc)
            mm = nb[:, None, None] * (c + bc @ b.transpose(0, 2, 1) + cm[:, :, None] * cm[:, None, :])
            t2 += np.bincount(f_mo, mo.ravel(), minlength=p * p)
            t2 += np.bincount(f_om, mo.transpose(0, 2, 1).ravel(), minlength=p * p)
            t2 += np.bincount(f_mm, mm.ravel(), minlength=p * p)
        mu = t1 / n
        sigma = t2.reshape(p, p) / n - np.outer(mu, mu)
        sigma = 0.5 * (sigma + sigma.T)
        if np.linalg.eigvalsh(sigma).min() < 1e-6:
            sigma[np.diag_indices(p)] += np.max(np.diag(sigma)) * 1e-8
        if np.max(np.abs(np.concatenate([mu, sigma[rows, cols]]) - prev)) < tol:
            break
    return mu, sigma


class _SizeGroup:
    """Patterns of one group with the same number of observed variables, stacked."""

    def __init__(self, pats, sel, p, x=None):
        self.sel = np.asarray(sel)
        self.idx = np.array([pats[r].idx for r in sel])  # R x po
        self.n = np.array([pats[r].n for r in sel], dtype=float)
        self.mean = np.array([pats[r].mean for r in sel])
        self.cov = np.array([pats[r].cov for r in sel])
        self.ix = (self.idx[:, :, None], self.idx[:, None, :])  # sigma[ix]: R x po x po
        self.flat = self.idx[:, :, None] * p + self.idx[:, None, :]
        miss = np.ones((len(self.sel), p), dtype=bool)
        miss[np.arange(len(self.sel))[:, None], self.idx] = False
        self.midx = np.nonzero(miss)[1].reshape(len(self.sel), -1)  # R x m, missing positions
        # few cases per pattern: the fit function and its gradient are cheaper from the
        # cases (O(n po^2)) than from the pattern moments (O(R po^3)): keep them stacked
        self.case_x = self.case_pid = self.case_blocks = None
        po = self.idx.shape[1]
        if x is not None and len(sel) > 1 and self.n.sum() < 2 * po * len(sel):
            # cases stacked by pattern, the patterns in order of their number of cases, so
            # that the patterns with c cases form one (R_c, c, po) block
            counts = self.n.astype(int)
            order = np.argsort(counts, kind="stable")
            self.case_pid = np.repeat(order, counts[order])
            self.case_x = np.concatenate([x[np.ix_(pats[sel[r]].rows, pats[sel[r]].idx)]
                                          for r in order])  # fmt: skip
            self.case_blocks = []
            start = 0
            for c in np.unique(counts):
                rs = order[counts[order] == c]
                self.case_blocks.append((start, rs, int(c)))
                start += len(rs) * int(c)


def _size_groups(d: _GroupData) -> list[_SizeGroup]:
    """The missing-data patterns of ``d`` batched by their number of observed variables
    (computed once per data)."""
    groups = getattr(d, "_size_groups", None)
    if groups is None:
        pats = d.patterns
        p = d.x.shape[1]
        sizes = np.array([len(pat.idx) for pat in pats])
        groups = [_SizeGroup(pats, np.flatnonzero(sizes == s), p, d.x) for s in np.unique(sizes)]
        d._size_groups = groups
    return groups


def _pattern_inverses(d: _GroupData, sigma: np.ndarray, batch_inv=None) -> list[np.ndarray]:
    """``Sigma_oo^-1`` for every missing-data pattern of ``d`` (in pattern order), inverted
    in batches of patterns of equal size (by ``batch_inv(i, batch)`` when given)."""
    out = [None] * len(d.patterns)
    for bi, b in enumerate(_size_groups(d)):
        inv = batch_inv(bi, b) if batch_inv is not None else np.linalg.inv(sigma[b.ix])
        for r, a in zip(b.sel, inv):
            out[r] = a
    return out


def _loglik_patterns(sigma, mu, patterns) -> float:
    """Normal log-likelihood of the patterns' cases at ``(sigma, mu)``; the patterns with the
    same number of observed variables are taken together (batched factorisations)."""
    total = 0.0
    sizes = np.array([len(pat.idx) for pat in patterns])
    for size in np.unique(sizes):
        sel = [patterns[r] for r in np.flatnonzero(sizes == size)]
        idx = np.array([pat.idx for pat in sel])
        s = sigma[idx[:, :, None], idx[:, None, :]]
        sign, logdet = np.linalg.slogdet(s)
        if np.any(sign <= 0):
            return -np.inf
        inv = np.linalg.inv(s)
        n = np.array([pat.n for pat in sel], dtype=float)
        d = np.array([pat.mean for pat in sel]) - mu[idx]
        cov = np.array([pat.cov for pat in sel])
        quad = np.sum(inv * cov, axis=(1, 2)) + np.einsum("ri,rij,rj->r", d, inv, d)
        total += float(np.sum(-0.5 * n * (size * _LOG2PI + logdet + quad)))
    return float(total)


def _prepare(data, ov, group, missing):
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a pandas DataFrame", value=type(data).__name__)
    cols = list(ov) + ([group] if group is not None else [])
    for c in cols:
        if c not in data.columns:
            raise InputError("column not found in the data", column=c, expected="a column name")
    x = data[list(ov)]
    try:
        x = x.apply(pd.to_numeric, errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise InputError(f"indicators must be numeric ({exc})", expected="numbers") from exc
    if group is not None:
        gcol = data[group]
        keep_g = gcol.notna().to_numpy()
        labels = list(pd.unique(gcol[keep_g]))
    else:
        keep_g = np.ones(len(data), dtype=bool)
        labels = [1]
    arr = x.to_numpy(dtype=float)
    if missing == "listwise":
        keep = keep_g & ~np.isnan(arr).any(axis=1)
    else:
        keep = keep_g & ~np.isnan(arr).all(axis=1)
    out = []
    for lab in labels:
        rows = keep & ((data[group] == lab).to_numpy() if group is not None else True)
        xg = arr[rows]
        if len(xg) < 2:
            raise InputError("a group has fewer than 2 usable cases", column=group, value=lab)
        pats = _patterns(xg)
        complete = len(pats) == 1 and len(pats[0].idx) == xg.shape[1]
        if complete:
            mean, cov = pats[0].mean, pats[0].cov
        else:
            mean, cov = _em_h1(xg, pats)
        out.append(_GroupData(xg, len(xg), pats, complete, mean, cov))
    return out, labels


def _pseudo_complete(d: _GroupData) -> _GroupData:
    """Complete-data stand-in whose sample moments are the EM (h1) moments of ``d``."""
    p = d.x.shape[1]
    pat = _Pattern(np.arange(p), d.n, d.mean, d.cov, np.zeros(0, dtype=int))
    return _GroupData(np.zeros((0, p)), d.n, [pat], True, d.mean, d.cov)


def _integer_moment_cross(x: np.ndarray, mu: np.ndarray, a: np.ndarray,
                          buffer: int = 8_000_000) -> np.ndarray | None:
    """``sum_i s_i s_i'`` for the saturated-model scores ``s_i = (c_ab (z_a z_b - A_ab), z)``,
    ``z = A (y_i - mu)``, of the cases ``x`` (complete, ``n x p``) of one missing-data
    pattern, exactly, from the raw moments of integer answers; None when ``x`` is not
    made of small integers (then the caller takes the casewise product).

    With ``y~ = y - k`` (``k`` the rounded means, so ``y~`` is integer) and
    ``f_i = (vech(y~ y~'), y~, 1)``, every score is linear in ``f_i``: ``s_i = T f_i`` with
    ``z = A y~ + a0``, ``a0 = A (k - mu)``. Hence ``sum s s' = T F T'`` with
    ``F = sum f f'``, whose entries are integers: ``F`` is summed in single precision over
    blocks of cases small enough that no partial sum exceeds ``2^24`` (so no rounding
    occurs; twice the speed of double precision), then in double precision. The product
    ``T F T'`` costs ``O(m^3)`` for ``m`` moments, against ``O(n m^2)`` casewise.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(1, 6, size=(200, 3)).astype(float)
    >>> mu, a = x.mean(axis=0), np.linalg.inv(np.cov(x.T))
    >>> z = (x - mu) @ a
    >>> r, c = np.tril_indices(3)
    >>> s = np.hstack([(z[:, r] * z[:, c] - a[r, c]) * np.where(r == c, 0.5, 1.0), z])
    >>> bool(np.allclose(_integer_moment_cross(x, mu, a), s.T @ s, rtol=1e-12, atol=0))
    True
    """
    n, p = x.shape
    k = np.round(mu)
    yt = x - k
    if not np.all(np.isfinite(yt)) or not np.array_equal(yt, np.round(yt)):
        return None
    vmax = max(float(np.max(np.abs(yt))) if n else 0.0, 1.0)
    ro, co = np.tril_indices(p)
    nv = len(ro)
    nf = nv + p + 1
    chunk = int(2.0**24 // vmax**4)  # |f f'| <= vmax^4: partial sums stay exact below 2^24
    if chunk < 256:
        return None
    chunk = max(1, min(chunk, buffer // nf))
    f_sum = np.zeros((nf, nf))
    f = np.empty((min(chunk, n), nf), dtype=np.float32)
    f[:, -1] = 1.0
    y32 = yt.astype(np.float32)
    for start in range(0, n, chunk):
        y = y32[start : start + chunk]
        fb = f[: len(y)]
        np.multiply(y[:, ro], y[:, co], out=fb[:, :nv])
        fb[:, nv : nv + p] = y
        f_sum += (fb.T @ fb).astype(float)  # exact: integers below 2^24
    # T: rows (vech(Sigma) in tril order, mu), columns f
    a0 = a @ (k - mu)
    cab = np.where(ro == co, 0.5, 1.0)[:, None]
    t = np.zeros((nv + p, nf))
    quad = a[ro][:, ro] * a[co][:, co] + a[ro][:, co] * a[co][:, ro]
    quad[:, ro == co] *= 0.5  # sum_cd A_ac A_bd y_c y_d over c >= d
    t[:nv, :nv] = cab * quad
    t[:nv, nv : nv + p] = cab * (a0[ro, None] * a[co] + a0[co, None] * a[ro])
    t[:nv, -1] = cab[:, 0] * (a0[ro] * a0[co] - a[ro, co])
    t[nv:, nv : nv + p] = a
    t[nv:, -1] = a0
    return t @ f_sum @ t.T


def _spd_inverse(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix by its Cholesky factor (half the work
    of a general inverse); a general inverse if the factorisation fails."""
    from scipy.linalg import lapack

    c, info = lapack.dpotrf(a, lower=True)
    if info == 0:
        inv, info = lapack.dpotri(c, lower=True)
        if info == 0:
            low = np.tril(inv)
            return low + np.tril(inv, -1).T
    return np.linalg.inv(a)
