"""Simulate the fieldwork: a frame, a sample drawn from it, enumerators with habits, collection days.

The survey simulator (:func:`analysis.simulate.simulate_survey`) draws
organisations and their answers; this module plays the field around it, so
that every fieldwork check (:mod:`analysis.fieldwork._checks`) has something
real to find and a test can measure its recall against the truth:

1. a **list frame** of organisations (``org_id``, ``org_name``, ``region``,
   ``legal_form``), sized from the frame of ``simulation.yaml`` scaled down to
   ``frame_size``, with region and legal-form names written in several ways;
2. a **sample** drawn from it by :func:`analysis.fieldwork._sampling.draw_sample`
   (proportional allocation); the survey simulator answers for exactly these
   strata and the export carries the sampled organisations' names;
3. **collection days** (``days`` days from ``simulation.yaml``'s fieldwork start)
   and ``enumerators`` accounts (``_submitted_by`` = ``enq_01``...), each with a
   habit: ``speeder`` (a share of interviews done in 4-9 minutes),
   ``fabricator`` (a share of interviews copied from an earlier interview of
   the same account, with a few answers changed: noisy near-duplicates),
   ``dont_know`` (many answers turned into "Je ne sais pas") or ``none``.

The truth ledger (:attr:`FieldworkSimulation.ledger`) has one row per planted
problem: ``_uuid``, ``enumerator``, ``kind`` (``speeder``, ``fabricated``,
``dont_know``), ``column``, ``original_uuid`` (template of a copy),
``true_value``, ``written_value``; :attr:`FieldworkSimulation.enumerators` the
habit of every account.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import InputError

__all__ = ["FieldworkSimulation", "simulate_fieldwork", "simulated_frame", "HABITS"]

HABITS = ("none", "speeder", "fabricator", "dont_know")
_IDENT = {"org_name", "resp_name", "resp_phone", "resp_email", "region", "province", "legal_form", "gps",
          "_gps_latitude", "_gps_longitude", "_gps_altitude", "_gps_precision", "consent", "org_active",
          "interview_status", "interview_mode", "respondent_role", "legal_form_other", "respondent_role_other"}
_META = {"start", "end", "today", "deviceid", "_id", "_uuid", "_submission_time", "_validation_status", "_notes",
         "_status", "_submitted_by", "__version__", "_tags", "_index"}


@dataclass
class FieldworkSimulation:
    """Result of :func:`simulate_fieldwork`.

    Attributes
    ----------
    raw : pandas.DataFrame
        The export as KoboToolbox writes it (text cells, same columns as the survey simulator's).
    ledger : pandas.DataFrame
        Planted problems (see the module notes).
    enumerators : pandas.DataFrame
        ``enumerator``, ``habit``.
    frame : pandas.DataFrame
        The simulated list frame.
    sample : analysis.fieldwork._sampling.SampleResult
        The sample drawn from the frame (``sample.allocation`` is the monitoring target).
    survey_ledger : pandas.DataFrame
        The survey simulator's own planted problems (``truth_ledger.csv``; empty when ``clean_only``).
    """

    raw: pd.DataFrame
    ledger: pd.DataFrame
    enumerators: pd.DataFrame
    frame: pd.DataFrame
    sample: object
    survey_ledger: pd.DataFrame | None = None

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``si_survey_kobo.csv`` (``;``-separated, as Kobo), ``truth_fieldwork.csv``,
        ``truth_enumerators.csv``, ``frame.csv``, ``truth_ledger.csv`` (when the survey simulator
        planted problems too) and the sample files in ``sample/``."""
        from analysis.utils.atomic import atomic_write_text

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"export": out / "si_survey_kobo.csv", "ledger": out / "truth_fieldwork.csv",
                 "enumerators": out / "truth_enumerators.csv", "frame": out / "frame.csv"}
        atomic_write_text(paths["export"], self.raw.to_csv(index=False, sep=";", quoting=1))
        atomic_write_text(paths["ledger"], self.ledger.to_csv(index=False))
        atomic_write_text(paths["enumerators"], self.enumerators.to_csv(index=False))
        atomic_write_text(paths["frame"], self.frame.to_csv(index=False))
        if self.survey_ledger is not None and len(self.survey_ledger):
            paths["survey_ledger"] = out / "truth_ledger.csv"
            atomic_write_text(paths["survey_ledger"], self.survey_ledger.to_csv(index=False))
        paths.update(self.sample.write(out / "sample"))
        return paths


def simulated_frame(size: int, seed: int = 0, *, params: dict | None = None,
                    questionnaire_dir: str | Path | None = None, variants: float = 0.3) -> pd.DataFrame:
    """A list frame of ``size`` organisations with the strata shares of ``simulation.yaml``'s frame.

    A share ``variants`` of the region and legal-form cells is written as a label (French or
    Arabic, or lower case) instead of a code, as real registers do.

    Examples
    --------
    >>> f = simulated_frame(500, seed=1)
    >>> len(f), sorted(f.columns)
    (500, ['legal_form', 'org_id', 'org_name', 'region'])
    """
    from analysis.simulate._model import _largest_remainder, load_simulation_config, sample_design
    from analysis.xlsform._form import read_form

    qdir = Path(questionnaire_dir) if questionnaire_dir is not None else config.QUESTIONNAIRE_DIR
    cfg = params if params is not None else load_simulation_config(qdir / "simulation.yaml")
    form = read_form(qdir)
    regions = form.choices.get("region", [f"R{i:02d}" for i in range(1, 13)])
    forms = form.choices.get("legal_form", ["association", "cooperative"])
    d = sample_design(1, cfg, regions, forms)
    N = _largest_remainder(int(size), d.N)
    rng = np.random.default_rng(seed)
    reg = np.repeat(np.array(d.region, dtype=object), N)
    lf = np.repeat(np.array(d.legal_form, dtype=object), N)
    perm = rng.permutation(len(reg))
    reg, lf = reg[perm], lf[perm]
    rl, ll = form.choice_labels.get("region", {}), form.choice_labels.get("legal_form", {})
    rl_ar = form.choice_labels_ar.get("region", {})
    v = rng.random(len(reg)) < variants
    kind = rng.integers(0, 3, len(reg))
    reg_w = reg.copy()
    reg_w[v & (kind == 0)] = [rl.get(x, x) for x in reg[v & (kind == 0)]]
    reg_w[v & (kind == 1)] = [rl.get(x, x).lower() for x in reg[v & (kind == 1)]]
    reg_w[v & (kind == 2)] = [rl_ar.get(x) or rl.get(x, x) for x in reg[v & (kind == 2)]]
    lf_w = lf.copy()
    w2 = rng.random(len(lf)) < variants
    lf_w[w2] = [ll.get(x, x) for x in lf[w2]]
    words = ["Al Amal", "Tanmia", "Annour", "Al Khair", "Assafa", "Al Wafa", "Ennajah", "Tiwizi", "Azetta",
             "Al Baraka", "Ifrane", "Atlas", "Argane", "Taddart", "Amal Jadid", "Nakhil"]
    prefix = np.where(np.isin(lf, ["cooperative", "union_coop"]), "Coopérative", "Association")
    names = [f"{p} {words[i % len(words)]} {k + 1:05d}" for k, (p, i) in
             enumerate(zip(prefix, rng.integers(0, len(words), len(lf))))]
    return pd.DataFrame({"org_id": [f"F{k + 1:06d}" for k in range(len(lf))], "org_name": names,
                         "region": reg_w, "legal_form": lf_w})


def _run_survey(n_h: pd.DataFrame, seed: int, cfg: dict, qdir: Path, clean_only: bool):
    """simulate_survey for a given allocation (strata region x legal form)."""
    from analysis.simulate._export import iter_tables
    from analysis.simulate._model import SampleDesign
    from analysis.simulate._survey import form_and_constructs, run_simulation

    form, constructs = form_and_constructs(qdir)
    side = ["cooperative" if f in ("cooperative", "union_coop") else "association" for f in n_h["legal_form"]]
    design = SampleDesign(list(n_h["region"]), list(n_h["legal_form"]), side,
                          n_h["N_h"].to_numpy(dtype=float), n_h["n_h"].to_numpy(dtype=np.int64))
    n = int(design.n.sum())
    result = run_simulation(n, seed, form, cfg, constructs, design, clean_only)
    plan = result.plan
    raw = pd.concat([t.to_pandas() for t in iter_tables(plan)], ignore_index=True)
    return result, raw


def _perturb(raw: pd.DataFrame, row: int, cols: list[str], form_lists: dict, share: float, rng) -> list:
    changed = []
    answered = [c for c in cols if raw.at[row, c] != ""]
    k = max(1, int(round(share * len(answered))))
    for c in rng.choice(answered, min(k, len(answered)), replace=False) if answered else []:
        old = raw.at[row, c]
        codes = form_lists.get(c)
        if codes:
            alt = [x for x in codes if x != old and x not in ("97", "98", "99")]
            if not alt:
                continue
            new = str(rng.choice(alt))
        else:
            try:
                x = float(old)
            except ValueError:
                continue
            if x < 0:
                continue
            new = str(int(round(x * rng.uniform(0.6, 1.4) + rng.integers(0, 3))))
        raw.at[row, c] = new
        changed.append((c, old, new))
    return changed


def simulate_fieldwork(n: int = 600, seed: int = 2026, *, enumerators: int = 12, speeders: int = 1,
                       fabricators: int = 1, dont_know: int = 1, days: int = 30, frame_size: int | None = None,
                       speed_share: float = 0.6, fabricated_share: float = 0.4, near_noise=(0.02, 0.10),
                       dk_share: float = 0.35, clean_only: bool = True,
                       questionnaire_dir: str | Path | None = None, params: str | Path | dict | None = None
                       ) -> FieldworkSimulation:
    """Simulate ``days`` days of fieldwork by ``enumerators`` accounts on a sample of ``n`` organisations.

    Parameters
    ----------
    n : int
        Sample size drawn from the frame (one interview each).
    seed : int
        Same seed, same fieldwork.
    enumerators, speeders, fabricators, dont_know : int
        Accounts in all, and how many have each habit (the others have none).
    days : int
        Collection days from ``simulation.yaml``'s fieldwork start.
    frame_size : int, optional
        Organisations in the simulated frame (default ``20 n``).
    speed_share, fabricated_share, dk_share : float
        Share of a speeder's interviews done in 4-9 minutes; of a fabricator's interviews
        copied from an earlier one; of a "don't know" enumerator's eligible answers turned into 98.
    near_noise : (float, float)
        A copy has a share drawn in this interval of its closed answers changed.
    clean_only : bool
        No other messiness from the survey simulator (default), so that the ledger is the whole truth.

    Examples
    --------
    >>> fw = simulate_fieldwork(120, seed=1, enumerators=6, days=10)
    >>> sorted(fw.enumerators["habit"].value_counts().index)
    ['dont_know', 'fabricator', 'none', 'speeder']
    >>> set(fw.ledger["kind"]) == {"speeder", "fabricated", "dont_know"}
    True
    """
    from analysis.fieldwork import draw_sample
    from analysis.simulate._model import load_simulation_config
    from analysis.xlsform._form import read_form

    if speeders + fabricators + dont_know > enumerators:
        raise InputError("more enumerators with a habit than enumerators", value=enumerators,
                         expected="speeders + fabricators + dont_know <= enumerators")
    qdir = Path(questionnaire_dir) if questionnaire_dir is not None else config.QUESTIONNAIRE_DIR
    cfg = params if isinstance(params, dict) else load_simulation_config(Path(params) if params else
                                                                          qdir / "simulation.yaml")
    cfg = copy.deepcopy(cfg)
    fw = cfg["fieldwork"]
    fw["n_enumerators"] = int(enumerators)
    fw["end"] = str(np.datetime64(fw["start"], "D") + int(days) - 1)
    frame = simulated_frame(frame_size or 20 * int(n), seed, params=cfg, questionnaire_dir=qdir)
    sample = draw_sample(frame, n=int(n), strata=["region", "legal_form"], seed=seed)
    alloc = sample.allocation[sample.allocation["n_h"] > 0].reset_index(drop=True)
    result, raw = _run_survey(alloc, seed, cfg, qdir, clean_only)
    form = read_form(qdir)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 17]))

    # the sampled organisations' names, stratum by stratum
    main = sample.sample[sample.sample["reserve_rank"] == 0]
    if "org_name" in raw.columns:
        by = main.groupby("stratum")["org_name"].apply(list).to_dict()
        key = raw["region"] + "_" + raw["legal_form"]
        names = raw["org_name"].to_numpy(dtype=object).copy()
        for s, idx in key.groupby(key).groups.items():
            pool = by.get(s, [])
            for k, i in enumerate(idx):
                if k < len(pool):
                    names[i] = pool[k]
        raw["org_name"] = names

    accounts = [f"enq_{e + 1:02d}" for e in range(int(enumerators))]
    habit_of = dict.fromkeys(accounts, "none")
    order = rng.permutation(len(accounts))
    k = 0
    for habit, cnt in (("fabricator", fabricators), ("speeder", speeders), ("dont_know", dont_know)):
        for _ in range(int(cnt)):
            habit_of[accounts[order[k]]] = habit
            k += 1
    uuid = raw["_uuid"].to_numpy(dtype=object)
    enum = raw["_submitted_by"].to_numpy(dtype=object)
    start = pd.to_datetime(raw["start"], format="ISO8601", utc=True)
    led = []
    lists = {q.name: form.choices.get(q.list_name, []) for q in form.questions if q.type == "select_one"}
    closed = [q.name for q in form.questions if q.type in ("select_one", "integer", "decimal")
              and q.name in raw.columns and q.name not in _IDENT]
    copy_cols = [c for c in raw.columns if c not in _IDENT and c not in _META]
    dk_cols = [q.name for q in form.questions if q.name in raw.columns and q.name not in _IDENT and (
        (q.type == "select_one" and "98" in lists.get(q.name, [])) or
        (q.type in ("integer", "decimal") and "-98" in q.constraint))]
    for acc, habit in habit_of.items():
        rows = np.flatnonzero(enum == acc)
        rows = rows[np.argsort(start.iloc[rows].to_numpy(), kind="stable")]
        if habit == "speeder":
            for r in rows[rng.random(len(rows)) < speed_share]:
                old = raw.at[r, "end"]
                mins = rng.uniform(4, 9)
                new = (pd.Timestamp(raw.at[r, "start"]) + pd.Timedelta(minutes=mins)).isoformat(timespec="milliseconds")
                raw.at[r, "end"] = new
                led.append((uuid[r], acc, "speeder", "end", "", old, new))
        elif habit == "fabricator":
            genuine = []
            for pos, r in enumerate(rows):
                if pos >= 2 and genuine and rng.random() < fabricated_share:
                    t = genuine[int(rng.integers(0, len(genuine)))]
                    raw.loc[r, copy_cols] = raw.loc[t, copy_cols].to_numpy()
                    changed = _perturb(raw, r, closed, lists, rng.uniform(*near_noise), rng)
                    led.append((uuid[r], acc, "fabricated", "", uuid[t], "", f"{len(changed)} answers changed"))
                else:
                    genuine.append(r)
        elif habit == "dont_know":
            for r in rows:
                for c in dk_cols:
                    v = raw.at[r, c]
                    if v not in ("", "97", "98", "99", "-98", "-99") and rng.random() < dk_share:
                        new = "98" if lists.get(c) else "-98"
                        raw.at[r, c] = new
                        led.append((uuid[r], acc, "dont_know", c, "", v, new))
    ledger = pd.DataFrame(led, columns=["_uuid", "enumerator", "kind", "column", "original_uuid", "true_value",
                                        "written_value"])
    enums = pd.DataFrame({"enumerator": accounts, "habit": [habit_of[a] for a in accounts]})
    return FieldworkSimulation(raw=raw, ledger=ledger, enumerators=enums, frame=frame, sample=sample,
                               survey_ledger=result.ledger)
