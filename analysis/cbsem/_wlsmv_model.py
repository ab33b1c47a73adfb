"""The ordinal model of WLSMV (delta parameterisation): implied thresholds and polychoric
correlations, their Jacobian, starting values and the DWLS minimisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cbsem._matrices import SEMModel
from analysis.cbsem._wlsmv_stats import _lavaan_pairs
from analysis.errors import InputError
from analysis.psychometrics._polychoric import _as_codes


class _OrdinalModel:
    """Implied thresholds and polychoric correlations (delta parameterisation) and Jacobian."""

    def __init__(self, partable: pd.DataFrame, group_labels):
        self.model = SEMModel(partable, group_labels)
        self.pt = partable
        self.p = len(self.model.ov_names)
        self.ii, self.jj = _lavaan_pairs(self.p)
        thr = partable.attrs["thresholds"]
        pos = {v: i for i, v in enumerate(self.model.ov_names)}
        self.th_var = np.array([pos[v] for v, _ in thr], dtype=int)
        self.npar = self.model.npar
        self.extra = []  # (group, matrix, row, free_idx) for tau and delta
        for r in partable.itertuples():
            if r.free > 0 and r.matrix in ("tau", "delta"):
                self.extra.append((r.group - 1, r.matrix, r.row, r.free - 1))

    def implied(self, x):
        out = []
        for mats in self.model.matrices(x):
            lam, psi, alpha, nu = mats["lambda"], mats["psi"], mats["alpha"], mats["nu"]
            a = self.model._ia(mats)
            la = lam @ a
            th_off = mats["theta"] - np.diag(np.diag(mats["theta"]))  # residual covariances
            S = la @ psi @ la.T + th_off
            mu = nu + la @ alpha
            d = mats["delta"]
            cor = (d[:, None] * d[None, :] * S)[self.ii, self.jj]
            th = d[self.th_var] * (mats["tau"] - mu[self.th_var])
            out.append(np.concatenate([th, cor]))
        return out

    def jacobian(self, x):
        mats_all = self.model.matrices(x)
        jac = self.model.jacobian(x)
        out = []
        for g, (mats, (ds, dm)) in enumerate(zip(mats_all, jac)):
            d = mats["delta"]
            a = self.model._ia(mats)
            la = mats["lambda"] @ a
            S = la @ mats["psi"] @ la.T
            S = S + mats["theta"] - np.diag(np.diag(mats["theta"]))
            mu = mats["nu"] + la @ mats["alpha"]
            dd = (d[:, None] * d[None, :])[self.ii, self.jj]
            Jc = ds[:, self.ii, self.jj] * dd[None, :]  # (npar, P)
            Jt = -dm[:, self.th_var] * d[self.th_var][None, :]  # (npar, nth)
            J = np.concatenate([Jt, Jc], axis=1)
            nth = len(self.th_var)
            for gg, name, row, k in self.extra:
                if gg != g:
                    continue
                if name == "tau":
                    J[k, row] += d[self.th_var[row]]
                else:  # delta of variable `row`
                    sel = np.nonzero(self.th_var == row)[0]
                    J[k, sel] += mats["tau"][sel] - mu[row]
                    on_i = self.ii == row
                    on_j = self.jj == row
                    J[k, nth + np.nonzero(on_i)[0]] += (d[self.jj] * S[self.ii, self.jj])[on_i]
                    J[k, nth + np.nonzero(on_j)[0]] += (d[self.ii] * S[self.ii, self.jj])[on_j]
            out.append(J.T)  # (nstat, npar)
        return out


def _start_values(pt: pd.DataFrame, samples) -> pd.DataFrame:
    """Starting values from the polychoric correlations (numpy only, no per-row pandas).

    Loadings: ratio of mean correlations with the other indicators (FABIN-like); latent
    variances: the marker's mean correlation with its co-indicators; covariances 0;
    thresholds at their sample values; scaling factors 1; latent means 0.
    """
    ov = list(pt.attrs["ov_names"])
    pos = {v: i for i, v in enumerate(ov)}
    lhs = pt["lhs"].to_numpy(dtype=object)
    rhs = pt["rhs"].to_numpy(dtype=object)
    op = pt["op"].to_numpy(dtype=object)
    grp = pt["group"].to_numpy()
    free = pt["free"].to_numpy()
    mtx = pt["matrix"].to_numpy(dtype=object)
    row = pt["row"].to_numpy()
    vals = pt["value"].to_numpy(dtype=float).copy()
    todo = (free > 0) & np.isnan(vals)
    # indicators per (group, factor): list of (row index, variable position)
    ind: dict = {}
    for i in np.nonzero(op == "=~")[0]:
        if rhs[i] in pos:  # observed indicators (second-order loadings start at 1)
            ind.setdefault((grp[i], lhs[i]), []).append(i)
    lam_start: dict = {}
    for (g, f), rows in ind.items():
        R = samples[g - 1].R
        vs = [pos[rhs[i]] for i in rows]
        marker = vs[0]
        marker_fixed = free[rows[0]] == 0 and vals[rows[0]] != 0
        base = vals[rows[0]] if marker_fixed else 1.0
        for i, v in zip(rows, vs):
            others = [u for u in vs if u not in (v, marker)]
            if marker_fixed and v != marker and others:
                num = np.mean(R[v, others])
                den = np.mean(R[marker, others])
                lam = num / den if abs(den) > 1e-8 else 1.0
                lam = float(np.clip(lam, -3, 3)) * base
            elif marker_fixed:
                lam = base
            else:
                co = [u for u in vs if u != v]
                lam = float(np.sqrt(max(abs(np.mean(R[v, co])) if co else 0.5, 0.05)))
                if co and np.mean(R[v, co]) < 0:
                    lam = -lam
            lam_start[i] = lam
        if marker_fixed:
            co = [u for u in vs if u != marker]
            lv = float(np.clip(np.mean(np.abs(R[marker, co])) if co else 0.5, 0.05, 1.0))
        else:
            lv = 1.0
        lam_start[("var", g, f)] = lv
    for i in np.nonzero(todo)[0]:
        g = grp[i]
        if op[i] == "=~":
            vals[i] = lam_start.get(i, 1.0)
        elif op[i] == "|":
            vals[i] = samples[g - 1].th[row[i]]
        elif op[i] == "~~" and lhs[i] == rhs[i]:
            vals[i] = lam_start.get(("var", g, lhs[i]), 0.5) if lhs[i] not in pos else 1.0
        elif mtx[i] == "delta":
            vals[i] = 1.0
        else:
            vals[i] = 0.0
    # rows sharing a free index share the start of the first one
    first: dict = {}
    for i in np.nonzero(free > 0)[0]:
        first.setdefault(free[i], vals[i])
        vals[i] = first[free[i]]
    attrs = dict(pt.attrs)
    pt = pt.copy()
    pt["value"] = vals
    pt.attrs = attrs
    return pt


def _free_deltas(pt: pd.DataFrame) -> pd.DataFrame:
    """lavaan: with equal thresholds across groups, scaling factors of groups 2..G are free."""
    pt = pt.copy()
    attrs = dict(pt.attrs)
    nxt = int(pt["free"].max())
    sel = (pt["matrix"] == "delta") & (pt["group"] > 1) & (pt["free"] == 0)
    free = pt["free"].to_numpy().copy()
    value = pt["value"].to_numpy(dtype=float).copy()
    for i in np.nonzero(sel.to_numpy())[0]:
        nxt += 1
        free[i] = nxt
        value[i] = 1.0
    pt["free"] = free
    pt["value"] = value
    pt.attrs = attrs
    return pt


def _prepare(data, ov, ordered, group):
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a DataFrame", value=type(data).__name__)
    missing = [v for v in ov if v not in data.columns]
    if missing:
        raise InputError(
            "a variable of the model is not in the data", column=missing[0], expected="a column"
        )
    if ordered is False:
        raise InputError(
            "the WLSMV estimator is for ordered indicators",
            value=ordered,
            expected="ordered=True or a list of item names (continuous items: analysis.cbsem._cfa.cfa)",
        )
    if ordered is not True and ordered is not None:
        if isinstance(ordered, str):
            ordered = [ordered]
        not_ord = [v for v in ov if v not in set(ordered)]
        if not_ord:
            raise InputError(
                "only ordered indicators are supported by the WLSMV estimator here",
                column=not_ord[0],
                expected="every observed variable listed in `ordered` (or ordered=True)",
            )
    cols = list(ov) + ([group] if group is not None else [])
    if group is not None and group not in data.columns:
        raise InputError("group variable not found", column=group, expected="a column")
    d = data[cols].dropna()  # listwise, as lavaan's default for categorical data
    if len(d) == 0:
        raise InputError("no complete cases", expected="rows observed on every model variable")
    codes, _, _, _ = _as_codes(d[list(ov)], max_categories=50)
    # dense recode per variable (lavaan: levels = observed values of the variable)
    nlev = np.zeros(len(ov), dtype=int)
    for j in range(len(ov)):
        present = np.bincount(codes[:, j]) > 0
        recode = (np.cumsum(present) - 1).astype(codes.dtype)
        codes[:, j] = recode[codes[:, j]]
        nlev[j] = int(present.sum())
        if nlev[j] < 2:
            raise InputError("an ordered variable has a single category", column=ov[j])
    if group is None:
        return [codes], nlev, [None], [len(d)]
    gv = d[group].to_numpy()
    labels = list(pd.unique(gv))
    out = [codes[gv == g] for g in labels]
    return out, nlev, labels, [len(c) for c in out]


def _dwls_fit(model: _OrdinalModel, obs, w, fg, x0, maxiter=500, tol=1e-10):
    """Gauss-Newton / Levenberg-Marquardt on F = sum_g fg (s-sigma)' W (s-sigma)."""
    x = x0.copy()

    def fval(x):
        return sum(
            f * np.sum(ww * (o - s) ** 2) for f, ww, o, s in zip(fg, w, obs, model.implied(x))
        )

    F = fval(x)
    lam = 1e-4
    converged = False
    it = 0
    for it in range(1, maxiter + 1):  # noqa: B007
        J = model.jacobian(x)
        sig = model.implied(x)
        H = sum(f * (Jg.T * ww) @ Jg for f, Jg, ww in zip(fg, J, w))
        grad = sum(f * Jg.T @ (ww * (o - s)) for f, Jg, ww, o, s in zip(fg, J, w, obs, sig))
        if np.max(np.abs(grad)) < tol:
            converged = True
            break
        for _ls in range(30):
            Hd = H + lam * np.diag(np.diag(H) + 1e-12)
            try:
                step = np.linalg.solve(Hd, grad)
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            xn = x + step
            Fn = fval(xn)
            if np.isfinite(Fn) and Fn <= F:
                break
            lam *= 10
        else:
            break
        rel = abs(F - Fn)
        x, F = xn, Fn
        lam = max(lam / 10, 1e-12)
        if rel < 1e-16 and np.max(np.abs(step)) < 1e-10:
            converged = True
            break
    return x, F, converged, it


def _ugamma_traces(delta, w, gam, fg, idx_free=None):
    """tr(U Gamma), tr((U Gamma)^2) with lavaan's group weighting (W*fg, Gamma/fg)."""
    Wd = np.concatenate([ww * f for ww, f in zip(w, fg)])
    G = _blockdiag([gg / f for gg, f in zip(gam, fg)])
    D = np.vstack(delta)
    WD = Wd[:, None] * D
    E = D.T @ WD
    try:
        Einv = np.linalg.inv(E)
    except np.linalg.LinAlgError:
        Einv = np.linalg.pinv(E)
    # U Gamma = W Gamma - W D Einv D' W Gamma
    WG = Wd[:, None] * G
    UG = WG - WD @ (Einv @ (WD.T @ G))
    return np.trace(UG), np.sum(UG * UG.T), UG


def _blockdiag(mats):
    n = sum(m.shape[0] for m in mats)
    out = np.zeros((n, n))
    k = 0
    for m in mats:
        s = m.shape[0]
        out[k : k + s, k : k + s] = m
        k += s
    return out
