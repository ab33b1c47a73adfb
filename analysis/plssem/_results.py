"""The results object of :func:`analysis.plssem.pls`: tidy tables and quality criteria."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from analysis.plssem import _core
from analysis.plssem._bootstrap import fit_htmt, htmt_frame_order
from analysis.plssem._estimate import Fit, fit
from analysis.plssem._syntax import ModelSpec

__all__ = ["PLSResults"]

_PARAM_COLUMNS = ["lhs", "op", "rhs", "type", "estimate", "se", "statistic", "p_value",
                  "ci_low", "ci_high"]


def _boot_columns(estimate, draws, level):
    """se, t, two-sided p (t with B - 1 df, as seminr) and percentile CI per column of draws."""
    estimate = np.asarray(estimate, dtype=float)
    if draws is None or len(draws) < 2:
        nan = np.full(estimate.shape, np.nan)
        return nan, nan, nan, nan, nan.copy()
    se = draws.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(se > 1e-12, estimate / se, np.nan)
    p = 2 * stats.t.sf(np.abs(t), df=len(draws) - 1)
    alpha = 1 - level
    lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    return se, t, p, lo, hi


class PLSResults:
    """Estimates and quality criteria of a PLS-SEM model (see :func:`analysis.plssem.pls`).

    Attributes
    ----------
    params : DataFrame
        One row per estimate: columns ``lhs, op, rhs, type, estimate, se, statistic,
        p_value, ci_low, ci_high``. ``type`` is ``"weight"`` (``lhs <~ rhs``: outer weight of
        indicator ``rhs`` in construct ``lhs``), ``"loading"`` (``lhs =~ rhs``), ``"path"``
        (``lhs ~ rhs``: effect of ``rhs`` on ``lhs``), ``"indirect"`` (total indirect effect
        of ``rhs`` on ``lhs``) or ``"total"``. ``se`` is the bootstrap standard deviation,
        ``statistic`` = estimate / se, ``p_value`` two-sided from Student's t with
        ``n_boot - 1`` degrees of freedom (seminr), ``ci_*`` percentile intervals; NaN
        without bootstrap.
    r2, r2_adj : Series
        R² and adjusted R² ``1 - (1 - R²)(n - 1)/(n - k - 1)`` of each endogenous construct.
    reliability : DataFrame
        One row per construct: ``alpha`` (Cronbach, on the indicator correlations),
        ``rho_a`` (Dijkstra-Henseler), ``rho_c`` (composite reliability from the loadings)
        and ``ave``; 1 for single-indicator constructs, ``rho_a`` 1 for mode-B composites
        and interaction terms (seminr's conventions).
    htmt : DataFrame
        Heterotrait-monotrait ratios, lower triangle (row construct after column construct).
    htmt_ci : DataFrame
        ``lhs, rhs, estimate, se, ci_low, ci_high``: bootstrap of every HTMT ratio.
    fornell_larcker : DataFrame
        Construct-score correlations (lower triangle) with sqrt(AVE) on the diagonal.
    specific_indirect : DataFrame
        Each chain of paths from a predictor to an outcome through mediators (``through``),
        its product of coefficients and its bootstrap inference.
    f2 : DataFrame
        ``lhs, op, rhs, f2``: Cohen's f² of each path, ``(R²_in - R²_out) / (1 - R²_in)``
        with the model re-estimated without the path; NaN for the two components of an
        interaction term (seminr).
    vif : DataFrame
        ``lhs, op, rhs, vif``: indicator VIFs within each construct (``op`` ``=~``/``<~``)
        and antecedent VIFs of each endogenous construct (``op`` ``~``).
    q2 : DataFrame
        PLSpredict (k-fold, earliest-antecedent predictions): per indicator of an endogenous
        construct, ``construct, q2_predict, rmse, mae``.
    scores : DataFrame
        Construct scores (standardised; interaction scores rescaled as seminr).
    weights, loadings : DataFrame
        Outer weights and loadings, indicators x constructs (zeros off the blocks).
    path_matrix : DataFrame
        Path coefficients, rows = predictors, columns = outcomes.
    n, n_boot, n_boot_failed, n_boot_nonconverged, iterations, converged
        Cases used; successful, failed (left out) and non-converged (kept, as seminr)
        bootstrap draws; PLS iterations and convergence of the estimate.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.plssem import pls
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(200, 2)); f[:, 1] += 0.6 * f[:, 0]
    >>> df = pd.DataFrame({f"{v}{i}": f[:, k] + rng.normal(scale=0.7, size=200)
    ...                    for k, v in enumerate("ab") for i in (1, 2, 3)})
    >>> res = pls("A =~ a1 + a2 + a3\\nB <~ b1 + b2 + b3\\nB ~ A", df, bootstrap=0)
    >>> res.path_matrix.round(3)
         A      B
    A  0.0  0.567
    B  0.0  0.000
    >>> res.vif.query("op == '~'")[["lhs", "rhs", "vif"]]
      lhs rhs  vif
    6   B   A  1.0
    """

    def __init__(self, result: Fit, spec: ModelSpec, frame: pd.DataFrame, boot: dict | None,
                 *, scheme: str, consistent: bool, interaction, ci_level: float, seed):
        self._fit = result
        self._spec = spec
        self._frame = frame
        self._boot = boot
        self.scheme = scheme
        self.consistent = consistent
        self.interaction = interaction
        self.ci_level = ci_level
        self.seed = seed
        self.n = result.n
        self.n_boot = 0 if boot is None else int(len(boot["paths"]))
        self.n_boot_failed = 0 if boot is None else boot["n_failed"]
        self.n_boot_nonconverged = 0 if boot is None else boot["n_nonconverged"]
        self.iterations = result.iterations
        self.converged = result.converged

    def __repr__(self) -> str:
        cons = ", ".join(self._fit.plan.constructs)
        return (f"<PLSResults: {len(self._fit.plan.constructs)} constructs ({cons}), "
                f"n={self.n}, scheme={self.scheme!r}, consistent={self.consistent}, "
                f"bootstrap={self.n_boot}>")

    # ------------------------------------------------------------------ matrices
    @property
    def scores(self) -> pd.DataFrame:
        return self._fit.scores.copy()

    @property
    def weights(self) -> pd.DataFrame:
        return self._fit.weights.copy()

    @property
    def loadings(self) -> pd.DataFrame:
        return self._fit.loadings.copy()

    @property
    def path_matrix(self) -> pd.DataFrame:
        c = self._fit.plan.constructs
        return pd.DataFrame(self._fit.paths, index=c, columns=c)

    # ------------------------------------------------------------------ params
    @cached_property
    def params(self) -> pd.DataFrame:
        f, boot, level = self._fit, self._boot, self.ci_level
        frames = []
        W, L = f.weights, f.loadings
        mask = np.zeros(W.shape, dtype=bool)
        for j, c in enumerate(W.columns):
            for i in f.blocks[c]:
                mask[W.index.get_loc(i), j] = True
        rows_i, cols_j = np.nonzero(mask.T)  # construct-major order
        for typ, op, mat, key in (("weight", "<~", W, "weights"), ("loading", "=~", L, "loadings")):
            est = mat.to_numpy().T[rows_i, cols_j]
            draws = None if boot is None else np.swapaxes(boot[key], 1, 2)[:, rows_i, cols_j]
            frames.append(self._rows(mat.columns[rows_i], op, mat.index[cols_j], typ, est,
                                     draws, level))
        cons = f.plan.constructs
        P = f.plan.P
        total = _core.total_effects(f.paths[None])[0]
        indirect = total - f.paths
        src, dst = np.nonzero(P)
        order = np.lexsort((src, dst))  # by outcome, then predictor
        src, dst = src[order], dst[order]
        bp = None if boot is None else boot["paths"][:, src, dst]
        frames.append(self._rows([cons[d] for d in dst], "~", [cons[s] for s in src], "path",
                                 f.paths[src, dst], bp, level))
        # which effects exist follows from the paths drawn, not from the estimated values
        reach = _core.total_effects(P[None].astype(float))[0] > 0.5
        eff_s, eff_d = np.nonzero(reach & ((reach.astype(float) @ P) > 0))
        order = np.lexsort((eff_s, eff_d))
        eff_s, eff_d = eff_s[order], eff_d[order]
        if len(eff_s):
            bi = None if boot is None else (boot["total"] - boot["paths"])[:, eff_s, eff_d]
            frames.append(self._rows([cons[d] for d in eff_d], "~", [cons[s] for s in eff_s],
                                     "indirect", indirect[eff_s, eff_d], bi, level))
        ts, td = np.nonzero(reach)
        order = np.lexsort((ts, td))
        ts, td = ts[order], td[order]
        bt = None if boot is None else boot["total"][:, ts, td]
        frames.append(self._rows([cons[d] for d in td], "~", [cons[s] for s in ts], "total",
                                 total[ts, td], bt, level))
        return pd.concat(frames, ignore_index=True)

    @staticmethod
    def _rows(lhs, op, rhs, typ, est, draws, level) -> pd.DataFrame:
        se, t, p, lo, hi = _boot_columns(est, draws, level)
        return pd.DataFrame({
            "lhs": list(lhs), "op": op, "rhs": list(rhs), "type": typ,
            "estimate": np.asarray(est, dtype=float), "se": se, "statistic": t, "p_value": p,
            "ci_low": lo, "ci_high": hi,
        }, columns=_PARAM_COLUMNS)

    # ------------------------------------------------------------------ structural model
    @cached_property
    def specific_indirect(self) -> pd.DataFrame:
        """Every specific indirect effect (a chain of two or more paths), with bootstrap.

        Columns ``lhs`` (outcome), ``op`` (``~``), ``rhs`` (predictor), ``through`` (the
        mediators, ``"M1 -> M2"``), then ``estimate`` (product of the path coefficients of
        the chain) and the bootstrap columns of :attr:`params` (seminr's
        ``specific_effect_significance``).
        """
        f = self._fit
        cons = f.plan.constructs
        P = f.plan.P
        chains: list[list[int]] = []

        def walk(chain):
            for nxt in np.flatnonzero(P[chain[-1]]):
                longer = chain + [int(nxt)]
                if len(longer) >= 3:
                    chains.append(longer)
                walk(longer)

        for start in range(len(cons)):
            walk([start])
        columns = ["lhs", "op", "rhs", "through", "estimate", "se", "statistic", "p_value",
                   "ci_low", "ci_high"]
        if not chains:
            return pd.DataFrame(columns=columns)
        chains.sort(key=lambda c: (c[-1], c[0], len(c), c))
        est = np.array([np.prod([f.paths[a, b] for a, b in zip(c, c[1:])]) for c in chains])
        draws = None
        if self._boot is not None:
            bp = self._boot["paths"]
            draws = np.column_stack([np.prod([bp[:, a, b] for a, b in zip(c, c[1:])], axis=0)
                                     for c in chains])
        se, t, p, lo, hi = _boot_columns(est, draws, self.ci_level)
        return pd.DataFrame({
            "lhs": [cons[c[-1]] for c in chains], "op": "~", "rhs": [cons[c[0]] for c in chains],
            "through": [" -> ".join(cons[k] for k in c[1:-1]) for c in chains],
            "estimate": est, "se": se, "statistic": t, "p_value": p, "ci_low": lo, "ci_high": hi,
        }, columns=columns)

    @property
    def r2(self) -> pd.Series:
        f = self._fit
        s = pd.Series(f.r2, index=f.plan.constructs, name="r2")
        return s.dropna()

    @property
    def r2_adj(self) -> pd.Series:
        f = self._fit
        k = f.plan.P.sum(axis=0)
        adj = 1 - (1 - f.r2) * (f.n - 1) / (f.n - k - 1)
        return pd.Series(adj, index=f.plan.constructs, name="r2_adj").dropna()

    @cached_property
    def f2(self) -> pd.DataFrame:
        f, spec = self._fit, self._spec
        cons = f.plan.constructs
        r2 = dict(zip(cons, f.r2))
        components = {c for name in spec.interactions for c in spec.blocks[name].components}
        rows = []
        for dv in cons:
            preds = [s for s, t in spec.paths if t == dv]
            if not preds:
                continue
            inter = any(spec.blocks[s].kind == "interaction" for s in preds)
            for iv in preds:
                if inter and iv in components:
                    rows.append((dv, "~", iv, np.nan))
                    continue
                reduced = [p for p in spec.paths if p != (iv, dv)]
                if len(preds) == 1 or not reduced:
                    r2_out = 0.0
                else:
                    sub = ModelSpec(spec.blocks, reduced,
                                    {p: spec.path_lines[p] for p in reduced})
                    # an interaction whose path is dropped leaves the model entirely
                    sub.blocks = {k: b for k, b in spec.blocks.items()
                                  if b.kind != "interaction" or any(k == p[0] for p in reduced)}
                    g = fit(self._frame, sub, self.scheme, self.consistent, self.interaction,
                            warn=False)
                    r2_out = float(g.r2[g.plan.constructs.index(dv)])
                rows.append((dv, "~", iv, (r2[dv] - r2_out) / (1 - r2[dv])))
        return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "f2"])

    @cached_property
    def vif(self) -> pd.DataFrame:
        f = self._fit
        C = f.item_cor
        rows = []
        for c, items in f.blocks.items():
            op = "<~" if f.modes[c] == "B" else "=~"
            if len(items) == 1:
                rows.append((c, op, items[0], 1.0))
                continue
            v = np.diag(np.linalg.inv(C.loc[items, items].to_numpy()))
            rows += [(c, op, i, x) for i, x in zip(items, v)]
        cons = f.plan.constructs
        for j, dv in enumerate(cons):
            pr = np.flatnonzero(f.plan.P[:, j])
            if len(pr) == 0:
                continue
            v = np.diag(np.linalg.inv(f.R[np.ix_(pr, pr)])) if len(pr) > 1 else [1.0]
            rows += [(dv, "~", cons[i], x) for i, x in zip(pr, v)]
        return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "vif"])

    # ------------------------------------------------------------------ measurement model
    @cached_property
    def reliability(self) -> pd.DataFrame:
        f = self._fit
        rows = {}
        for c, items in f.blocks.items():
            lam = f.loadings.loc[items, c].to_numpy()
            lam = lam[lam != 0]
            if len(items) == 1:
                rows[c] = (1.0, 1.0, 1.0, 1.0)
                continue
            R = f.item_cor.loc[items, items].to_numpy()
            k = len(items)
            alpha = k / (k - 1) * (1 - k / R.sum())
            rho_c = lam.sum() ** 2 / (lam.sum() ** 2 + np.sum(1 - lam**2))
            ave = np.mean(lam**2)
            rho_a = 1.0 if f.modes[c] == "B" else float(f.rho_all[c])
            rows[c] = (alpha, rho_a, rho_c, ave)
        return pd.DataFrame.from_dict(rows, orient="index",
                                      columns=["alpha", "rho_a", "rho_c", "ave"])

    @cached_property
    def _htmt_matrix(self) -> tuple[list[str], np.ndarray]:
        cons = htmt_frame_order(self._fit)
        return cons, fit_htmt(self._fit, cons)

    @property
    def htmt(self) -> pd.DataFrame:
        cons, H = self._htmt_matrix
        H = np.where(np.tril(np.ones_like(H, dtype=bool), k=-1), H, np.nan)
        return pd.DataFrame(H, index=cons, columns=cons)

    @cached_property
    def htmt_ci(self) -> pd.DataFrame:
        cons, H = self._htmt_matrix
        ii, jj = np.tril_indices(len(cons), k=-1)
        draws = None if self._boot is None else self._boot["htmt"][:, ii, jj]
        se, _, _, lo, hi = _boot_columns(H[ii, jj], draws, self.ci_level)
        return pd.DataFrame({"lhs": [cons[i] for i in ii], "rhs": [cons[j] for j in jj],
                             "estimate": H[ii, jj], "se": se, "ci_low": lo, "ci_high": hi})

    @cached_property
    def fornell_larcker(self) -> pd.DataFrame:
        f = self._fit
        cons = list(f.blocks)
        C = np.corrcoef(f.scores[cons].to_numpy(), rowvar=False)
        C = np.where(np.tril(np.ones_like(C, dtype=bool), k=-1), C, np.nan)
        np.fill_diagonal(C, np.sqrt(self.reliability.loc[cons, "ave"].to_numpy()))
        return pd.DataFrame(C, index=cons, columns=cons)

    # ------------------------------------------------------------------ prediction
    def predict_q2(self, folds: int = 10, seed=None) -> pd.DataFrame:
        """PLSpredict Q² (Shmueli et al., 2016) by k-fold cross-validation.

        Each fold is predicted from a model estimated on the other folds: the exogenous
        constructs' scores from the test indicators (training means, SDs and weights), the
        endogenous scores through the total effects, the indicators through the loadings.
        ``q2_predict = 1 - SSE / SS`` around the training mean; ``rmse`` and ``mae`` in the
        indicators' units. With ``consistent=True`` the PLSc paths and loadings are used.
        Not available for models with higher-order constructs or interaction terms.
        """
        spec = self._spec
        if spec.hocs or spec.interactions:
            raise NotImplementedError("PLSpredict is not available with higher-order "
                                      "constructs or interaction terms")
        f = self._fit
        plan = f.plan
        frame = self._frame
        n = len(frame)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        fold = rng.permutation(np.arange(n) % folds)
        exo = [k for k in range(len(plan.constructs)) if not plan.P[:, k].any()]
        endo = [k for k in range(len(plan.constructs)) if plan.P[:, k].any()]
        items = [i for k in endo for i in np.flatnonzero(plan.M[:, k])]
        X = frame[plan.items].to_numpy(dtype=float)
        pred = np.zeros((n, len(items)))
        base = np.zeros((n, len(items)))
        for g in range(folds):
            test = fold == g
            g_fit = fit(frame.iloc[~test], spec, self.scheme, self.consistent,
                        self.interaction, warn=False)
            Xtr = X[~test]
            mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0, ddof=1)
            Zte = (X[test] - mu) / sd
            eta = Zte @ g_fit.W
            T = _core.total_effects(g_fit.paths[None])[0]
            eta_hat = eta[:, exo] @ T[np.ix_(exo, endo)]
            for col, i in enumerate(items):
                k = endo.index(int(np.flatnonzero(plan.M[i])[0]))
                pred[test, col] = eta_hat[:, k] * g_fit.L[i, endo[k]] * sd[i] + mu[i]
                base[test, col] = mu[i]
        Xi = X[:, items]
        sse = ((Xi - pred) ** 2).sum(axis=0)
        sst = ((Xi - base) ** 2).sum(axis=0)
        names = [plan.items[i] for i in items]
        owner = [plan.constructs[int(np.flatnonzero(plan.M[i])[0])] for i in items]
        return pd.DataFrame({"construct": owner, "q2_predict": 1 - sse / sst,
                             "rmse": np.sqrt(sse / n),
                             "mae": np.abs(Xi - pred).mean(axis=0)}, index=names)

    @cached_property
    def q2(self) -> pd.DataFrame:
        return self.predict_q2()

