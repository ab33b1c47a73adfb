"""One PLS-SEM estimate on a data matrix: higher-order stages, interaction terms, PLSc.

The steps follow seminr's ``estimate_pls`` (learned from its R code, not copied):

1. **Higher-order constructs** (two-stage): a first-stage model in which each higher-order
   construct is replaced by its dimensions (antecedents point to every dimension, every
   dimension points to the outcomes; interaction paths left out) gives dimension scores,
   which become the indicators of the higher-order construct in the second stage.
2. **Interaction terms** ``A:B`` get indicators appended to the data: products of the
   standardised indicators (``product_indicator``), the same products residualised on all
   indicators of ``A`` and ``B`` (``orthogonal``), or the product of ``A`` and ``B``'s scores
   from a first-stage model without the interactions (``two_stage``).
3. The PLS algorithm (:mod:`._core`) on the correlation matrix of the standardised
   indicators; construct scores ``Z W``; an interaction construct's scores are rescaled by
   the mean standard deviation of its raw indicators weighted by their absolute loadings
   (seminr's ``adjust_interaction``), which rescales its path coefficient and loadings.
4. PLSc (``consistent=True``): rho_A corrects the construct correlations, hence paths and
   R², and the loadings of reflective constructs (Dijkstra & Henseler, 2015).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import EstimationWarning, InputError
from analysis.plssem import _core
from analysis.plssem._syntax import Block, ModelSpec

__all__ = ["Plan", "Fit", "Raw", "prepare_data", "fit", "fit_raw", "make_plan",
           "standardise"]


@dataclass
class Plan:
    """Index structure of one PLS stage: constructs, their items, modes and paths."""

    constructs: list[str]
    items: list[str]
    M: np.ndarray
    modes: list[str]
    P: np.ndarray
    eligible: np.ndarray  # rho_A computed (mode A, not an interaction)
    reflective: np.ndarray  # loadings corrected by PLSc
    interaction: np.ndarray

    @property
    def blocks(self) -> list[np.ndarray]:
        return [np.flatnonzero(self.M[:, k]) for k in range(self.M.shape[1])]


@dataclass
class Fit:
    """Everything one estimate produces (arrays for the second stage, frames combined)."""

    plan: Plan
    W: np.ndarray
    L: np.ndarray
    R: np.ndarray
    Rc: np.ndarray
    paths: np.ndarray
    r2: np.ndarray
    rho: np.ndarray
    a: np.ndarray
    S: np.ndarray
    scale: np.ndarray
    scores: pd.DataFrame
    iterations: int
    converged: bool
    n: int
    blocks: dict[str, list[str]] = field(default_factory=dict)  # every construct
    kinds: dict[str, str] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    weights: pd.DataFrame | None = None  # combined (items x constructs)
    loadings: pd.DataFrame | None = None
    rho_all: pd.Series | None = None
    item_cor: pd.DataFrame | None = None  # all indicators of every construct
    raw: Raw | None = None


def standardise(X: np.ndarray, names) -> tuple[np.ndarray, np.ndarray]:
    """Columns centred and divided by their sample standard deviation (n - 1)."""
    mean = X.mean(axis=0)
    sd = X.std(axis=0, ddof=1)
    bad = np.flatnonzero(~(sd > 0))
    if bad.size:
        raise InputError(f"indicator '{names[bad[0]]}' has no variance; it cannot enter a PLS model")
    return (X - mean) / sd, sd


def prepare_data(data: pd.DataFrame, spec: ModelSpec, missing: str) -> pd.DataFrame:
    """The indicator columns as floats, missing values replaced by the mean or rows dropped."""
    if not isinstance(data, pd.DataFrame):
        raise InputError("the data must be a pandas DataFrame", value=type(data).__name__)
    cols = []
    for b in spec.blocks.values():
        if b.kind in ("reflective", "composite"):
            cols += [c for c in b.items if c not in cols]
    frame = data[cols]
    try:
        frame = frame.astype(float)
    except (ValueError, TypeError):
        for c in cols:
            try:
                pd.to_numeric(frame[c], errors="raise")
            except (ValueError, TypeError) as exc:
                raise InputError("the indicator is not numeric", column=c) from exc
        frame = frame.apply(pd.to_numeric).astype(float)
    if missing == "mean":
        frame = frame.fillna(frame.mean())
    elif missing == "listwise":
        frame = frame.dropna()
    else:
        raise InputError("unknown missing-data option", value=missing,
                         expected="'mean' or 'listwise'")
    if frame.isna().any().any():
        col = frame.columns[frame.isna().any()][0]
        raise InputError("the indicator has no observed value", column=col)
    if len(frame) < 3:
        raise InputError("too few complete cases for a PLS model", value=len(frame))
    return frame


def make_plan(blocks: dict[str, Block], paths, item_order=None) -> Plan:
    """Build the index structure of a stage from its blocks (declaration order) and paths."""
    used = {c for p in paths for c in p}
    constructs = [c for c in blocks if c in used]
    items: list[str] = []
    for c in constructs:
        items += [i for i in blocks[c].items if i not in items]
    pos = {c: k for k, c in enumerate(constructs)}
    M = np.zeros((len(items), len(constructs)))
    for c in constructs:
        for i in blocks[c].items:
            M[items.index(i), pos[c]] = 1
    P = np.zeros((len(constructs), len(constructs)), dtype=int)
    for s, t in paths:
        P[pos[s], pos[t]] = 1
    kinds = [blocks[c].kind for c in constructs]
    modes = [blocks[c].mode for c in constructs]
    return Plan(
        constructs, items, M, modes, P,
        eligible=np.array([m == "A" and k != "interaction" for m, k in zip(modes, kinds)]),
        reflective=np.array([k == "reflective" or (k == "hoc" and m == "A")
                             for m, k in zip(modes, kinds)]),
        interaction=np.array([k == "interaction" for k in kinds]),
    )


def solve_stage(S: np.ndarray, sd: np.ndarray, plan: Plan, scheme: str, consistent: bool, n: int,
                scores_of, W0=None) -> dict:
    """One PLS stage from the item correlations ``S`` (diagonal set to 1 here) and the items'
    standard deviations ``sd``; ``scores_of(W, a)`` gives the construct scores (the data's, or the
    coefficients of the moment route)."""
    np.fill_diagonal(S, 1.0)
    scale = np.where(plan.M[:, plan.interaction].any(axis=1), sd, np.nan)[None]
    W, it, ok = _core.outer_weights(S[None], plan.M, plan.modes, plan.P, scheme, W0=W0)
    rho = _core.rho_a(S[None], W, plan.M, plan.eligible)
    res = _core.inner_results(
        S[None], W, plan.M, plan.P, scale=scale if plan.interaction.any() else None,
        rho=rho if consistent else None, reflective=plan.reflective,
    )
    scores = scores_of(W[0], res["a"][0])
    return dict(W=W[0], L=res["L"][0], R=res["R"][0], Rc=res["Rc"][0], paths=res["paths"][0],
                r2=res["r2"][0], rho=rho[0], a=res["a"][0], S=S, scale=scale[0],
                scores=scores, iterations=int(it[0]), converged=bool(ok[0]), n=n)


def _stage(columns: dict[str, np.ndarray], plan: Plan, scheme: str, consistent: bool,
           W0=None) -> dict:
    X = np.column_stack([columns[i] for i in plan.items])
    Z, sd = standardise(X, plan.items)
    n = Z.shape[0]
    return solve_stage((Z.T @ Z) / (n - 1), sd, plan, scheme, consistent, n,
                       lambda W, a: (Z @ W) * a, W0=W0)


def _interaction_columns(name, block, columns, blocks, paths, method, scheme):
    iv, mod = block.components
    if method == "two_stage":
        first_paths = [p for p in paths if blocks[p[0]].kind != "interaction"]
        plan = make_plan({k: b for k, b in blocks.items() if b.kind != "interaction"},
                         first_paths)
        st = _stage(columns, plan, scheme, consistent=False)
        k1, k2 = plan.constructs.index(iv), plan.constructs.index(mod)
        return {f"{name}_intxn": st["scores"][:, k1] * st["scores"][:, k2]}
    iv_items, mod_items = blocks[iv].items, blocks[mod].items
    raw = np.column_stack([columns[i] for i in iv_items + mod_items])
    Z = (raw - raw.mean(axis=0)) / raw.std(axis=0, ddof=1)
    zi, zm = Z[:, : len(iv_items)], Z[:, len(iv_items):]
    out = {}
    for a, x in zip(iv_items, zi.T):
        for b, y in zip(mod_items, zm.T):
            out[f"{a}*{b}"] = x * y
    if method == "orthogonal":
        D = np.column_stack([np.ones(len(raw)), raw])
        prods = np.column_stack(list(out.values()))
        beta, *_ = np.linalg.lstsq(D, prods, rcond=None)
        resid = prods - D @ beta
        out = dict(zip(out, resid.T))
    return out


@dataclass
class Raw:
    """One estimate as arrays (both stages), before any table is built."""

    plan: Plan
    st: dict
    blocks: dict[str, Block]
    columns: dict[str, np.ndarray]
    stage1: Raw | None = None

    @property
    def order(self) -> list[str]:
        """Every construct of both stages, in declaration order."""
        used = set(self.plan.constructs)
        if self.stage1 is not None:
            used |= set(self.stage1.plan.constructs)
        return [c for c in self.blocks if c in used]

    def items(self, constructs) -> list[str]:
        out: list[str] = []
        for c in constructs:
            out += [i for i in self.blocks[c].items if i not in out]
        return out

    def combined(self, items, constructs, key: str) -> np.ndarray:
        """Weights (``key="W"``) or loadings (``"L"``) of both stages, items x constructs."""
        out = np.zeros((len(items), len(constructs)))
        ipos = {i: r for r, i in enumerate(items)}
        cpos = {c: j for j, c in enumerate(constructs)}
        sources = [self] if self.stage1 is None else [self, self.stage1]
        taken: set[str] = set()
        for src in sources:
            for k, c in enumerate(src.plan.constructs):
                if c in taken or c not in cpos:
                    continue
                taken.add(c)
                for r in np.flatnonzero(src.plan.M[:, k]):
                    item = src.plan.items[r]
                    if item in ipos:
                        out[ipos[item], cpos[c]] = src.st[key][r, k]
        return out

    def by_construct(self, key: str, constructs) -> np.ndarray:
        """A per-construct vector (``"rho"``) or score matrix (``"scores"``) over both stages."""
        cols = []
        for c in constructs:
            src = self if c in self.plan.constructs else self.stage1
            k = src.plan.constructs.index(c)
            cols.append(src.st[key][..., k])
        return np.stack(cols, axis=-1)

    def item_correlations(self, items) -> np.ndarray:
        X = np.column_stack([self.columns[i] for i in items])
        Z, _ = standardise(X, items)
        C = Z.T @ Z / (len(Z) - 1)
        np.fill_diagonal(C, 1.0)
        return C


def stage_specs(spec: ModelSpec) -> tuple[dict, list, list, ModelSpec | None]:
    """A fit's working copies of the blocks and paths, the higher-order constructs in paths, and
    the first-stage model of the two-stage approach (their dimensions as constructs; ``None``
    without higher-order constructs). Shared by :func:`fit_raw` and the moment route."""
    blocks = {k: Block(b.name, list(b.items), b.mode, b.kind, b.line, b.components)
              for k, b in spec.blocks.items()}
    paths = list(spec.paths)
    used = {c for p in paths for c in p}
    hocs = [h for h in spec.hocs if h in used]
    if not hocs:
        return blocks, paths, hocs, None
    hoc_dims = {h: blocks[h].items for h in hocs}
    first_paths = []
    for s, t in paths:
        if blocks[s].kind == "interaction":
            continue
        for a in hoc_dims.get(s, [s]):
            for b in hoc_dims.get(t, [t]):
                if (a, b) not in first_paths:
                    first_paths.append((a, b))
    first_blocks = {k: b for k, b in blocks.items() if b.kind in ("reflective", "composite")}
    return blocks, paths, hocs, ModelSpec(first_blocks, first_paths)


def fit_raw(columns: dict[str, np.ndarray], spec: ModelSpec, scheme: str, consistent: bool,
            interaction, warm: Raw | None = None) -> Raw:
    """Estimate the model on a dict of indicator columns; arrays only (for the bootstrap).

    ``warm``: an estimate of the same model whose weights start the iterations (bootstrap).
    """
    columns = dict(columns)
    blocks, paths, hocs, first = stage_specs(spec)
    used = {c for p in paths for c in p}
    stage1 = None
    if hocs:
        stage1 = fit_raw(columns, first, scheme, consistent,
                         interaction, warm=None if warm is None else warm.stage1)
        for h in hocs:
            for d in blocks[h].items:
                columns[d] = stage1.st["scores"][:, stage1.plan.constructs.index(d)]
    for name in [i for i in spec.interactions if i in used]:
        method = interaction.get(name, "two_stage") if isinstance(interaction, dict) \
            else interaction
        new = _interaction_columns(name, blocks[name], columns, blocks, paths, method, scheme)
        columns.update(new)
        blocks[name].items = list(new)
    plan = make_plan(blocks, paths)
    st = _stage(columns, plan, scheme, consistent,
                W0=None if warm is None else warm.st["W"][None])
    return Raw(plan, st, blocks, columns, stage1)


def fit(frame: pd.DataFrame, spec: ModelSpec, scheme: str, consistent: bool,
        interaction, warn: bool = True) -> Fit:
    """Estimate the model on prepared data (see :func:`prepare_data`)."""
    columns = {c: frame[c].to_numpy(dtype=float) for c in frame.columns}
    raw = fit_raw(columns, spec, scheme, consistent, interaction)
    st, plan = raw.st, raw.plan
    if warn and not st["converged"]:
        warnings.warn(f"the PLS algorithm did not converge in {_core.MAX_ITER} iterations",
                      EstimationWarning, stacklevel=3)
    order = raw.order
    items = raw.items(order)
    result = Fit(plan=plan, **{k: st[k] for k in (
        "W", "L", "R", "Rc", "paths", "r2", "rho", "a", "S", "scale", "iterations",
        "converged", "n")},
        scores=pd.DataFrame(raw.by_construct("scores", order), columns=order,
                            index=frame.index))
    result.weights = pd.DataFrame(raw.combined(items, order, "W"), index=items, columns=order)
    result.loadings = pd.DataFrame(raw.combined(items, order, "L"), index=items, columns=order)
    result.rho_all = pd.Series(raw.by_construct("rho", order), index=order)
    result.blocks = {c: list(raw.blocks[c].items) for c in order}
    result.kinds = {c: raw.blocks[c].kind for c in order}
    result.modes = {c: raw.blocks[c].mode for c in order}
    result.item_cor = pd.DataFrame(raw.item_correlations(items), index=items, columns=items)
    result.raw = raw
    return result
