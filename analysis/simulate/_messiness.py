"""Planted data problems, each at the rate of ``messiness:`` in ``simulation.yaml``.

Phase A acts on the answers before skip logic (so that what depends on a
changed answer follows it): don't know / refusal codes (MAR), straightlining,
"autre (précisez)" used for an existing category, funding shares off 100.
Phase B acts on the export rows: speeders, region and province variants,
numbers typed as text, out-of-range values, then extra rows (near duplicates,
test submissions, exact duplicates). Every planted problem is recorded in the
ledger (see ``truth_ledger.csv`` in :mod:`analysis.simulate`).
"""

from __future__ import annotations

import numpy as np

from analysis.simulate._export import MS_DAY, Plan, cell_strings, fmt_value
from analysis.simulate._model import MISSING_CODES, Simulation
from analysis.simulate._variants import PROVINCE_AR, REGION_TRANSLIT, old_names_for, strip_accents
from analysis.xlsform._form import Expression

__all__ = ["Ledger", "plant_before_skip", "plant_after_skip", "plant_rows", "driver_questions"]


class Ledger:
    """Planted problems; ``row`` is a pre-sort export row (= organisation index for originals)."""

    def __init__(self):
        self.parts: list[dict] = []

    def add(self, rows, kind, column, true_value, written_value, original_rows=None):
        rows = np.asarray(rows, dtype=np.int64)
        k = len(rows)
        if k == 0:
            return

        def arr(x):
            a = np.asarray(x, dtype=object)
            return np.full(k, a.item(), dtype=object) if a.ndim == 0 else a

        self.parts.append({
            "row": rows,
            "kind": arr(kind),
            "column": arr(column),
            "true_value": arr(true_value),
            "written_value": arr(written_value),
            "original_row": np.full(k, -1, np.int64) if original_rows is None else np.asarray(original_rows, np.int64),
        })

    def frame(self) -> dict[str, np.ndarray]:
        keys = ["row", "kind", "column", "true_value", "written_value", "original_row"]
        if not self.parts:
            return {k: np.zeros(0, dtype=np.int64 if k in ("row", "original_row") else object) for k in keys}
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}

    def drop(self, keep_fn):
        new = []
        for p in self.parts:
            keep = keep_fn(p)
            new.append({k: v[keep] for k, v in p.items()})
        self.parts = new


def driver_questions(sim: Simulation) -> dict[str, set[str]]:
    """``{question: questions whose relevance or calculation refers to it}``."""
    out: dict[str, set[str]] = {}
    for q in sim.form.questions:
        for expr in (*q.group_relevant, q.relevant, q.calculation):
            if expr:
                for r in Expression(expr).references():
                    out.setdefault(r, set()).add(q.name)
    return out


def _small_rural(sim: Simulation) -> np.ndarray:
    m = sim.org["members"]
    return (m <= np.median(m)) & (sim.org["milieu"] == "rural")


# --------------------------------------------------------------------------- phase A


def plant_before_skip(sim: Simulation, rng: np.random.Generator, led: Ledger) -> dict:
    mc = sim.cfg["messiness"]
    n, data, form = sim.n, sim.data, sim.form
    drivers = driver_questions(sim)
    pending: dict = {}

    # refusals and inactive organisations: the rest of the interview is skipped
    out = np.zeros(n, dtype=bool)
    for kind, col, rate in (("no_consent", "consent", mc.get("no_consent", 0.0)),
                            ("ineligible", "org_active", mc.get("ineligible", 0.0))):
        v = data.get(col)
        if v is None or v.kind != "one" or "0" not in v.codes:
            continue
        r = np.flatnonzero((rng.random(n) < float(rate)) & ~out & (v.data >= 0))
        led.add(r, kind, col, fmt_value(v, r), "0")
        v.data[r] = v.codes.index("0")
        out[r] = True
    sim.org["not_interviewed"] = out

    # straightliners: every Likert grid of the row answered with one scale point
    grids: dict[str, list[str]] = {}
    for q in form.questions:
        m = sim.measurement.get(q.name)
        if m and m["role"] in ("construct", "grid") and q.group:
            grids.setdefault(q.group, []).append(q.name)
    grids = {g: its for g, its in grids.items() if len(its) >= 3}
    straight = (rng.random(n) < float(mc["straightliner"])) & ~out
    rows = np.flatnonzero(straight)
    if len(rows) and grids:
        point = np.array(["3", "4", "5"], dtype=object)[
            np.minimum(np.searchsorted([0.2, 0.55, 1.0], rng.random(len(rows)), side="right"), 2)]
        for g, items in grids.items():
            for it in items:
                v = data[it]
                idx = np.array([v.codes.index(p) if p in v.codes else -1 for p in ("3", "4", "5")], dtype=np.int16)
                v.data[rows] = idx[np.searchsorted(["3", "4", "5"], point)]
            led.add(rows, "straightliner", g, "", point)

    # don't know / refusal (MAR: more for small rural organisations)
    mult = np.where(_small_rural(sim), float(mc["dk_refusal_small_rural_multiplier"]), 1.0)
    extra = mc.get("dk_refusal_numbers_extra") or {}
    for q in form.questions:
        v = data.get(q.name)
        if v is None:
            continue
        if v.kind == "one" and ("98" in v.codes or "99" in v.codes) and q.name not in ("consent",):
            codes = [c for c in ("98", "99") if c in v.codes]
        elif v.kind == "num" and "-98" in q.constraint:
            codes = ["-98", "-99"] if "-99" in q.constraint else ["-98"]
        else:
            continue
        p = (float(mc["dk_refusal_cell"]) + float(extra.get(q.name, 0.0))) * mult
        hit = (rng.random(n) < p) & ~straight & ~out
        if v.kind == "one":
            hit &= v.data >= 0
        else:
            hit &= ~np.isnan(v.data)
        r = np.flatnonzero(hit)
        if not len(r):
            continue
        true = fmt_value(v, r)
        refuse = rng.random(len(r)) < float(mc["refusal_share"])
        written = np.where(refuse & (len(codes) > 1), codes[-1], codes[0]).astype(object)
        if v.kind == "one":
            v.data[r] = np.where(written == codes[-1], v.codes.index(codes[-1]), v.codes.index(codes[0])).astype(np.int16)
        else:
            v.data[r] = written.astype(float)
        led.add(r, "dk_refusal", q.name, true, written)

    # "autre (précisez)" used for an existing category
    cand = []
    for q in form.questions:
        v = data.get(q.name)
        other = f"{q.name}_other"
        if v is None or v.kind != "one" or "autre" not in v.codes or other not in data:
            continue
        if drivers.get(q.name, set()) - {other}:
            continue
        cand.append(q.name)
    if cand:
        chosen = np.flatnonzero((rng.random(n) < float(mc["other_text"])) & ~out)
        which = rng.integers(0, len(cand), len(chosen))
        for j, qn in enumerate(cand):
            v = data[qn]
            r = chosen[which == j]
            ok = v.data[r] >= 0
            ok &= ~np.isin(np.array(v.codes + [""], dtype=object)[v.data[r]], list(MISSING_CODES) + ["autre"])
            r = r[ok]
            if not len(r):
                continue
            true = np.array(v.codes, dtype=object)[v.data[r]]
            ln = form.question(qn).list_name
            labels = np.array([form.choice_labels.get(ln, {}).get(c, c) for c in true], dtype=object)
            style = rng.integers(0, 3, len(r))
            texts = np.where(style == 0, np.char.lower(labels.astype(str)).astype(object),
                             np.where(style == 1, np.array([strip_accents(s) for s in labels], dtype=object),
                                      labels + " (principalement)"))
            v.data[r] = v.codes.index("autre")
            pending[f"{qn}_other"] = (r, texts)
            led.add(r, "other_text", f"{qn}_other", true, texts)

    # funding shares off 100 (rounding +-1, or far off)
    fc = sim.org.get("fund_codes")
    if fc is not None:
        prefix = sim.cfg["funding"].get("share_prefix", "fund_")
        cols = [f"{prefix}{c}" for c in fc]
        if all(c in data for c in cols):
            mat = np.column_stack([data[c].data for c in cols])
            done = np.zeros(n, dtype=bool)
            for kind_rate, far in ((mc["shares_rounding"], False), (mc["shares_far"], True)):
                r = np.flatnonzero((rng.random(n) < float(kind_rate)) & ~np.isnan(mat).all(axis=1) & ~out & ~done)
                done[r] = True
                if not len(r):
                    continue
                sub = np.nan_to_num(mat[r], nan=-1)
                if far:
                    j = np.argmax(sub, axis=1)
                    old = sub[np.arange(len(r)), j]
                    new = np.where(rng.random(len(r)) < 0.5, np.round(old * rng.uniform(0.3, 0.7, len(r))),
                                   old + rng.integers(20, 60, len(r)))
                    new = np.maximum(new, 1)
                else:
                    j = np.argmax(np.where(sub > 0, rng.random(sub.shape), -1), axis=1)
                    old = sub[np.arange(len(r)), j]
                    delta = np.where(rng.random(len(r)) < 0.5, -1, 1)
                    delta = np.where(old <= 1, 1, delta)
                    new = old + delta
                for jj in np.unique(j):
                    rr = r[j == jj]
                    nv = new[j == jj]
                    true = fmt_value(data[cols[jj]], rr)
                    data[cols[jj]].data[rr] = nv
                    mat[rr, jj] = nv
                    led.add(rr, "shares_off", cols[jj], true, fmt_value(data[cols[jj]], rr))
    return pending


def plant_after_skip(sim: Simulation, led: Ledger, pending: dict) -> None:
    """Write the pending 'autre' texts and drop ledger entries blanked by skip logic."""
    for col, (r, texts) in pending.items():
        v = sim.data[col]
        rel = sim.relevant.get(col, np.ones(sim.n, bool))
        ok = rel[r]
        v.data[r[ok]] = texts[ok]

    def keep(p):
        out = np.ones(len(p["row"]), dtype=bool)
        for col in np.unique(p["column"]):
            if col in sim.relevant:
                m = p["column"] == col
                out[m] = sim.relevant[col][p["row"][m]]
        return out

    led.drop(keep)


# --------------------------------------------------------------------------- phase B


def _append_rows(plan: Plan, led: Ledger, sources: np.ndarray, kind: int, rng, copy_ledger: bool) -> np.ndarray:
    """Append copies of ``sources`` (pre-sort rows), with their overrides (and ledger entries)."""
    R = plan.n_rows
    k = len(sources)
    new = np.arange(R, R + k)
    plan.src = np.concatenate([plan.src, plan.src[sources]])
    for attr in ("start_ms", "dur_ms", "sub_ms", "validation", "enum"):
        setattr(plan, attr, np.concatenate([getattr(plan, attr), getattr(plan, attr)[sources]]))
    plan.uuid = np.concatenate([plan.uuid, plan.uuid[sources] if kind == 3 else _uuid(rng, k)])
    plan.row_kind = np.concatenate([plan.row_kind, np.full(k, kind, np.int8)])
    mapping = np.full(R, -1, np.int64)
    mapping[sources] = new
    for _col, parts in list(plan.overrides.items()):
        add = []
        for r, v in parts:
            m = mapping[r[r < R]] >= 0
            rr = r[r < R][m]
            if len(rr):
                add.append((mapping[rr], v[r < R][m]))
        parts.extend(add)
    if copy_ledger:
        for p in list(led.parts):
            # times of copies are drawn anew: a speeder's copy is not a speeder
            m = (p["row"] < R) & (mapping[np.minimum(p["row"], R - 1)] >= 0) & (p["kind"] != "speeder")
            if m.any():
                led.parts.append({kk: (mapping[vv[m]] if kk == "row" else vv[m]) for kk, vv in p.items()})
    return new


def _uuid(rng, k):
    b = rng.integers(0, 256, size=(k, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    return b


def _region_variant_table(code: str, labels: dict, labels_ar: dict) -> tuple[list, list]:
    """All written forms of a region: (new-name variants, [(pre-2015 variant, ambiguous)])."""
    lab = labels.get(code, code)
    tr = REGION_TRANSLIT.get(code, (lab,))
    new = [lab, strip_accents(lab), lab.replace("-", " - ") if "-" in lab else lab + " ",
           lab.replace("-", "\u2013"), labels_ar.get(code) or lab, *tr, strip_accents(lab).lower(), "Région " + lab]
    old = []
    for name, amb in old_names_for(code):
        old += [(name, amb), (strip_accents(name), amb), (name.upper(), amb)]
    return new, old


def _region_variants(codes: np.ndarray, labels: dict, labels_ar: dict, rng, old_share: float):
    k = len(codes)
    written = np.empty(k, dtype=object)
    kinds = np.full(k, "region_variant", dtype=object)
    use_old = rng.random(k) < old_share
    pick = rng.random(k)
    for c in np.unique(codes):  # loop over the 12 regions, vectorised inside
        m = codes == c
        new, old = _region_variant_table(c, labels, labels_ar)
        mo = m & use_old & bool(old)
        mn = m & ~mo
        if mn.any():
            written[mn] = np.array(new, dtype=object)[(pick[mn] * len(new)).astype(int)]
        if mo.any():
            j = (pick[mo] * len(old)).astype(int)
            written[mo] = np.array([o[0] for o in old], dtype=object)[j]
            amb = np.array([o[1] for o in old])[j]
            kinds[np.flatnonzero(mo)[amb]] = "region_ambiguous"
    return written, kinds


def _province_variant(p: np.ndarray, rng) -> np.ndarray:
    out = np.empty(len(p), dtype=object)
    style = rng.integers(0, 6, len(p))
    for s in np.unique(p):  # loop over the ~75 provinces, vectorised inside
        m = p == s
        table = np.array([strip_accents(s).lower(), "Province de " + s, "Préfecture " + s, s.upper(),
                          PROVINCE_AR.get(s, strip_accents(s)), s.replace("-", " ") + " "], dtype=object)
        out[m] = table[style[m]]
    return out


def _number_text(vals: np.ndarray, cols: np.ndarray, rng) -> np.ndarray:
    out = np.empty(len(vals), dtype=object)
    style = rng.integers(0, 3, len(vals))
    for i, (v, c) in enumerate(zip(vals, cols)):
        iv = int(round(v))
        if c.startswith("fund_"):
            out[i] = [f"{iv}%", f"{iv} %", f"{iv},0"][style[i]]
        elif c.startswith("year"):
            out[i] = [f"{iv} ", f"en {iv}", f"{iv}.0"][style[i]]
        elif iv >= 1000:
            t = f"{iv:,}"
            out[i] = [t.replace(",", " "), t.replace(",", "."), t.replace(",", " ") + (" DH" if "budget" in c or "income" in c else "")][style[i]]
        else:
            out[i] = [f"{iv},0", f"{iv}.0", f"env. {iv}"][style[i]]
    return out


def _out_of_range(vals: np.ndarray, cols: np.ndarray, rng) -> np.ndarray:
    out = np.empty(len(vals), dtype=object)
    for i, (v, c) in enumerate(zip(vals, cols)):
        iv = int(round(v))
        if c.startswith("year"):
            out[i] = ["2099", str(iv * 10 + 5), str(iv - 1000)][int(rng.integers(0, 3))]
        elif c.startswith("fund_"):
            out[i] = str(100 + int(rng.integers(20, 400)))
        else:
            out[i] = str(-int(rng.integers(1, 30)))
    return out


def _blocked(led: Ledger, plan: Plan, cols: list[str]) -> dict[str, np.ndarray]:
    """Rows (pre-sort) where a problem is already planted in each column (one problem per cell)."""
    R = plan.n_rows
    grid_items: dict[str, list[str]] = {}
    for it, _m in plan.sim.measurement.items():
        q = plan.sim.form.question(it)
        if q.group:
            grid_items.setdefault(q.group, []).append(it)
    out = {c: np.zeros(R, dtype=bool) for c in cols}
    for p in led.parts:
        for c in np.unique(p["column"]):
            targets = [c] if c in out else [i for i in grid_items.get(c, []) if i in out]
            rows = p["row"][p["column"] == c]
            for t in targets:
                out[t][rows[rows < R]] = True
    return out


def _pick_cells(sim, rows, cols, rng, blocked=None, positive=False):
    """For each row, one of ``cols`` whose value is present and >= 0 (> 0 if ``positive``)."""
    vals = np.column_stack([sim.data[c].data[rows] for c in cols]) if cols else np.zeros((len(rows), 0))
    ok = ~np.isnan(vals) & ((vals > 0) if positive else (vals >= 0))
    if blocked is not None and cols:
        ok &= ~np.column_stack([blocked[c][rows] for c in cols])  # rows are originals: org = row
    score = np.where(ok, rng.random(ok.shape), -1)
    j = np.argmax(score, axis=1) if cols else np.zeros(len(rows), int)
    has = ok[np.arange(len(rows)), j] if cols else np.zeros(len(rows), bool)
    return j, has, vals


def plant_rows(plan: Plan, rng: np.random.Generator, led: Ledger) -> np.ndarray:
    """Phase B; returns the ordering key (reception order) of every pre-sort row."""
    sim = plan.sim
    mc = sim.cfg["messiness"]
    form = sim.form
    n = sim.n
    drivers = driver_questions(sim)
    qtype = {q.name: q.type for q in form.questions}

    # speeders
    out = sim.org.get("not_interviewed", np.zeros(n, dtype=bool))
    r = np.flatnonzero((rng.random(n) < float(mc["speeder"])) & ~out)
    if len(r):
        old = cell_strings(plan, "end", r)
        lo, hi = mc["speeder_minutes"]
        plan.dur_ms[r] = (rng.uniform(lo, hi, len(r)) * 60e3).astype(np.int64)
        plan.sub_ms[r] = np.maximum(plan.sub_ms[r], plan.start_ms[r] + plan.dur_ms[r] + 60_000)
        led.add(r, "speeder", "end", old, cell_strings(plan, "end", r))

    # region variants
    if "region" in sim.data:
        v = sim.data["region"]
        r = np.flatnonzero((rng.random(n) < float(mc["region_variant"])) & (v.data >= 0))
        if len(r):
            codes = np.array(v.codes, dtype=object)[v.data[r]]
            ln = form.question("region").list_name
            written, kinds = _region_variants(codes, form.choice_labels.get(ln, {}), form.choice_labels_ar.get(ln, {}),
                                              rng, float(mc["region_old_name_share"]))
            plan.add_override("region", r, written)
            for kd in ("region_variant", "region_ambiguous"):
                m = kinds == kd
                led.add(r[m], kd, "region", codes[m], written[m])
    if "province" in sim.data:
        pv = sim.data["province"].data
        r = np.flatnonzero((rng.random(n) < float(mc["province_variant"])) & (pv != ""))
        if len(r):
            written = _province_variant(pv[r], rng)
            plan.add_override("province", r, written)
            led.add(r, "province_variant", "province", pv[r], written)

    # numbers typed as text, out-of-range values
    num_cols = [q.name for q in form.questions if qtype[q.name] in ("integer", "decimal")
                and q.name in sim.data and sim.data[q.name].kind == "num" and not drivers.get(q.name)]
    blocked = _blocked(led, plan, num_cols)
    for kind, rate, maker in (("number_as_text", mc["number_as_text"], _number_text),
                              ("out_of_range", mc["out_of_range"], _out_of_range)):
        r = np.flatnonzero(rng.random(n) < float(rate))
        if not len(r) or not num_cols:
            continue
        j, has, vals = _pick_cells(sim, plan.src[r], num_cols, rng, blocked, positive=kind == "number_as_text")
        r, j = r[has], j[has]
        v = vals[has][np.arange(len(r)), j] if len(r) else np.zeros(0)
        cols = np.array(num_cols, dtype=object)[j]
        written = maker(v, cols, rng)
        for jj in np.unique(j):
            m = j == jj
            col = num_cols[jj]
            # skip cells already overridden (e.g. earlier kind) to keep one problem per cell
            true = fmt_value(sim.data[col], plan.src[r[m]])
            plan.add_override(col, r[m], written[m])
            led.add(r[m], kind, col, true, written[m])
            blocked[col][r[m]] = True

    # near duplicates: same organisation again, new _uuid, later, a few answers changed
    base_sub = plan.sub_ms.copy()
    src_near = np.flatnonzero(rng.random(n) < float(mc["duplicate_near"]))
    new = _append_rows(plan, led, src_near, 1, rng, copy_ledger=True)
    if len(new):
        shift = rng.integers(1, 20, len(new)) * MS_DAY + rng.integers(0, MS_DAY // 2, len(new))
        plan.start_ms[new] += shift
        plan.dur_ms[new] = (plan.dur_ms[new] * rng.uniform(0.6, 1.1, len(new))).astype(np.int64)
        plan.sub_ms[new] = plan.start_ms[new] + plan.dur_ms[new] + rng.integers(60_000, 3_600_000, len(new))
        led.add(new, "duplicate_near", "", "", "", original_rows=src_near)
        changeable = [c for c in sim.data if not drivers.get(c) and sim.data[c].kind in ("one", "num")
                      and qtype.get(c) in ("select_one", "integer", "decimal") and c not in ("region", "legal_form")]
        lo, hi = mc["near_changes"]
        nchg = rng.integers(lo, hi + 1, len(new))
        blocked = _blocked(led, plan, changeable)
        for t in range(int(hi)):
            rows_t = new[nchg > t]
            if not len(rows_t) or not changeable:
                continue
            which = rng.integers(0, len(changeable), len(rows_t))
            for jj in np.unique(which):
                col = changeable[jj]
                rr = rows_t[which == jj]
                rr = rr[~blocked[col][rr]]
                v = sim.data[col]
                true = fmt_value(v, plan.src[rr])
                present = true != ""
                rr, true = rr[present], true[present]
                if not len(rr):
                    continue
                blank = rng.random(len(rr)) < 0.3
                if v.kind == "one":
                    codes = v.codes
                    scale = [c for c in codes if c not in MISSING_CODES]
                    pos = np.array([scale.index(x) if x in scale else 0 for x in true])
                    step = np.where(rng.random(len(rr)) < 0.5, -1, 1)
                    newpos = np.clip(pos + step, 0, len(scale) - 1)
                    newpos = np.where(newpos == pos, np.clip(pos - step, 0, len(scale) - 1), newpos)
                    written = np.array(scale, dtype=object)[newpos]
                else:
                    fv = np.array([float(x) if _isnum(x) else np.nan for x in true])
                    nv = np.round(fv * rng.uniform(0.8, 1.25, len(rr)))
                    nv = np.where(nv == fv, fv + 1, nv)
                    written = np.array([str(int(x)) if np.isfinite(x) else "" for x in nv], dtype=object)
                written = np.where(blank, "", written).astype(object)
                plan.add_override(col, rr, written)
                led.add(rr, "near_changed", col, true, written, original_rows=src_near[np.searchsorted(new, rr)])
                blocked[col][rr] = True
        # copied ledger entries of changed cells no longer describe the cell: drop them
        _drop_superseded(led, plan)

    # test / pilot submissions
    src_test = np.flatnonzero(rng.random(n) < float(mc["test"]))
    new = _append_rows(plan, led, src_test, 2, rng, copy_ledger=True)
    if len(new):
        d0 = np.datetime64(sim.cfg["fieldwork"]["start"], "ms").astype(np.int64)
        days = rng.integers(1, int(mc["test_before_start_days"]) + 1, len(new))
        tod = rng.integers(int(9 * 3600e3), int(17 * 3600e3), len(new))
        old_sub = cell_strings(plan, "_submission_time", new)
        plan.start_ms[new] = d0 - days * MS_DAY + tod - plan.offset_ms
        plan.sub_ms[new] = plan.start_ms[new] + plan.dur_ms[new] + rng.integers(60_000, 600_000, len(new))
        led.add(new, "test", "_submission_time", old_sub, cell_strings(plan, "_submission_time", new),
                original_rows=src_test)
        if "resp_name" in sim.data:
            names = np.array(["test", "TEST", "essai", "Essai enquêteur", "test test", "xxx", "pilote"], dtype=object)
            nm = names[rng.integers(0, len(names), len(new))]
            old = fmt_value(sim.data["resp_name"], plan.src[new])
            plan.add_override("resp_name", new, nm)
            led.add(new, "test", "resp_name", old, nm, original_rows=src_test)
        st = sim.data.get("interview_status")
        if st is not None and st.kind == "one":
            probs = {c: float(p) for c, p in (mc.get("test_status") or {}).items() if c in st.codes}
            u = rng.random(len(new))
            cum = 0.0
            for code, p in probs.items():
                m = (u >= cum) & (u < cum + p)
                cum += p
                if m.any():
                    plan.add_override("interview_status", new[m], code)
                    led.add(new[m], "test", "interview_status", fmt_value(st, plan.src[new[m]]), code,
                            original_rows=src_test[m])
        na = rng.random(len(new)) < float(mc["validation_not_approved_share"])
        plan.validation[new[na]] = 1
        led.add(new[na], "test", "_validation_status", "", "validation_status_not_approved", original_rows=src_test[na])

    # exact duplicates: the same submission received twice (new _id, same _uuid)
    src_dup = np.flatnonzero(rng.random(n) < float(mc["duplicate_exact"]))
    new = _append_rows(plan, led, src_dup, 3, rng, copy_ledger=False)
    key = plan.sub_ms.astype(np.float64).copy()
    if len(new):
        key[new] = base_sub[src_dup] + rng.uniform(1_000, 5 * MS_DAY, len(new))
        led.add(new, "duplicate_exact", "_id", "", "", original_rows=src_dup)
    return key


def _isnum(x) -> bool:
    try:
        float(x)
        return True
    except (TypeError, ValueError):
        return False


def _drop_superseded(led: Ledger, plan: Plan) -> None:
    """Drop copied entries whose cell was rewritten by a near-duplicate change."""
    import pandas as pd

    f = led.frame()
    m = f["kind"] == "near_changed"
    if not m.any():
        return
    # a change in an item of a straightlined grid also ends the straightlining of that row
    group_of = {q.name: q.group for q in plan.sim.form.questions if q.group}
    cols = f["column"][m]
    changed = pd.DataFrame({"row": np.concatenate([f["row"][m], f["row"][m]]),
                            "column": np.concatenate([cols, np.array([group_of.get(c, c) for c in cols], dtype=object)])})
    keys = pd.MultiIndex.from_frame(changed.drop_duplicates())

    def keep(p):
        if len(p["row"]) == 0:
            return np.ones(0, bool)
        idx = pd.MultiIndex.from_arrays([p["row"], p["column"]])
        return (p["kind"] == "near_changed") | ~idx.isin(keys)

    led.drop(keep)
