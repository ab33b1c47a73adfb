"""Quality checks of the submissions during fieldwork, each with an id, as one tidy flags table.

:func:`run_checks` looks at the raw export (text cells, as
:func:`analysis.ingest._readers.read_exports` returns it) and returns one row per
point to look at, with the columns :data:`FLAG_COLUMNS`:

``uuid``, ``enumerator``, ``check_id``, ``question``, ``value``, ``issue`` (French
sentence), ``severity`` (``high``, ``medium``, ``low``).

The checks and their thresholds are set in ``questionnaire/fieldwork.yaml``;
the logical checks written by the researcher in ``questionnaire/checks.csv``
(``id, expression, message[, severity, question]``: an XLSForm expression, as
in the ``relevant`` column, that is **true for a problem**, e.g.
``${n_women_members} > ${n_members}``), evaluated with the expression evaluator
of :mod:`analysis.xlsform._form`. :data:`CHECKS` describes every built-in check id.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ConfigError, InputError

__all__ = ["FLAG_COLUMNS", "CHECKS", "run_checks", "load_check_config", "load_logic_checks",
           "submission_durations", "closed_questions", "likert_grids"]

FLAG_COLUMNS = ["uuid", "enumerator", "check_id", "question", "value", "issue", "severity"]

#: check id -> (short French label, what it means)
CHECKS: dict[str, tuple[str, str]] = {
    "duration_short": ("Durée trop courte", "Entretien plus court que le plancher ou que la fraction de la médiane "
                       "(fieldwork.yaml, duration)."),
    "duration_long": ("Durée trop longue", "Entretien plus long que la borne haute (formulaire laissé ouvert ou repris)."),
    "duration_invalid": ("Durée illisible", "Début ou fin manquant, ou fin avant le début."),
    "audit_duration_short": ("Temps passé trop court (audit)", "Temps passé sur les questions selon le fichier "
                             "d'audit Kobo, sous le plancher."),
    "audit_duration_long": ("Temps passé trop long (audit)", "Temps passé sur les questions selon l'audit, "
                            "au-dessus de la borne haute."),
    "outlier": ("Valeur extrême", "Réponse numérique loin des autres (z robuste ou IQR, par groupe)."),
    "soft_duplicate": ("Quasi-doublon", "Réponses presque identiques à une soumission antérieure du même "
                       "enquêteur (distance de Gower)."),
    "straightlining": ("Réponses en ligne droite", "Même réponse à tous les items de la plupart des grilles Likert."),
    "dont_know_share": ("Beaucoup de « ne sait pas »", "Part des réponses « Je ne sais pas » au-dessus du seuil."),
    "refusal_share": ("Beaucoup de refus", "Part des refus au-dessus du seuil."),
    "other_specify": ("« Autre » à recoder", "Réponse « Autre, précisez » : voir si elle correspond à une modalité."),
    "pii_free_text": ("Donnée personnelle dans un texte libre", "Numéro de téléphone ou adresse e-mail dans un "
                      "champ de texte libre."),
    "answer_not_relevant": ("Réponse hors filtre", "Réponse à une question que la logique de saut masque."),
    "constraint_violated": ("Contrainte non respectée", "Réponse qui viole la contrainte du formulaire."),
    "required_missing": ("Réponse obligatoire manquante", "Question obligatoire et pertinente sans réponse."),
}

_DEFAULTS = {
    "enumerator": "_submitted_by",
    "duration": {"min_minutes": 10, "fraction_of_median": 0.3, "max_minutes": 240, "audit_dir": None},
    "outliers": {"method": "robust_z", "threshold": 4.0, "log": True, "min_n": 20, "by": None,
                 "questions": "auto", "exclude": []},
    "soft_duplicates": {"max_distance": 0.15, "bands": 24, "band_size": 6, "max_block": 200,
                        "min_answered": 0.8, "exclude": [], "seed": 2026, "status_column": "interview_status",
                        "ignore_status": ["pilot", "training"]},
    "straightlining": {"min_items": 3, "min_grids": 4, "min_share_flat": 0.75},
    "dont_know": {"max_share": 0.15, "max_refusal_share": 0.10},
    "pii": {"questions": "auto", "identification": ["org_name", "resp_name", "resp_phone", "resp_email"]},
    "other_specify": {"enabled": True},
    "form_rules": {"skip_logic": True, "constraints": True, "required": True},
    "logic_checks": None,
    "enumerators": {"min_interviews": 5, "fabrication_duplicate_share": 0.10, "weights": {}},
}

_DK, _REF = {"98", "-98"}, {"99", "-99"}
_META_TYPES = {"start", "end", "today", "deviceid", "calculate", "note", "acknowledge", "username",
               "phonenumber", "audit", "geopoint", "image", "audio", "file"}


def load_check_config(config=None) -> dict:
    """The checks' configuration: ``questionnaire/fieldwork.yaml`` (or a path or dict) over the defaults.

    Examples
    --------
    >>> load_check_config({"duration": {"max_minutes": 90}})["duration"]["max_minutes"]
    90
    """
    import yaml

    from analysis import config as cfgmod

    base_dir = cfgmod.QUESTIONNAIRE_DIR
    if config is None:
        path = cfgmod.QUESTIONNAIRE_DIR / "fieldwork.yaml"
        user = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    elif isinstance(config, (str, Path)):
        path = Path(config)
        if not path.exists():
            raise ConfigError(f"fieldwork checks file not found: {path}")
        user = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        base_dir = path.parent
    else:
        user = dict(config)
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in _DEFAULTS.items()}
    for k, v in (user or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    out["_base_dir"] = str(user.get("_base_dir", base_dir)) if isinstance(user, dict) else str(base_dir)
    return out


def load_logic_checks(path: str | Path | None) -> pd.DataFrame:
    """The researcher's logical checks (``id, expression, message[, severity, question]``).

    An expression that cannot be read, an empty or repeated id, or an id of a built-in check
    stops with one sentence naming the row.
    """
    from analysis.xlsform._form import Expression

    cols = ["id", "expression", "message", "severity", "question"]
    if path is None or not Path(path).exists():
        return pd.DataFrame(columns=cols)
    path = Path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    miss = {"id", "expression", "message"} - set(df.columns)
    if miss:
        raise InputError("the logical checks file lacks columns", file=str(path), column=", ".join(sorted(miss)),
                         expected="id, expression, message[, severity, question]")
    for c in ("severity", "question"):
        if c not in df.columns:
            df[c] = ""
    seen = set()
    for i, r in enumerate(df.itertuples(index=False)):
        rid = str(r.id).strip()
        if not rid or rid in seen or rid in CHECKS:
            raise InputError("a logical check needs an id of its own", file=str(path), row=i + 2, column="id",
                             value=rid, expected="a unique id, different from the built-in checks")
        seen.add(rid)
        try:
            Expression(str(r.expression))
        except ConfigError as exc:
            raise InputError(f"the expression cannot be read ({exc})", file=str(path), row=i + 2,
                             column="expression", value=r.expression) from None
        if str(r.severity).strip() not in ("", "high", "medium", "low"):
            raise InputError("unknown severity", file=str(path), row=i + 2, column="severity",
                             value=r.severity, expected="high, medium or low")
    df["id"] = df["id"].str.strip()
    df["severity"] = df["severity"].str.strip().replace("", "medium")
    return df[cols]


# --------------------------------------------------------------------------- form helpers


def _form(form):
    from analysis import config
    from analysis.xlsform._form import Form, read_form

    if isinstance(form, Form):
        return form
    return read_form(Path(form) if form is not None else config.QUESTIONNAIRE_DIR)


def _likert_lists(form) -> set[str]:
    out = set()
    for ln, codes in form.choices.items():
        scale = [c for c in codes if c not in ("97", "98", "99")]
        if len(scale) >= 3 and scale == [str(i) for i in range(1, len(scale) + 1)]:
            out.add(ln)
    return out


def likert_grids(form, min_items: int = 3) -> dict[str, list[str]]:
    """Innermost group -> its Likert items (select_one on a 1..k scale), groups of ``min_items`` or more."""
    lk = _likert_lists(form)
    grids: dict[str, list[str]] = {}
    for q in form.questions:
        if q.type == "select_one" and q.list_name in lk and q.group:
            grids.setdefault(q.group, []).append(q.name)
    return {g: v for g, v in grids.items() if len(v) >= min_items}


def closed_questions(form, raw: pd.DataFrame, exclude=()) -> tuple[list[str], list[str]]:
    """(categorical, numeric) closed questions of the form present in ``raw``."""
    cat, num = [], []
    for q in form.questions:
        if q.name not in raw.columns or q.name in exclude:
            continue
        if q.type in ("select_one", "select_multiple"):
            cat.append(q.name)
        elif q.type in ("integer", "decimal"):
            num.append(q.name)
    return cat, num


def _ids(raw: pd.DataFrame) -> np.ndarray:
    for c in ("_uuid", "meta/instanceID", "instanceID", "_id"):
        if c in raw.columns:
            return raw[c].astype(str).str.replace("uuid:", "", regex=False).to_numpy(dtype=object)
    return np.array([f"row{i + 1}" for i in range(len(raw))], dtype=object)


def enumerators_of(raw: pd.DataFrame, config: dict) -> np.ndarray:
    """Enumerator account of each submission ("" when unknown)."""
    col = config.get("enumerator") or "_submitted_by"
    if col in raw.columns:
        return raw[col].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    return np.full(len(raw), "", dtype=object)


# --------------------------------------------------------------------------- durations


def _audit_minutes(uuids: np.ndarray, audit_dir: Path) -> np.ndarray:
    out = np.full(len(uuids), np.nan)
    for k, u in enumerate(uuids):
        p = audit_dir / str(u) / "audit.csv"
        if not p.exists():
            continue
        try:
            a = pd.read_csv(p)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError):
            continue
        if not {"event", "start", "end"} <= set(a.columns):
            continue
        q = a[a["event"].astype(str).isin(["question", "group questions"])]
        d = (pd.to_numeric(q["end"], errors="coerce") - pd.to_numeric(q["start"], errors="coerce")).clip(lower=0)
        out[k] = float(d.sum()) / 60000.0
    return out


def submission_durations(raw: pd.DataFrame, config=None) -> pd.DataFrame:
    """Interview duration per submission: ``uuid``, ``start`` (UTC), ``duration_min``, ``audit_min``.

    ``duration_min`` is ``end - start``; ``audit_min`` the time spent on the questions in the
    Kobo audit file ``<audit_dir>/<uuid>/audit.csv`` (NaN without one).
    """
    config = load_check_config(config) if not isinstance(config, dict) or "_base_dir" not in config else config
    uuids = _ids(raw)
    st = pd.to_datetime(raw["start"], errors="coerce", utc=True, format="ISO8601") if "start" in raw else \
        pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    en = pd.to_datetime(raw["end"], errors="coerce", utc=True, format="ISO8601") if "end" in raw else \
        pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    dur = (en - st).dt.total_seconds().to_numpy(dtype=float) / 60.0
    audit = np.full(len(raw), np.nan)
    adir = (config.get("duration") or {}).get("audit_dir")
    if adir:
        p = Path(adir)
        if not p.is_absolute():
            from analysis import config as cfgmod
            p = cfgmod.PROJECT_ROOT / p
        if p.exists():
            audit = _audit_minutes(uuids, p)
    return pd.DataFrame({"uuid": uuids, "start": st.to_numpy(), "duration_min": dur, "audit_min": audit})


# --------------------------------------------------------------------------- the checks


class _Flags:
    def __init__(self, uuids, enums):
        self.uuids, self.enums, self.parts = uuids, enums, []

    def add(self, mask, check_id, question, values, issue, severity):
        m = np.asarray(mask, dtype=bool)
        k = int(m.sum())
        if not k:
            return
        v = np.asarray(values, dtype=object)
        v = v[m] if v.ndim and len(v) == len(m) else np.full(k, "" if v.ndim else v.item(), dtype=object)
        iss = np.asarray(issue, dtype=object)
        iss = iss[m] if iss.ndim and len(iss) == len(m) else np.full(k, issue, dtype=object)
        q = np.asarray(question, dtype=object)
        q = q[m] if q.ndim and len(q) == len(m) else np.full(k, question, dtype=object)
        self.parts.append(pd.DataFrame({
            "uuid": self.uuids[m], "enumerator": self.enums[m], "check_id": check_id, "question": q,
            "value": [("" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)) for x in v],
            "issue": iss, "severity": severity}))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in FLAG_COLUMNS})
        return pd.concat(self.parts, ignore_index=True)[FLAG_COLUMNS].astype(object)


def _numbers(s: pd.Series) -> np.ndarray:
    from analysis.cleaning._rules import numeric_values

    return np.asarray(numeric_values(s.fillna("").astype(str))[0], dtype=float)


def _fmt_min(x) -> np.ndarray:
    return np.array([f"{v:.1f}" if np.isfinite(v) else "" for v in x], dtype=object)


def _duration_checks(F: _Flags, dur: pd.DataFrame, cfg: dict) -> dict:
    d = dur["duration_min"].to_numpy(dtype=float)
    ok = np.isfinite(d) & (d >= 0)
    F.add(~ok, "duration_invalid", "end", _fmt_min(d), "Durée illisible : début ou fin manquant, ou fin avant début",
          "medium")
    med = float(np.median(d[ok])) if ok.any() else np.nan
    lo = [float(cfg["min_minutes"])] if cfg.get("min_minutes") is not None else []
    if cfg.get("fraction_of_median") is not None and np.isfinite(med):
        lo.append(float(cfg["fraction_of_median"]) * med)
    low = max(lo) if lo else -np.inf
    hi = float(cfg["max_minutes"]) if cfg.get("max_minutes") is not None else np.inf
    F.add(ok & (d < low), "duration_short", "end", _fmt_min(d),
          f"Entretien de moins de {low:.1f} min (médiane {med:.1f} min)", "high")
    F.add(ok & (d > hi), "duration_long", "end", _fmt_min(d), f"Entretien de plus de {hi:.0f} min", "low")
    a = dur["audit_min"].to_numpy(dtype=float)
    aok = np.isfinite(a)
    if aok.any():
        amed = float(np.median(a[aok]))
        alo = max([float(cfg["min_minutes"])] if cfg.get("min_minutes") is not None else [-np.inf])
        F.add(aok & (a < alo), "audit_duration_short", "audit", _fmt_min(a),
              f"Temps passé sur les questions de moins de {alo:.1f} min (médiane {amed:.1f} min)", "high")
        F.add(aok & (a > hi), "audit_duration_long", "audit", _fmt_min(a),
              f"Temps passé sur les questions de plus de {hi:.0f} min", "low")
    return {"median": med, "low": low, "high": hi}


def _outlier_checks(F: _Flags, raw: pd.DataFrame, form, cfg: dict) -> None:
    qs = cfg.get("questions", "auto")
    if qs in (None, "auto"):
        qs = [q.name for q in form.questions if q.type in ("integer", "decimal")]
    qs = [q for q in qs if q in raw.columns and q not in set(cfg.get("exclude") or [])]
    by = cfg.get("by")
    groups = raw[by].astype(str).to_numpy(dtype=object) if by and by in raw.columns else np.full(len(raw), "")
    thr, min_n = float(cfg.get("threshold", 4.0)), int(cfg.get("min_n", 20))
    method = cfg.get("method", "robust_z")
    for q in qs:
        x = _numbers(raw[q])
        x = np.where(x >= 0, x, np.nan)  # codes -98 / -99 are not numbers
        y = np.log1p(x) if cfg.get("log", True) else x
        flag = np.zeros(len(x), dtype=bool)
        score = np.full(len(x), np.nan)
        ok = ~np.isnan(y)
        gl = groups.copy()
        cnt = pd.Series(gl[ok]).value_counts()
        small = np.isin(gl, cnt.index[cnt < min_n].to_numpy()) | ~np.isin(gl, cnt.index.to_numpy())
        gl[small] = "\x00all"
        for g in pd.unique(gl[ok]):
            m = ok & (gl == g) if g != "\x00all" else ok & small
            if g == "\x00all":
                ref = y[ok]
            else:
                ref = y[m]
            if len(ref) < 5:
                continue
            if method == "iqr":
                q1, q3 = np.quantile(ref, [0.25, 0.75])
                iqr = q3 - q1
                if iqr <= 0:
                    continue
                flag[m] = (y[m] < q1 - thr * iqr) | (y[m] > q3 + thr * iqr)
                score[m] = (y[m] - np.median(ref)) / iqr
            else:
                med = np.median(ref)
                mad = np.median(np.abs(ref - med))
                if mad <= 0:
                    continue
                z = 0.6745 * (y[m] - med) / mad
                score[m] = z
                flag[m] = np.abs(z) > thr
        label = "z robuste" if method != "iqr" else "écart en IQR"
        issue = np.array([f"Valeur extrême ({label} {s:+.1f})" if np.isfinite(s) else "" for s in score], dtype=object)
        F.add(flag, "outlier", q, raw[q].to_numpy(dtype=object), issue, "medium")


def _soft_duplicate_checks(F: _Flags, raw: pd.DataFrame, form, cfg: dict, enums, order, uuids) -> None:
    from analysis.fieldwork._similarity import soft_duplicates

    cat, num = closed_questions(form, raw, exclude=set(cfg.get("exclude") or []))
    share = {c: float((raw[c].astype(str).str.strip() != "").mean()) for c in cat + num}
    lim = float(cfg.get("min_answered", 0.8))
    cat = [c for c in cat if share[c] >= lim]
    num = [c for c in num if share[c] >= lim]
    groups = np.asarray(enums, dtype=object).copy()
    col, skip = cfg.get("status_column", "interview_status"), set(cfg.get("ignore_status") or [])
    if skip and col in raw.columns:  # pilot and training interviews are not compared
        groups[raw[col].astype(str).str.strip().isin(skip).to_numpy()] = ""
    res = soft_duplicates(raw, cat, num, groups, order, max_distance=float(cfg.get("max_distance", 0.15)),
                          bands=int(cfg.get("bands", 24)), band_size=int(cfg.get("band_size", 6)),
                          max_block=int(cfg.get("max_block", 200)), seed=int(cfg.get("seed", 2026)))
    if not len(res):
        return
    mask = np.zeros(len(raw), dtype=bool)
    mask[res["row"].to_numpy()] = True
    value = np.full(len(raw), "", dtype=object)
    issue = np.full(len(raw), "", dtype=object)
    for r, m, d in res.itertuples(index=False):
        value[r] = str(uuids[m])
        issue[r] = (f"Doublon exact (même _uuid reçu deux fois, distance {d:.3f})" if uuids[m] == uuids[r] else
                    f"Quasi-doublon de la soumission {uuids[m]} du même enquêteur (distance {d:.3f})")
    F.add(mask, "soft_duplicate", "_uuid", value, issue, "high")


def _answer_checks(F: _Flags, raw: pd.DataFrame, form, cfg: dict) -> None:
    from analysis.cleaning._rules import flag_straightliners

    st = cfg["straightlining"]
    grids = likert_grids(form, int(st.get("min_items", 3)))
    vals = {c: pd.to_numeric(raw[c], errors="coerce").where(lambda s: (s >= 1) & (s <= 10)).to_numpy(dtype=float)
            for items in grids.values() for c in items if c in raw.columns}
    if vals:
        flag, share = flag_straightliners(vals, grids, min_items=int(st.get("min_items", 3)),
                                          min_grids=int(st.get("min_grids", 4)),
                                          min_share_flat=float(st.get("min_share_flat", 0.75)))
        F.add(flag, "straightlining", "", _fmt_min(share * 100),
              np.array([f"{s:.0%} des grilles Likert avec une seule réponse" if np.isfinite(s) else ""
                        for s in share], dtype=object), "medium")
    # don't know / refusal shares among the closed questions answered
    cat, num = closed_questions(form, raw)
    cols = [c for c in cat + num if c in raw.columns]
    if cols:
        m = raw[cols].astype(str).apply(lambda s: s.str.strip()).to_numpy(dtype=object)
        answered = (m != "").sum(axis=1)
        dk = np.isin(m, list(_DK)).sum(axis=1)
        ref = np.isin(m, list(_REF)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sdk = np.where(answered > 0, dk / answered, 0.0)
            sref = np.where(answered > 0, ref / answered, 0.0)
        dkc = cfg["dont_know"]
        F.add(sdk > float(dkc.get("max_share", 0.15)), "dont_know_share", "", [f"{x:.2f}" for x in sdk],
              [f"{x:.0%} de « Je ne sais pas » ({k} réponses)" for x, k in zip(sdk, dk)], "medium")
        F.add(sref > float(dkc.get("max_refusal_share", 0.10)), "refusal_share", "", [f"{x:.2f}" for x in sref],
              [f"{x:.0%} de refus ({k} réponses)" for x, k in zip(sref, ref)], "medium")
    # other, specify
    texts = [q for q in form.questions if q.type == "text" and q.name in raw.columns]
    if (cfg.get("other_specify") or {}).get("enabled", True):
        for q in texts:
            if q.name.endswith("_other"):
                s = raw[q.name].astype(str).str.strip()
                F.add((s != "").to_numpy(), "other_specify", q.name, s.to_numpy(dtype=object),
                      f"« Autre, précisez » à recoder ({q.name[:-6]})", "low")
    # personal data left in free text
    pc = cfg.get("pii") or {}
    ident = set(pc.get("identification") or [])
    pq = pc.get("questions", "auto")
    pq = [q.name for q in texts if q.name not in ident] if pq in (None, "auto") else [q for q in pq if q in raw]
    # the cleaning's own detector of phone numbers and e-mails: one for both
    from analysis.cleaning._personal import contact_kinds

    for q in pq:
        s = raw[q].astype(str)
        found = contact_kinds(s.to_numpy(dtype=object))
        kind = np.where(found == "phone number", "numéro de téléphone", "adresse e-mail")
        F.add(found != "", "pii_free_text", q, s.to_numpy(dtype=object),
              np.array([f"Donnée personnelle dans un texte libre ({k}) : à effacer" for k in kind], dtype=object),
              "high")


def _evaluator(raw: pd.DataFrame, form, year: int):
    from analysis.cleaning._validation import RelevanceEvaluator

    n = len(raw)
    text, numbers, multiple = {}, {}, {}
    for q in form.questions:
        if q.name not in raw.columns:
            continue
        s = raw[q.name].fillna("").astype(str).str.strip().to_numpy(dtype=object)
        if q.type in ("integer", "decimal", "calculate", "range"):
            x = pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype=float)
            if q.type != "calculate" or np.isfinite(x).any():
                numbers[q.name] = x
            else:
                text[q.name] = s
        elif q.type == "select_multiple":
            multiple[q.name] = form.choices.get(q.list_name, [])
            text[q.name] = s
        else:
            text[q.name] = s
    return RelevanceEvaluator(text, numbers, multiple, n, today_year=year)


def _form_rule_checks(F: _Flags, raw: pd.DataFrame, form, cfg: dict, ev) -> None:
    fr = cfg.get("form_rules") or {}
    for q in form.questions:
        if q.name not in raw.columns or q.type in _META_TYPES:
            continue
        s = raw[q.name].fillna("").astype(str).str.strip().to_numpy(dtype=object)
        answered = s != ""
        rel = np.ones(len(raw), dtype=bool)
        try:
            for e in (*q.group_relevant, q.relevant):
                if e:
                    rel &= ev.relevant(e)
            if fr.get("skip_logic", True):
                F.add(answered & ~rel, "answer_not_relevant", q.name, s,
                      "Réponse à une question masquée par la logique de saut", "medium")
            if fr.get("required", True) and q.required:
                F.add(~answered & rel, "required_missing", q.name, s, "Question obligatoire sans réponse", "medium")
            if fr.get("constraints", True) and q.constraint:
                ok = ev.constraint(q.constraint, q.name)
                F.add(answered & rel & ~ok, "constraint_violated", q.name, s,
                      f"Contrainte non respectée : {q.constraint}", "medium")
        except ConfigError:
            continue  # an expression outside the supported subset: reported by `si-survey validate`


def _logic_checks(F: _Flags, raw: pd.DataFrame, checks: pd.DataFrame, ev, file: str) -> None:
    from analysis.xlsform._form import Expression

    for i, r in enumerate(checks.itertuples(index=False)):
        expr = Expression(str(r.expression))
        try:
            hit = ev.relevant(str(r.expression))
        except (ConfigError, KeyError, ValueError, TypeError) as exc:
            raise InputError(f"the logical check cannot be evaluated ({exc})", file=file, row=i + 2,
                             column="expression", value=r.expression) from None
        refs = [x for x in sorted(expr.references()) if x in raw.columns]
        order = re.findall(r"\$\{([^}]+)\}", str(r.expression))
        refs = [x for x in dict.fromkeys(order) if x in refs]
        question = str(r.question).strip() or (refs[0] if refs else "")
        if hit.any():
            vals = np.array(["; ".join(f"{x}={raw[x].iat[k]}" for x in refs) for k in np.flatnonzero(hit)],
                            dtype=object)
            full = np.full(len(raw), "", dtype=object)
            full[hit] = vals
            F.add(hit, str(r.id), question, full, str(r.message), str(r.severity))


def run_checks(raw_frame: pd.DataFrame, form=None, config=None, *, logic_checks=None,
               checks: list[str] | None = None) -> pd.DataFrame:
    """Run every fieldwork check on the raw submissions; one row per flag.

    Parameters
    ----------
    raw_frame : pandas.DataFrame
        Raw export(s) as text cells (``analysis.ingest._readers.read_exports``), with ``_uuid``,
        ``start``, ``end`` and the enumerator column.
    form : analysis.xlsform._form.Form or path, optional
        The questionnaire (default ``questionnaire/``).
    config : dict or path, optional
        Thresholds (default ``questionnaire/fieldwork.yaml``, see :func:`load_check_config`).
    logic_checks : path or DataFrame, optional
        The researcher's checks (default: ``logic_checks`` of the config, ``questionnaire/checks.csv``).
    checks : list of str, optional
        Only these check ids (default all).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FLAG_COLUMNS`: ``uuid``, ``enumerator``, ``check_id``, ``question``, ``value``
        (the answer, or the earlier submission's uuid for a soft duplicate), ``issue`` (French),
        ``severity`` (``high``, ``medium``, ``low``). ``attrs["durations"]`` holds the duration
        bounds used (``median``, ``low``, ``high``).

    Examples
    --------
    >>> raw = pd.DataFrame({"_uuid": ["a", "b"], "_submitted_by": ["enq_01", "enq_01"],
    ...                     "start": ["2026-04-06T10:00:00+01:00", "2026-04-06T11:00:00+01:00"],
    ...                     "end": ["2026-04-06T10:40:00+01:00", "2026-04-06T11:03:00+01:00"]})
    >>> f = run_checks(raw, checks=["duration_short"])
    >>> f[["uuid", "check_id", "value"]].values.tolist()
    [['b', 'duration_short', '3.0']]
    """
    cfg = config if isinstance(config, dict) and "_base_dir" in config else load_check_config(config)
    form = _form(form)
    raw = raw_frame.reset_index(drop=True)
    uuids, enums = _ids(raw), enumerators_of(raw, cfg)
    F = _Flags(uuids, enums)
    dur = submission_durations(raw, cfg)
    F_dur = _duration_checks(F, dur, cfg["duration"]) if {"start", "end"} <= set(raw.columns) else {}
    order = dur["start"].astype("int64").where(dur["start"].notna(), np.iinfo(np.int64).max).to_numpy()
    order = np.lexsort((np.arange(len(raw)), order))
    rank = np.empty(len(raw), dtype=np.int64)
    rank[order] = np.arange(len(raw))
    _outlier_checks(F, raw, form, cfg["outliers"])
    _soft_duplicate_checks(F, raw, form, cfg["soft_duplicates"], enums, rank, uuids)
    _answer_checks(F, raw, form, cfg)
    years = dur["start"].dt.year
    year = int(years.max()) if years.notna().any() else 2026
    ev = _evaluator(raw, form, year)
    _form_rule_checks(F, raw, form, cfg, ev)
    if logic_checks is None:
        lc = cfg.get("logic_checks")
        path = (Path(cfg["_base_dir"]) / lc) if lc else None
        logic = load_logic_checks(path)
        file = str(path)
    elif isinstance(logic_checks, pd.DataFrame):
        logic, file = logic_checks, "<logic checks>"
    else:
        logic, file = load_logic_checks(logic_checks), str(logic_checks)
    _logic_checks(F, raw, logic, ev, file)
    out = F.frame()
    if checks is not None:
        out = out[out["check_id"].isin(list(checks))].reset_index(drop=True)
    out.attrs["durations"] = F_dur
    return out
