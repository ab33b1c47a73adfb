"""Population model, latent structural model and generic answer generation.

Everything here is vectorised over organisations (no Python loop over rows;
loops run over questions, items or strata only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

from analysis.errors import ConfigError
from analysis.simulate._draws import (
    _categorical,
    _draw_codes,
    _hash_uniform,
    _largest_remainder,
    _map_codes,
)
from analysis.simulate._fill import _range_bounds, fill_text
from analysis.xlsform._form import Expression, Form, Value, evaluate

__all__ = [
    "load_simulation_config",
    "load_constructs_spec",
    "SampleDesign",
    "sample_design",
    "Simulation",
    "simulate_answers",
    "likert_lists",
    "item_measurement",
]

EXCLUSIVE_CODES = ("none", "no_surplus", "aucun", "aucune")
MISSING_CODES = ("97", "98", "99")


def load_simulation_config(path: str | Path) -> dict:
    """Read ``simulation.yaml``."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"simulation parameters not found: {path}")
    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return cfg


# --------------------------------------------------------------------------- constructs spec


def _items_of(entry) -> list[tuple[str, bool]]:
    """Return [(item, reverse)] from a list of names or dicts."""
    out = []
    if isinstance(entry, dict) and "items" in entry:
        entry = entry["items"]
    if isinstance(entry, dict):  # item -> {reverse: bool} or item -> bool
        for k, v in entry.items():
            rev = bool(v.get("reverse", False)) if isinstance(v, dict) else bool(v) if isinstance(v, bool) else False
            out.append((str(k), rev))
        return out
    for it in entry or []:
        if isinstance(it, str):
            out.append((it, False))
        elif isinstance(it, dict):
            name = it.get("name") or it.get("item") or it.get("variable")
            if name is None and len(it) == 1:
                name = next(iter(it))
            out.append((str(name), bool(it.get("reverse", it.get("reversed", False)))))
    return out


def load_constructs_spec(path: str | Path, form: Form | None = None) -> dict[str, dict]:
    """Read the reflective constructs of ``constructs.yaml``.

    Returns ``{construct: {"items": {item: {"reverse": bool, "dimension": str | None}}}}``.
    Accepts the shapes ``constructs: {name: {items: [...], reverse: [...], dimensions: {...}}}``
    (items as names or as ``{name:, reverse:}``), and lists of such entries with ``name``.
    Formative constructs (no items, e.g. hybridisation) are skipped. When the file does not
    exist, items are grouped by prefix (``si_``, ``ic_``, ``eb_``, ``imp_``) as a fallback.
    """
    path = Path(path)
    out: dict[str, dict] = {}
    if not path.exists():
        if form is None:
            return out
        prefixes = {"si_": "si_presence", "ic_": "internal_capacity", "eb_": "external_barriers", "imp_": "perceived_impact"}
        for q in form.questions:
            for p, c in prefixes.items():
                parts = q.name.split("_")
                if q.name.startswith(p) and len(parts) == 3 and parts[2].isdigit():
                    out.setdefault(c, {"items": {}})["items"][q.name] = {"reverse": False, "dimension": parts[1]}
        return out
    with open(path, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh) or {}
    body = spec.get("constructs", spec) if isinstance(spec, dict) else spec
    entries: list[tuple[str, dict]] = []
    if isinstance(body, dict):
        entries = [(k, v) for k, v in body.items() if isinstance(v, dict)]
    elif isinstance(body, list):
        entries = [(e.get("name") or e.get("id"), e) for e in body if isinstance(e, dict)]
    for name, e in entries:
        if str(e.get("type", e.get("kind", "reflective"))).lower().startswith("formative"):
            continue
        items: dict[str, dict] = {}
        rev_set = {str(x) for x in (e.get("reverse") or e.get("reverse_items") or e.get("reversed") or [])}
        dims = e.get("dimensions") or e.get("facets") or e.get("subscales") or e.get("subdimensions")
        if isinstance(dims, dict):
            dims = [dict(v, name=k) if isinstance(v, dict) else {"name": k, "items": v} for k, v in dims.items()]
        if isinstance(dims, list):
            for d in dims:
                if not isinstance(d, dict):
                    continue
                dname = str(d.get("name") or d.get("id"))
                drev = {str(x) for x in (d.get("reverse") or [])}
                for it, rev in _items_of(d):
                    items[it] = {"reverse": rev or it in rev_set or it in drev, "dimension": dname}
        for it, rev in _items_of(e.get("items") if "items" in e else []):
            if it not in items:
                items[it] = {"reverse": rev or it in rev_set, "dimension": None}
            elif rev:
                items[it]["reverse"] = True
        if items:
            out[str(name)] = {"items": items}
    return out


# --------------------------------------------------------------------------- helpers


def likert_lists(form: Form) -> dict[str, tuple[list[str], list[str]]]:
    """Lists that are ordinal scales: ``{list: (scale codes '1'..'k', other codes)}``."""
    out = {}
    for ln, codes in form.choices.items():
        scale = [c for c in codes if c not in MISSING_CODES]
        if len(scale) >= 3 and scale == [str(i) for i in range(1, len(scale) + 1)]:
            out[ln] = (scale, [c for c in codes if c in MISSING_CODES])
    return out


def _lognormal_sigma(median: float, mean: float) -> float:
    return math.sqrt(max(2.0 * math.log(mean / median), 1e-6))


def _nb(rng, mean: np.ndarray, size: float) -> np.ndarray:
    """Negative binomial with the given mean and size (Gamma-Poisson)."""
    g = rng.gamma(size, 1.0 / size, size=np.shape(mean))
    return rng.poisson(np.asarray(mean) * g)


# --------------------------------------------------------------------------- design


@dataclass
class SampleDesign:
    """Strata (region x legal form), frame sizes, sample sizes and inclusion probabilities."""

    region: list[str]
    legal_form: list[str]
    side: list[str]
    N: np.ndarray
    n: np.ndarray

    @property
    def pi(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.minimum(1.0, np.where(self.N > 0, self.n / self.N, 0.0))

    def to_records(self) -> list[dict]:
        pi = self.pi
        return [
            {
                "stratum": f"{r}_{f}",
                "region": r,
                "legal_form": f,
                "side": s,
                "N_frame": int(N),
                "n_sample": int(n),
                "inclusion_probability": float(p),
                "design_weight": float(1.0 / p) if p > 0 else None,
            }
            for r, f, s, N, n, p in zip(self.region, self.legal_form, self.side, self.N, self.n, pi)
        ]


def sample_design(n: int, cfg: dict, regions: list[str], forms: list[str]) -> SampleDesign:
    """Stratified design: fixed n_h by stratum (region x legal form), see ``design:`` in the yaml."""
    fr = cfg["frame"]
    des = cfg["design"]
    rows = []
    for side, total_key, reg_key, form_key in (
        ("association", "associations_total", "association_region_shares", "association_forms"),
        ("cooperative", "cooperatives_total", "cooperative_region_shares", "cooperative_forms"),
    ):
        fshares = {f: v for f, v in fr[form_key].items() if f in forms}
        fsum = sum(fshares.values())
        for r in regions:
            rs = float(fr[reg_key].get(r, 0.0))
            for f, fv in fshares.items():
                rows.append((r, f, side, fr[total_key] * rs * fv / fsum))
    region = [r[0] for r in rows]
    lf = [r[1] for r in rows]
    side = [r[2] for r in rows]
    N = np.array([r[3] for r in rows], dtype=float)
    for s in ("association", "cooperative"):  # whole organisations, summing to the frame totals
        idx = np.array([i for i, x in enumerate(side) if x == s], dtype=np.int64)
        if len(idx):
            N[idx] = _largest_remainder(int(round(N[idx].sum())), N[idx])
    nn = np.zeros(len(rows), dtype=np.int64)
    n_assoc = int(round(n * float(des["sample_share_associations"])))
    power = float(des.get("allocation_power", 1.0))
    for s, ns in (("association", n_assoc), ("cooperative", n - n_assoc)):
        idx = np.array([i for i, x in enumerate(side) if x == s])
        if len(idx):
            nn[idx] = _largest_remainder(ns, N[idx] ** power)
    return SampleDesign(region, lf, side, N, nn)


# --------------------------------------------------------------------------- simulation state


@dataclass
class Simulation:
    """Everything generated for ``n`` organisations (before export and messiness)."""

    n: int
    seed: int
    form: Form
    cfg: dict
    constructs: dict
    design: SampleDesign
    org: dict = field(default_factory=dict)  # population attributes (numpy arrays)
    latent: dict = field(default_factory=dict)  # latent scores
    data: dict = field(default_factory=dict)  # name -> Value (answers, after skip logic)
    relevant: dict = field(default_factory=dict)  # name -> bool mask
    measurement: dict = field(default_factory=dict)  # item -> parameters
    ledger: list = field(default_factory=list)  # list of dict columns (phase A messiness)
    clean_only: bool = True

    def ctx(self, name: str) -> Value:
        if name not in self.data:
            raise ConfigError(f"expression refers to ${{{name}}}, which is not a question of the form")
        return self.data[name]


# --------------------------------------------------------------------------- population


def draw_population(sim: Simulation, rng: np.random.Generator) -> None:
    cfg, form, n = sim.cfg, sim.form, sim.n
    pop = cfg["population"]
    d = sim.design
    stratum = np.repeat(np.arange(len(d.N)), d.n)
    stratum = stratum[rng.permutation(n)]
    region = np.array(d.region, dtype=object)[stratum]
    lf = np.array(d.legal_form, dtype=object)[stratum]
    side = np.array(d.side, dtype=object)[stratum]
    coop = side == "cooperative"
    pi = d.pi[stratum]
    S = rng.standard_normal(n)
    sl = pop["size_loading"]

    def copula(load):
        return stats.norm.cdf(load * S + math.sqrt(1 - load**2) * rng.standard_normal(n))

    # sector (needed for women's cooperatives and women share)
    sector_codes = form.choices.get("sector", [])
    sec = pop["sector"]
    sector = np.full(n, "", dtype=object)
    if sector_codes:
        k = len(sector_codes)
        mat = np.zeros((n, k))
        av = np.array([float(sec["association"].get(c, 0)) for c in sector_codes])
        mat[~coop] = av / av.sum()
        cv = np.array([float(sec["cooperative"].get(c, 0)) for c in sector_codes])
        for r in np.unique(region[coop]):
            vec = cv.copy()
            for c, m in (sec.get("cooperative_region_multiplier", {}).get(r, {}) or {}).items():
                if c in sector_codes:
                    vec[sector_codes.index(c)] *= m
            mat[coop & (region == r)] = vec / vec.sum()
        sector = np.array(sector_codes, dtype=object)[_categorical(rng, mat)]
    wc = pop["women_cooperative"]["by_sector"]
    p_wc = np.array([wc.get(s, wc["default"]) for s in sector_codes]) if sector_codes else np.array([])
    women_coop = np.zeros(n, dtype=bool)
    if sector_codes:
        sidx = _map_codes(sector, sector_codes)
        pv = np.where(sidx >= 0, p_wc[np.maximum(sidx, 0)], wc["default"])
        women_coop = (lf == "cooperative") & (rng.random(n) < pv)

    # members (lognormal by region / side, via copula on S)
    um = copula(sl["members"])
    zm = stats.norm.ppf(um)
    mem = pop["members"]
    med = np.zeros(n)
    sig = np.zeros(n)
    for r, v in mem["association_by_region"].items():
        m = (~coop) & (region == r)
        med[m] = v["median"]
        sig[m] = _lognormal_sigma(v["median"], v["mean"])
    for key, mask in (
        ("cooperative", coop & ~women_coop & (lf != "union_coop")),
        ("women_cooperative", women_coop),
        ("union_coop", lf == "union_coop"),
    ):
        v = mem[key]
        med[mask] = v["median"]
        sig[mask] = _lognormal_sigma(v["median"], v["mean"])
    members = np.round(med * np.exp(sig * zm)).astype(np.int64)
    members = np.maximum(members, np.where(coop & (lf != "union_coop"), mem["cooperative_min"], np.where(coop, 2, mem["association_min"])))

    # women members
    ws = pop["women_share"]
    a = np.full(n, ws["association"][0])
    b = np.full(n, ws["association"][1])
    wsec = (~coop) & (sector == "women")
    a[wsec], b[wsec] = ws["association_women_sector"]
    a[coop], b[coop] = ws["cooperative"]
    a[women_coop], b[women_coop] = ws["women_cooperative"]
    share = rng.beta(a, b)
    women = rng.binomial(members, share)
    women[women_coop] = np.maximum(women[women_coop], members[women_coop] - rng.binomial(1, 0.1, women_coop.sum()))

    # age / year created
    ag = pop["age"]
    age_med = np.where(coop, ag["cooperative"]["median"], ag["association"]["median"])
    age_sig = np.where(coop, ag["cooperative"]["sigma"], ag["association"]["sigma"])
    age = np.maximum(1, np.round(age_med * np.exp(age_sig * rng.standard_normal(n)))).astype(np.int64)
    year = np.maximum(int(cfg["survey_year"]) - age, int(ag["min_year"]))

    # staff
    st = pop["staff"]
    p_any = np.where(coop, st["any_paid_cooperative"], st["any_paid_association"])
    ls_ = sl["staff"]
    tau = stats.norm.ppf(p_any) * math.sqrt(1 + ls_**2)
    has_staff = (tau + ls_ * S + rng.standard_normal(n)) > 0
    ks = st["kind_shares"]
    kind = np.searchsorted(np.cumsum([ks["full_only"], ks["part_only"], ks["both"]]), rng.random(n) * (ks["full_only"] + ks["part_only"] + ks["both"]), side="right")
    full_pos = has_staff & (kind != 1)
    part_pos = has_staff & (kind != 0)
    scale = np.exp(0.5 * S)
    staff_full = np.where(full_pos, 1 + _nb(rng, st["full_mean_extra"] * scale, 1.0), 0)
    staff_part = np.where(part_pos, 1 + _nb(rng, st["part_mean_extra"] * scale, 1.0), 0)

    # volunteers
    vo = pop["volunteers"]
    p_v = np.where(coop, vo["any_cooperative"], vo["any_association"])
    lv = sl["volunteers"]
    tau_v = stats.norm.ppf(p_v) * math.sqrt(1 + lv**2)
    any_v = (tau_v + lv * S + rng.standard_normal(n)) > 0
    reg_v = any_v & (rng.random(n) < vo["regular_given_any"])
    occ_v = any_v & (~reg_v | (rng.random(n) < vo["occasional_given_any"]))
    vscale = np.exp(0.3 * S)
    vol_reg = np.where(reg_v, 1 + _nb(rng, (vo["regular_mean"] - 1) * vscale, 1.0), 0)
    vol_occ = np.where(occ_v, 1 + _nb(rng, (vo["occasional_mean"] - 1) * vscale, 0.8), 0)

    # budget (lognormal body + bounded Pareto tail, via copula on S)
    ub = copula(sl["budget"])
    budget = np.zeros(n)
    for key, mask in (("association", ~coop), ("cooperative", coop)):
        budget[mask] = budget_quantile(ub[mask], pop["budget"][key])
    sig_digits = int(pop["budget"].get("round_significant", 2))
    mag = np.floor(np.log10(np.maximum(budget, 1.0)))
    step = 10.0 ** np.maximum(mag - sig_digits + 1, 0)
    budget = np.round(budget / step) * step

    milieu = np.full(n, "", dtype=object)
    if "milieu" in form.choices:
        codes = form.choices["milieu"]
        milieu = np.array(codes, dtype=object)[
            _draw_codes(rng, n, codes, None, side, {s: pop["milieu"][s] for s in ("association", "cooperative")})
        ]
    sim.org.update(
        stratum=stratum, region=region, legal_form=lf, side=side, coop=coop, pi=pi, S=S,
        sector=sector, women_coop=women_coop, members=members, women=women, age=age,
        year_created=year, staff_full=staff_full, staff_part=staff_part, vol_reg=vol_reg,
        vol_occ=vol_occ, budget=budget, milieu=milieu, rural=(milieu == "rural").astype(float),
    )


def budget_quantile(u: np.ndarray, p: dict) -> np.ndarray:
    """Quantile function of the budget distribution (lognormal body, bounded Pareto tail)."""
    mu = math.log(p["median"])
    sg = p["sigma"]
    L = float(p["tail_from"])
    H = float(p["tail_max"])
    al = float(p["tail_alpha"])
    uc = stats.norm.cdf((math.log(L) - mu) / sg)
    out = np.exp(mu + sg * stats.norm.ppf(np.minimum(u, uc)))
    t = u > uc
    if t.any():
        v = (u[t] - uc) / (1 - uc)
        # bounded Pareto inverse CDF
        out[t] = L * (1 - v * (1 - (L / H) ** al)) ** (-1.0 / al)
    return out


# --------------------------------------------------------------------------- latent model


def _intercept(spec: dict, lf: np.ndarray) -> np.ndarray:
    icpt = spec.get("intercept", 0.0)
    if isinstance(icpt, dict):
        out = np.zeros(len(lf))
        for f, v in icpt.items():
            out[lf == f] = v
        return out
    return np.full(len(lf), float(icpt))


def draw_latent(sim: Simulation, rng: np.random.Generator) -> None:
    """Structural model of ``structural:`` (H1-H4); fills ``sim.latent``."""
    o, n = sim.org, sim.n
    st = sim.cfg["structural"]
    lat = sim.latent
    env = {"S": o["S"], "rural": o["rural"], "coop": o["coop"].astype(float), "cooperative": o["coop"].astype(float)}
    lf = o["legal_form"]

    def lin(name):
        spec = st[name]
        val = _intercept(spec, lf)
        for term, coef in (spec.get("coef") or {}).items():
            factors = term.split(":")
            x = np.ones(n)
            for fct in factors:
                x = x * (lat[fct] if fct in lat else env[fct])
            val = val + float(coef) * x
        return val

    for name in ("internal_capacity", "external_barriers"):
        lat[name] = lin(name) + st[name]["residual_sd"] * rng.standard_normal(n)
    p_sup = stats.norm.cdf(lin("support_used"))
    lat["support_used"] = (rng.random(n) < p_sup).astype(float)
    lat["si_presence"] = lin("si_presence") + st["si_presence"]["residual_sd"] * rng.standard_normal(n)
    lat["perceived_impact"] = lin("perceived_impact") + st["perceived_impact"]["residual_sd"] * rng.standard_normal(n)
    # other constructs of constructs.yaml: independent N(0,1)
    for c in sim.constructs:
        if c not in lat:
            lat[c] = rng.standard_normal(n)
    # sub-dimensions
    gamma = float(sim.cfg.get("dimension_loading", 0.85))
    for c, spec in sim.constructs.items():
        dims = sorted({v["dimension"] for v in spec["items"].values() if v["dimension"]})
        for dname in dims:
            lat[f"{c}.{dname}"] = gamma * lat[c] + math.sqrt(1 - gamma**2) * rng.standard_normal(n)
    # beneficiaries (H1, count): organisation frailty x yearly noise
    b = st["beneficiaries"]
    env2 = dict(env, log_members=np.log(o["members"]), si_presence=lat["si_presence"])
    eta = b["intercept_log"] + sum(float(v) * env2[k] for k, v in b["coef"].items())
    mu3 = np.exp(eta)
    frailty = rng.gamma(b["size"], 1.0 / b["size"], n)
    shp = b["year_noise_shape"]
    for t in (1, 2, 3):
        mu_t = mu3 * math.exp(-b["yearly_growth"] * (3 - t)) * frailty * rng.gamma(shp, 1.0 / shp, n)
        o[f"beneficiaries_y{t}"] = rng.poisson(mu_t)
    lat["log_mu_beneficiaries"] = eta
    j = st["jobs_created"]
    env3 = dict(env, log1p_staff=np.log1p(o["staff_full"] + o["staff_part"]), si_presence=lat["si_presence"])
    mu_j = np.exp(j["intercept_log"] + sum(float(v) * env3[k] for k, v in j["coef"].items()))
    o["jobs_created"] = _nb(rng, mu_j, j["size"])


# --------------------------------------------------------------------------- measurement


def item_measurement(sim: Simulation) -> dict[str, dict]:
    """Loadings, thresholds and latent of every Likert item of the form (deterministic)."""
    form, cfg = sim.form, sim.cfg
    meas = cfg["measurement"]
    llists = likert_lists(form)
    by_item = {}
    for c, spec in sim.constructs.items():
        for it, v in spec["items"].items():
            by_item[it] = (c, v["dimension"], v["reverse"])
    linked = cfg.get("linked", {}) or {}
    # grids: groups with >= 3 Likert questions
    grid_count: dict[str, int] = {}
    for q in form.questions:
        if q.type == "select_one" and q.list_name in llists and q.group:
            grid_count[q.group] = grid_count.get(q.group, 0) + 1
    out = {}
    jit_l = float(meas.get("loading_jitter", 0.0))
    jit_t = float(meas.get("threshold_jitter", 0.0))
    for q in form.questions:
        if not (q.type == "select_one" and q.list_name in llists):
            continue
        scale, extra = llists[q.list_name]
        base_tau = meas["thresholds"].get(q.list_name, meas["thresholds"]["default"])
        if len(base_tau) != len(scale) - 1:
            base_tau = list(stats.norm.ppf(np.linspace(0, 1, len(scale) + 1)[1:-1]))
        shift = (2 * _hash_uniform("tau", q.name) - 1) * jit_t
        tau = [float(t + shift) for t in base_tau]
        if q.name in by_item:
            c, dim, rev = by_item[q.name]
            base = float(meas["default_loading"].get(c, meas.get("loading_fallback", 0.7)))
            lam = base + (2 * _hash_uniform("lambda", q.name) - 1) * jit_l
            latent = f"{c}.{dim}" if dim else c
            role = "construct"
        elif q.name in linked and "loading" in linked[q.name]:
            c, dim, rev = linked[q.name]["latent"], None, False
            lam = float(linked[q.name]["loading"])
            latent = c
            role = "linked"
        elif q.group and grid_count.get(q.group, 0) >= 3:
            c, dim, rev = None, None, False
            lam = float(meas["grid_factor"]["loading"]) + (2 * _hash_uniform("lambda", q.name) - 1) * jit_l
            latent = f"grid.{q.group}"
            role = "grid"
        else:
            c, dim, rev, lam, latent, role = None, None, False, 0.0, None, "single"
        lam = float(min(max(lam, 0.0), 0.95))
        acq_cfg = meas.get("acquiescence") or {}
        mid_cfg = meas.get("midpoint") or {}
        acq = float(acq_cfg.get("loading", 0.0)) if q.list_name in (acq_cfg.get("lists") or []) else 0.0
        acq = min(acq, math.sqrt(max(1 - lam**2, 0.0)))
        if rev:  # the answer scale mirrors the trait; acquiescence still pushes towards "agree"
            shift = 2 * float(acq_cfg.get("mean_shift", 0.0)) if acq > 0 else 0.0
            tau = [-t - shift for t in reversed(tau)]
        mid = None
        if q.list_name in (mid_cfg.get("lists") or []) and len(scale) % 2 == 1:
            mid = {"share": float(mid_cfg.get("share_persons", 0.0)), "rate": float(mid_cfg.get("rate", 0.0)),
                   "category": (len(scale) - 1) // 2}
        out[q.name] = {
            "construct": c,
            "dimension": dim,
            "latent": latent,
            "role": role,
            "reverse": bool(rev),
            "loading": -lam if rev else lam,
            "acquiescence": acq,
            "midpoint": mid,
            "thresholds": tau,
            "list_name": q.list_name,
            "categories": scale,
        }
    return out


def _ordinal(ystar: np.ndarray, tau: list[float]) -> np.ndarray:
    return (ystar[:, None] > np.asarray(tau)[None, :]).sum(axis=1)  # 0-based category


# --------------------------------------------------------------------------- answers


def simulate_answers(sim: Simulation, rng: np.random.Generator) -> None:
    """Draw an answer for every question of the form, then apply skip logic in survey order."""
    form, cfg, n, o, lat = sim.form, sim.cfg, sim.n, sim.org, sim.latent
    pop = cfg["population"]
    gen = cfg["generic"]
    likert_lists(form)
    sim.measurement = item_measurement(sim)
    meas_cfg = cfg["measurement"]
    linked = cfg.get("linked", {}) or {}
    side = o["side"]
    data = sim.data
    fund = cfg.get("funding", {}) or {}
    fund_q = fund.get("sources_question")
    prefix = fund.get("share_prefix", "fund_")
    set(gen.get("personal", []))

    # grid factors
    for _item, m in sim.measurement.items():
        lt = m["latent"]
        if lt and lt.startswith("grid.") and lt not in lat:
            g = lt[5:]
            corr = (meas_cfg["grid_factor"].get("correlate") or {}).get(g)
            e = rng.standard_normal(n)
            if corr and corr["latent"] in lat:
                r = float(corr["r"])
                lat[lt] = r * lat[corr["latent"]] + math.sqrt(1 - r**2) * e
            else:
                lat[lt] = e

    def one(name, idx, codes):
        data[name] = Value("one", np.asarray(idx, dtype=np.int16), list(codes))

    def num(name, x):
        data[name] = Value("num", np.asarray(x, dtype=float))

    numeric_from_org = {
        "year_created": "year_created", "n_members": "members", "n_women_members": "women",
        "n_staff_full": "staff_full", "n_staff_part": "staff_part",
        "n_volunteers_regular": "vol_reg", "n_volunteers_occasional": "vol_occ",
        "budget_mad": "budget", "beneficiaries_y1": "beneficiaries_y1",
        "beneficiaries_y2": "beneficiaries_y2", "beneficiaries_y3": "beneficiaries_y3",
        "jobs_created": "jobs_created",
    }
    from_org_codes = {"legal_form": "legal_form", "region": "region", "milieu": "milieu", "sector": "sector"}

    # funding shares
    # funding shares: numeric questions <prefix><source> (e.g. fund_dues), asked either for every
    # organisation (0 = source not used) or only for the sources ticked in `sources_question`
    shares = None
    share_qs = [q.name for q in form.questions
                if q.type in ("decimal", "integer") and q.name.startswith(prefix) and q.name != fund_q]
    multi_q = fund_q if fund_q and any(q.name == fund_q and q.type == "select_multiple" for q in form.questions) else None
    if share_qs:
        fcodes = [nm[len(prefix):] for nm in share_qs]
        shares = draw_shares(rng, fcodes, side, fund)
        sim.org["fund_shares"] = shares
        sim.org["fund_codes"] = fcodes

    for q in form.questions:
        name, typ = q.name, q.type
        if typ in ("start", "end", "today", "deviceid", "calculate", "acknowledge", "username", "phonenumber",
                   "simserial", "subscriberid", "audit", "begin_group", "end_group"):
            continue
        codes = form.choices.get(q.list_name, []) if q.list_name else []
        if typ in ("select_one", "select_multiple") and not codes:
            raise ConfigError(f"question {name}: choice list '{q.list_name}' not found in choices.csv")
        if typ == "select_one":
            if name in from_org_codes:
                vals = o[from_org_codes[name]]
                one(name, _map_codes(vals, codes), codes)
                continue
            if name == gen.get("consent_question"):
                one(name, np.full(n, codes.index("1") if "1" in codes else 0), codes)
                continue
            if name == "support_used" and "1" in codes:
                one(name, np.where(lat["support_used"] > 0, codes.index("1"), codes.index("0")), codes)
                continue
            if name == "market_activity" and shares is not None and "1" in codes:
                mk = fund.get("market_source", "market")
                fc = sim.org["fund_codes"]
                has = shares[:, fc.index(mk)] > 0 if mk in fc else np.zeros(n, bool)
                one(name, np.where(has, codes.index("1"), codes.index("0")), codes)
                continue
            if name in sim.measurement:
                m = sim.measurement[name]
                one(name, _likert(sim, rng, name, m, codes), codes)
                continue
            if name in linked and ("probs" in linked[name] or "slope" in linked[name]):
                spec = linked[name]
                probs = spec.get("probs") or {"1": gen["yes_share"], "0": 1 - gen["yes_share"]}
                latent = lat[spec["latent"]]
                one(name, _linked_one(rng, codes, probs, float(spec.get("slope", 0.0)), latent), codes)
                continue
            spec = pop.get(name)
            if spec is None and name in cfg:
                spec = cfg[name]
            if isinstance(spec, dict) and ("association" in spec or "cooperative" in spec):
                one(name, _draw_codes(rng, n, codes, None, side, spec), codes)
            elif isinstance(spec, dict):
                one(name, _draw_codes(rng, n, codes, spec), codes)
            else:
                one(name, _draw_codes(rng, n, codes, _generic_one_probs(codes, gen)), codes)
            continue
        if typ == "select_multiple":
            if name == multi_q and shares is not None:
                mcodes = list(codes)
                mat = np.zeros((n, len(mcodes)), dtype=bool)
                for j, c in enumerate(sim.org["fund_codes"]):
                    if c in mcodes:
                        mat[:, mcodes.index(c)] = shares[:, j] > 0
            elif name in linked:
                spec = linked[name]
                mat = _multi(rng, n, codes, spec.get("p", gen["multi_p"]), spec.get("none_p", gen["multi_none_p"]),
                             lat[spec["latent"]], float(spec.get("slope", 0.0)))
            elif isinstance(pop.get(name), dict):
                spec = pop[name]
                pmat = np.zeros((n, len(codes)))
                for s in ("association", "cooperative"):
                    pv = spec.get(s, spec)
                    pmat[side == s] = [float(pv.get(c, gen["multi_p"])) for c in codes]
                mat = _multi(rng, n, codes, pmat, gen["multi_none_p"], None, 0.0)
            else:
                mat = _multi(rng, n, codes, gen["multi_p"], gen["multi_none_p"], None, 0.0)
            data[name] = Value("multi", (mat, np.ones(n, dtype=bool)), list(codes))
            continue
        if typ == "range":  # XLSForm range: integer between its parameters' start and end
            lo, hi = _range_bounds(form, name)
            num(name, rng.integers(int(lo), int(hi) + 1, n))
            continue
        if typ in ("integer", "decimal"):
            if name in numeric_from_org:
                num(name, o[numeric_from_org[name]])
            elif shares is not None and name.startswith(prefix) and name[len(prefix):] in sim.org["fund_codes"]:
                j = sim.org["fund_codes"].index(name[len(prefix):])
                num(name, np.where(shares[:, j] > 0, shares[:, j], np.nan if multi_q else 0.0))
            elif name == "coop_income_members":
                ci = cfg["structural"]["coop_income_members"]
                fc = sim.org.get("fund_codes", [])
                msh = shares[:, fc.index(fund.get("market_source", "market"))] / 100 if shares is not None and "market" in fc else 0.5
                lo, hi = ci["share_of_market_income"]
                val = o["budget"] * msh * rng.uniform(lo, hi, n)
                val = np.where(rng.random(n) < ci["p_zero"], 0.0, np.round(val / 100) * 100)
                num(name, val)
            elif typ == "integer" and name.startswith("year"):
                num(name, o["year_created"])
            elif typ == "integer":
                num(name, _nb(rng, np.full(n, float(gen["integer_mean"])), 1.0))
            else:
                num(name, np.round(gen["decimal_median"] * np.exp(rng.standard_normal(n))))
            continue
        # text, geopoint and others: filled after skip logic (only where relevant)
        data[name] = Value("str", np.full(n, "", dtype=object))

    # phase A messiness hook is applied by the caller between generation and skip logic


def apply_skip_logic(sim: Simulation, rng: np.random.Generator) -> None:
    """Blank every non-relevant answer (relevance of enclosing groups included), in survey order."""
    form, n, data = sim.form, sim.n, sim.data
    gen = sim.cfg["generic"]
    personal = set(gen.get("personal", []))
    cache: dict[str, np.ndarray] = {}
    for q in form.questions:
        mask = np.ones(n, dtype=bool)
        for expr in (*q.group_relevant, q.relevant):
            if not expr:
                continue
            if expr in cache and expr in q.group_relevant:
                m = cache[expr]
            else:
                m = evaluate(Expression(expr), sim.ctx, n, today_year=int(sim.cfg["survey_year"])).as_bool()
                if expr in q.group_relevant:
                    cache[expr] = m
            mask &= m
        sim.relevant[q.name] = mask
        v = data.get(q.name)
        if q.type == "calculate":
            if q.calculation:
                r = evaluate(Expression(q.calculation), sim.ctx, n, today_year=int(sim.cfg["survey_year"]))
                data[q.name] = Value("num", np.where(mask, r.as_num(), np.nan)) if r.is_numeric() else Value("str", np.where(mask, r.as_str(), ""))
            else:
                data[q.name] = Value("str", np.full(n, "", dtype=object))
            continue
        if q.type == "acknowledge":
            data[q.name] = Value("str", np.where(mask, "OK", "").astype(object))
            continue
        if v is None:
            continue
        if v.kind == "one":
            v.data[~mask] = -1
        elif v.kind == "multi":
            v.data[1][:] = v.data[1] & mask
            v.data[0][~mask] = False
        elif v.kind == "num":
            v.data[~mask] = np.nan
        elif v.kind == "str":
            if q.name in personal and sim.clean_only:
                continue
            fill_text(sim, rng, q, mask)


def _generic_one_probs(codes, gen):
    probs = {}
    ordinary = [c for c in codes if c not in MISSING_CODES and c != "autre" and c != "other"]
    if codes and set(codes) >= {"1", "0"}:
        return {"1": gen["yes_share"], "0": 1 - gen["yes_share"]}
    for c in ordinary:
        probs[c] = (1 - gen["one_p_other"]) / max(len(ordinary), 1)
    for c in ("autre", "other"):
        if c in codes:
            probs[c] = gen["one_p_other"]
    return probs


def _linked_one(rng, codes, probs, slope, latent):
    """P(first listed code) = Phi(z(p) + slope * latent); the others share the rest in proportion."""
    n = len(latent)
    keys = [c for c in probs if c in codes]
    if not keys:
        return _draw_codes(rng, n, codes, None)
    first = keys[0]
    p1 = float(probs[first]) / sum(float(probs[k]) for k in keys)
    z = stats.norm.ppf(p1) * math.sqrt(1 + slope**2)
    pf = stats.norm.cdf(z + slope * latent)
    rest = keys[1:]
    out = np.full(n, codes.index(first), dtype=np.int16)
    is_rest = rng.random(n) >= pf
    if rest:
        rest_idx = _draw_codes(rng, int(is_rest.sum()), [c for c in rest], {c: probs[c] for c in rest})
        out[is_rest] = np.array([codes.index(c) for c in rest], dtype=np.int16)[rest_idx]
    return out


def _multi(rng, n, codes, p, none_p, latent, slope):
    k = len(codes)
    excl = [j for j, c in enumerate(codes) if c in EXCLUSIVE_CODES]
    p = np.broadcast_to(np.asarray(p, dtype=float), (n, k)) if np.ndim(p) == 2 else np.full((n, k), float(p))
    p = p.copy()
    for j, c in enumerate(codes):
        if c in ("autre", "other") and np.ndim(p) == 2:
            p[:, j] = np.minimum(p[:, j], 0.05)
        if c in MISSING_CODES:
            p[:, j] = 0.0
    if latent is not None and slope:
        zz = stats.norm.ppf(np.clip(p, 1e-6, 1 - 1e-6)) * math.sqrt(1 + slope**2)
        p = stats.norm.cdf(zz + slope * latent[:, None])
    mat = rng.random((n, k)) < p
    if excl:
        mat[:, excl] = False
        is_none = rng.random(n) < float(none_p)
        if latent is not None and slope:
            is_none = rng.random(n) < stats.norm.cdf(stats.norm.ppf(float(none_p)) * math.sqrt(1 + slope**2) - slope * latent)
        mat[is_none] = False
        mat[is_none, excl[0]] = True
    empty = ~mat.any(axis=1)
    if empty.any():
        cand = [j for j in range(k) if j not in excl and codes[j] not in MISSING_CODES]
        w = np.clip(p[0, cand] if len(cand) else np.ones(1), 1e-3, None)
        pick = np.array(cand)[_draw_codes(rng, int(empty.sum()), [str(j) for j in cand], {str(j): x for j, x in zip(cand, w)})]
        mat[np.flatnonzero(empty), pick] = True
    return mat


def _habits(sim) -> dict:
    """Answering habits of each respondent (drawn once, from their own stream of the seed).

    ``acquiescence``: a standard normal tendency to agree, shared by every agreement item
    (loading ``measurement.acquiescence.loading``); ``midpoint``: True for the share
    ``measurement.midpoint.share_persons`` of respondents who fall back on the middle category
    (with probability ``rate`` per item).
    """
    if "acquiescence" not in sim.org:
        rng = np.random.default_rng(np.random.SeedSequence([int(sim.seed), 7_202_611]))
        mid = sim.cfg["measurement"].get("midpoint") or {}
        sim.org["acquiescence"] = rng.standard_normal(sim.n)
        sim.org["midpoint_habit"] = rng.random(sim.n) < float(mid.get("share_persons", 0.0))
    return {"acquiescence": sim.org["acquiescence"], "midpoint": sim.org["midpoint_habit"]}


def _likert(sim, rng, name, m, codes):
    n = sim.n
    lat = sim.latent
    lam = m["loading"]
    eta = lat[m["latent"]] if m["latent"] else np.zeros(n)
    acq = float(m.get("acquiescence") or 0.0)
    ystar = lam * eta + math.sqrt(max(1 - lam**2 - acq**2, 0.0)) * rng.standard_normal(n)
    if acq:
        ystar = ystar + acq * _habits(sim)["acquiescence"]
    tau = np.asarray(m["thresholds"])
    cat = _ordinal(ystar, list(tau))
    for nv in sim.cfg["measurement"].get("noninvariance") or []:
        if nv.get("item") == name:
            grp = sim.org["side"] == nv.get("side") if "side" in nv else sim.org["legal_form"] == nv.get("legal_form")
            cat[grp] = _ordinal(ystar[grp], list(tau + float(nv.get("threshold_shift", 0.0))))
    mid = m.get("midpoint")
    if mid and mid["rate"] > 0:
        hit = _habits(sim)["midpoint"] & (rng.random(n) < mid["rate"])
        cat = np.where(hit, mid["category"], cat)
    idx = np.array([codes.index(c) for c in m["categories"]], dtype=np.int16)[cat]
    if "97" in codes:
        na = rng.random(n) < float(sim.cfg["measurement"].get("not_applicable_rate", 0.0))
        idx[na] = codes.index("97")
    return idx


def draw_shares(rng, codes: list[str], side: np.ndarray, fund: dict) -> np.ndarray:
    """Integer percentage shares (n, k) summing to 100, zeros for absent sources."""
    n, k = len(side), len(codes)
    P = np.zeros((n, k))
    W = np.full((n, k), 0.5)
    for s in ("association", "cooperative"):
        m = side == s
        spec = fund.get(s, {})
        P[m] = [float(spec.get(c, {}).get("p", 0.03)) for c in codes]
        W[m] = [float(spec.get(c, {}).get("w", 0.5)) for c in codes]
    present = rng.random((n, k)) < P
    none = ~present.any(axis=1)
    present[none, np.argmax(P[none], axis=1)] = True
    g = np.where(present, rng.gamma(W), 0.0)
    g = g / g.sum(axis=1, keepdims=True)
    cnt = present.sum(axis=1)
    rest = (100 - cnt)[:, None] * g  # everyone present gets 1 %, the rest in proportion
    base = np.floor(rest).astype(np.int64)
    short = 100 - cnt - base.sum(axis=1)
    frac = np.where(present, rest - base, -1.0)
    order = np.argsort(-frac, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(k)[None, :].repeat(n, 0), axis=1)
    base += (ranks < short[:, None]) & present
    return np.where(present, base + 1, 0)
