"""One PLS-SEM estimate of a bootstrap draw from the draw's moments (higher-order, interaction).

:func:`._estimate.fit_raw` works on n-row columns: every stage stacks, standardises and
multiplies the n rows of its indicators. In a draw every indicator of every stage is either an
observed item or a linear combination of them (the construct scores of a first stage, which
become the indicators of a higher-order construct), except the interaction terms (products of
scores or of standardised items). So a draw is described by

* a **basis**: the draw's rows of the full-sample standardised items, centred on the draw's
  means, plus one centred n-vector per product term built during the estimate;
* its covariance matrix ``C`` (one ``Z'Z`` per draw, one ``Z'u`` per product term);
* each column of the estimate as a coefficient vector on the basis.

A stage's correlation matrix is then ``A' C A`` for the coefficient matrix ``A`` of its
indicators, its construct scores are the coefficients ``A diag(1/sd) W a``, and only the
product terms touch the n rows (one ``(n x p) @ (p x 2)`` and one ``(p x n) @ n`` each).
:func:`fit_raw_moments` follows :func:`._estimate.fit_raw` step by step (same stages, same
warm starts, same cold start of the two-stage first stage), so the estimates are those of
``fit_raw`` on the resampled rows up to rounding.
"""

from __future__ import annotations

import numpy as np

from analysis.errors import InputError
from analysis.plssem._estimate import Raw, make_plan, solve_stage, stage_specs
from analysis.plssem._syntax import ModelSpec

__all__ = ["Draw", "draw_moments", "fit_raw_moments", "MOMENT_METHODS"]

#: interaction methods the moment route reproduces (``orthogonal`` keeps the per-draw route)
MOMENT_METHODS = ("two_stage", "product_indicator")


class Draw:
    """The basis of one resample and its covariance matrix (see the module docstring).

    ``Z``: the full-sample standardised items (n x p, all rows); ``counts``: how many times
    the draw takes each row (``ZT``: ``Z.T`` contiguous, shared by the draws); ``m`` and ``C``: the draw's means and covariance matrix of ``Z``
    (from :func:`draw_moments`). Product terms are kept as n-vectors over all rows, centred
    on the draw's mean, and weighted by ``counts`` in every sum.
    """

    def __init__(self, Z: np.ndarray, counts: np.ndarray, m: np.ndarray, C: np.ndarray,
                 ZT: np.ndarray | None = None):
        self.n = Z.shape[0]
        self.Z = Z
        self.ZT = np.ascontiguousarray(Z.T) if ZT is None else ZT  # fast skinny products
        self.counts = counts
        self.m = m
        self.extra: list[np.ndarray] = []
        self.C = C

    @property
    def q(self) -> int:
        return self.C.shape[0]

    def values(self, A: np.ndarray) -> np.ndarray:
        """Centred n-row values of the columns with coefficients ``A`` (q x k)."""
        p0 = self.Z.shape[1]
        out = (A[:p0].T @ self.ZT).T - self.m @ A[:p0]
        for j, u in enumerate(self.extra):
            out += u[:, None] * A[p0 + j][None, :]
        return out

    def add(self, u: np.ndarray) -> np.ndarray:
        """Append an n-vector to the basis; its coefficient vector."""
        uc = u - self.counts @ u / self.n
        cu = self.counts * uc
        p0 = self.Z.shape[1]
        cross = np.empty(self.q)
        cross[:p0] = self.ZT @ cu / (self.n - 1)
        for j, v in enumerate(self.extra):
            cross[p0 + j] = v @ cu / (self.n - 1)
        q = self.q
        C = np.empty((q + 1, q + 1))
        C[:q, :q] = self.C
        C[:q, q] = C[q, :q] = cross
        C[q, q] = uc @ cu / (self.n - 1)
        self.C = C
        self.extra.append(uc)
        e = np.zeros(q + 1)
        e[q] = 1.0
        return e

    def matrix(self, coefs) -> np.ndarray:
        """Coefficient vectors (of any earlier basis size) stacked as a q x k matrix."""
        A = np.zeros((self.q, len(coefs)))
        for j, c in enumerate(coefs):
            A[: len(c), j] = c
        return A

    def covariance(self, A: np.ndarray) -> np.ndarray:
        return A.T @ self.C @ A

    def correlations(self, coefs, names) -> np.ndarray:
        """Correlation matrix of columns (like :meth:`._estimate.Raw.item_correlations`)."""
        A = self.matrix(coefs)
        Cx = self.covariance(A)
        sd = _sd(Cx, names)
        R = Cx / sd[:, None] / sd[None, :]
        np.fill_diagonal(R, 1.0)
        return R


def draw_moments(Z: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means (p) and covariance matrix (p x p) of ``Z`` in a draw taking row i ``counts[i]`` times.

    One symmetric product ``(Z sqrt(c))' (Z sqrt(c))`` over the rows the draw takes; ``Z`` is standardised on the full
    sample, so the draw's means are small and subtracting them loses no precision.
    """
    n = Z.shape[0]
    m = counts @ Z / n
    taken = np.flatnonzero(counts)
    Zs = Z[taken]
    Zs *= np.sqrt(counts[taken])[:, None]
    C = Zs.T @ Zs
    C = (C / n - m[:, None] * m[None, :]) * (n / (n - 1))
    return m, C


def _sd(Cx: np.ndarray, names) -> np.ndarray:
    sd = np.sqrt(np.diag(Cx))
    bad = np.flatnonzero(~(sd > 1e-12 * max(1.0, float(np.nanmax(sd, initial=0.0)))))
    if bad.size:
        raise InputError(f"indicator '{names[bad[0]]}' has no variance; it cannot enter a PLS model")
    return sd


def _stage(draw: Draw, coefs: dict, plan, scheme: str, consistent: bool, W0=None) -> dict:
    A = draw.matrix([coefs[i] for i in plan.items])
    Cx = draw.covariance(A)
    sd = _sd(Cx, plan.items)
    # the scores' coefficients on the draw's basis (q x K)
    return solve_stage(Cx / sd[:, None] / sd[None, :], sd, plan, scheme, consistent, draw.n,
                       lambda W, a: (A / sd[None, :]) @ W * a, W0=W0)


def _interaction_columns(draw, name, block, coefs, blocks, paths, method, scheme):
    iv, mod = block.components
    if method == "two_stage":
        first_paths = [p for p in paths if blocks[p[0]].kind != "interaction"]
        plan = make_plan({k: b for k, b in blocks.items() if b.kind != "interaction"},
                         first_paths)
        st = _stage(draw, coefs, plan, scheme, consistent=False)
        k1, k2 = plan.constructs.index(iv), plan.constructs.index(mod)
        v = draw.values(st["scores"][:, [k1, k2]])
        return {f"{name}_intxn": draw.add(v[:, 0] * v[:, 1])}
    if method != "product_indicator":
        raise ValueError(f"interaction method {method!r} has no moment route")
    iv_items, mod_items = blocks[iv].items, blocks[mod].items
    A = draw.matrix([coefs[i] for i in iv_items + mod_items])
    sd = np.sqrt(np.diag(draw.covariance(A)))
    Z = draw.values(A) / sd[None, :]
    zi, zm = Z[:, : len(iv_items)], Z[:, len(iv_items):]
    out = {}
    for a, x in zip(iv_items, zi.T):
        for b, y in zip(mod_items, zm.T):
            out[f"{a}*{b}"] = draw.add(x * y)
    return out


def fit_raw_moments(draw: Draw, coefs: dict, spec: ModelSpec, scheme: str, consistent: bool,
                    interaction, warm: Raw | None = None) -> Raw:
    """:func:`._estimate.fit_raw` of one draw from its moments.

    ``coefs``: item name -> coefficient vector on the draw's basis. The result's
    ``st["scores"]`` are coefficient matrices and its ``columns`` coefficient vectors.
    """
    coefs = dict(coefs)
    blocks, paths, hocs, first = stage_specs(spec)
    used = {c for p in paths for c in p}
    stage1 = None
    if hocs:
        stage1 = fit_raw_moments(draw, coefs, first, scheme, consistent, interaction,
                                 warm=None if warm is None else warm.stage1)
        for h in hocs:
            for d in blocks[h].items:
                coefs[d] = stage1.st["scores"][:, stage1.plan.constructs.index(d)]
    for name in [i for i in spec.interactions if i in used]:
        method = interaction.get(name, "two_stage") if isinstance(interaction, dict) \
            else interaction
        new = _interaction_columns(draw, name, blocks[name], coefs, blocks, paths, method,
                                   scheme)
        coefs.update(new)
        blocks[name].items = list(new)
    plan = make_plan(blocks, paths)
    st = _stage(draw, coefs, plan, scheme, consistent,
                W0=None if warm is None else warm.st["W"][None])
    return Raw(plan, st, blocks, coefs, stage1)
