"""Vectorised random draws shared by the simulator's modules (no study knowledge)."""

from __future__ import annotations

import hashlib

import numpy as np

__all__: list[str] = []


def _hash_uniform(*parts: str) -> float:
    """A number in [0, 1) fixed by the text (stable across seeds and platforms)."""
    h = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    q = total * w / w.sum()
    base = np.floor(q).astype(np.int64)
    rem = total - base.sum()
    order = np.lexsort((np.arange(len(w)), -(q - base)))
    base[order[:rem]] += 1
    return base


def _categorical(rng, probs: np.ndarray) -> np.ndarray:
    """Draw one category per row from a (n, k) or (k,) probability array."""
    probs = np.asarray(probs, dtype=float)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(probs.shape[0])[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _draw_codes(rng, n: int, codes: list[str], probs: dict[str, float] | None, side: np.ndarray | None = None,
                probs_by_side: dict[str, dict] | None = None) -> np.ndarray:
    """Index into ``codes`` for ``n`` rows; probabilities by code (missing codes get 0)."""
    k = len(codes)
    if probs_by_side is not None and side is not None:
        mat = np.zeros((n, k))
        for s, pr in probs_by_side.items():
            vec = np.array([float(pr.get(c, 0.0)) for c in codes])
            if vec.sum() <= 0:
                vec = np.ones(k)
            mat[side == s] = vec / vec.sum()
        return _categorical(rng, mat)
    vec = np.array([float((probs or {}).get(c, 0.0)) for c in codes])
    if vec.sum() <= 0:
        vec = np.ones(k)
    vec = vec / vec.sum()
    return np.minimum(np.searchsorted(np.cumsum(vec), rng.random(n), side="right"), k - 1)


def _map_codes(vals: np.ndarray, codes: list[str]) -> np.ndarray:
    lut = np.array(list(codes), dtype=object)
    order = np.argsort(lut)
    pos = np.searchsorted(lut[order], vals.astype(object))
    pos = np.clip(pos, 0, len(codes) - 1)
    idx = order[pos]
    return np.where(lut[idx] == vals, idx, -1).astype(np.int16)
