"""Standardised solutions (lavaan ``standardizedSolution(type = "std.all")``) with delta-method
standard errors, and the composite reliability / AVE derived from them.

:func:`_standardized` serves the continuous-indicator fits (implied standard deviations);
:func:`ordinal_std_solution` the ordinal fits (latent-response variances of the delta
parameterisation).

References
----------
Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with unobservable
variables and measurement error. *Journal of Marketing Research*, 18(1), 39-50.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.cbsem._matrices import SEMModel
from analysis.cbsem._wlsmv_model import _OrdinalModel


def _std_plan(sem: SEMModel, pt: pd.DataFrame) -> dict:
    """Index arrays that let :func:`_std_values` standardise every row at once."""
    nlv = len(sem.lv_names)
    pos = {f: i for i, f in enumerate(sem.lv_names)}
    pos.update({v: nlv + i for i, v in enumerate(sem.ov_names)})
    ops = pt["op"].to_numpy()
    lhs = np.array([pos.get(v, -1) for v in pt["lhs"]])
    rhs = np.array([pos.get(v, -1) for v in pt["rhs"]])
    # covariances are scaled by their own variance parameters (lavaan cov.std = TRUE)
    var_row = {
        (r.lhs, r.group): i
        for i, r in enumerate(pt.itertuples())
        if r.op == "~~" and r.lhs == r.rhs
    }
    grp = pt["group"].to_numpy()
    lvar = np.array([var_row.get((v, g), -1) for v, g in zip(pt["lhs"], grp)])
    rvar = np.array([var_row.get((v, g), -1) for v, g in zip(pt["rhs"], grp)])
    cov = (ops == "~~") & (pt["lhs"] != pt["rhs"]).to_numpy() & (lvar >= 0) & (rvar >= 0)
    conds = [ops == "=~", ops == "~", cov, ops == "~~", ops == "~1"]
    return dict(ops=ops, lhs=lhs, rhs=rhs, group=grp - 1, cov=cov, lvar=lvar, rvar=rvar,
                conds=conds)


def _std_values(sem: SEMModel, x: np.ndarray, plan: dict) -> np.ndarray:
    """std.all value of every row of the parameter table."""
    vals = sem.x_to_table(x)
    rows = []
    for mats in sem.matrices(x):  # latent and implied covariances (as latent_moments, implied)
        a = sem._ia(mats)
        lam_a = mats["lambda"] @ a
        lat = a @ mats["psi"] @ a.T
        imp = lam_a @ mats["psi"] @ lam_a.T + mats["theta"]
        rows.append(np.concatenate([np.sqrt(np.clip(np.diag(lat), 0, None)), np.sqrt(np.diag(imp))]))
    sds = np.array(rows)
    g = plan["group"]
    sd_l = np.where(plan["lhs"] >= 0, sds[g, np.maximum(plan["lhs"], 0)], 1.0)
    sd_r = np.where(plan["rhs"] >= 0, sds[g, np.maximum(plan["rhs"], 0)], 1.0)
    rv_l = np.sqrt(np.abs(vals[np.maximum(plan["lvar"], 0)]))
    rv_r = np.sqrt(np.abs(vals[np.maximum(plan["rvar"], 0)]))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.select(
            plan["conds"],
            [
                vals * sd_l / sd_r,
                vals * sd_r / sd_l,
                vals / (rv_l * rv_r),
                vals / (sd_l * sd_r),
                vals / sd_l,
            ],
            default=vals,
        )
    return out


def _standardized(sem, x, vcov, pt, level) -> pd.DataFrame:
    plan = _std_plan(sem, pt)
    est = _std_values(sem, x, plan)
    k = len(x)
    jac = np.zeros((len(pt), k))
    for j in range(k):
        h = 1e-6 * max(1.0, abs(x[j]))
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        jac[:, j] = (_std_values(sem, xp, plan) - _std_values(sem, xm, plan)) / (2 * h)
    cov = jac @ vcov @ jac.T
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    se[np.abs(se) < 1e-12] = 0.0
    zq = stats.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    return pd.DataFrame(
        {
            "lhs": pt["lhs"].to_numpy(),
            "op": pt["op"].to_numpy(),
            "rhs": pt["rhs"].to_numpy(),
            "group": pt["group"].to_numpy(),
            "estimate": est,
            "se": se,
            "statistic": z,
            "p_value": np.where(se > 0, 2 * stats.norm.sf(np.abs(z)), np.nan),
            "ci_low": est - zq * se,
            "ci_high": est + zq * se,
        }
    )


def _reliability(std: pd.DataFrame, sem: SEMModel, labels) -> tuple[pd.DataFrame, pd.DataFrame]:
    # factors only: the phantom variables of observed variables in regressions have no
    # indicators
    phantoms = set(sem.partable.attrs.get("phantoms", []))
    factors = [f for f in sem.lv_names if f not in phantoms]
    cr = pd.DataFrame(index=pd.Index(factors, name="factor"), dtype=float)
    ave = pd.DataFrame(index=pd.Index(factors, name="factor"), dtype=float)
    group = std["group"].to_numpy()
    op, lhs, rhs = (std[c].to_numpy(dtype=object) for c in ("op", "lhs", "rhs"))
    est = std["estimate"].to_numpy(dtype=float)
    for g, lab in enumerate(labels, start=1):
        in_g = group == g
        is_var = in_g & (op == "~~") & (lhs == rhs)
        crv, avev = [], []
        for f in factors:
            ld = in_g & (op == "=~") & (lhs == f)
            lam = est[ld]
            th = is_var & np.isin(lhs, rhs[ld])
            num = lam.sum() ** 2
            crv.append(num / (num + est[th].sum()))
            avev.append(float(np.mean(lam**2)))
        cr[lab] = crv
        ave[lab] = avev
    return cr, ave


def _table_arrays(pt):
    return dict(
        mtx=pt["matrix"].to_numpy(dtype=object),
        row=pt["row"].to_numpy().astype(int),
        col=pt["col"].to_numpy().astype(int),
        grp=pt["group"].to_numpy().astype(int),
        free=pt["free"].to_numpy().astype(int),
        value=pt["value"].to_numpy(dtype=float),
    )


def _ordinal_std_values(arr, om: _OrdinalModel, x):
    """Estimates (residual variances filled in) and completely standardised values per row."""
    mtx, r, c, grp, fr = arr["mtx"], arr["row"], arr["col"], arr["grp"], arr["free"]
    est = arr["value"].copy()
    est[fr > 0] = np.asarray(x)[fr[fr > 0] - 1]
    std = est.copy()
    for g, mats in enumerate(om.model.matrices(x)):
        a = om.model._ia(mats)
        la = mats["lambda"] @ a
        S = la @ mats["psi"] @ la.T
        d = mats["delta"]
        theta = 1.0 / d**2 - np.diag(S)
        vy = np.diag(S) + theta  # = 1/delta^2, variance of y*
        lvv = np.diag(a @ mats["psi"] @ a.T)
        ing = grp == g + 1
        sel = ing & (mtx == "theta") & (r == c) & (fr == 0)
        est[sel] = theta[r[sel]]
        std[sel] = est[sel]
        sel = ing & (mtx == "lambda")
        std[sel] = est[sel] * np.sqrt(lvv[c[sel]]) / np.sqrt(vy[r[sel]])
        sel = ing & (mtx == "psi")
        std[sel] = est[sel] / np.sqrt(lvv[r[sel]] * lvv[c[sel]])
        sel = ing & (mtx == "theta") & (r == c)
        std[sel] = est[sel] / vy[r[sel]]
        # residual covariances: lavaan's std.all is the residual correlation
        sel = ing & (mtx == "theta") & (r != c)
        std[sel] = est[sel] / np.sqrt(theta[r[sel]] * theta[c[sel]])
        sel = ing & (mtx == "tau")
        std[sel] = est[sel] / np.sqrt(vy[om.th_var[r[sel]]])
        sel = ing & (mtx == "alpha")
        std[sel] = est[sel] / np.sqrt(lvv[r[sel]])
        # latent regressions / second-order loadings (beta[r, c]: effect of c on r)
        sel = ing & (mtx == "beta")
        std[sel] = est[sel] * np.sqrt(lvv[c[sel]]) / np.sqrt(lvv[r[sel]])
    return est, std


def ordinal_std_solution(pt, om: _OrdinalModel, x, vcov, level):
    """lavaan ``standardizedSolution()``: std.all with delta-method SEs (numeric Jacobian)."""
    arr = _table_arrays(pt)
    _, std0 = _ordinal_std_values(arr, om, x)
    keep = np.isin(pt["op"].to_numpy(dtype=object), ["=~", "~~", "|", "~1"])
    J = np.zeros((len(pt), len(x)))
    for k in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[k]))
        xp = x.copy()
        xm = x.copy()
        xp[k] += h
        xm[k] -= h
        J[:, k] = (_ordinal_std_values(arr, om, xp)[1] - _ordinal_std_values(arr, om, xm)[1]) / (2 * h)
    var = np.einsum("ik,kl,il->i", J, vcov, J)
    se = np.sqrt(np.clip(var, 0.0, None))
    se = np.where(se < 1e-10, 0.0, se)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, std0 / se, np.nan)
    out = pd.DataFrame(
        {
            "lhs": pt["lhs"].to_numpy(),
            "op": pt["op"].to_numpy(),
            "rhs": pt["rhs"].to_numpy(),
            "group": pt["group"].to_numpy(),
            "estimate": std0,
            "se": se,
            "statistic": stat,
            "p_value": np.where(np.isfinite(stat), 2 * stats.norm.sf(np.abs(stat)), np.nan),
            "ci_low": std0 - z * se,
            "ci_high": std0 + z * se,
        }
    )
    return out[keep].reset_index(drop=True)
