"""Bootstrap of a PLS-SEM model: resampled cases, every estimate recomputed per draw.

Two routes give the same statistics:

* **Batched** (models without higher-order constructs or interaction terms): the indicators
  are standardised once, with the products of every pair of them; the correlation matrices
  of a chunk of draws come from one product of the draws' case counts with those products,
  and the PLS algorithm runs on the whole chunk at once (:mod:`._core`), warm-started from
  the full-sample weights (the same fixed point, reached in a few iterations).
* **Moments** (higher-order or interaction models, whose indicators are rebuilt from each
  resample): the estimate of :func:`._estimate.fit_raw` on every resample, computed from the
  draw's covariance matrix of the standardised items (one symmetric product over the rows it
  takes) and, for each product term, one product of the draw's scores (:mod:`._moments`).
* **Per draw** (the ``orthogonal`` interaction method; also the reference the moment route is
  tested against): the full estimate of :func:`._estimate.fit_raw` on the resampled rows.

Randomness comes only from ``numpy.random.default_rng(seed)``; the draws are generated
chunk after chunk from that one generator, so a seed gives the same draws whatever the
chunk size. A draw whose estimate fails (a constant indicator in the resample, a singular
block) is dropped and counted, as seminr does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.plssem import _core
from analysis.plssem._estimate import Fit, fit_raw, standardise
from analysis.plssem._moments import MOMENT_METHODS, Draw, draw_moments, fit_raw_moments

__all__ = ["run_bootstrap", "htmt_frame_order", "fit_htmt"]

#: memory per chunk of draws in the batched route (bytes of the largest per-chunk array)
_CHUNK_BYTES = 16_000_000


def htmt_frame_order(result: Fit) -> list[str]:
    """Constructs shown in the HTMT table: every construct of both stages."""
    return list(result.weights.columns)


def fit_htmt(result: Fit, constructs: list[str]) -> np.ndarray:
    """HTMT matrix (K x K) of ``constructs`` from the item correlations of a fit."""
    items = list(result.item_cor.index)
    blocks = [np.array([items.index(i) for i in result.blocks[c]]) for c in constructs]
    return _core.htmt(result.item_cor.to_numpy()[None], blocks)[0]


def _draw_indices(rng: np.random.Generator, n: int, n_boot: int, chunk: int):
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        yield rng.integers(0, n, size=(b, n))
        done += b


def _batched(frame: pd.DataFrame, fit0: Fit, scheme: str, consistent: bool,
             n_boot: int, rng: np.random.Generator) -> dict:
    plan = fit0.plan
    X = frame[plan.items].to_numpy(dtype=float)
    Z, _ = standardise(X, plan.items)
    n, p = Z.shape
    K = len(plan.constructs)
    # second moments of a draw = its case counts times the products z_i z_j of every pair of
    # indicators (n x p(p+1)/2, computed once): one matrix product per chunk of draws
    iu = np.triu_indices(p)
    use_pairs = n * len(iu[0]) * 8 <= 4 * _CHUNK_BYTES
    if use_pairs:
        Q = Z[:, iu[0]] * Z[:, iu[1]]
        chunk = max(1, min(n_boot, _CHUNK_BYTES // (8 * max(n, len(iu[0])))))
    else:
        chunk = max(1, min(n_boot, _CHUNK_BYTES // (8 * n * p)))
    rows = [plan.items.index(i) for i in fit0.weights.index]
    cols = [plan.constructs.index(c) for c in fit0.weights.columns]
    out = {k: [] for k in ("paths", "total", "weights", "loadings", "htmt", "ok", "conv")}
    W0 = fit0.W[None]
    blocks = plan.blocks
    for idx in _draw_indices(rng, n, n_boot, chunk):
        b = idx.shape[0]
        if use_pairs:
            counts = np.bincount((idx + n * np.arange(b)[:, None]).ravel(),
                                 minlength=b * n).reshape(b, n).astype(float)
            m = counts @ Z / n
            C = np.empty((b, p, p))
            C[:, iu[0], iu[1]] = counts @ Q / n
            C[:, iu[1], iu[0]] = C[:, iu[0], iu[1]]
            C = (C - m[:, :, None] * m[:, None, :]) * (n / (n - 1))
        else:
            Zb = Z[idx]
            m = Zb.mean(axis=1)
            C = (np.einsum("bni,bnj->bij", Zb, Zb, optimize=True)
                 - n * m[:, :, None] * m[:, None, :]) / (n - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(np.einsum("bii->bi", C))
            S = C / sd[:, :, None] / sd[:, None, :]
        ok = np.all(sd > 0, axis=1)
        S[~ok] = np.eye(p)
        W, _, conv = _core.outer_weights(S, plan.M, plan.modes, plan.P, scheme,
                                         W0=np.broadcast_to(W0, (b, p, K)))
        rho = _core.rho_a(S, W, plan.M, plan.eligible) if consistent else None
        res = _core.inner_results(S, W, plan.M, plan.P, rho=rho, reflective=plan.reflective)
        ht = _core.htmt(S, blocks)
        with np.errstate(invalid="ignore"):
            total = _core.total_effects(np.nan_to_num(res["paths"]))
        ok &= np.all(np.isfinite(res["paths"]), axis=(1, 2)) & np.all(np.isfinite(W), axis=(1, 2))
        out["paths"].append(res["paths"])
        out["total"].append(total)
        out["weights"].append(W[:, rows][:, :, cols])
        out["loadings"].append(res["L"][:, rows][:, :, cols])
        out["htmt"].append(ht)
        out["ok"].append(ok)
        out["conv"].append(conv)
    return {k: np.concatenate(v) for k, v in out.items()}


class _DrawStore:
    """The arrays of per-draw estimates of :func:`_per_draw` and :func:`_moment_draws` (NaN for a
    failed draw), aligned with ``fit0``: items and constructs of the weights, HTMT blocks."""

    def __init__(self, fit0: Fit, n_boot: int):
        K = len(fit0.plan.constructs)
        hcons = htmt_frame_order(fit0)
        self.items = list(fit0.weights.index)
        self.cons = list(fit0.weights.columns)
        self.h_items = fit0.raw.items(hcons)
        h_pos = {i: r for r, i in enumerate(self.h_items)}
        self.h_blocks = [np.array([h_pos[i] for i in fit0.blocks[c]]) for c in hcons]
        self.out = {
            "paths": np.full((n_boot, K, K), np.nan),
            "total": np.full((n_boot, K, K), np.nan),
            "weights": np.full((n_boot, len(self.items), len(self.cons)), np.nan),
            "loadings": np.full((n_boot, len(self.items), len(self.cons)), np.nan),
            "htmt": np.full((n_boot, len(hcons), len(hcons)), np.nan),
            "ok": np.zeros(n_boot, dtype=bool),
            "conv": np.zeros(n_boot, dtype=bool),
        }

    def put(self, d: int, raw, S: np.ndarray) -> None:
        """Store draw ``d``'s fit ``raw`` and its item correlations ``S`` (HTMT items)."""
        out, paths = self.out, raw.st["paths"]
        out["paths"][d] = paths
        out["total"][d] = _core.total_effects(np.nan_to_num(paths)[None])[0]
        out["weights"][d] = raw.combined(self.items, self.cons, "W")
        out["loadings"][d] = raw.combined(self.items, self.cons, "L")
        out["htmt"][d] = _core.htmt(S[None], self.h_blocks)[0]
        out["ok"][d] = bool(np.all(np.isfinite(paths)))
        out["conv"][d] = raw.st["converged"]


def _per_draw(frame: pd.DataFrame, spec, fit0: Fit, scheme: str, consistent: bool,
              interaction, n_boot: int, rng: np.random.Generator) -> dict:
    n = len(frame)
    store = _DrawStore(fit0, n_boot)
    values = frame.to_numpy(dtype=float)
    names = list(frame.columns)
    d = 0
    for idx in _draw_indices(rng, n, n_boot, 256):
        for row in idx:
            sample = values[row]
            columns = {c: sample[:, j] for j, c in enumerate(names)}
            try:
                with np.errstate(all="ignore"):
                    raw = fit_raw(columns, spec, scheme, consistent, interaction, warm=fit0.raw)
                    S = raw.item_correlations(store.h_items)
            except (InputError, np.linalg.LinAlgError, ValueError):
                d += 1
                continue
            store.put(d, raw, S)
            d += 1
    return store.out


def _moment_draws(frame: pd.DataFrame, spec, fit0: Fit, scheme: str, consistent: bool,
                  interaction, n_boot: int, rng: np.random.Generator) -> dict:
    """The per-draw estimates of :func:`_per_draw` from each draw's moments (:mod:`._moments`).

    Same draws (same chunks of the generator), same estimate per draw up to rounding; only
    the draw's ``Z'Z`` and its product terms use the n rows.
    """
    n = len(frame)
    store = _DrawStore(fit0, n_boot)
    values = frame.to_numpy(dtype=float)
    names = list(frame.columns)
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    Zf = (values - mean) / sd
    ZfT = np.ascontiguousarray(Zf.T)
    coefs = {}
    for j, c in enumerate(names):
        e = np.zeros(len(names))
        e[j] = sd[j]  # the raw item, in its own units, on the standardised basis
        coefs[c] = e
    # constant items of a draw (the per-draw route's failure) are found on the raw values
    lo, hi = values.min(axis=0), values.max(axis=0)
    d = 0
    for idx in _draw_indices(rng, n, n_boot, 256):
        for row in idx:
            counts = np.bincount(row, minlength=n).astype(float)
            m, C = draw_moments(Zf, counts)
            d = _one_draw(store, d, Draw(Zf, counts, m, C, ZfT), values, row, lo, hi, names, coefs,
                          spec, fit0, scheme, consistent, interaction)
    return store.out


def _one_draw(store: _DrawStore, d, draw, values, row, lo, hi, names, coefs, spec, fit0, scheme,
              consistent, interaction) -> int:
    for j in np.flatnonzero(draw.C.diagonal() < 1e-8):  # is the item constant in the draw?
        v = values[row, j]
        if names[j] in store.items and (lo[j] == hi[j] or np.all(v == v[0])):
            return d + 1  # fit_raw's "no variance" failure
    try:
        with np.errstate(all="ignore"):
            raw = fit_raw_moments(draw, coefs, spec, scheme, consistent, interaction,
                                  warm=fit0.raw)
            S = draw.correlations([raw.columns[i] for i in store.h_items], store.h_items)
    except (InputError, np.linalg.LinAlgError, ValueError):
        return d + 1
    store.put(d, raw, S)
    return d + 1


def _moment_route(spec, interaction) -> bool:
    methods = interaction.values() if isinstance(interaction, dict) else [interaction]
    if isinstance(interaction, dict) and len(interaction) < len(spec.interactions):
        methods = list(methods) + ["two_stage"]
    return all(m in MOMENT_METHODS for m in methods)


def run_bootstrap(frame: pd.DataFrame, spec, fit0: Fit, *, scheme: str, consistent: bool,
                  interaction, n_boot: int, seed) -> dict:
    """Draw ``n_boot`` resamples and return the stacked estimates of the successful draws.

    Returns a dict with arrays ``paths``, ``total`` (B, K, K; stage-2 constructs),
    ``weights``, ``loadings`` (B, items, constructs; aligned with ``fit0.weights``),
    ``htmt`` (B, K', K'), and the counts ``n_failed`` and ``n_nonconverged``.
    """
    rng = np.random.default_rng(seed)
    if (spec.hocs or spec.interactions) and _moment_route(spec, interaction):
        out = _moment_draws(frame, spec, fit0, scheme, consistent, interaction, n_boot, rng)
    elif spec.hocs or spec.interactions:
        out = _per_draw(frame, spec, fit0, scheme, consistent, interaction, n_boot, rng)
    else:
        out = _batched(frame, fit0, scheme, consistent, n_boot, rng)
    ok = out.pop("ok")
    conv = out.pop("conv")
    res = {k: v[ok] for k, v in out.items()}
    res["n_failed"] = int((~ok).sum())
    res["n_nonconverged"] = int((ok & ~conv).sum())
    return res
