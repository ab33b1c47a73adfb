"""The ML / MLR fit of a model to continuous indicators (the estimation stage of
:func:`analysis.cbsem.cfa`, lavaan ``lav_model_estimate`` + ``lav_model_vcov``).

:func:`fit_ml` prepares the data (:mod:`analysis.cbsem._ml`), builds the parameter table and the
model (:mod:`analysis.cbsem._partable`, :mod:`analysis.cbsem._matrices`), minimises the fit
function, computes the covariance matrix of the estimates (expected, observed or sandwich),
the fit measures (:mod:`analysis.cbsem._fit_measures`) and the standardised solution
(:mod:`analysis.cbsem._standardize`).

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36.
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance
structure analysis with nonnormal missing data. *Sociological Methodology*, 30, 165-200.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.cbsem._fit_measures import ml_fit_measures
from analysis.cbsem._htmt import htmt
from analysis.cbsem._matrices import SEMModel
from analysis.cbsem._ml import _minimize, _MLProblem, _score_cross
from analysis.cbsem._ml_data import _prepare
from analysis.cbsem._partable import build_partable, fill_fixed_x, start_values
from analysis.cbsem._results import CFAResults
from analysis.cbsem._standardize import _reliability, _standardized
from analysis.errors import EstimationWarning, InputError
from analysis.utils.blas import one_blas_thread as _one_blas_thread

__all__ = ["fit_ml"]


def fit_ml(model: str, data: pd.DataFrame, **kw) -> CFAResults:
    """ML / MLR fit on one BLAS thread; arguments as :func:`analysis.cbsem.cfa`."""
    with _one_blas_thread():
        return _fit_ml(model, data, **kw)


def _fit_ml(
    model: str,
    data: pd.DataFrame,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    group: str | None = None,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    std_lv: bool = False,
    meanstructure: bool | None = None,
    level: float = 0.95,
    fixed_x: bool = False,
    _shared: dict | None = None,
) -> CFAResults:
    est = str(estimator).upper()
    if est not in ("ML", "MLR"):
        raise InputError("unknown estimator", value=estimator, expected='"ML", "MLR" or "WLSMV"')
    miss = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml"}.get(str(missing).lower())
    if miss is None:
        raise InputError("unknown missing option", value=missing, expected='"listwise" or "fiml"')
    if not 0 < level < 1:
        raise InputError("level must be in (0, 1)", value=level)

    stmts_pt = build_partable(
        model,
        ngroups=1,
        std_lv=std_lv,
        observed=list(data.columns) if isinstance(data, pd.DataFrame) else None,
        fixed_x=fixed_x,
    )
    ov = stmts_pt.attrs["ov_names"]
    if _shared is not None and _shared.get("data") is not data:
        _shared.clear()
        _shared["data"] = data
    shared = (
        _shared.setdefault(("fit", tuple(ov), group, miss), {}) if _shared is not None else {}
    )
    if "prepared" not in shared:
        shared["prepared"] = _prepare(data, ov, group, miss)
    gdata, labels = shared["prepared"]
    ngroups = len(labels)
    ms = (ngroups > 1 or miss == "fiml") if meanstructure is None else bool(meanstructure)
    if miss == "fiml" and not ms:
        raise InputError("FIML needs a mean structure", value=meanstructure, expected="True")
    pt = build_partable(
        model,
        ngroups=ngroups,
        std_lv=std_lv,
        meanstructure=ms,
        group_equal=group_equal,
        group_partial=group_partial,
        fixed_x=fixed_x,
    )
    ms = bool(pt.attrs["meanstructure"])
    pt = start_values(pt, [d.cov for d in gdata], [d.mean for d in gdata])
    pt = fill_fixed_x(pt, [d.cov for d in gdata], [d.mean for d in gdata])
    sem = SEMModel(pt, group_labels=labels)
    problem = _MLProblem(sem, gdata, ms)
    warn_list: list[str] = []

    def _warn(msg):
        warn_list.append(msg)
        warnings.warn(msg, EstimationWarning, stacklevel=3)

    for d, lab in zip(gdata, labels):
        ev = np.linalg.eigvalsh(d.cov)
        if ev.min() <= 1e-10 * max(ev.max(), 1e-300):
            gl = f" (group {lab})" if ngroups > 1 else ""
            _warn(
                f"the sample covariance matrix is not positive definite{gl}: some indicators "
                "are constant or linearly dependent; the chi-square is not defined"
            )

    x0 = sem.x_start()
    xhat, converged, nit = _minimize(problem, x0)
    if not converged:
        _warn("the optimiser did not converge; estimates are not trustworthy")

    ntotal = problem.ntotal
    # ---- information and vcov
    if miss == "listwise" and est == "ML":
        info = problem.expected_information(xhat)
    else:
        info = problem.observed_information(xhat)
    vcov = None
    try:
        ev = np.linalg.eigvalsh(info)
        if ev.min() <= 1e-10 * max(ev.max(), 1.0):
            _warn(
                "the information matrix is not positive definite: the model may not be "
                "identified; standard errors are not trustworthy"
            )
        info_inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        info_inv = np.full_like(info, np.nan)
    cross = None
    if est == "MLR":
        # per group: sum of the outer products of the casewise scores (used twice)
        cross = [_score_cross(problem, xhat, g) for g in range(ngroups)]
        b = sum(cross) / ntotal
        vcov = info_inv @ b @ info_inv / ntotal
    else:
        vcov = info_inv / ntotal

    # ---- checks: Heywood cases, non-PD matrices
    for g, mats in enumerate(sem.matrices(xhat)):
        gl = f" (group {labels[g]})" if ngroups > 1 else ""
        th = np.diag(mats["theta"])
        for v, val in zip(sem.ov_names, th):
            if val < 0:
                _warn(f"Heywood case: negative residual variance of {v} ({val:.4g}){gl}")
        ps = np.diag(mats["psi"])
        for f, val in zip(sem.lv_names, ps):
            if val < 0:
                _warn(f"Heywood case: negative variance of factor {f} ({val:.4g}){gl}")
        if len(ps) and (ps >= 0).all() and np.linalg.eigvalsh(mats["psi"]).min() < -1e-10:
            _warn(f"the covariance matrix of the factors is not positive definite{gl}")
        if (th >= 0).all() and np.linalg.eigvalsh(mats["theta"]).min() < -1e-10:
            _warn(f"the residual covariance matrix is not positive definite{gl}")

    # ---- fit measures
    fit = ml_fit_measures(problem, sem, xhat, gdata, ms, est, miss, info_inv, cross, labels,
                        shared=shared.setdefault(("measures", est), {}))
    if fit["df"] < 0:
        _warn(
            f"the model has more free parameters ({int(fit['npar'])}) than sample moments "
            f"(df = {int(fit['df'])}): it is not identified"
        )

    # ---- parameter table
    est_all = sem.x_to_table(xhat)
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    fr = pt["free"].to_numpy()
    se = np.zeros(len(pt))
    se[fr > 0] = se_free[fr[fr > 0] - 1]
    zq = stats.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(fr > 0, est_all / se, np.nan)
    params = pd.DataFrame(
        {
            "lhs": pt["lhs"].to_numpy(),
            "op": pt["op"].to_numpy(),
            "rhs": pt["rhs"].to_numpy(),
            "group": pt["group"].to_numpy(),
            "group_label": [labels[g - 1] for g in pt["group"]],
            "label": pt["label"].to_numpy(),
            "free": fr > 0,
            "estimate": est_all,
            "se": se,
            "statistic": z,
            "p_value": np.where(fr > 0, 2 * stats.norm.sf(np.abs(z)), np.nan),
            "ci_low": est_all - zq * se,
            "ci_high": est_all + zq * se,
        }
    )
    std = _standardized(sem, xhat, vcov, pt, level)
    params["std_all"] = std["estimate"].to_numpy()
    cr, ave = _reliability(std, sem, labels)
    if ("htmt", model) not in shared:
        shared[("htmt", model)] = htmt(model, data)
    ht = shared[("htmt", model)].copy()
    return CFAResults(
        model=model,
        estimator=est,
        missing=miss,
        fit=fit,
        params=params,
        std_solution=std,
        composite_reliability=cr,
        ave=ave,
        htmt=ht,
        vcov=vcov,
        converged=converged,
        iterations=nit,
        nobs=[d.n for d in gdata],
        group_labels=labels,
        warnings=warn_list,
        sem_model=sem,
        _info=info,
        x=xhat,
    )
