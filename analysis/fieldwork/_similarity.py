"""Soft duplicates: submissions too similar to an earlier one of the same enumerator.

A fabricating enumerator copies a real interview and changes a few answers;
two different organisations almost never give the same closed answers.
Similarity is the Gower distance (Gower 1971) over the closed questions:

``d(i, j) = sum_k d_k(i, j) / #{k: i or j answered k}``

with ``d_k`` = 0/1 for a categorical answer (both empty: the question does not
count; one empty: 1) and ``|x_i - x_j| / range_k`` (capped at 1) for a number,
on ``log(1 + x)`` and with the 5-95 % range so that one huge value does not
flatten the others.

Blocking (locality-sensitive hashing on the answers): the questions are cut
into ``bands`` random bands of ``band_size`` questions; two submissions of
the same enumerator are compared only when they give the same answers to all
the questions of at least one band. A copy with 10 % of its answers changed
keeps a band intact with probability ``0.9^6 = 0.53`` per band, so with 24
bands it is missed with probability ``0.47^24 < 1e-7``; two genuine interviews
rarely agree on six answers at once, so the number of pairs compared grows
about linearly with the number of submissions, not with its square. A block
larger than ``max_block`` (a very common answer pattern) is skipped.

References
----------
Gower, J. C. (1971). A general coefficient of similarity and some of its properties.
*Biometrics*, 27(4), 857-871.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["soft_duplicates", "encode_answers", "gower_pairs"]


def encode_answers(raw: pd.DataFrame, categorical: list[str], numeric: list[str]):
    """Integer codes of the categorical answers (-1 empty) and scaled numbers (NaN empty).

    Returns
    -------
    codes : numpy.ndarray (n, k) of int32
    numbers : numpy.ndarray (n, m) of float, on log(1 + x) / (q95 - q05)
    """
    n = len(raw)
    codes = np.full((n, len(categorical)), -1, dtype=np.int32)
    for j, c in enumerate(categorical):
        s = raw[c].astype(str).str.strip()
        f, _ = pd.factorize(s.where(s != "", None), use_na_sentinel=True)
        codes[:, j] = f
    nums = np.full((n, len(numeric)), np.nan)
    for j, c in enumerate(numeric):
        x = pd.to_numeric(raw[c], errors="coerce").to_numpy(dtype=float)
        x = np.where(x >= 0, np.log1p(np.where(x >= 0, x, 0)), np.nan)
        ok = ~np.isnan(x)
        if ok.sum() >= 2:
            lo, hi = np.quantile(x[ok], [0.05, 0.95])
            rng = hi - lo if hi > lo else (np.nanmax(x) - np.nanmin(x)) or 1.0
            nums[:, j] = x / rng
    return codes, nums


def gower_pairs(codes: np.ndarray, nums: np.ndarray, i: np.ndarray, j: np.ndarray,
                chunk: int = 20000) -> np.ndarray:
    """Gower distance of the pairs ``(i[k], j[k])``."""
    out = np.empty(len(i))
    for s in range(0, len(i), chunk):
        a, b = i[s:s + chunk], j[s:s + chunk]
        ca, cb = codes[a], codes[b]
        seen = (ca >= 0) | (cb >= 0)
        num = ((ca != cb) & seen).sum(axis=1).astype(float)
        den = seen.sum(axis=1).astype(float)
        if nums.shape[1]:
            xa, xb = nums[a], nums[b]
            both = ~np.isnan(xa) & ~np.isnan(xb)
            one = np.isnan(xa) ^ np.isnan(xb)
            d = np.where(both, np.minimum(np.abs(np.nan_to_num(xa) - np.nan_to_num(xb)), 1.0), 0.0)
            num += d.sum(axis=1) + one.sum(axis=1)
            den += (both | one).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s:s + chunk] = np.where(den > 0, num / den, np.nan)
    return out


def _candidate_pairs(keys: np.ndarray, group: np.ndarray, max_block: int) -> np.ndarray:
    """Pairs (as i * n + j, i < j) of rows sharing a group and a band key."""
    n = len(keys)
    key = np.stack([group.astype(np.int64), keys.astype(np.int64)], axis=1)
    _, inv, cnt = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    sel = (cnt[inv] >= 2) & (cnt[inv] <= max_block)
    rows = np.flatnonzero(sel)
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    o = rows[np.argsort(inv[rows], kind="stable")]
    g = inv[o]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(o)]
    parts = []
    for s, e in zip(starts, ends):
        m = o[s:e]
        a, b = np.triu_indices(len(m), 1)
        x, y = m[a], m[b]
        parts.append(np.minimum(x, y).astype(np.int64) * n + np.maximum(x, y))
    return np.concatenate(parts)


def soft_duplicates(raw: pd.DataFrame, categorical: list[str], numeric: list[str], group, order, *,
                    max_distance: float = 0.15, bands: int = 24, band_size: int = 6, max_block: int = 200,
                    seed: int = 2026) -> pd.DataFrame:
    """Submissions within ``max_distance`` of an earlier submission of the same group.

    Parameters
    ----------
    raw : pandas.DataFrame
        Submissions (text cells).
    categorical, numeric : list of str
        Closed questions compared as categories / as numbers.
    group : array-like
        Enumerator of each row: only rows of the same group are compared (empty: never compared).
    order : array-like
        Sort key of each row (e.g. the interview start); of a pair, the later row is the duplicate.
    max_distance, bands, band_size, max_block, seed
        See the module notes.

    Returns
    -------
    pandas.DataFrame
        One row per duplicate: ``row`` (position in ``raw``), ``match_row`` (the closest
        earlier row), ``distance``; plus ``attrs["n_pairs"]`` (pairs compared).

    Examples
    --------
    >>> df = pd.DataFrame({f"q{k}": list("abcab") for k in range(8)})
    >>> df.loc[4, "q0"] = "z"
    >>> r = soft_duplicates(df, list(df.columns), [], ["e"] * 5, range(5), bands=4, band_size=3)
    >>> r["row"].tolist(), r["match_row"].tolist(), r["distance"].tolist()
    ([3, 4], [0, 1], [0.0, 0.125])
    """
    n = len(raw)
    empty = pd.DataFrame({"row": pd.Series(dtype=np.int64), "match_row": pd.Series(dtype=np.int64),
                          "distance": pd.Series(dtype=float)})
    empty.attrs["n_pairs"] = 0
    if n < 2 or not (categorical or numeric):
        return empty
    codes, nums = encode_answers(raw, categorical, numeric)
    bins = np.where(np.isnan(nums), -1, np.floor(nums * 8)).astype(np.int32) if nums.shape[1] else \
        np.zeros((n, 0), np.int32)
    allc = np.concatenate([codes, bins], axis=1)
    g = pd.Series(np.asarray(group, dtype=object)).astype(str)
    gcode, _ = pd.factorize(g.where(g.str.strip() != "", None), use_na_sentinel=True)
    rng = np.random.default_rng(seed)
    k = allc.shape[1]
    size = min(band_size, k)
    cand = []
    mult = np.uint64(1099511628211)
    for _ in range(bands):
        cols = rng.choice(k, size, replace=False)
        h = np.full(n, np.uint64(14695981039346656037), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for c in cols:
                h = (h ^ (allc[:, c].astype(np.int64).astype(np.uint64) + np.uint64(7))) * mult
        blank = (allc[:, cols] < 0).all(axis=1)
        ok = (gcode >= 0) & ~blank
        if ok.sum() < 2:
            continue
        rows = np.flatnonzero(ok)
        p = _candidate_pairs(h[rows].view(np.int64), gcode[rows], max_block)
        if len(p):
            a, b = p // len(rows), p % len(rows)
            cand.append(rows[a].astype(np.int64) * n + rows[b])
    if not cand:
        return empty
    pairs = np.unique(np.concatenate(cand))
    i, j = pairs // n, pairs % n
    d = gower_pairs(codes, nums, i, j)
    keep = d <= max_distance
    i, j, d = i[keep], j[keep], d[keep]
    key = np.asarray(pd.Series(list(order)).rank(method="first").to_numpy(), dtype=float)
    later = np.where(key[i] > key[j], i, j)
    earlier = np.where(key[i] > key[j], j, i)
    res = pd.DataFrame({"row": later, "match_row": earlier, "distance": d})
    res = res.sort_values(["row", "distance", "match_row"]).drop_duplicates("row").reset_index(drop=True)
    res.attrs["n_pairs"] = int(len(pairs))
    return res
