"""Per-enumerator indicators, compared with the team, and a fabrication-risk score.

For every enumerator account the indicators are shares of its interviews:
speeders (``duration_short``), straightliners, soft duplicates (copies of an
earlier interview of the same account; an exact re-submission of the same
``_uuid`` does not count), interviews with outliers, with logic / skip /
constraint problems, the mean share of "don't know" and of refused answers,
interviews refused (consent not given), and the median duration.

Each indicator ``x_e`` is compared with the team by a robust z-score,
``z_e = (x_e - median_team) / max(1.4826 MAD_team, floor)`` (the floor, 0.02
for shares and 10 % of the median for the duration, keeps a team where nearly
everybody scores 0 from giving infinite scores); only the side that signals a
problem counts (a *shorter* median duration), capped at 10. The
fabrication-risk score is the weighted sum of these z-scores (weights in
``fieldwork.yaml``, ``enumerators.weights``; the soft duplicates weigh most,
because copying interviews is what fabrication looks like in the data). An
account is *suspected of fabrication* when at least
``fabrication_duplicate_share`` of its interviews are soft duplicates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["enumerator_table", "ENUMERATOR_COLUMNS"]

ENUMERATOR_COLUMNS = ["enumerator", "interviews", "median_duration", "speeder_share", "straightliner_share",
                      "soft_duplicate_share", "outlier_share", "logic_share", "dont_know_share", "refusal_share",
                      "interview_refusals", "risk_score", "suspected_fabrication", "rank"]

_WEIGHTS = {"soft_duplicate": 3.0, "speeder": 1.0, "straightliner": 1.0, "dont_know": 0.5, "outlier": 0.5,
            "short_median": 1.0, "logic": 0.5}
_LOGIC = {"answer_not_relevant", "constraint_violated", "required_missing"}


def _robust_z(x: np.ndarray, floor: float) -> np.ndarray:
    ok = np.isfinite(x)
    if ok.sum() == 0:
        return np.zeros(len(x))
    med = np.median(x[ok])
    mad = 1.4826 * np.median(np.abs(x[ok] - med))
    z = (x - med) / max(mad, floor)
    return np.clip(np.where(ok, z, 0.0), 0, 10)


def enumerator_table(raw: pd.DataFrame, flags: pd.DataFrame, config: dict, *, form=None,
                     durations: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per enumerator account, ranked by fabrication risk (highest first).

    Parameters
    ----------
    raw : pandas.DataFrame
        The submissions (text cells).
    flags : pandas.DataFrame
        :func:`analysis.fieldwork._checks.run_checks` of the same submissions.
    config : dict
        :func:`analysis.fieldwork._checks.load_check_config`.
    form : analysis.xlsform._form.Form, optional
        For the "don't know" shares (closed questions).
    durations : pandas.DataFrame, optional
        :func:`analysis.fieldwork._checks.submission_durations` (computed when absent).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ENUMERATOR_COLUMNS` (shares in [0, 1]; ``median_duration`` in
        minutes; ``rank`` 1 = highest risk); accounts with fewer than ``min_interviews``
        interviews have no score (NaN) and come last. Submissions without an account
        (web) are left out.

    Examples
    --------
    >>> from analysis.fieldwork._checks import load_check_config, run_checks
    >>> from analysis.simulate._fieldwork import simulate_fieldwork
    >>> fw = simulate_fieldwork(150, seed=4, enumerators=6, fabricators=1, speeders=1, dont_know=0, days=8)
    >>> et = enumerator_table(fw.raw, run_checks(fw.raw), load_check_config())
    >>> fab = fw.enumerators.set_index("enumerator")["habit"]
    >>> fab[et["enumerator"].iloc[0]], bool(et["suspected_fabrication"].iloc[0])
    ('fabricator', True)
    """
    from analysis.fieldwork._checks import (
        _DK,
        _REF,
        CHECKS,
        _ids,
        closed_questions,
        enumerators_of,
        submission_durations,
    )

    ec = config.get("enumerators") or {}
    weights = {**_WEIGHTS, **(ec.get("weights") or {})}
    enums = enumerators_of(raw, config)
    uuids = _ids(raw)
    dur = durations if durations is not None else submission_durations(raw, config)
    df = pd.DataFrame({"enumerator": enums, "uuid": uuids, "duration": dur["duration_min"].to_numpy()})
    if form is not None:
        cat, num = closed_questions(form, raw)
        cols = cat + num
    else:
        cols = []
    if cols:
        m = raw[cols].astype(str).apply(lambda s: s.str.strip()).to_numpy(dtype=object)
        answered = (m != "").sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            df["dk"] = np.where(answered > 0, np.isin(m, list(_DK)).sum(axis=1) / answered, 0.0)
            df["ref"] = np.where(answered > 0, np.isin(m, list(_REF)).sum(axis=1) / answered, 0.0)
    else:
        df["dk"] = 0.0
        df["ref"] = 0.0
    df["consent_refused"] = (raw["consent"].astype(str).str.strip() == "0").to_numpy() if "consent" in raw else False
    fl = flags
    pos = pd.Series(np.arange(len(df)), index=pd.Index(uuids))
    pos = pos[~pos.index.duplicated()]

    def mark(mask_flags):
        out = np.zeros(len(df), dtype=bool)
        u = fl.loc[mask_flags, "uuid"]
        out[pos.reindex(u).dropna().astype(int).to_numpy()] = True
        return out

    df["speeder"] = mark(fl["check_id"] == "duration_short")
    df["straight"] = mark(fl["check_id"] == "straightlining")
    df["softdup"] = mark((fl["check_id"] == "soft_duplicate") & (fl["value"] != fl["uuid"]))
    df["outlier"] = mark(fl["check_id"] == "outlier")
    builtin = set(CHECKS)
    df["logic"] = mark(fl["check_id"].isin(_LOGIC) | ~fl["check_id"].isin(builtin))
    df = df[df["enumerator"] != ""]
    g = df.groupby("enumerator", sort=True)
    t = pd.DataFrame({
        "interviews": g.size(),
        "median_duration": g["duration"].median(),
        "speeder_share": g["speeder"].mean(),
        "straightliner_share": g["straight"].mean(),
        "soft_duplicate_share": g["softdup"].mean(),
        "outlier_share": g["outlier"].mean(),
        "logic_share": g["logic"].mean(),
        "dont_know_share": g["dk"].mean(),
        "refusal_share": g["ref"].mean(),
        "interview_refusals": g["consent_refused"].sum().astype(int),
    }).reset_index()
    min_n = int(ec.get("min_interviews", 5))
    scored = (t["interviews"] >= min_n).to_numpy()
    score = np.zeros(len(t))
    if scored.any():
        sub = t[scored]
        parts = {
            "soft_duplicate": _robust_z(sub["soft_duplicate_share"].to_numpy(float), 0.02),
            "speeder": _robust_z(sub["speeder_share"].to_numpy(float), 0.02),
            "straightliner": _robust_z(sub["straightliner_share"].to_numpy(float), 0.02),
            "dont_know": _robust_z(sub["dont_know_share"].to_numpy(float), 0.02),
            "outlier": _robust_z(sub["outlier_share"].to_numpy(float), 0.02),
            "logic": _robust_z(sub["logic_share"].to_numpy(float), 0.02),
        }
        md = sub["median_duration"].to_numpy(float)
        medmed = np.nanmedian(md) if np.isfinite(md).any() else 1.0
        parts["short_median"] = _robust_z(-md, 0.1 * abs(medmed))
        score[scored] = sum(float(weights.get(k, 0.0)) * v for k, v in parts.items())
    t["risk_score"] = np.where(scored, score, np.nan)
    t["suspected_fabrication"] = scored & (t["soft_duplicate_share"] >=
                                          float(ec.get("fabrication_duplicate_share", 0.10))).to_numpy()
    t = t.sort_values(["risk_score", "soft_duplicate_share", "enumerator"], ascending=[False, False, True],
                      na_position="last").reset_index(drop=True)
    t["rank"] = np.arange(1, len(t) + 1)
    return t[ENUMERATOR_COLUMNS]
