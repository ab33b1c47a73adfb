"""Fit measures of a fitted model, with lavaan's ``fitMeasures`` names (lavaan ``lav_fit``).

One module for every estimator: :func:`ml_fit_measures` (ML, MLR, FIML: chi-square against the
saturated model, baseline model, CFI/TLI/RMSEA with their scaled and robust versions, SRMR,
information criteria) and :func:`dwls_fit_measures` (DWLS with the WLSMV scaled-and-shifted
statistic); the RMSEA, CFI and TLI formulas are shared.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36.
Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for nonnormality.
*Multivariate Behavioral Research*, 49(5), 460-470.
Zhang, X., & Savalei, V. (2023). New computations for RMSEA and CFI following FIML and TS
estimation with missing data. *Psychological Methods*, 28(2), 263-283.
Savalei, V. (2018). On the computation of the RMSEA and CFI from the mean-and-variance
corrected test statistic with nonnormal data in SEM. *Multivariate Behavioral Research*,
53(3), 419-429.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.cbsem._ml import (
    _h1_parts,
    _IndependenceModel,
    _minimize,
    _MLProblem,
    _score_cross,
    _yb_trace_h1,
)
from analysis.cbsem._ml_data import _loglik_patterns, _Pattern, _pseudo_complete
from analysis.cbsem._wlsmv_model import _blockdiag, _ugamma_traces
from analysis.cbsem._wlsmv_stats import _lavaan_pairs

__all__ = ["FIT_MEASURES", "SCALED_FIT_MEASURES", "ml_fit_measures", "dwls_fit_measures"]


#: names of the fit measures in :attr:`CFAResults.fit` (lavaan names, dots as underscores)
FIT_MEASURES = (
    "npar",
    "fmin",
    "chisq",
    "df",
    "pvalue",
    "baseline_chisq",
    "baseline_df",
    "baseline_pvalue",
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci_lower",
    "rmsea_ci_upper",
    "rmsea_pvalue",
    "srmr",
    "aic",
    "bic",
    "bic2",
    "logl",
    "unrestricted_logl",
    "ntotal",
)
#: additional fit measures of ``estimator="MLR"`` (robust ones also with FIML)
SCALED_FIT_MEASURES = (
    "chisq_scaled",
    "df_scaled",
    "pvalue_scaled",
    "chisq_scaling_factor",
    "scaling_factor",
    "baseline_chisq_scaled",
    "baseline_df_scaled",
    "baseline_pvalue_scaled",
    "baseline_chisq_scaling_factor",
    "cfi_scaled",
    "tli_scaled",
    "cfi_robust",
    "tli_robust",
    "rmsea_scaled",
    "rmsea_ci_lower_scaled",
    "rmsea_ci_upper_scaled",
    "rmsea_pvalue_scaled",
    "rmsea_robust",
    "rmsea_ci_lower_robust",
    "rmsea_ci_upper_robust",
    "rmsea_pvalue_robust",
)


def _rmsea(x2, df, n, g=1, c_hat=1.0):
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(x2 / n / df - c_hat / n, 0.0)) * np.sqrt(g))


def _rmsea_ci(x2, df, n, g=1, c_hat=1.0, level=0.90):
    if not (np.isfinite(x2) and np.isfinite(df) and np.isfinite(c_hat)):
        return np.nan, np.nan
    try:
        return _rmsea_ci_finite(x2, df, n, g, c_hat, level)
    except ValueError:  # root not bracketed (numerically extreme statistics)
        return np.nan, np.nan


def _rmsea_ci_finite(x2, df, n, g, c_hat, level):
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def lo(lam):
        return (
            stats.ncx2.cdf(x2, df, lam) - upper_p if lam > 0 else stats.chi2.cdf(x2, df) - upper_p
        )

    def up(lam):
        return (
            stats.ncx2.cdf(x2, df, lam) - lower_p if lam > 0 else stats.chi2.cdf(x2, df) - lower_p
        )

    if df < 1 or lo(0) < 0:
        lower = 0.0
    else:
        lam = optimize.brentq(lo, 0, x2, xtol=1e-12)
        lower = np.sqrt(c_hat * lam / (n * df)) * np.sqrt(g)
    n_r = max(n, x2 * 4)
    if df < 1 or up(n_r) > 0 or up(0) < 0:
        upper = 0.0
    else:
        lam = optimize.brentq(up, 0, n_r, xtol=1e-12)
        upper = np.sqrt(c_hat * lam / (n * df)) * np.sqrt(g)
    return float(lower), float(upper)


def _rmsea_pvalue(x2, df, n, g=1, c_hat=1.0, h0=0.05):
    if df <= 0:
        return np.nan
    ncp = n * df / c_hat * h0**2 / g
    return float(stats.ncx2.sf(x2, df, ncp))


def _cfi(x2, df, x2b, dfb, c=1.0, cb=1.0):
    t1 = max(x2 - c * df, 0.0)
    t2 = max(x2 - c * df, x2b - cb * dfb, 0.0)
    if np.isclose(t1, 0) and np.isclose(t2, 0):
        return 1.0
    return float(1 - t1 / t2)


def _tli(x2, df, x2b, dfb, c=1.0, cb=1.0):
    t1 = (x2 - c * df) * dfb
    t2 = (x2b - cb * dfb) * df
    if df > 0 and abs(t2) > 0:
        return float(1 - t1 / t2)
    return 1.0


def _moment_keep(p: int, x_idx) -> np.ndarray:
    """Mask of the saturated-model moments ``(vech(Sigma), mu)`` that are not moments of the
    fixed exogenous variables (all True without them)."""
    rows, cols = np.tril_indices(p)
    xs = np.zeros(p, dtype=bool)
    xs[list(x_idx)] = True
    return ~np.concatenate([xs[rows] & xs[cols], xs])


def _fiml_corrected(problem, xhat, bprob, xb, df, df_b, scaled: bool, x_idx=(), shared=None):
    """FIML-corrected statistics for robust CFI/TLI/RMSEA with missing data.

    As lavaan 0.6's ``lav_fit_fiml_corrected`` (Zhang & Savalei): ``T3`` is the
    complete-data ML statistic of the FIML estimates against the EM (h1) moments, scaled by
    ``c3 = k / df`` where, with block-diagonal (over groups, weights ``f_g = n_g/N``)
    ``Wm`` (observed information of the saturated FIML model), ``Wc`` (complete-data
    information at the EM moments), ``Jm`` (first-order information of the saturated FIML
    model), ``D`` the model Jacobian, ``E = D' Wm D`` and
    ``U = Wm - Wm D E^-1 D' Wm``: ``k = tr(Wc Wm^-1 U Wm^-1)`` for ML and
    ``k = tr(U Wm^-1 Wc Wm^-1 U Gamma)``, ``Gamma = Wm^-1 Jm Wm^-1``, for MLR.
    Returns ``(T3, c3, T3_null, c3_null)`` (the last two for the independence model).
    With fixed exogenous variables (``x_idx``) their moments are left out of every matrix.

    Computation: with ``V = Wm^-1 U Wm^-1 = Wm^-1 - D E^-1 D'`` the traces are
    ``tr(Wc V) = tr(Wc Wm^-1) - tr(E^-1 D' Wc D)`` and ``tr(V Wc V Jm) = tr(Wm^-1 Wc Wm^-1 Jm)
    - 2 tr(E^-1 D' P D) + tr(E^-1 D' Wc D E^-1 D' Jm D)`` with ``P = Wc Wm^-1 Jm``: the
    model enters only through products of the moment matrices with ``D`` (moments x
    parameters), and the model-free terms are computed once per data (``shared``).
    """
    from scipy.linalg import block_diag

    shared = {} if shared is None else shared
    gdata = problem.data
    key = ("fiml_corrected", tuple(x_idx))
    if key not in shared:
        ntotal = problem.ntotal
        keeps, wc_l, wm_l, wmi_l, jm_l, p_l = [], [], [], [], [], []
        c0_ml = c0_mlr = 0.0
        for d in gdata:
            fg = d.n / ntotal
            keep = _moment_keep(d.x.shape[1], x_idx) if len(x_idx) else None
            h1 = _h1_parts(d, keep)
            wc, wm, wmi, jm = h1["wc"], h1["a1"], h1["a1_inv"], h1["b1"]
            keeps.append(keep)
            # blocks of Wc_all = f Wc, Wm_all = f Wm, Wm_all^-1 = Wm^-1 / f, Jm_all = f Jm
            wc_l.append(fg * wc)
            wm_l.append(fg * wm)
            wmi_l.append(wmi / fg)
            jm_l.append(fg * jm)
            pm = h1.wc_apply(h1["a1_inv_b1"])  # block of P_all = f Wc Wm^-1 Jm
            p_l.append(fg * pm)
            c0_ml += float(np.sum(wc * wmi.T))
            c0_mlr += float(np.sum(pm * wmi.T))  # tr(Wm^-1 Wc Wm^-1 Jm)
        pseudo = [_pseudo_complete(d) for d in gdata]
        ll_h1 = [_loglik_patterns(d.cov, d.mean, ps.patterns) for d, ps in zip(gdata, pseudo)]

        def bd(mats):
            return mats[0] if len(mats) == 1 else block_diag(*mats)

        shared[key] = dict(
            keeps=keeps, wc=bd(wc_l), wm=bd(wm_l), jm=bd(jm_l), p=bd(p_l),
            c0_ml=c0_ml, c0_mlr=c0_mlr, pseudo=pseudo, ll_h1=ll_h1,
        )  # fmt: skip
    c = shared[key]

    def piece(prob, x, dof):
        t3 = 0.0
        deltas = []
        for g, ((ds, dm), (sigma, mu)) in enumerate(
            zip(prob.model.jacobian(x), prob.model.implied(x))
        ):
            d = gdata[g]
            rows, cols = np.tril_indices(d.x.shape[1])
            dg = np.vstack([ds[:, rows, cols].T, dm.T])  # nmom x k
            deltas.append(dg[c["keeps"][g]] if c["keeps"][g] is not None else dg)
            ll_h0 = _loglik_patterns(sigma, mu, c["pseudo"][g].patterns)
            t3 += 2.0 * (c["ll_h1"][g] - ll_h0)
        delta = np.vstack(deltas)
        e = delta.T @ (c["wm"] @ delta)
        dwd = delta.T @ (c["wc"] @ delta)
        if scaled:
            dpd = delta.T @ (c["p"] @ delta)
            djd = delta.T @ (c["jm"] @ delta)
            ei_wc = np.linalg.solve(e, dwd)
            ei_jm = np.linalg.solve(e, djd)
            k = (
                c["c0_mlr"]
                - 2.0 * np.trace(np.linalg.solve(e, dpd))
                + float(np.sum(ei_wc * ei_jm.T))
            )
        else:
            k = c["c0_ml"] - np.trace(np.linalg.solve(e, dwd))
        return t3, k / dof

    t3, c3 = piece(problem, xhat, df)
    bkey = ("fiml_corrected_baseline", tuple(x_idx), df_b)
    if bkey not in shared:
        shared[bkey] = piece(bprob, xb, df_b)
    t3b, c3b = shared[bkey]
    return t3, c3, t3b, c3b


def _yb_scaling(problem, x, df, trace_h1, cross=None, info_inv=None):
    if df <= 0:
        return np.nan
    ntotal = problem.ntotal
    if info_inv is None:
        info_inv = np.linalg.inv(problem.observed_information(x))
    if cross is None:  # per group: sum of the outer products of the casewise scores
        cross = [_score_cross(problem, x, g) for g in range(len(problem.data))]
    tr_h0 = 0.0
    for g, ss in enumerate(cross):
        fg = problem.data[g].n / ntotal
        b0 = ss / problem.data[g].n
        tr_h0 += fg * np.sum(b0 * info_inv)
    return float((sum(trace_h1) - tr_h0) / df)


def _srmr(gdata, implied, ms, ntotal):
    vals = []
    for d, (sigma, mu) in zip(gdata, implied):
        s = d.cov
        sd = np.sqrt(np.diag(s))
        r = s / np.outer(sd, sd) - sigma / np.outer(sd, sd)
        iu = np.triu_indices(len(s))
        ss = np.sum(r[iu] ** 2)
        e = len(iu[0])
        if ms:
            ss += np.sum(((d.mean - mu) / sd) ** 2)
            e += len(s)
        vals.append(np.sqrt(ss / e) * d.n / ntotal)
    return float(sum(vals))


def ml_fit_measures(problem, sem, xhat, gdata, ms, est, miss, info_inv, cross, labels, shared=None):
    shared = {} if shared is None else shared  # model-free quantities of these data
    ntotal = problem.ntotal
    ngroups = len(gdata)
    p = len(sem.ov_names)
    npar = sem.npar
    logl = problem.loglik(xhat)
    if ("logl_h1",) not in shared:
        shared[("logl_h1",)] = sum(_loglik_patterns(d.cov, d.mean, d.patterns) for d in gdata)
    logl_h1 = shared[("logl_h1",)]
    xi = [sem.ov_names.index(v) for v in sem.partable.attrs.get("ov_x", [])]
    logl_x = 0.0
    if xi:
        # fixed.x: the reported likelihood is conditional on the exogenous variables (lavaan)
        logl_x = sum(_loglik_patterns(
            d.cov[np.ix_(xi, xi)], d.mean[xi],
            [_Pattern(np.arange(len(xi)), d.n, d.mean[xi], d.cov[np.ix_(xi, xi)], None)],
        ) for d in gdata)
    chisq = max(2 * (logl_h1 - logl), 0.0)
    ndat = ngroups * (p * (p + 1) // 2 + (p if ms else 0))
    # fixed.x: the moments of the observed exogenous variables are data, not statistics
    nx = len(xi)
    ndat -= ngroups * (nx * (nx + 1) // 2 + (nx if ms else 0))
    df = ndat - npar
    # baseline
    if nx:
        base = _IndependenceModel(
            p, ngroups, ms, xi, [(d.cov[np.ix_(xi, xi)], d.mean[xi]) for d in gdata]
        )
    else:
        base = _IndependenceModel(p, ngroups, ms)
    yi = base.free_idx
    xb0 = np.concatenate(
        [
            np.concatenate([np.diag(d.cov)[yi], d.mean[yi]]) if ms else np.diag(d.cov)[yi]
            for d in gdata
        ]
    )
    if miss == "fiml":
        xb0 = np.concatenate(
            [
                np.concatenate([np.nanvar(d.x, axis=0)[yi], np.nanmean(d.x, axis=0)[yi]])
                for d in gdata
            ]
        )
    bprob = _MLProblem(base, gdata, ms)
    bkey = ("baseline", ms) if not nx else ("baseline", ms, tuple(xi))
    if bkey not in shared:
        xb = xb0
        if miss == "fiml":
            xb, _, _ = _minimize(bprob, xb0)
        shared[bkey] = (xb, bprob.loglik(xb))
    xb, logl_b = shared[bkey]
    chisq_b = 2 * (logl_h1 - logl_b)
    df_b = ndat - base.npar
    fit = {
        "npar": npar,
        "fmin": chisq / (2 * ntotal),
        "chisq": chisq,
        "df": df,
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "baseline_chisq": chisq_b,
        "baseline_df": df_b,
        "baseline_pvalue": float(stats.chi2.sf(chisq_b, df_b)),
        "cfi": _cfi(chisq, df, chisq_b, df_b),
        "tli": _tli(chisq, df, chisq_b, df_b),
        "rmsea": _rmsea(chisq, df, ntotal, ngroups),
    }
    fit["rmsea_ci_lower"], fit["rmsea_ci_upper"] = _rmsea_ci(chisq, df, ntotal, ngroups)
    fit["rmsea_pvalue"] = _rmsea_pvalue(chisq, df, ntotal, ngroups)
    fit["srmr"] = _srmr(
        gdata, [(s, problem._mu(g, m)) for g, (s, m) in enumerate(sem.implied(xhat))], ms, ntotal
    )
    if xi:
        logl, logl_h1 = logl - logl_x, logl_h1 - logl_x
    fit["aic"] = -2 * logl + 2 * npar
    fit["bic"] = -2 * logl + npar * np.log(ntotal)
    fit["bic2"] = -2 * logl + npar * np.log((ntotal + 2) / 24)
    fit["logl"] = logl
    fit["unrestricted_logl"] = logl_h1
    fit["ntotal"] = ntotal
    if est == "MLR":
        if ("trace_h1", ms) not in shared:
            shared[("trace_h1", ms)] = _yb_trace_h1(gdata, ms, xi)
        th1 = shared[("trace_h1", ms)]
        c = _yb_scaling(problem, xhat, df, th1, cross, info_inv)
        if ("baseline_scaling", ms) not in shared:
            shared[("baseline_scaling", ms)] = _yb_scaling(bprob, xb, df_b, th1)
        cb = shared[("baseline_scaling", ms)]
        chisq_s = chisq / c
        chisq_bs = chisq_b / cb
        fit.update(
            chisq_scaled=chisq_s,
            df_scaled=df,
            pvalue_scaled=float(stats.chi2.sf(chisq_s, df)),
            chisq_scaling_factor=c,
            scaling_factor=c,
            baseline_chisq_scaled=chisq_bs,
            baseline_df_scaled=df_b,
            baseline_pvalue_scaled=float(stats.chi2.sf(chisq_bs, df_b)),
            baseline_chisq_scaling_factor=cb,
            cfi_scaled=_cfi(chisq_s, df, chisq_bs, df_b),
            tli_scaled=_tli(chisq_s, df, chisq_bs, df_b),
            cfi_robust=_cfi(chisq, df, chisq_b, df_b, c, cb),
            tli_robust=_tli(chisq, df, chisq_b, df_b, c, cb),
            rmsea_scaled=_rmsea(chisq_s, df, ntotal, ngroups),
        )
        fit["rmsea_ci_lower_scaled"], fit["rmsea_ci_upper_scaled"] = _rmsea_ci(
            chisq, c * df, ntotal, ngroups
        )
        fit["rmsea_pvalue_scaled"] = _rmsea_pvalue(chisq, c * df, ntotal, ngroups)
        fit["rmsea_robust"] = _rmsea(chisq, df, ntotal, ngroups, c_hat=c)
        fit["rmsea_ci_lower_robust"], fit["rmsea_ci_upper_robust"] = _rmsea_ci(
            chisq_s, df, ntotal, ngroups, c_hat=c
        )
        fit["rmsea_pvalue_robust"] = _rmsea_pvalue(chisq_s, df, ntotal, ngroups, c_hat=c)
    if miss == "fiml" and df > 0:
        # robust CFI/TLI/RMSEA with missing data: FIML-corrected statistics (as lavaan)
        try:
            t3, c3, t3b, c3b = _fiml_corrected(
                problem, xhat, bprob, xb, df, df_b, scaled=(est == "MLR"), x_idx=xi,
                shared=shared,
            )
        except np.linalg.LinAlgError:
            t3 = c3 = t3b = c3b = np.nan
        t3s = t3 / c3
        fit["cfi_robust"] = _cfi(t3, df, t3b, df_b, c3, c3b)
        fit["tli_robust"] = _tli(t3, df, t3b, df_b, c3, c3b)
        fit["rmsea_robust"] = _rmsea(t3, df, ntotal, ngroups, c_hat=c3)
        fit["rmsea_ci_lower_robust"], fit["rmsea_ci_upper_robust"] = _rmsea_ci(
            t3s, df, ntotal, ngroups, c_hat=c3
        )
        fit["rmsea_pvalue_robust"] = _rmsea_pvalue(t3s, df, ntotal, ngroups, c_hat=c3)
    return pd.Series(fit, dtype=float)


def _dwls_robust_indices(samples, resid, delta, w, Hinv, fg, nobs, df):
    """lavaan 0.6's ``cfi.robust``, ``tli.robust``, ``rmsea.robust`` for categorical data.

    Savalei (2021): the normal-theory ML discrepancy between the polychoric matrix ``R`` and
    the DWLS-implied correlation matrix ``Sigma`` (``catML``, not re-optimised),
    ``X3 = sum_g n_g (log|Sigma| + tr(R Sigma^-1) - log|R| - p)``, is corrected by
    ``c = tr(U' V U Gamma) / df`` with ``U = I - Delta E^-1 Delta' W`` (correlation rows),
    ``V`` the normal-theory information of the off-diagonal correlations; the baseline uses
    ``-log|R|`` and ``tr(Gamma) / df_null``. Not available (NaN) if a matrix is not PD.
    """
    nan = {k: np.nan for k in ("cfi.robust", "tli.robust", "rmsea.robust")}
    G = len(nobs)
    X3 = Xn = 0.0
    blocks_d, blocks_w, blocks_v, blocks_g = [], [], [], []
    for s, r, D, ww, f, n_ in zip(samples, resid, delta, w, fg, nobs):
        nth = len(s.th)
        p = s.R.shape[0]
        ii, jj = _lavaan_pairs(p)
        sig = np.eye(p)
        sig[ii, jj] = s.cor - r[nth:]
        sig[jj, ii] = sig[ii, jj]
        ev_r = np.linalg.eigvalsh(s.R)
        ev_s = np.linalg.eigvalsh(sig)
        if ev_r.min() < np.sqrt(np.finfo(float).eps) or ev_s.min() <= 0:
            return nan
        A = np.linalg.inv(sig)
        ld_s = np.sum(np.log(ev_s))
        ld_r = np.sum(np.log(ev_r))
        X3 += n_ * (ld_s + np.trace(s.R @ A) - ld_r - p)
        Xn += n_ * (-ld_r)
        V = A[ii][:, ii] * A[jj][:, jj] + A[ii][:, jj] * A[jj][:, ii]
        blocks_d.append(D[nth:])
        blocks_w.append(f * ww[nth:])
        blocks_v.append(f * V)
        blocks_g.append(s.nacov[nth:, nth:] / f)
    Dc = np.vstack(blocks_d)
    Wc = np.concatenate(blocks_w)
    Vc = _blockdiag(blocks_v)
    Gc = _blockdiag(blocks_g)
    WiU = np.eye(len(Wc)) - (Dc @ Hinv @ Dc.T) * Wc[None, :]
    c = np.trace(WiU.T @ Vc @ WiU @ Gc) / df if df > 0 else np.nan
    df_null = float(len(Wc))
    cn = np.trace(Gc) / df_null
    ntot = sum(nobs)
    t1 = max(X3 - c * df, 0.0)
    t2 = max(X3 - c * df, Xn - cn * df_null, 0.0)
    cfi = 1.0 - t1 / t2 if t2 > 0 else 1.0
    tli = 1.0 - ((X3 - c * df) * df_null) / ((Xn - cn * df_null) * df) if df > 0 else 1.0
    rmsea = np.sqrt(max((X3 - c * df) / ((ntot - G) * df), 0.0)) * np.sqrt(G) if df > 0 else 0.0
    return {"cfi.robust": float(cfi), "tli.robust": float(tli), "rmsea.robust": float(rmsea)}


def dwls_fit_measures(chisq, df, npar, F, trUG, trUG2, samples, w, gam, fg, nobs, resid):
    ntot = sum(nobs)
    G = len(nobs)
    out: dict[str, float] = {"npar": float(npar), "fmin": F / 2.0, "chisq": chisq, "df": float(df)}
    out["pvalue"] = float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan
    if df > 0:
        a = np.sqrt(df / trUG2)
        shift = df - a * trUG
        chisq_s = a * chisq + shift
    else:
        a, shift, chisq_s = np.nan, np.nan, chisq
    out.update(
        {
            "chisq.scaled": float(chisq_s),
            "df.scaled": float(df),
            "pvalue.scaled": float(stats.chi2.sf(chisq_s, df)) if df > 0 else np.nan,
            "chisq.scaling.factor": float(1.0 / a),
            "chisq.shift.parameter": float(shift),
        }
    )
    # baseline: free thresholds (per group), zero correlations
    b_chisq = 0.0
    b_delta = []
    for s, ww, n_ in zip(samples, w, nobs):
        nth = len(s.th)
        b_chisq += n_ * np.sum(ww[nth:] * s.cor**2)
    nth_tot = sum(len(s.th) for s in samples)
    col = 0
    for s in samples:
        nth = len(s.th)
        D = np.zeros((len(s.obs), nth_tot))
        D[np.arange(nth), col + np.arange(nth)] = 1.0
        col += nth
        b_delta.append(D)
    b_df = sum(len(s.cor) for s in samples)
    btr, btr2, _ = _ugamma_traces(b_delta, w, gam, fg)
    ab = np.sqrt(b_df / btr2)
    b_chisq_s = ab * b_chisq + (b_df - ab * btr)
    out.update(
        {
            "baseline.chisq": float(b_chisq),
            "baseline.df": float(b_df),
            "baseline.pvalue": float(stats.chi2.sf(b_chisq, b_df)),
            "baseline.chisq.scaled": float(b_chisq_s),
            "baseline.df.scaled": float(b_df),
            "baseline.pvalue.scaled": float(stats.chi2.sf(b_chisq_s, b_df)),
            "baseline.chisq.scaling.factor": float(1.0 / ab),
        }
    )

    def cfi(x2, d, xb, db):
        num = max(x2 - d, 0.0)
        den = max(x2 - d, xb - db, 0.0)
        return 1.0 - num / den if den > 0 else 1.0

    def tli(x2, d, xb, db):
        if d <= 0:
            return 1.0
        return (xb / db - x2 / d) / (xb / db - 1.0)

    def rmsea(x2, d):
        if d <= 0:
            return 0.0
        return float(np.sqrt(max((x2 - d) / ((ntot - G) * d), 0.0)) * np.sqrt(G))

    out["cfi"] = cfi(chisq, df, b_chisq, b_df)
    out["tli"] = tli(chisq, df, b_chisq, b_df)
    out["cfi.scaled"] = cfi(chisq_s, df, b_chisq_s, b_df)
    out["tli.scaled"] = tli(chisq_s, df, b_chisq_s, b_df)
    out["rmsea"] = rmsea(chisq, df)
    out["rmsea.scaled"] = rmsea(chisq_s, df)
    # residual-based measures (lavaan: "srmr" = srmr_bentler_nomean for categorical data)
    srm, srb, crm, crb = [], [], [], []
    for s, r in zip(samples, resid):
        nth = len(s.th)
        ssc = np.sum(r[nth:] ** 2)
        sst = np.sum(r[:nth] ** 2)
        p = s.R.shape[0]
        srm.append(np.sqrt(ssc / (p * (p + 1) / 2)))
        srb.append(np.sqrt((ssc + sst) / (p * (p + 1) / 2 + nth)))
        crm.append(np.sqrt(ssc / (p * (p - 1) / 2)))
        crb.append(np.sqrt((ssc + sst) / (p * (p - 1) / 2 + nth)))
    wsum = lambda v: float(np.sum(np.array(v) * np.array(fg)))  # noqa: E731
    out["srmr"] = wsum(srm)
    out["srmr_bentler"] = wsum(srb)
    out["srmr_bentler_nomean"] = wsum(srm)
    out["crmr"] = wsum(crb)
    out["crmr_nomean"] = wsum(crm)
    nstat = sum(len(s.obs) for s in samples) / G  # lavaan: statistics per group
    out["wrmr"] = float(
        np.sqrt(sum(n_ * np.sum(ww * r * r) for n_, r, ww in zip(nobs, resid, w)) / nstat)
    )
    return out
