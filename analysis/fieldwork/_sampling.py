"""Draw a stratified sample of organisations from a list frame.

The frame is a list of organisations (one row each, CSV or XLSX). Strata are
the crossing of one or more frame columns (usually region x legal form); the
region and legal-form names are harmonised as cleaning does
(:func:`analysis.study._regions.match_regions`; legal forms by their code or their
French / Arabic label in ``questionnaire/choices.csv``).

Allocation of the sample size ``n`` to the strata
--------------------------------------------------
``proportional``
    ``n_h`` is ``n N_h / N`` rounded by the largest-remainder rule: every
    stratum gets the integer part, the units left go to the largest fractional
    parts (ties: frame order of the strata). Every ``n_h`` is then within one
    unit of ``n N_h / N`` and the total is exactly ``n``.
``equal``
    ``n / H`` per stratum (same rounding), never more than ``N_h``.
``neyman``
    ``n_h`` proportional to ``N_h S_h`` (``S_h`` the standard deviation of
    the main variable in the stratum, from a file), never more than ``N_h``.

A stratum capped at ``N_h`` (take-all) or raised to ``min_per_stratum`` keeps
that size and the rest of ``n`` is allocated again over the other strata by
the same rule, until no stratum moves (so the total stays ``n``).

Sample size for a margin of error
---------------------------------
For a proportion (worst case ``p = 0.5``), 95 % confidence (``z = 1.959964``)
and a margin of error ``E``: ``n0 = z^2 p (1 - p) / E^2`` and, with the finite
population correction, ``n = ceil(n0 / (1 + (n0 - 1) / N))`` (Cochran 1977,
eq. 4.2). The expected margin of error of each stratum for its ``n_h`` is
``z sqrt(p (1 - p) / n_h (N_h - n_h) / (N_h - 1))``; the overall one is that of
the stratified estimator, ``z sqrt(sum W_h^2 p (1 - p) / n_h (1 - n_h / N_h))``.

Draw
----
Within each stratum (in frame order of the strata), the frame rows are
shuffled by ``numpy.random.default_rng(seed)``: the first ``n_h`` form the
main sample (``reserve_rank`` 0), the next ones are the replacements, used in
the order of their ``reserve_rank`` 1, 2, ... when an organisation of the same
stratum refuses or cannot be found. Same frame, same options and same seed
give the same sample.

References
----------
Cochran, W. G. (1977). *Sampling Techniques* (3rd ed.). Wiley. Sections 4.4, 5.5, 5.9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError

__all__ = ["SampleResult", "draw_sample", "read_frame", "sample_size_for_moe", "allocate",
           "harmonise_frame", "ALLOCATIONS"]

ALLOCATIONS = ("proportional", "equal", "neyman")
Z95 = 1.959963984540054


# --------------------------------------------------------------------------- sizes


def sample_size_for_moe(moe: float, N: float, p: float = 0.5, z: float = Z95) -> int:
    """Sample size giving a margin of error ``moe`` for a proportion, with the finite population correction.

    Parameters
    ----------
    moe : float
        Margin of error, as a proportion (0.05 for +/- 5 points).
    N : float
        Population size (frame size).
    p : float
        Assumed proportion (0.5, the worst case).
    z : float
        Normal quantile (1.96 for 95 %).

    Returns
    -------
    int
        ``ceil(n0 / (1 + (n0 - 1) / N))`` with ``n0 = z^2 p (1 - p) / moe^2``.

    Examples
    --------
    >>> sample_size_for_moe(0.05, 10**9)   # the classic 385 (fpc negligible)
    385
    >>> sample_size_for_moe(0.05, 1000)
    278
    """
    if not (0 < float(moe) < 1):
        raise InputError("the margin of error must be a proportion between 0 and 1", value=moe,
                         expected="e.g. 0.05 for +/- 5 points")
    n0 = z * z * p * (1 - p) / (moe * moe)
    n = n0 / (1 + (n0 - 1) / float(N))
    return int(min(math.ceil(n - 1e-9), int(N)))


def _moe(n_h: np.ndarray, N_h: np.ndarray, p: float = 0.5, z: float = Z95) -> np.ndarray:
    n_h = np.asarray(n_h, dtype=float)
    N_h = np.asarray(N_h, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fpc = np.where(N_h > 1, (N_h - n_h) / (N_h - 1), 0.0)
        out = z * np.sqrt(p * (1 - p) / n_h * np.clip(fpc, 0, None))
    return np.where(n_h > 0, out, np.nan)


def _overall_moe(n_h, N_h, p: float = 0.5, z: float = Z95) -> float:
    n_h = np.asarray(n_h, dtype=float)
    N_h = np.asarray(N_h, dtype=float)
    W = N_h / N_h.sum()
    ok = n_h > 0
    var = np.sum(W[ok] ** 2 * p * (1 - p) / n_h[ok] * (1 - n_h[ok] / N_h[ok]))
    return float(z * math.sqrt(var))


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if total <= 0 or len(w) == 0:
        return np.zeros(len(w), dtype=np.int64)
    s = w.sum()
    q = total * w / s if s > 0 else np.full(len(w), total / len(w))
    base = np.floor(q + 1e-12).astype(np.int64)
    left = int(total - base.sum())
    if left > 0:
        frac = q - base
        order = np.lexsort((np.arange(len(w)), -frac))  # largest remainder, then frame order
        base[order[:left]] += 1
    return base


def allocate(n: int, N_h, *, allocation: str = "proportional", sd=None,
             min_per_stratum: int | None = None) -> np.ndarray:
    """Allocate ``n`` units to strata of sizes ``N_h``.

    Parameters
    ----------
    n : int
        Total sample size (at most ``sum(N_h)``).
    N_h : array-like of int
        Frame size of every stratum.
    allocation : {"proportional", "equal", "neyman"}
        The rule (see the module notes).
    sd : array-like of float, optional
        Standard deviation of each stratum (``neyman`` only).
    min_per_stratum : int, optional
        Every stratum gets at least ``min(min_per_stratum, N_h)``; the others give up the units.

    Returns
    -------
    numpy.ndarray of int
        ``n_h``, summing to ``n``, each in ``[0, N_h]``.

    Examples
    --------
    >>> allocate(10, [50, 30, 20]).tolist()
    [5, 3, 2]
    >>> allocate(10, [70, 25, 5], min_per_stratum=2).tolist()
    [6, 2, 2]
    >>> allocate(6, [100, 100], allocation="neyman", sd=[1.0, 2.0]).tolist()
    [2, 4]
    """
    N_h = np.asarray(N_h, dtype=np.int64)
    n = int(n)
    if allocation not in ALLOCATIONS:
        raise InputError("unknown allocation", value=allocation, expected=", ".join(ALLOCATIONS))
    if (N_h < 0).any():
        raise InputError("a stratum size is negative", value=int(N_h.min()), expected="N_h >= 0")
    if n < 0 or n > int(N_h.sum()):
        raise InputError("the sample size must be between 0 and the frame size", value=n,
                         expected=f"0 <= n <= {int(N_h.sum())}")
    if allocation == "proportional":
        w = N_h.astype(float)
    elif allocation == "equal":
        w = (N_h > 0).astype(float)
    else:
        if sd is None:
            raise InputError("neyman allocation needs the standard deviation of each stratum",
                             expected="--sd FILE with a column sd per stratum")
        s = np.asarray(sd, dtype=float)
        if len(s) != len(N_h) or np.isnan(s).any() or (s < 0).any():
            raise InputError("neyman allocation needs a standard deviation >= 0 for every stratum",
                             expected="one sd per stratum")
        w = N_h * s
        if w.sum() <= 0:
            w = N_h.astype(float)
    floor = np.zeros(len(N_h), dtype=np.int64)
    if min_per_stratum:
        floor = np.minimum(int(min_per_stratum), N_h)
        if floor.sum() > n:
            raise InputError("the minimum per stratum asks for more units than the sample size",
                             value=int(min_per_stratum),
                             expected=f"min_per_stratum x strata <= n (here {int(floor.sum())} > {n})")
    fixed = np.full(len(N_h), -1, dtype=np.int64)
    fixed[N_h == 0] = 0
    while True:
        free = fixed < 0
        rest = n - int(fixed[~free].sum())
        out = fixed.copy()
        if free.any():
            wf = w[free]
            if wf.sum() <= 0:
                wf = N_h[free].astype(float)
            out[free] = _largest_remainder(max(rest, 0), wf)
        over = free & (out > N_h)
        under = free & (out < floor)
        if over.any():  # take-all strata first, then the minimum, one kind per pass
            fixed[over] = N_h[over]
        elif under.any():
            fixed[under] = floor[under]
        else:
            break
    # a cap and a minimum fixed in turn may overshoot or undershoot n: move single units,
    # where the unit is furthest from its share, within [floor, N_h]
    target = n * w / w.sum() if w.sum() > 0 else n * N_h / max(N_h.sum(), 1)
    while out.sum() > n:
        room = np.flatnonzero(out > floor)
        out[room[np.argmax((out - target)[room])]] -= 1
    while out.sum() < n:
        room = np.flatnonzero(out < N_h)
        out[room[np.argmax((target - out)[room])]] += 1
    return out


# --------------------------------------------------------------------------- frame


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read a list frame (CSV with ``,`` or ``;``, or XLSX) as text columns.

    Examples
    --------
    >>> read_frame("missing.csv")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    analysis.errors.InputError: the sampling frame file does not exist
    """
    path = Path(path)
    if not path.exists():
        raise InputError("the sampling frame file does not exist", file=str(path))
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        df = pd.read_excel(path, dtype=str).fillna("")
    else:
        head = path.read_bytes()[:4096].decode("utf-8-sig", errors="replace").splitlines()
        first = next((line for line in head if not line.startswith("#")), "")
        sep = ";" if first.count(";") > first.count(",") else ","
        df = pd.read_csv(path, sep=sep, dtype=str, comment="#", keep_default_na=False, encoding="utf-8-sig")
    if len(df) == 0:
        raise InputError("the sampling frame has no organisation", file=str(path),
                         expected="one row per organisation")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _legal_form_table() -> dict[str, str]:
    from analysis import config
    from analysis.study._regions import fold_key
    from analysis.xlsform._form import read_form

    form = read_form(config.QUESTIONNAIRE_DIR)
    table: dict[str, str] = {}
    for code in form.choices.get("legal_form", []):
        for text in (code, form.choice_labels.get("legal_form", {}).get(code, ""),
                     form.choice_labels_ar.get("legal_form", {}).get(code, "")):
            if text:
                table[fold_key(text)] = code
    return table


def harmonise_frame(frame: pd.DataFrame, *, region: str = "region", legal_form: str = "legal_form",
                    file: str | None = None) -> pd.DataFrame:
    """Region names to the codes ``R01``..``R12`` and legal forms to their codes, as cleaning does.

    Columns that are absent are left alone. A region or a legal form that cannot be
    matched stops with one sentence naming the row.

    Examples
    --------
    >>> f = pd.DataFrame({"region": ["casablanca - settat", "R01"], "legal_form": ["Coopérative", "association"]})
    >>> harmonise_frame(f).values.tolist()
    [['R06', 'cooperative'], ['R01', 'association']]
    """
    from analysis.study._regions import fold_key, match_regions

    out = frame.copy()
    if region in out.columns:
        m = match_regions(out[region].astype(str), provinces=out["province"] if "province" in out else None)
        bad = pd.isna(m.codes)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{int(bad.sum())} region name(s) of the frame cannot be matched to a 2015 region "
                             f"({m.status[i]})", file=file, row=i + 2, column=region, value=out[region].iloc[i],
                             expected="a region code R01..R12 or its name")
        out[region] = m.codes.astype(object)
    if legal_form in out.columns:
        table = _legal_form_table()
        keys = out[legal_form].astype(str).map(fold_key)
        codes = keys.map(table)
        bad = codes.isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{int(bad.sum())} legal form(s) of the frame are not in the questionnaire's list",
                             file=file, row=i + 2, column=legal_form, value=out[legal_form].iloc[i],
                             expected=", ".join(sorted(set(table.values()))))
        out[legal_form] = codes.astype(object)
    return out


# --------------------------------------------------------------------------- result


@dataclass
class SampleResult:
    """Result of :func:`draw_sample`.

    Attributes
    ----------
    sample : pandas.DataFrame
        The frame rows drawn (main sample and replacements), with ``stratum``,
        ``inclusion_prob`` (``n_h / N_h``), ``design_weight`` (``N_h / n_h``) and
        ``reserve_rank`` (0 main sample; 1, 2, ... replacements in the order to use them).
    allocation : pandas.DataFrame
        One row per stratum: ``stratum``, the stratum columns, ``N_h``, ``n_h``,
        ``target_completes`` (= ``n_h``), ``reserve`` (replacements drawn),
        ``expected_moe`` (margin of error of a proportion, p = 0.5, 95 %).
    frame_counts : pandas.DataFrame
        Stratum columns and ``N`` (the format of ``questionnaire/sampling_frame.csv``).
    n : int
        Main sample size.
    overall_moe : float
        Expected margin of error of a proportion over the whole population.
    strata : list of str
    allocation_method : str
    seed : int or None
    """

    sample: pd.DataFrame
    allocation: pd.DataFrame
    frame_counts: pd.DataFrame
    n: int
    overall_moe: float
    strata: list[str]
    allocation_method: str
    seed: int | None
    notes: list[str] = field(default_factory=list)

    def population_yaml(self) -> str:
        """The frame counts as a ``population.yaml`` table (read by :func:`analysis.study.load_population_totals`)."""
        import yaml

        cells = [{"code": str(r.stratum), "count": int(r.N_h), "source": "frame"}
                 for r in self.allocation.itertuples(index=False)]
        spec = {
            "version": 1,
            "sources": {"frame": "Sampling frame used to draw the sample (si-survey sample)."},
            "tables": {"organisations_by_stratum": {
                "description": f"Organisations of the frame by stratum ({' x '.join(self.strata)}).",
                "variable": "stratum", "total": int(self.allocation["N_h"].sum()), "source": "frame",
                "cells": cells}},
        }
        return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``sample.csv``, ``allocation.csv``, ``sampling_frame.csv`` and ``population.yaml``."""
        from analysis.utils.atomic import atomic_write_text

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"sample": out / "sample.csv", "allocation": out / "allocation.csv",
                 "frame_counts": out / "sampling_frame.csv", "population": out / "population.yaml"}
        atomic_write_text(paths["sample"], self.sample.to_csv(index=False))
        atomic_write_text(paths["allocation"], self.allocation.to_csv(index=False))
        head = ("# Frame counts per stratum written by si-survey sample "
                f"(allocation {self.allocation_method}, seed {self.seed}).\n"
                "# Copy to questionnaire/sampling_frame.csv so that the design weights N_h / n_h use them.\n")
        atomic_write_text(paths["frame_counts"], head + self.frame_counts.to_csv(index=False))
        atomic_write_text(paths["population"], self.population_yaml())
        return paths


def _read_sd(sd, strata: list[str], keys: pd.DataFrame) -> np.ndarray:
    if isinstance(sd, (str, Path)):
        p = Path(sd)
        if not p.exists():
            raise InputError("the standard deviation file does not exist", file=str(p))
        sd = pd.read_csv(p, dtype=str, sep=None, engine="python")
    if isinstance(sd, dict):
        sd = pd.DataFrame({"stratum": list(sd), "sd": list(sd.values())})
    sd = sd.copy()
    if "sd" not in sd.columns:
        raise InputError("the standard deviation file needs a column sd", expected="stratum columns (or stratum) and sd")
    if "stratum" not in sd.columns:
        miss = [c for c in strata if c not in sd.columns]
        if miss:
            raise InputError("the standard deviation file lacks stratum columns", column=", ".join(miss))
        sd = harmonise_frame(sd.astype({c: str for c in strata}))
        sd["stratum"] = sd[strata].astype(str).agg("_".join, axis=1)
    lut = dict(zip(sd["stratum"].astype(str), pd.to_numeric(sd["sd"], errors="coerce")))
    vals = keys["stratum"].map(lut)
    if vals.isna().any():
        i = int(np.flatnonzero(vals.isna().to_numpy())[0])
        raise InputError("a stratum has no standard deviation", value=keys["stratum"].iloc[i],
                         expected="one numeric sd per stratum")
    return vals.to_numpy(dtype=float)


def draw_sample(frame: pd.DataFrame | str | Path, n: int | None = None, moe: float | None = None, *,
                strata: list[str] | str = ("region", "legal_form"), allocation: str = "proportional",
                sd=None, min_per_stratum: int | None = None, reserve: float = 0, seed: int | None = None,
                harmonise: bool = True) -> SampleResult:
    """Draw a stratified simple random sample without replacement from a list frame.

    Parameters
    ----------
    frame : pandas.DataFrame or path
        One row per organisation (CSV/XLSX path or a DataFrame).
    n : int, optional
        Main sample size. Exactly one of ``n`` and ``moe``.
    moe : float, optional
        Margin of error wanted for a proportion over the whole frame: ``n`` is
        :func:`sample_size_for_moe` (p = 0.5, 95 %, finite population correction).
    strata : list of str or str
        Frame columns whose crossing makes the strata (``"region,legal_form"`` accepted).
    allocation : {"proportional", "equal", "neyman"}
    sd : path, DataFrame or dict, optional
        Standard deviation per stratum (``neyman``): stratum columns (or ``stratum``) and ``sd``.
    min_per_stratum : int, optional
        Minimum sample size of every stratum (capped at ``N_h``).
    reserve : float
        Replacements drawn per stratum: an integer count (``>= 1``), or a share of ``n_h``
        (``0 < reserve < 1``, rounded up); never more than the stratum has left.
    seed : int, optional
        Seed of ``numpy.random.default_rng``.
    harmonise : bool
        Harmonise the ``region`` and ``legal_form`` columns (see :func:`harmonise_frame`).

    Returns
    -------
    SampleResult

    Examples
    --------
    >>> f = pd.DataFrame({"org": range(100), "region": ["R01"] * 60 + ["R02"] * 40,
    ...                   "legal_form": ["association"] * 100})
    >>> r = draw_sample(f, n=10, strata=["region", "legal_form"], reserve=2, seed=1)
    >>> r.allocation[["stratum", "N_h", "n_h"]].values.tolist()
    [['R01_association', 60, 6], ['R02_association', 40, 4]]
    >>> r.sample["reserve_rank"].value_counts().sort_index().tolist()
    [10, 2, 2]
    """
    file = None
    if isinstance(frame, (str, Path)):
        file = str(frame)
        frame = read_frame(frame)
    if isinstance(strata, str):
        strata = [s.strip() for s in strata.split(",") if s.strip()]
    strata = list(strata)
    if not strata:
        raise InputError("at least one stratum column is needed", expected="--strata region,legal_form")
    miss = [c for c in strata if c not in frame.columns]
    if miss:
        raise InputError("stratum column(s) absent from the frame", file=file, column=", ".join(miss),
                         expected=", ".join(map(str, frame.columns)))
    if (n is None) == (moe is None):
        raise InputError("give either a sample size n or a margin of error moe", expected="--n N or --moe E")
    frame = frame.reset_index(drop=True)
    if harmonise:
        frame = harmonise_frame(frame, file=file)
    vals = frame[strata].astype(str)
    empty = (vals.apply(lambda s: s.str.strip()) == "").any(axis=1).to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError("an organisation of the frame has no stratum value", file=file, row=i + 2,
                         expected="every stratum column filled")
    key = vals.agg("_".join, axis=1) if len(strata) > 1 else vals[strata[0]]
    codes, uniq = pd.factorize(key, sort=True)
    N_h = np.bincount(codes, minlength=len(uniq)).astype(np.int64)
    N = int(N_h.sum())
    if moe is not None:
        n = sample_size_for_moe(float(moe), N)
    n = int(n)
    first = pd.Series(np.arange(len(key))).groupby(codes).first().to_numpy()
    keys = pd.DataFrame({"stratum": np.asarray(uniq, dtype=object)})
    for c in strata:
        keys[c] = vals[c].to_numpy()[first]
    sd_h = _read_sd(sd, strata, keys) if allocation == "neyman" else None
    n_h = allocate(n, N_h, allocation=allocation, sd=sd_h, min_per_stratum=min_per_stratum)
    reserve = float(reserve or 0)
    if reserve < 0:
        raise InputError("the reserve cannot be negative", value=reserve, expected="a count >= 1 or a share in (0, 1)")
    if 0 < reserve < 1:
        r_h = np.ceil(reserve * n_h).astype(np.int64)
    else:
        r_h = np.full(len(N_h), int(reserve), dtype=np.int64)
    r_h = np.minimum(r_h, N_h - n_h)

    rng = np.random.default_rng(seed)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(N_h)])
    rows, rank = [], []
    for h in range(len(N_h)):
        members = order[bounds[h]:bounds[h + 1]]
        perm = members[rng.permutation(len(members))]
        take = perm[: n_h[h] + r_h[h]]
        rows.append(take)
        rank.append(np.concatenate([np.zeros(n_h[h], np.int64), np.arange(1, r_h[h] + 1)]))
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    rank = np.concatenate(rank) if rank else np.zeros(0, np.int64)
    sample = frame.iloc[rows].reset_index(drop=True)
    h_of = codes[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = np.where(N_h > 0, n_h / N_h, 0.0)
    sample["stratum"] = np.asarray(uniq, dtype=object)[h_of]
    sample["inclusion_prob"] = pi[h_of]
    sample["design_weight"] = np.where(pi[h_of] > 0, 1 / np.where(pi[h_of] > 0, pi[h_of], 1), np.nan)
    sample["reserve_rank"] = rank
    sample = sample.sort_values(["reserve_rank", "stratum"], kind="stable").reset_index(drop=True)

    alloc = keys.copy()
    alloc["N_h"] = N_h
    alloc["n_h"] = n_h
    alloc["target_completes"] = n_h
    alloc["reserve"] = r_h
    alloc["expected_moe"] = _moe(n_h, N_h)
    counts = keys[strata].copy()
    counts["N"] = N_h
    notes = []
    if min_per_stratum:
        notes.append(f"strata raised to min(min_per_stratum={int(min_per_stratum)}, N_h) where needed")
    return SampleResult(sample=sample, allocation=alloc, frame_counts=counts, n=n,
                        overall_moe=_overall_moe(n_h, N_h), strata=strata, allocation_method=allocation,
                        seed=seed, notes=notes)
