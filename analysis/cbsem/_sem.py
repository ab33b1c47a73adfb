"""Structural equation models (lavaan ``sem()``): regressions between latent and observed
variables, defined effects, bootstrap, on the engine of :func:`analysis.cbsem.cfa`.

:func:`sem` fits a model in lavaan syntax with measurement (``=~``), regressions (``~``)
between latent and observed variables, (co)variances, labels and equality constraints, and
defined parameters (``:=``); observed exogenous covariates are handled as lavaan's
``fixed.x = TRUE``. It returns the :class:`~analysis.cbsem.CFAResults` of :func:`cfa` with the
defined parameters as rows of ``params``, plus ``r2`` and ``effects``.

Moderation is done as lavaan users do it: multiple groups (``group=``, ``group_equal=``), or a
latent interaction by double-mean-centred product indicators (``interactions=``; Lin et al.,
2010); the method is written in ``notes``.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36.
Lin, G.-C., Wen, Z., Marsh, H. W., & Lin, H.-S. (2010). Structural equation models of latent
interactions: Clarification of orthogonalizing and double-mean-centering strategies.
*Structural Equation Modeling*, 17(3), 374-391.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.cbsem._bootstrap import bca_ci, bootstrap_fits, jackknife_fits, percentile_ci
from analysis.cbsem._estimators import ESTIMATORS
from analysis.cbsem._results import CFAResults
from analysis.cbsem._standardize import _standardized
from analysis.cbsem._structural import (
    DefinedParameters,
    effect_pairs,
    effect_values,
    numerical_jacobian,
    r_squared,
)
from analysis.cbsem._syntax import parse_syntax
from analysis.errors import InputError
from analysis.utils.blas import one_blas_thread

__all__ = ["sem", "product_indicators"]


def product_indicators(
    data: pd.DataFrame, first: Sequence[str], second: Sequence[str], name: str
) -> tuple[pd.DataFrame, str]:
    """Double-mean-centred product indicators of a latent interaction (Lin et al., 2010).

    Parameters
    ----------
    data : pandas.DataFrame
        The indicators.
    first, second : sequence of str
        Indicators of the two factors; matched pairs when both have as many indicators
        (in order), all products otherwise.
    name : str
        Name of the interaction factor; the product columns are ``name_1``, ``name_2``, ...

    Returns
    -------
    data : pandas.DataFrame
        A copy of ``data`` with the product columns (each indicator centred, multiplied, the
        product centred again).
    line : str
        The measurement line of the interaction factor, ``name =~ name_1 + ...``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1.0, 2, 3], "b": [2.0, 2, 5]})
    >>> out, line = product_indicators(d, ["a"], ["b"], "AxB")
    >>> line, round(float(out["AxB_1"].mean()), 12)
    ('AxB =~ AxB_1', 0.0)
    """
    pairs = (
        list(zip(first, second))
        if len(first) == len(second)
        else [(a, b) for a in first for b in second]
    )
    out = data.copy()
    cols = []
    for k, (a, b) in enumerate(pairs, start=1):
        xa = pd.to_numeric(data[a], errors="coerce")
        xb = pd.to_numeric(data[b], errors="coerce")
        prod = (xa - xa.mean()) * (xb - xb.mean())
        out[f"{name}_{k}"] = prod - prod.mean()
        cols.append(f"{name}_{k}")
    return out, f"{name} =~ " + " + ".join(cols)


def _identification(res: CFAResults, stmts) -> None:
    info = res._info
    if info is None or not np.all(np.isfinite(info)):
        return
    ev, vecs = np.linalg.eigh(info)
    if ev.min() > 1e-8 * max(ev.max(), 1.0):
        return
    k = int(np.argmax(np.abs(vecs[:, 0])))
    pt = res.sem_model.partable
    row = pt[pt["free"] == k + 1].iloc[0]
    line = next(
        (s.line for s in stmts if (s.lhs, s.op, s.rhs) == (row["lhs"], row["op"], row["rhs"])),
        None,
    )
    where = f"model line {line}" if line is not None else "a default parameter"
    rank = int(np.sum(ev > 1e-8 * max(ev.max(), 1.0)))
    raise InputError(
        f"the model is not identified: its information matrix has rank {rank} for "
        f"{len(ev)} free parameters, and {row['lhs']} {row['op']} {row['rhs']} ({where}) "
        "cannot be estimated",
        row=line,
        value=f"{row['lhs']} {row['op']} {row['rhs']}",
    )


def _inference(est, se, level, lo=None, hi=None):
    zq = stats.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    p = np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(z)), np.nan)
    if lo is None:
        lo, hi = est - zq * se, est + zq * se
    return z, p, lo, hi


def sem(
    model: str,
    data: pd.DataFrame,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    se: str = "standard",
    bootstrap: int = 1000,
    ci: str = "percentile",
    seed: int | None = None,
    group: str | None = None,
    group_equal: Sequence[str] | None = None,
    group_partial: Sequence[str] = (),
    std_lv: bool = False,
    fixed_x: bool = True,
    interactions: Sequence[tuple[str, str]] = (),
    level: float = 0.95,
) -> CFAResults:
    """Structural equation model (lavaan ``sem()``).

    Parameters
    ----------
    model : str
        Lavaan syntax: ``=~``, ``~`` (latent or observed on either side), ``~~``, ``~ 1``,
        labels ``a*x``, ``a == b``, defined parameters ``ind := a*b``.
    data : pandas.DataFrame
        One row per case.
    estimator : {"ML", "MLR", "WLSMV"}
        ``"MLR"``: ML estimates with sandwich SEs and scaled tests (as :func:`cfa`).
        ``"WLSMV"``: ordered indicators (:func:`analysis.cbsem.fit_wlsmv`), without ``r2``,
        ``effects`` or bootstrap.
    missing : {"listwise", "fiml"}
        As :func:`cfa` (``"fiml"`` is lavaan ``missing = "ml"``).
    se : {"standard", "robust", "bootstrap"}
        ``"robust"`` uses the MLR sandwich; ``"bootstrap"`` case resampling (``bootstrap``
        draws) with percentile or BCa intervals (``ci``).
    bootstrap : int
        Number of draws.
    ci : {"percentile", "bca"}
        Bootstrap interval.
    seed : int, optional
        Seed of the resampling (the same seed gives the same draws).
    group, group_equal, group_partial, std_lv
        As :func:`cfa` (multiple groups: moderation by a grouping variable).
    fixed_x : bool
        Observed exogenous covariates keep their sample moments (lavaan's default).
    interactions : sequence of (str, str)
        Latent interactions ``(F1, F2)``: a factor ``F1xF2`` measured by double-mean-centred
        product indicators of F1's and F2's indicators, usable in the regressions.
    level : float
        Confidence level.

    Returns
    -------
    CFAResults
        ``params`` (defined parameters as rows with ``op == ":="``), ``fit``, ``std_solution``,
        ``r2`` (Series by endogenous variable; ``(group, variable)`` with groups), ``effects``
        (``group, outcome, predictor, effect, estimate, se, statistic, p_value, ci_low,
        ci_high`` with ``effect`` in direct / indirect / total), ``boot`` (the draws) and
        ``notes`` (methods used).

    Raises
    ------
    InputError
        For an unknown variable or label, an unidentified model (rank of the information
        matrix), or a combination lavaan refuses (WLSMV with FIML, WLSMV with bootstrap); the
        message names the model line.

    Notes
    -----
    Defined parameters have delta-method SEs (numerical Jacobian, as lavaan) or the SD of
    their bootstrap draws. Effects: ``total = (I - B)^-1 - I``, ``direct = B``,
    ``indirect = total - direct`` over the regressions, with delta-method or bootstrap SEs.
    With ``se="bootstrap"`` the SEs are the SDs of the draws (failed draws dropped, as
    lavaan), the z statistics use them, and the intervals are percentile or BCa.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis import config
    >>> from analysis.cbsem import sem
    >>> pd_ = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "political_democracy.csv")
    >>> m = "y1 ~ a*x1\\ny5 ~ b*y1 + cp*x1\\nindirect := a*b"
    >>> res = sem(m, pd_)  # R: lavaan::sem(m, PoliticalDemocracy)
    >>> row = res.params.set_index("lhs").loc["indirect"]
    >>> round(float(row["estimate"]), 4), round(float(row["se"]), 4)
    (0.8344, 0.2544)
    """
    est = str(estimator).upper()
    if est not in ESTIMATORS:
        raise InputError("unknown estimator", value=estimator, expected='"ML", "MLR" or "WLSMV"')
    miss = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml"}.get(str(missing).lower())
    if miss is None:
        raise InputError("unknown missing option", value=missing, expected='"listwise" or "fiml"')
    se = str(se).lower()
    if se not in ("standard", "robust", "bootstrap"):
        raise InputError(
            "unknown se option", value=se, expected='"standard", "robust" or "bootstrap"'
        )
    ci = str(ci).lower()
    if ci not in ("percentile", "bca"):
        raise InputError("unknown bootstrap interval", value=ci, expected='"percentile" or "bca"')
    entry = ESTIMATORS[est]
    if entry.ordinal and miss == "fiml":
        raise InputError(
            "WLSMV cannot be combined with missing='fiml' (lavaan refuses it too): use "
            "missing='listwise', or estimator='MLR' for FIML",
            value=missing,
        )
    if entry.ordinal and se == "bootstrap":
        raise InputError("the bootstrap is available for ML and MLR only, not for WLSMV", value=se)
    if se == "bootstrap" and int(bootstrap) < 2:
        raise InputError("bootstrap needs at least 2 draws", value=bootstrap)
    notes: list[str] = []
    for f1, f2 in interactions:
        stmts0 = parse_syntax(model)
        ind = {f: [s.rhs for s in stmts0 if s.op == "=~" and s.lhs == f] for f in (f1, f2)}
        for f in (f1, f2):
            if not ind[f]:
                raise InputError(
                    f"the interaction {f1} x {f2} names {f}, which is not a factor of the model",
                    value=f,
                )
        data, line = product_indicators(data, ind[f1], ind[f2], f"{f1}x{f2}")
        model = model + "\n" + line
        notes.append(
            f"moderation: latent interaction {f1}x{f2} by double-mean-centred product "
            "indicators (Lin et al., 2010), "
            + ("matched pairs" if len(ind[f1]) == len(ind[f2]) else "all pairs")
        )
    if group is not None:
        notes.append(f"moderation: multiple groups by {group}")
    stmts = parse_syntax(model)
    group_equal = tuple(group_equal or ())
    if entry.ordinal:
        return entry.fit(
            model,
            data,
            ordered=True,
            group=group,
            group_equal=group_equal,
            group_partial=group_partial,
            std_lv=std_lv,
            level=level,
        )
    fit_est = "MLR" if se == "robust" else est
    shared: dict = {}
    res = entry.fit(
        model,
        data,
        estimator=fit_est,
        missing=miss,
        group=group,
        group_equal=group_equal,
        group_partial=group_partial,
        std_lv=std_lv,
        level=level,
        fixed_x=fixed_x,
        _shared=shared,
    )
    _identification(res, stmts)
    model_obj = res.sem_model
    pt = model_obj.partable
    defined = DefinedParameters(pt.attrs.get("defined", []), pt)
    xhat = res.x
    pairs = effect_pairs(model_obj)

    def def_values(z):
        return defined.from_table(model_obj.x_to_table(z))

    def eff_values(z):
        return effect_values(model_obj, z, pairs)

    params = res.params.copy()
    std = res.std_solution
    vcov = res.vcov
    boot = None
    if se == "bootstrap":
        gdata, _labels = next(v["prepared"] for k, v in shared.items() if k[0] == "fit")
        rng = np.random.default_rng(seed)
        with one_blas_thread():
            boot = bootstrap_fits(
                model_obj, gdata, model_obj.meanstructure, xhat, int(bootstrap), rng
            )
        ok = np.all(np.isfinite(boot), axis=1)
        if (~ok).any():
            notes.append(
                f"bootstrap: {int((~ok).sum())} of {len(boot)} draws failed and were dropped"
            )
        boot = boot[ok]
        vcov = np.cov(boot, rowvar=False)
        jack = None
        if ci == "bca":
            with one_blas_thread():
                jack = jackknife_fits(model_obj, gdata, model_obj.meanstructure, xhat)
        notes.append(
            f"standard errors: bootstrap ({len(boot)} case-resampling draws, "
            f"{'BCa' if ci == 'bca' else 'percentile'} intervals)"
        )

        def boot_summary(func, estimate):
            draws = np.array([func(b) for b in boot]).reshape(len(boot), -1)
            sd = np.nanstd(draws, axis=0, ddof=1)
            if ci == "bca":
                jd = np.array([func(b) for b in jack]).reshape(len(jack), -1)
                lo, hi = bca_ci(draws, estimate, jd, level)
            else:
                lo, hi = percentile_ci(draws, level)
            return sd, lo, hi

        table = model_obj.x_to_table(xhat)
        fr = pt["free"].to_numpy()
        sd, lo, hi = boot_summary(model_obj.x_to_table, table)
        sd = np.where(fr > 0, sd, 0.0)
        lo = np.where(fr > 0, lo, table)
        hi = np.where(fr > 0, hi, table)
        z, p, lo, hi = _inference(table, sd, level, lo, hi)
        params["se"], params["statistic"], params["p_value"] = (
            sd,
            np.where(fr > 0, z, np.nan),
            np.where(fr > 0, p, np.nan),
        )
        params["ci_low"], params["ci_high"] = lo, hi
        std = _standardized(model_obj, xhat, vcov, pt, level)
        params["std_all"] = std["estimate"].to_numpy()
    # ---- defined parameters
    if len(defined):
        dval = def_values(xhat)
        if boot is not None:
            dse, dlo, dhi = boot_summary(def_values, dval)
            dz, dp, dlo, dhi = _inference(dval, dse, level, dlo, dhi)
        else:
            jac = numerical_jacobian(def_values, xhat)
            dse = np.sqrt(np.clip(np.diag(jac @ vcov @ jac.T), 0, None))
            dz, dp, dlo, dhi = _inference(dval, dse, level)
        std_table = std["estimate"].to_numpy()
        dstd = defined.from_table(std_table)
        rows = pd.DataFrame(
            {
                "lhs": defined.names,
                "op": ":=",
                "rhs": defined.exprs,
                "group": 0,
                "group_label": "",
                "label": defined.names,
                "free": False,
                "estimate": dval,
                "se": dse,
                "statistic": dz,
                "p_value": dp,
                "ci_low": dlo,
                "ci_high": dhi,
                "std_all": dstd,
            }
        )
        params = pd.concat([params, rows], ignore_index=True)
    # ---- R-squared and effects
    r2s = r_squared(model_obj, xhat)
    if len(r2s) == 1:
        r2 = pd.Series(r2s[0], name="r2", dtype=float).rename_axis("variable")
    else:
        r2 = pd.Series(
            {(lab, v): val for lab, d in zip(res.group_labels, r2s) for v, val in d.items()},
            name="r2",
            dtype=float,
        ).rename_axis(["group", "variable"])
    effects = None
    if pairs:
        ev = eff_values(xhat)
        if boot is not None:
            ese, elo, ehi = boot_summary(eff_values, ev)
            ez, ep, elo, ehi = _inference(ev, ese, level, elo, ehi)
        else:
            jac = numerical_jacobian(eff_values, xhat)
            ese = np.sqrt(np.clip(np.diag(jac @ vcov @ jac.T), 0, None))
            ese[ese < 1e-12] = 0.0
            ez, ep, elo, ehi = _inference(ev, ese, level)
        recs = []
        for k, (g, o, pr, has_d, has_i) in enumerate(pairs):
            for j, kind in enumerate(("direct", "indirect", "total")):
                if (kind == "direct" and not has_d) or (kind == "indirect" and not has_i):
                    continue
                i = 3 * k + j
                recs.append(
                    {
                        "group": g,
                        "group_label": res.group_labels[g - 1],
                        "outcome": o,
                        "predictor": pr,
                        "effect": kind,
                        "estimate": ev[i],
                        "se": ese[i],
                        "statistic": ez[i],
                        "p_value": ep[i],
                        "ci_low": elo[i],
                        "ci_high": ehi[i],
                    }
                )
        effects = pd.DataFrame(recs)
    res.params = params
    res.std_solution = std
    res.vcov = vcov
    res.r2 = r2
    res.effects = effects
    res.boot = boot
    res.notes = notes
    return res
