"""Confirmatory factor analysis of ordered indicators: DWLS estimation with WLSMV inference.

The estimator of lavaan's ``cfa(..., ordered = TRUE)`` (``estimator = "WLSMV"``): the sample
statistics are the thresholds and polychoric correlations of the ordered indicators
(:mod:`analysis.psychometrics._polychoric`), the model is fitted by diagonally weighted least squares with
the inverse diagonal of their asymptotic covariance matrix as weights, standard errors are
robust (sandwich), and the test statistic is mean-and-variance adjusted ("scaled and
shifted", Asparouhov & Muthen, 2010).

Public functions
----------------
:func:`fit_wlsmv`
    Fit a model given in lavaan syntax; returns a :class:`WLSMVResult`.
:func:`wlsmv_difference_test`
    Scaled difference test between nested WLSMV fits (lavaan's ``lavTestLRT`` default,
    method ``"satorra.2000"``).
:func:`ordinal_invariance`
    Configural, thresholds and thresholds+loadings models across groups, with the tests.

The model is written with :mod:`analysis.cbsem._partable` and :mod:`analysis.cbsem._matrices`;
the delta parameterisation is used (lavaan's default): the latent responses ``y*`` have unit
variance in the first group, residual variances are ``1/delta^2 - diag(Lambda Psi Lambda')``.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.cbsem._fit_measures import _dwls_robust_indices, dwls_fit_measures
from analysis.cbsem._lrt import wlsmv_difference_test
from analysis.cbsem._partable import build_partable
from analysis.cbsem._results import WLSMVResult
from analysis.cbsem._standardize import _ordinal_std_values, _table_arrays, ordinal_std_solution
from analysis.cbsem._syntax import parse_syntax
from analysis.cbsem._wlsmv_model import (
    _dwls_fit,
    _free_deltas,
    _OrdinalModel,
    _prepare,
    _start_values,
    _ugamma_traces,
)
from analysis.cbsem._wlsmv_stats import sample_statistics
from analysis.errors import EstimationWarning, InputError
from analysis.utils.blas import one_blas_thread as _one_blas_thread
from analysis.utils.blas import single_blas_thread as _single_blas

__all__ = ["fit_wlsmv", "wlsmv_difference_test", "ordinal_invariance"]


@_single_blas
def fit_wlsmv(
    model: str,
    data: pd.DataFrame,
    ordered: Sequence[str] | bool | None = True,
    group: str | None = None,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    std_lv: bool = False,
    missing: str = "listwise",
    level: float = 0.95,
) -> WLSMVResult:
    """CFA of ordered indicators by DWLS with robust (WLSMV) inference, as lavaan.

    Parameters
    ----------
    model : str
        Lavaan model syntax (``f =~ x1 + x2 + x3``; thresholds ``x1 | t1 + t2`` optional).
    data : pandas.DataFrame
        Item responses (integer category codes).
    ordered : sequence of str or True, default True
        The ordered indicators; ``True`` (or None) = every observed variable of the model
        (lavaan ``ordered = TRUE``). Continuous indicators are not supported.
    group : str, optional
        Grouping column for a multi-group model.
    group_equal : sequence of str
        Parameters constrained equal across groups (lavaan ``group.equal``), e.g.
        ``["thresholds"]`` or ``["thresholds", "loadings"]``. With equal thresholds the
        scaling factors (delta) and latent means of groups 2..G are freed, as lavaan does.
    group_partial : sequence of str
        Parameters released from ``group_equal`` (lavaan ``group.partial``).
    std_lv : bool
        Identify factors by unit variances instead of marker loadings.
    missing : {"listwise"}
        Missing-data handling (lavaan's default for categorical data).
    level : float
        Confidence level of ``ci_low``/``ci_high``.

    Returns
    -------
    WLSMVResult

    Notes
    -----
    With sample statistics :math:`s_g=(\\hat\\tau_g,\\hat\\rho_g)`, their asymptotic covariance
    :math:`\\Gamma_g` (:func:`sample_statistics`) and :math:`W_g=\\mathrm{diag}(\\Gamma_g)^{-1}`,
    the estimate minimises :math:`F=\\sum_g \\tfrac{n_g}{n}(s_g-\\sigma_g(\\theta))'W_g
    (s_g-\\sigma_g(\\theta))` (Gauss-Newton with analytic Jacobian :math:`\\Delta_g`).
    ``chisq`` :math:`=nF`; robust covariance
    :math:`n^{-1}H^{-1}(\\sum_g f_g\\Delta_g'W_g\\Gamma_gW_g\\Delta_g)H^{-1}` with
    :math:`H=\\sum_g f_g\\Delta_g'W_g\\Delta_g`, :math:`f_g = n_g/n`. Scaled and shifted
    statistic: with :math:`U=W-W\\Delta(\\Delta'W\\Delta)^{-1}\\Delta'W`,
    :math:`a=\\sqrt{df/\\mathrm{tr}(U\\Gamma)^2}`, ``chisq.scaled`` :math:`=a\\,T+df-a\\,
    \\mathrm{tr}(U\\Gamma)`, ``chisq.scaling.factor`` :math:`=1/a`. The baseline model has
    free thresholds and zero correlations. Implied thresholds :math:`\\delta_j(\\tau_{jk}-
    \\nu_j-(\\Lambda\\alpha)_j)` and correlations :math:`\\delta_i\\delta_j(\\Lambda\\Psi
    \\Lambda')_{ij}` (delta parameterisation).

    References
    ----------
    Muthen, B. (1984). A general structural equation model with dichotomous, ordered
    categorical, and continuous latent variable indicators. *Psychometrika*, 49, 115-132.

    Muthen, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted
    least squares and quadratic estimating equations in latent variable modeling with
    categorical and continuous outcomes. Unpublished manuscript.

    Asparouhov, T., & Muthen, B. (2010). Simple second order chi-square correction.
    Mplus technical appendix.

    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.cbsem import fit_wlsmv
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(2000, 1))
    >>> y = 0.7 * f + rng.normal(size=(2000, 4)) * np.sqrt(1 - 0.49)
    >>> d = pd.DataFrame(np.digitize(y, [-1, 0, 1]) + 1, columns=["a", "b", "c", "d"])
    >>> fit = fit_wlsmv("F =~ a + b + c + d", d)  # R: lavaan::cfa(model, d, ordered = TRUE)
    >>> fit.fit_measures["df"]
    2.0
    >>> bool(np.allclose(fit.std_loadings["estimate"], 0.7, atol=0.05))
    True
    """
    if missing != "listwise":
        raise InputError(
            "only listwise deletion is available for WLSMV", value=missing, expected="'listwise'"
        )
    msgs: list[str] = []
    stmts = parse_syntax(model)
    lvs = {st.lhs for st in stmts if st.op == "=~"}
    ov = []
    for st in stmts:
        for name in (st.rhs, st.lhs) if st.op == "=~" else (st.lhs, st.rhs):
            if name and name not in lvs and name not in ov and st.op in ("=~", "~~", "~", "|"):
                if st.op == "|" and name == st.rhs:
                    continue
                ov.append(name)
    groups_codes, nlev, labels, nobs = _prepare(data, ov, ordered, group)
    G = len(groups_codes)
    if G > 1 and any(
        len(np.unique(c[:, j])) < nlev[j] for c in groups_codes for j in range(len(ov))
    ):
        raise InputError(
            "a category of an ordered variable is empty in one group",
            expected="every category observed in every group (merge sparse categories)",
        )
    pt = build_partable(
        stmts,
        ngroups=G,
        std_lv=std_lv,
        group_equal=list(group_equal),
        group_partial=list(group_partial),
        ordered={v: int(nlev[j] - 1) for j, v in enumerate(ov)},
    )
    if list(pt.attrs["ov_names"]) != ov:  # keep the data columns in the table's order
        order = [ov.index(v) for v in pt.attrs["ov_names"]]
        groups_codes = [c[:, order] for c in groups_codes]
        nlev = nlev[order]
        ov = list(pt.attrs["ov_names"])
    if G > 1 and "thresholds" in group_equal:
        pt = _free_deltas(pt)
    mtx = pt["matrix"].to_numpy(dtype=object)
    fr = pt["free"].to_numpy()
    thr_free = fr[mtx == "tau"]
    saturated = (
        G == 1
        and np.all(thr_free > 0)
        and len(np.unique(thr_free)) == len(thr_free)
        and not np.any(np.isin(thr_free, fr[mtx != "tau"]))
        and not np.any((fr > 0) & np.isin(mtx, ["delta", "nu", "alpha"]))
    )
    samples = [sample_statistics(c, nlev, cross=not saturated) for c in groups_codes]
    for g, s in enumerate(samples):
        where = f" (group {labels[g]})" if G > 1 else ""
        for text in s.warnings:
            _warn(msgs, text + where)
        if np.linalg.eigvalsh(s.R).min() <= 0:
            _warn(
                msgs,
                "The polychoric correlation matrix is not positive definite" + where + "; "
                "DWLS does not need it to be, but check the items (the robust indices are NA).",
            )
    ntot = sum(nobs)
    fg = [n_ / ntot for n_ in nobs]
    obs = [s.obs for s in samples]
    # lavaan weights and sandwiches with NACOV * n / (n - 1) (its "gamma" output is NACOV)
    gam = [s.nacov * (s.n / (s.n - 1.0)) for s in samples]
    w = [1.0 / np.diag(gg) for gg in gam]
    pt = _start_values(pt, samples)
    with _one_blas_thread():
        om = _OrdinalModel(pt, labels)
        x0 = om.model.x_start()
        x, F, converged, iterations = _dwls_fit(om, obs, w, fg, x0)
        if not converged:
            _warn(msgs, "The DWLS minimisation did not converge; estimates are doubtful.")
        sig = om.implied(x)
        resid = [o - s for o, s in zip(obs, sig)]
        delta = om.jacobian(x)
        # robust covariance of the estimates
        H = sum(f * (D.T * ww) @ D for f, D, ww in zip(fg, delta, w))
        try:
            Hinv = np.linalg.inv(H)
        except np.linalg.LinAlgError:
            Hinv = np.linalg.pinv(H)
            _warn(msgs, "The information matrix is singular (model not identified?); SEs doubtful.")
        # lavaan's sandwich uses NACOV * N / (N - G) (N total) in every group, whereas its
        # weights and test use n_g / (n_g - 1) per group (identical in one group)
        c_se = ntot / (ntot - G)
        meat = sum(
            f * (D.T * ww) @ (s_.nacov * c_se) @ (ww[:, None] * D)
            for f, D, ww, s_ in zip(fg, delta, w, samples)
        )
        vcov = Hinv @ meat @ Hinv / ntot
        # test statistics
        chisq_g = [n_ * np.sum(ww * r * r) for n_, ww, r in zip(nobs, w, resid)]
        chisq = float(sum(chisq_g))
        nstat = sum(len(o) for o in obs)
        npar = om.npar
        df = nstat - npar
        trUG, trUG2, _ = _ugamma_traces(delta, w, gam, fg)
        fm = dwls_fit_measures(chisq, df, npar, F, trUG, trUG2, samples, w, gam, fg, nobs, resid)
        # catML-based robust indices (lavaan): models without free scaling factors / means
        if not np.any((fr > 0) & np.isin(mtx, ["delta", "alpha", "nu"])):
            fm.update(_dwls_robust_indices(samples, resid, delta, w, Hinv, fg, nobs, df))
        else:
            fm.update({k: np.nan for k in ("cfi.robust", "tli.robust", "rmsea.robust")})
        # parameter table with estimates
        params = _param_table(pt, om, x, vcov, level, samples)
        std_solution = ordinal_std_solution(pt, om, x, vcov, level)
        # Heywood check: negative residual variances (delta parameterisation)
        neg = params[
            (params["op"] == "~~")
            & (params["lhs"] == params["rhs"])
            & params["lhs"].isin(ov)
            & (params["estimate"] < 0)
        ]
        if len(neg):
            _warn(
                msgs, f"Negative residual variance(s) of latent responses: {', '.join(neg['lhs'])}."
            )
    return WLSMVResult(
        params=params,
        fit_measures=fm,
        nobs=list(nobs),
        group_labels=labels,
        converged=converged,
        partable=pt,
        sample=samples,
        x=x,
        vcov=vcov,
        std_solution=std_solution,
        model=model,
        missing=missing,
        iterations=iterations,
        warnings=msgs,
        _delta=delta,
        _w=w,
        _resid=resid,
    )


def _warn(msgs, text):
    msgs.append(text)
    _warnings.warn(text, EstimationWarning, stacklevel=3)


def _param_table(pt, om: _OrdinalModel, x, vcov, level, samples):
    est, std = _ordinal_std_values(_table_arrays(pt), om, x)
    fr = pt["free"].to_numpy()
    se = np.zeros(len(pt))
    sev = np.sqrt(np.clip(np.diag(vcov), 0, None))
    se[fr > 0] = sev[fr[fr > 0] - 1]
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(fr > 0, est / np.where(se > 0, se, np.nan), np.nan)
    pval = np.where(np.isfinite(stat), 2 * stats.norm.sf(np.abs(stat)), np.nan)
    out = pd.DataFrame(
        {
            "lhs": pt["lhs"].to_numpy(),
            "op": pt["op"].to_numpy(),
            "rhs": pt["rhs"].to_numpy(),
            "group": pt["group"].to_numpy(),
            "label": pt["label"].to_numpy(),
            "free": fr,
            "estimate": est,
            "se": np.where(fr > 0, se, 0.0),
            "statistic": stat,
            "p_value": pval,
            "ci_low": np.where(fr > 0, est - z * se, est),
            "ci_high": np.where(fr > 0, est + z * se, est),
            "std_all": std,
        }
    )
    return out


def ordinal_invariance(
    model: str,
    data: pd.DataFrame,
    group: str,
    ordered: Sequence[str] | bool | None = True,
    std_lv: bool = False,
) -> tuple[dict, pd.DataFrame]:
    """Measurement invariance of ordered indicators: configural, thresholds, thresholds+loadings.

    Parameters
    ----------
    model : str
        Lavaan syntax.
    data : pandas.DataFrame
        Items and the group column.
    group : str
        Grouping column.
    ordered, std_lv
        As :func:`fit_wlsmv`.

    Returns
    -------
    fits : dict
        ``{"configural": WLSMVResult, "thresholds": ..., "thresholds_loadings": ...}``.
    table : pandas.DataFrame
        One row per model: ``model, chisq, df, chisq_scaled, cfi_scaled, rmsea_scaled,
        statistic, df_diff, p_value`` (the last three: scaled difference test against the
        previous model, lavaan ``lavTestLRT``).

    Notes
    -----
    ``group.equal = "thresholds"`` then ``c("thresholds", "loadings")`` as lavaan; see
    :func:`wlsmv_difference_test` for the test.

    References
    ----------
    Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
    different levels of invariance for ordered categorical outcomes. *Psychometrika*, 81,
    1014-1045.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.cbsem import ordinal_invariance
    >>> rng = np.random.default_rng(3)
    >>> y = 0.7 * rng.normal(size=(3000, 1)) + rng.normal(size=(3000, 4)) * 0.71
    >>> d = pd.DataFrame(np.digitize(y, [-1, 0, 1]) + 1, columns=list("abcd"))
    >>> d["g"] = np.repeat([1, 2], 1500)
    >>> fits, table = ordinal_invariance("F =~ a + b + c + d", d, "g")
    >>> # R: lavTestLRT(cfa(m, d, ordered = TRUE, group = "g"), ... group.equal = "thresholds" ...)
    >>> table["df"].tolist()
    [4.0, 11.0, 14.0]
    """
    steps = {
        "configural": [],
        "thresholds": ["thresholds"],
        "thresholds_loadings": ["thresholds", "loadings"],
    }
    fits = {
        k: fit_wlsmv(model, data, ordered=ordered, group=group, group_equal=v, std_lv=std_lv)
        for k, v in steps.items()
    }
    rows = []
    prev = None
    for k, f in fits.items():
        fm = f.fit_measures
        row = {
            "model": k,
            "chisq": fm["chisq"],
            "df": fm["df"],
            "chisq_scaled": fm["chisq.scaled"],
            "cfi_scaled": fm["cfi.scaled"],
            "rmsea_scaled": fm["rmsea.scaled"],
            "statistic": np.nan,
            "df_diff": np.nan,
            "p_value": np.nan,
        }
        if prev is not None:
            t = wlsmv_difference_test(f, prev)
            row.update(statistic=t.statistic, df_diff=t.df, p_value=t.p_value)
        rows.append(row)
        prev = f
    return fits, pd.DataFrame(rows)
