"""Simulate a realistic, messy KoboToolbox export of the survey, with its known truth.

Until fieldwork is done every analysis is developed and tested on data from
this simulator. It is driven by the questionnaire (``questionnaire/survey.csv``,
``choices.csv``, ``settings.csv``), the constructs spec
(``questionnaire/constructs.yaml``) and the parameters in
``questionnaire/simulation.yaml``: a question added to the questionnaire
appears in the simulated data without touching this code (generic generation
per question type; Likert items from the factor model of their construct, other
Likert grids from their own factor; skip logic from the ``relevant``
expressions, see :mod:`analysis.xlsform._form` for the supported subset).

Pipeline (all vectorised over organisations)
--------------------------------------------
1. Sample design: strata region x legal form, fixed ``n_h`` (``design:``),
   inclusion probability ``pi_h = n_h / N_h``.
2. Population model: size factor, members, women, age, staff, volunteers,
   budget, sector, milieu, funding shares (``population:``, ``funding:``).
3. Latent structural model (``structural:``): H2 (capacity +, barriers - on SI
   presence), H1 (SI presence + on impact and on beneficiaries, negative
   binomial), H3 (support moderates SI -> impact), H4 (legal-form intercepts).
4. Answers: Likert items y* = loading * eta + e cut at thresholds (reverse-keyed
   items load negatively); generic draws for every other question.
5. Messiness (``messiness:``, off with ``clean_only``), skip logic, export.

Truth files (next to the export)
--------------------------------
``truth_params.json``
    seed, n, versions, sample design (strata with ``N_frame``, ``n_sample``,
    ``inclusion_probability``, ``design_weight``), structural coefficients,
    item measurement parameters (construct, dimension, latent, loading (negative
    when reverse-keyed), thresholds), planted-problem counts, the parameter file.
``truth_latent.parquet``
    one row per true organisation: ``org_id``, ``_uuid`` (its original
    submission), ``stratum``, ``region``, ``legal_form``, ``side``,
    ``inclusion_probability``, ``design_weight``, ``women_cooperative``, true
    latent scores (``eta_<construct>``, ``eta_<construct>.<dimension>``,
    ``eta_grid.<group>``, ``size_factor``, ``support_used``) and true values of
    the main numbers (``true_<question>``).
``truth_ledger.csv``
    one row per planted problem: ``_uuid`` (row where it is), ``kind``,
    ``column``, ``original_uuid`` (for copies), ``true_value``, ``written_value``.
    Kinds: ``duplicate_exact`` (column ``_id``; the row is identical to the
    original except ``_id``/``_index``), ``duplicate_near`` (new ``_uuid``),
    ``near_changed`` (an answer changed or blanked in a near duplicate),
    ``test`` (``resp_name``, ``_submission_time`` before fieldwork,
    ``_validation_status``), ``speeder`` (``end``), ``straightliner`` (column
    = the grid's group name), ``dk_refusal``, ``region_variant``,
    ``region_ambiguous`` (a pre-2015 region now split over several regions),
    ``province_variant``, ``number_as_text``, ``out_of_range``, ``shares_off``,
    ``other_text`` (parent question written ``autre``; column ``<q>_other``
    holds the text; ``true_value`` is the right code). Near duplicates and test
    rows are copies: the problems of their source row are repeated with their
    own ``_uuid``; exact duplicates are not repeated (same ``_uuid``).
``truth_personal.csv``
    the planted personal data: ``_uuid`` (original submission), ``org_id``,
    ``column``, ``value``.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np

from analysis import config
from analysis.errors import InputError
from analysis.simulate._export import (
    build_plan,
    finalize_order,
    spss_names,
    write_kobo_csv,
    write_kobo_xlsx,
    write_spss,
)
from analysis.simulate._messiness import Ledger, plant_after_skip, plant_before_skip, plant_rows
from analysis.simulate._model import (
    Simulation,
    apply_skip_logic,
    draw_latent,
    draw_population,
    load_constructs_spec,
    load_simulation_config,
    sample_design,
    simulate_answers,
)
from analysis.utils.atomic import atomic_path, atomic_write_text
from analysis.xlsform._form import Expression, Form, evaluate, read_form

__all__ = [
    "simulate_export",
    "simulate_survey",
    "SurveySimulation",
    "implied_item_correlations",
    "read_form",
    "evaluate",
    "Expression",
    "spss_names",
    "EXPORT_NAMES",
]

#: file names of the export in each format
EXPORT_NAMES = {"kobo-csv": "si_survey_kobo.csv", "kobo-xlsx": "si_survey_kobo.xlsx", "spss": "si_survey.sav"}


class SurveySimulation:
    """Result of :func:`simulate_survey`: the simulation state, export plan and ledger.

    Attributes
    ----------
    sim : Simulation
        Organisations, latent scores, answers (``sim.data``) and item parameters.
    plan : analysis.simulate._export.Plan
        Export rows (originals and planted rows) and column layout.
    ledger : pandas.DataFrame
        Planted problems (columns of ``truth_ledger.csv``).
    """

    def __init__(self, sim, plan, ledger):
        self.sim = sim
        self.plan = plan
        self.ledger = ledger

    def to_frame(self):
        """The export as a pandas DataFrame of strings (what the CSV holds)."""
        import pyarrow as pa

        from analysis.simulate._export import iter_tables

        return pa.concat_tables(list(iter_tables(self.plan))).to_pandas()

    def latent_frame(self):
        """``truth_latent`` as a pandas DataFrame."""
        return _latent_frame(self.sim, self.plan)


def simulate_survey(
    n: int = 1500,
    seed: int = 2026,
    *,
    clean_only: bool = False,
    questionnaire_dir: str | Path | None = None,
    params: str | Path | dict | None = None,
) -> SurveySimulation:
    """Simulate ``n`` organisations answering the questionnaire (in memory).

    Parameters
    ----------
    n : int
        Number of true organisations (the export has more rows when
        duplicates and test submissions are planted).
    seed : int
        Seed of ``numpy.random.default_rng``; same seed, same data.
    clean_only : bool
        No messiness at all (no duplicates, tests, speeders, variants, codes
        98/99, personal data).
    questionnaire_dir : path, optional
        Folder with ``survey.csv``, ``choices.csv``, ``settings.csv``,
        ``constructs.yaml`` (default ``questionnaire/``).
    params : path or dict, optional
        Parameters (default ``questionnaire/simulation.yaml``).

    Examples
    --------
    >>> sim = simulate_survey(50, seed=1, clean_only=True)
    >>> len(sim.to_frame()) == 50
    True
    """
    if int(n) < 1:
        raise InputError("the number of organisations must be at least 1", value=n, expected="n >= 1")
    n = int(n)
    qdir = Path(questionnaire_dir) if questionnaire_dir is not None else config.QUESTIONNAIRE_DIR
    cfg = params if isinstance(params, dict) else load_simulation_config(Path(params) if params else qdir / "simulation.yaml")
    form, constructs = form_and_constructs(qdir)
    regions = form.choices.get("region", [f"R{i:02d}" for i in range(1, 13)])
    forms = form.choices.get("legal_form", ["association", "cooperative"])
    design = sample_design(n, cfg, regions, forms)
    return run_simulation(n, seed, form, cfg, constructs, design, clean_only)


def form_and_constructs(qdir: Path) -> tuple[Form, dict]:
    """The form and the constructs' items that are questions of it (what the simulator answers)."""
    form = read_form(qdir)
    constructs = load_constructs_spec(qdir / "constructs.yaml", form)
    constructs = {c: {"items": {i: v for i, v in spec["items"].items() if any(q.name == i for q in form.questions)}}
                  for c, spec in constructs.items()}
    return form, constructs


def run_simulation(n: int, seed: int, form: Form, cfg: dict, constructs: dict, design, clean_only: bool
                   ) -> SurveySimulation:
    """The steps of a simulation for a sample design: population, latent traits, answers, skip
    logic, messiness, export plan (one random stream per step, spawned from ``seed``).

    Shared by :func:`simulate_survey` (design from ``simulation.yaml``) and the field simulator
    (design from a sample drawn in a frame).
    """
    sim = Simulation(n=n, seed=seed, form=form, cfg=cfg, constructs=constructs, design=design, clean_only=clean_only)
    ss = np.random.SeedSequence(seed)
    r_pop, r_lat, r_ans, r_messa, r_skip, r_plan, r_messb, r_order = (np.random.default_rng(s) for s in ss.spawn(8))
    draw_population(sim, r_pop)
    draw_latent(sim, r_lat)
    simulate_answers(sim, r_ans)
    led = Ledger()
    pending = {} if clean_only else plant_before_skip(sim, r_messa, led)
    apply_skip_logic(sim, r_skip)
    if not clean_only:
        plant_after_skip(sim, led, pending)
    plan = build_plan(sim, r_plan)
    key = plan.sub_ms.astype(np.float64) if clean_only else plant_rows(plan, r_messb, led)
    finalize_order(plan, key, r_order)
    return SurveySimulation(sim, plan, _ledger_frame(led, plan))


def _ledger_frame(led: Ledger, plan):
    import pandas as pd

    f = led.frame()
    inv = plan._inv
    rows = inv[f["row"]] if len(f["row"]) else np.zeros(0, np.int64)
    uu = plan.uuid_strings(rows) if len(rows) else np.zeros(0, object)
    orig = f["original_row"]
    ou = np.full(len(orig), "", dtype=object)
    has = orig >= 0
    if has.any():
        ou[has] = plan.uuid_strings(inv[orig[has]])
    df = pd.DataFrame({
        "_uuid": pd.array(uu, dtype="string"),
        "kind": pd.array(f["kind"], dtype="string"),
        "column": pd.array(f["column"], dtype="string"),
        "original_uuid": pd.array(ou, dtype="string"),
        "true_value": pd.array(np.asarray(f["true_value"], dtype=object).astype(str), dtype="string"),
        "written_value": pd.array(np.asarray(f["written_value"], dtype=object).astype(str), dtype="string"),
        "_row": rows,
    })
    df = df.sort_values(["_row", "kind", "column"], kind="stable").drop(columns="_row").reset_index(drop=True)
    return df


_TRUE_COLUMNS = {
    "members": "true_n_members", "women": "true_n_women_members", "year_created": "true_year_created",
    "staff_full": "true_n_staff_full", "staff_part": "true_n_staff_part", "vol_reg": "true_n_volunteers_regular",
    "vol_occ": "true_n_volunteers_occasional", "budget": "true_budget_mad", "sector": "true_sector",
    "milieu": "true_milieu", "beneficiaries_y1": "true_beneficiaries_y1", "beneficiaries_y2": "true_beneficiaries_y2",
    "beneficiaries_y3": "true_beneficiaries_y3", "jobs_created": "true_jobs_created",
}


def _latent_frame(sim: Simulation, plan):
    import pandas as pd

    n = sim.n
    orig_rows = plan._inv[np.arange(n)]
    d = sim.design
    cols = {
        "org_id": pd.array([f"ORG{i + 1:07d}" for i in range(n)], dtype="string"),
        "_uuid": pd.array(plan.uuid_strings(orig_rows), dtype="string"),
        "stratum": pd.array([f"{d.region[s]}_{d.legal_form[s]}" for s in sim.org["stratum"]], dtype="string"),
        "region": pd.array(sim.org["region"].astype(str), dtype="string"),
        "legal_form": pd.array(sim.org["legal_form"].astype(str), dtype="string"),
        "side": pd.array(sim.org["side"].astype(str), dtype="string"),
        "inclusion_probability": sim.org["pi"],
        "design_weight": 1.0 / sim.org["pi"],
        "women_cooperative": sim.org["women_coop"],
        "size_factor": sim.org["S"],
    }
    if "acquiescence" in sim.org:  # answering habits (see model._habits)
        cols["habit_acquiescence"] = sim.org["acquiescence"]
        cols["habit_midpoint"] = sim.org["midpoint_habit"]
    for k in sorted(sim.latent):
        name = "support_used" if k == "support_used" else f"eta_{k}"
        cols[name] = np.asarray(sim.latent[k], dtype=float)
    for k, name in _TRUE_COLUMNS.items():
        if k in sim.org:
            v = sim.org[k]
            cols[name] = pd.array(v.astype(str), dtype="string") if v.dtype == object else v
    if "fund_shares" in sim.org:
        for j, c in enumerate(sim.org["fund_codes"]):
            cols[f"true_share_{c}"] = sim.org["fund_shares"][:, j].astype(np.int16)
    return pd.DataFrame(cols)


def _versions(form: Form) -> dict:
    import pandas as pd
    import pyarrow as pa
    import scipy

    try:
        from importlib.metadata import version

        own = version("si-survey")
    except Exception:  # pragma: no cover
        own = "unknown"
    return {
        "si_survey": own,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "pyarrow": pa.__version__,
        "questionnaire_version": form.settings.get("version", ""),
        "simulator_schema": 1,
    }


def _params(result: SurveySimulation, seed: int, clean_only: bool, fmt: str) -> dict:
    sim = result.sim
    led = result.ledger
    counts = led["kind"].value_counts().sort_index().to_dict() if len(led) else {}
    plan = result.plan
    return {
        "seed": int(seed),
        "n_organisations": sim.n,
        "n_rows": int(plan.n_rows),
        "clean_only": bool(clean_only),
        "format": fmt,
        "versions": _versions(sim.form),
        "sample_design": sim.design.to_records(),
        "superpopulation": bool((sim.design.n > sim.design.N).any()),
        "structural": sim.cfg["structural"],
        "dimension_loading": sim.cfg.get("dimension_loading"),
        "constructs": {c: sorted(spec["items"]) for c, spec in sim.constructs.items()},
        "measurement": sim.measurement,
        "latent_moments": {k: {"mean": float(np.mean(v)), "var": float(np.var(v))} for k, v in sorted(sim.latent.items())},
        "planted_counts": {str(k): int(v) for k, v in counts.items()},
        "row_kinds": {"original": int((plan.row_kind == 0).sum()), "near_duplicate": int((plan.row_kind == 1).sum()),
                      "test": int((plan.row_kind == 2).sum()), "exact_duplicate": int((plan.row_kind == 3).sum())},
        "export": {"encoding": "utf-8 (no BOM)", "delimiter": ";", "quoting": "all cells", "line_end": "CRLF",
                   "values": "XML codes", "select_multiple": "space-separated + question/option 0/1 columns",
                   "spss_names": "see analysis.simulate._export.spss_names"},
        "parameters": sim.cfg,
    }


def simulate_export(n: int = 1500, seed: int = 2026, out_dir: str | Path = ".", fmt: str = "kobo-csv",
                    clean_only: bool = False, *, questionnaire_dir: str | Path | None = None,
                    params: str | Path | dict | None = None) -> dict[str, Path]:
    """Simulate and write an export as KoboToolbox would, with the truth files next to it.

    Parameters
    ----------
    n, seed, clean_only, questionnaire_dir, params
        As in :func:`simulate_survey`.
    out_dir : path
        Folder to write to (created if needed). Files are written atomically.
    fmt : {"kobo-csv", "kobo-xlsx", "spss"}
        Export format.

    Returns
    -------
    dict of str to Path
        ``export``, ``truth_params``, ``truth_latent``, ``truth_ledger``, ``truth_personal``.

    Examples
    --------
    >>> paths = simulate_export(n=200, seed=1, out_dir=tmp_path)  # doctest: +SKIP
    """
    if fmt not in EXPORT_NAMES:
        raise InputError("unknown export format", value=fmt, expected=", ".join(EXPORT_NAMES))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = simulate_survey(n, seed, clean_only=clean_only, questionnaire_dir=questionnaire_dir, params=params)
    written: dict[str, Path] = {}
    target = out / EXPORT_NAMES[fmt]
    if fmt == "kobo-csv":
        written["export"] = write_kobo_csv(result.plan, target)
    elif fmt == "kobo-xlsx":
        written["export"] = write_kobo_xlsx(result.plan, target)
    else:
        written["export"] = write_spss(result.plan, target)
    written.update(write_truth(result, out, seed=seed, clean_only=clean_only, fmt=fmt))
    return written


def write_truth(result: SurveySimulation, out: Path, *, seed: int, clean_only: bool, fmt: str) -> dict[str, Path]:
    """Write ``truth_params.json``, ``truth_latent.parquet``, ``truth_ledger.csv``, ``truth_personal.csv``."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out = Path(out)
    paths = {}
    p = out / "truth_params.json"
    atomic_write_text(p, json.dumps(_params(result, seed, clean_only, fmt), indent=1, ensure_ascii=False,
                                    sort_keys=False, default=_json_default) + "\n")
    paths["truth_params"] = p
    p = out / "truth_latent.parquet"
    table = pa.Table.from_pandas(result.latent_frame(), preserve_index=False)
    table = table.replace_schema_metadata(None)
    with atomic_path(p) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    paths["truth_latent"] = p
    p = out / "truth_ledger.csv"
    lt = pa.Table.from_pandas(result.ledger, preserve_index=False).replace_schema_metadata(None)
    with atomic_path(p) as tmp:
        pacsv.write_csv(lt, tmp)
    paths["truth_ledger"] = p
    p = out / "truth_personal.csv"
    with atomic_path(p) as tmp:
        pacsv.write_csv(_personal_table(result), tmp)
    paths["truth_personal"] = p
    return paths


def _personal_table(result: SurveySimulation):
    import pyarrow as pa

    sim, plan = result.sim, result.plan
    n = sim.n
    uu = plan.uuid_strings(plan._inv[np.arange(n)])
    org = np.array([f"ORG{i + 1:07d}" for i in range(n)], dtype=object)
    cols = {"_uuid": [], "org_id": [], "column": [], "value": []}
    for c in sim.cfg["generic"].get("personal", []):
        v = sim.data.get(c)
        if v is None or v.kind != "str":
            continue
        m = v.data != ""
        cols["_uuid"].append(uu[m])
        cols["org_id"].append(org[m])
        cols["column"].append(np.full(int(m.sum()), c, dtype=object))
        cols["value"].append(v.data[m])
    arrays = {k: pa.array(np.concatenate(v) if v else np.zeros(0, object), type=pa.string()) for k, v in cols.items()}
    return pa.table(arrays)


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


def implied_item_correlations(items: list[str], measurement: dict, latent_moments: dict,
                              latent_cov: dict | None = None) -> np.ndarray:
    """Model-implied Pearson correlations of ordinal items (categories 1..K).

    Each item is ``y* = loading * eta + acq * A + sqrt(1 - loading**2 - acq**2) * e``
    cut at its thresholds; ``eta`` is normal with the given mean and variance,
    ``latent_cov[(a, b)]`` the covariance between two latents (for items of
    different latents) and ``A`` the respondent's acquiescence (standard normal,
    shared by the items with ``acquiescence`` > 0). Then ``Cov(Y_j, Y_k) = sum_a
    sum_b [Phi2(-t_ja + m_j, -t_kb + m_k; Sigma) - ...]`` over thresholds
    (``Y = 1 + sum_a 1{y* > t_a}``). The midpoint habit (a share ``h`` of
    respondents replace an answer by the middle category ``M`` with probability
    ``r``, independently across items) gives, with ``q = r`` for the items it
    applies to (else 0) and ``S`` the replacement indicator,
    ``E[Y'] = (1 - h q) E[Y] + h q M`` and
    ``E[Y'_j Y'_k] = E[(1 - S_j)(1 - S_k)] E[Y_j Y_k] + E[S_j (1 - S_k)] M_j E[Y_k] + ...``
    with ``E[S_j S_k] = h q_j q_k`` for ``j != k``.

    Parameters
    ----------
    items : list of str
    measurement : dict
        ``truth_params["measurement"]``.
    latent_moments : dict
        ``{latent: {"mean": m, "var": v}}`` (``truth_params["latent_moments"]``).
    latent_cov : dict, optional
        ``{(latent_a, latent_b): covariance}``; needed for items of different latents.

    Returns
    -------
    numpy.ndarray
        The (k, k) implied correlation matrix.
    """
    from scipy import stats

    k = len(items)
    mean = np.zeros(k)
    var = np.zeros(k)
    lam = np.zeros(k)
    lat = []
    for i, it in enumerate(items):
        m = measurement[it]
        lam[i] = m["loading"]
        L = m["latent"]
        lat.append(L)
        mm = latent_moments.get(L, {"mean": 0.0, "var": 1.0}) if L else {"mean": 0.0, "var": 0.0}
        mean[i] = lam[i] * mm["mean"]
        var[i] = lam[i] ** 2 * mm["var"] + (1 - lam[i] ** 2)

    def cov_lat(a, b):
        if a is None or b is None:
            return 0.0
        if a == b:
            return latent_moments.get(a, {"var": 1.0})["var"]
        if latent_cov:
            return latent_cov.get((a, b), latent_cov.get((b, a), 0.0))
        return 0.0

    def moments(i):
        tau = np.asarray(measurement[items[i]]["thresholds"])
        sd = np.sqrt(var[i])
        p = stats.norm.sf((tau - mean[i]) / sd)  # P(y* > tau_a)
        ey = 1 + p.sum()
        # Var(Y) = sum_a sum_b P(y*>max(t_a,t_b)) - p_a p_b
        pm = stats.norm.sf((np.maximum.outer(tau, tau) - mean[i]) / sd)
        vy = (pm - np.outer(p, p)).sum()
        return tau, sd, p, ey, vy

    mom = [moments(i) for i in range(k)]
    acq = np.array([float(measurement[it].get("acquiescence") or 0.0) for it in items])
    h = np.zeros(k)
    q = np.zeros(k)
    M = np.zeros(k)
    for i, it in enumerate(items):
        mid = measurement[it].get("midpoint")
        if mid:
            h[i], q[i], M[i] = float(mid["share"]), float(mid["rate"]), 1.0 + float(mid["category"])
    hh = float(h.max()) if k else 0.0
    R = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            ti, si, pi, _, vi = mom[i]
            tj, sj, pj, _, vj = mom[j]
            rho = (lam[i] * lam[j] * cov_lat(lat[i], lat[j]) + acq[i] * acq[j]) / (si * sj)
            zi = (ti - mean[i]) / si
            zj = (tj - mean[j]) / sj
            cov = np.array([[rho]])
            tot = 0.0
            bvn = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]])
            # P(y_i* > a, y_j* > b) = Phi2(-a, -b; rho)
            A, B = np.meshgrid(-zi, -zj, indexing="ij")
            joint = bvn.cdf(np.column_stack([A.ravel(), B.ravel()])).reshape(A.shape)
            tot = (joint - np.outer(pi, pj)).sum()
            if hh > 0 and (q[i] > 0 or q[j] > 0):
                ei, ej = mom[i][3], mom[j][3]
                eyy = tot + ei * ej
                qi, qj = q[i], q[j]
                e11 = 1 - hh * qi - hh * qj + hh * qi * qj
                e_s0 = hh * qi - hh * qi * qj
                e_0s = hh * qj - hh * qi * qj
                e_ss = hh * qi * qj
                exy = e11 * eyy + e_s0 * M[i] * ej + e_0s * ei * M[j] + e_ss * M[i] * M[j]
                mi2 = (1 - hh * qi) * ei + hh * qi * M[i]
                mj2 = (1 - hh * qj) * ej + hh * qj * M[j]
                vi2 = (1 - hh * qi) * (vi + ei**2) + hh * qi * M[i] ** 2 - mi2**2
                vj2 = (1 - hh * qj) * (vj + ej**2) + hh * qj * M[j] ** 2 - mj2**2
                R[i, j] = R[j, i] = (exy - mi2 * mj2) / np.sqrt(vi2 * vj2)
                continue
            R[i, j] = R[j, i] = tot / np.sqrt(vi * vj)
            del cov
    return R
