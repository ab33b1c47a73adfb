"""The daily monitoring page of the collection: one self-contained ``monitor.html`` (French).

:func:`write_monitor` reads the raw exports downloaded so far, runs the checks
(:func:`analysis.fieldwork._checks.run_checks`) and writes one HTML page that
opens without any other file or network access (plots are inline SVG, styles
and a few lines of vanilla JavaScript are in the page):

1. completes by day and cumulated against the target;
2. progress by stratum (region x legal form) against ``allocation.csv``,
   the strata falling behind first;
3. per enumerator: interviews, median duration, speeders, straightliners,
   "don't know", soft duplicates, outliers, refusals, compared with the team,
   ranked by fabrication risk (:mod:`analysis.fieldwork._enumerators`);
4. the flagged submissions of the last collection day, with their reasons;
5. the skip-logic, constraint and logical-check problems by question.

Enumerator accounts are staff data: they appear on this page (for the field
team), never in the analysis file. Personal data found in free text is shown
masked.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError

__all__ = ["MonitorData", "build_monitor", "write_monitor", "read_raw", "render_html"]

_SEV = {"high": "élevée", "medium": "moyenne", "low": "faible"}


@dataclass
class MonitorData:
    """Everything the page shows (tidy tables), for tests and notebooks.

    Attributes
    ----------
    daily : pandas.DataFrame
        ``day``, ``completes``, ``cumulative``.
    strata : pandas.DataFrame
        ``stratum``, ``label``, ``target``, ``completes``, ``progress`` (completes / target), ``remaining``;
        the strata furthest behind first.
    enumerators : pandas.DataFrame
        :func:`analysis.fieldwork._enumerators.enumerator_table`.
    flags : pandas.DataFrame
        :func:`analysis.fieldwork._checks.run_checks`.
    today : str
        Last collection day (``YYYY-MM-DD``).
    target : float or None
        Total target of completes.
    n_submissions : int
    """

    daily: pd.DataFrame
    strata: pd.DataFrame
    enumerators: pd.DataFrame
    flags: pd.DataFrame
    today: str
    target: float | None
    n_submissions: int
    n_completes: int
    day_of: pd.Series
    durations: dict


def _form_from(form):
    from analysis.fieldwork._checks import _form

    if form is None or not str(form).lower().endswith((".xlsx", ".xls")):
        return _form(form)
    import tempfile

    from analysis.xlsform._form import read_form

    with tempfile.TemporaryDirectory() as tmp:
        for sheet in ("survey", "choices", "settings"):
            try:
                pd.read_excel(form, sheet_name=sheet, dtype=str).fillna("").to_csv(Path(tmp) / f"{sheet}.csv",
                                                                                   index=False)
            except ValueError:
                if sheet == "survey":
                    raise InputError("the form has no survey sheet", file=str(form)) from None
        return read_form(tmp)


def read_raw(paths, form=None) -> pd.DataFrame:
    """Read and stack the raw exports as text cells.

    With the study's own form (``form`` None) the exports are read by
    :func:`analysis.ingest._readers.read_exports` (headers, labels and formats as in cleaning);
    with another form, CSV/XLSX files are read as they are (group prefixes dropped).
    """
    paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    if not paths:
        raise InputError("no raw export to read", expected="at least one export file")
    if form is None:
        from analysis.ingest._readers import read_exports

        raw, _ = read_exports(paths)
        return raw
    f = _form_from(form)
    names = set(f.names)
    frames = []
    for p in paths:
        if not p.exists():
            raise InputError("the file does not exist", file=str(p))
        if p.suffix.lower() in (".xlsx", ".xls"):
            d = pd.read_excel(p, dtype=str).fillna("")
        else:
            d = pd.read_csv(p, sep=None, engine="python", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        ren = {}
        for c in d.columns:
            parts = str(c).split("/")
            for k in range(len(parts)):
                tail = "/".join(parts[k:])
                if tail in names or (k + 1 < len(parts) and "/".join(parts[k:-1]) in names):
                    ren[c] = tail
                    break
        frames.append(d.rename(columns=ren))
    return pd.concat(frames, ignore_index=True).fillna("")


def _completes_mask(raw: pd.DataFrame) -> np.ndarray:
    ok = np.ones(len(raw), dtype=bool)
    if "consent" in raw:
        ok &= raw["consent"].astype(str).str.strip().to_numpy() == "1"
    if "interview_status" in raw:
        ok &= ~raw["interview_status"].astype(str).str.strip().isin(["pilot", "training"]).to_numpy()
    if "_uuid" in raw:
        ok &= ~raw["_uuid"].astype(str).duplicated().to_numpy()
    return ok


def _read_targets(targets) -> pd.DataFrame | None:
    if targets is None:
        return None
    if isinstance(targets, (str, Path)):
        p = Path(targets)
        if p.is_dir():
            p = p / "allocation.csv"
        if not p.exists():
            raise InputError("the allocation file does not exist", file=str(p), expected="DIR/allocation.csv")
        targets = pd.read_csv(p, dtype={"stratum": str})
    t = targets.copy()
    col = "target_completes" if "target_completes" in t else "n_h" if "n_h" in t else None
    if col is None or "stratum" not in t:
        raise InputError("the allocation file needs the columns stratum and target_completes (or n_h)",
                         expected="the allocation.csv written by si-survey sample")
    t["target"] = pd.to_numeric(t[col], errors="coerce")
    return t


def build_monitor(raw: pd.DataFrame, targets=None, form=None, config=None) -> MonitorData:
    """Compute the tables of the monitoring page from the raw submissions.

    Parameters
    ----------
    raw : pandas.DataFrame
        Submissions as text cells (:func:`read_raw`).
    targets : path or DataFrame, optional
        ``allocation.csv`` of ``si-survey sample`` (``stratum``, stratum columns, ``target_completes``).
    form : analysis.xlsform._form.Form or path, optional
    config : dict or path, optional
        Checks configuration (default ``questionnaire/fieldwork.yaml``).

    Returns
    -------
    MonitorData

    Examples
    --------
    >>> raw = pd.DataFrame({"_uuid": ["a", "b", "c"], "_submitted_by": ["enq_01", "enq_01", "enq_02"],
    ...     "start": ["2026-04-06T10:00:00+01:00", "2026-04-07T10:00:00+01:00", "2026-04-07T11:00:00+01:00"],
    ...     "end": ["2026-04-06T10:40:00+01:00", "2026-04-07T10:35:00+01:00", "2026-04-07T11:41:00+01:00"],
    ...     "consent": ["1", "1", "1"], "region": ["R01", "R01", "R06"], "legal_form": ["association"] * 3})
    >>> alloc = pd.DataFrame({"stratum": ["R01_association", "R06_association"], "region": ["R01", "R06"],
    ...                       "legal_form": ["association"] * 2, "target_completes": [4, 3]})
    >>> m = build_monitor(raw, targets=alloc)
    >>> m.daily["cumulative"].tolist(), m.strata[["stratum", "completes"]].values.tolist()
    ([1, 3], [['R06_association', 1], ['R01_association', 2]])
    """
    from analysis.fieldwork._checks import load_check_config, run_checks, submission_durations
    from analysis.fieldwork._enumerators import enumerator_table
    from analysis.study._regions import match_regions

    cfg = load_check_config(config) if not (isinstance(config, dict) and "_base_dir" in config) else config
    f = _form_from(form) if not hasattr(form, "questions") else form
    raw = raw.reset_index(drop=True)
    flags = run_checks(raw, f, cfg)
    dur = submission_durations(raw, cfg)
    day = raw["start"].astype(str).str.slice(0, 10) if "start" in raw else pd.Series("", index=raw.index)
    day = day.where(day.str.match(r"^\d{4}-\d{2}-\d{2}$"), "")
    comp = _completes_mask(raw)
    days = sorted(d for d in day[comp].unique() if d)
    if days:
        full = pd.date_range(days[0], days[-1], freq="D").strftime("%Y-%m-%d")
        cnt = day[comp].value_counts().reindex(full, fill_value=0)
    else:
        full, cnt = [], pd.Series(dtype=int)
    daily = pd.DataFrame({"day": list(full), "completes": cnt.to_numpy(dtype=int)})
    daily["cumulative"] = daily["completes"].cumsum()
    today = days[-1] if days else ""

    t = _read_targets(targets)
    strata_cols = [c for c in (t.columns if t is not None else ["region", "legal_form"])
                   if c in ("region", "legal_form") or (t is not None and c in raw.columns and c not in
                   ("stratum", "N_h", "n_h", "target_completes", "reserve", "expected_moe", "target"))]
    strata_cols = [c for c in strata_cols if c in raw.columns] or [c for c in ("region", "legal_form") if c in raw]
    vals = raw[strata_cols].astype(str).copy() if strata_cols else pd.DataFrame(index=raw.index)
    if "region" in vals:
        codes = match_regions(vals["region"]).codes
        vals["region"] = np.where(pd.isna(codes), vals["region"], codes)
    key = vals.agg("_".join, axis=1) if strata_cols else pd.Series("", index=raw.index)
    got = key[comp].value_counts()
    labels = {}
    rl = f.choice_labels.get("region", {}) if hasattr(f, "choice_labels") else {}
    ll = f.choice_labels.get("legal_form", {}) if hasattr(f, "choice_labels") else {}
    for k, row in vals[strata_cols].drop_duplicates().iterrows() if strata_cols else []:
        labels[key[k]] = " × ".join(rl.get(v, v) if c == "region" else ll.get(v, v) if c == "legal_form" else v
                                    for c, v in row.items())
    if t is not None:
        st = pd.DataFrame({"stratum": t["stratum"].astype(str), "target": t["target"].to_numpy(float)})
        for s in got.index.difference(st["stratum"]):
            st.loc[len(st)] = [s, np.nan]
        for _, r in t.iterrows():
            if r["stratum"] not in labels:
                labels[r["stratum"]] = " × ".join(
                    rl.get(str(r[c]), str(r[c])) if c == "region" else ll.get(str(r[c]), str(r[c]))
                    for c in strata_cols if c in t) or r["stratum"]
    else:
        st = pd.DataFrame({"stratum": got.index.astype(str), "target": np.nan})
    st["completes"] = st["stratum"].map(got).fillna(0).astype(int)
    st["label"] = st["stratum"].map(labels).fillna(st["stratum"])
    with np.errstate(invalid="ignore", divide="ignore"):
        st["progress"] = np.where(st["target"] > 0, st["completes"] / st["target"], np.nan)
    st["remaining"] = (st["target"] - st["completes"]).clip(lower=0)
    st = st.sort_values(["progress", "remaining", "stratum"], ascending=[True, False, True],
                        na_position="last").reset_index(drop=True)
    st = st[["stratum", "label", "target", "completes", "progress", "remaining"]]
    target = float(t["target"].sum()) if t is not None else None
    et = enumerator_table(raw, flags, cfg, form=f, durations=dur)
    return MonitorData(daily=daily, strata=st, enumerators=et, flags=flags, today=today, target=target,
                       n_submissions=len(raw), n_completes=int(comp.sum()),
                       day_of=_first_per_uuid(day.to_numpy(), dur["uuid"].to_numpy()),
                       durations=flags.attrs.get("durations", {}))


def _first_per_uuid(values, uuids) -> pd.Series:
    s = pd.Series(values, index=pd.Index(uuids))
    return s[~s.index.duplicated(keep="first")]


# --------------------------------------------------------------------------- rendering


def _e(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _num(x, digits=0) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "–"
    s = f"{x:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return s


def _pct(x) -> str:
    return "–" if x is None or not np.isfinite(x) else _num(100 * x, 1) + " %"


def _svg_daily(daily: pd.DataFrame, target: float | None) -> str:
    W, H, L, R, T, B = 860, 300, 56, 56, 18, 46
    n = len(daily)
    if n == 0:
        return "<p>Aucun entretien complet pour l'instant.</p>"
    pw, ph = W - L - R, H - T - B
    bmax = max(1, int(daily["completes"].max()))
    cmax = max(float(daily["cumulative"].iloc[-1]), float(target or 0), 1.0)
    bw = pw / n
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" class="chart" '
           f'aria-label="Entretiens complets par jour et cumul">']
    for k in range(5):
        y = T + ph * k / 4
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" class="ax" text-anchor="end">{_num(bmax * (4 - k) / 4)}</text>')
        out.append(f'<text x="{W - R + 6}" y="{y + 4:.1f}" class="ax cum">{_num(cmax * (4 - k) / 4)}</text>')
    for i, r in enumerate(daily.itertuples(index=False)):
        h = ph * r.completes / bmax
        x = L + i * bw
        out.append(f'<rect x="{x + bw * 0.1:.1f}" y="{T + ph - h:.1f}" width="{max(bw * 0.8, 0.5):.1f}" '
                   f'height="{h:.1f}" class="bar"><title>{_e(r.day)} : {r.completes} entretiens</title></rect>')
    step = max(1, int(np.ceil(n / 10)))
    for i in range(0, n, step):
        d = daily["day"].iloc[i]
        out.append(f'<text x="{L + (i + 0.5) * bw:.1f}" y="{H - B + 16}" class="ax" text-anchor="middle">'
                   f'{_e(d[8:10] + "/" + d[5:7])}</text>')
    pts = " ".join(f"{L + (i + 0.5) * bw:.1f},{T + ph - ph * c / cmax:.1f}" for i, c in enumerate(daily["cumulative"]))
    out.append(f'<polyline points="{pts}" class="cumline"/>')
    if target:
        y = T + ph - ph * target / cmax
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" class="target"/>')
        out.append(f'<text x="{W - R - 4}" y="{y - 5:.1f}" class="ax tgt" text-anchor="end">objectif '
                   f'{_num(target)}</text>')
    out.append(f'<text x="{L}" y="{H - 8}" class="ax">barres : entretiens complets du jour (axe de gauche) — '
               f'ligne : cumul (axe de droite)</text>')
    out.append("</svg>")
    return "".join(out)


def _bar(p) -> str:
    if p is None or not np.isfinite(p):
        return ""
    w = min(100.0, 100 * p)
    cls = "ok" if p >= 1 else "mid" if p >= 0.5 else "low"
    return f'<div class="pbar"><div class="{cls}" style="width:{w:.1f}%"></div></div>'


def _table(headers, rows, cls="", sortable=True, foot=None) -> str:
    th = "".join(f'<th data-k="{i}">{_e(h)}</th>' for i, h in enumerate(headers))

    def tr(r):
        return "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in r) + "</tr>"

    body = "".join(tr(r) for r in rows)
    s = " sortable" if sortable else ""
    tf = f"<tfoot>{tr(foot)}</tfoot>" if foot else ""
    return f'<table class="{cls}{s}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody>{tf}</table>'


def _td(text, value=None, cls="") -> str:
    v = f' data-v="{value}"' if value is not None and np.isfinite(value) else ""
    c = f' class="{cls}"' if cls else ""
    return f"<td{c}{v}>{text}</td>"


def render_html(m: MonitorData, *, title: str = "Suivi de la collecte", max_flag_rows: int = 500) -> str:
    """The page as one HTML string (see the module notes)."""
    from analysis.fieldwork._checks import CHECKS

    et = m.enumerators
    team = {c: float(np.nanmedian(et[c])) if len(et) else np.nan for c in
            ["median_duration", "speeder_share", "straightliner_share", "soft_duplicate_share", "outlier_share",
             "logic_share", "dont_know_share", "refusal_share", "risk_score"]}
    flagged = m.flags.copy()
    flagged["enumerator"] = flagged["enumerator"].replace("", "(sans compte)")
    flagged["label"] = flagged["check_id"].map(lambda c: CHECKS.get(c, (c,))[0])
    flagged.loc[flagged["check_id"] == "pii_free_text", "value"] = "‹donnée personnelle masquée›"
    # --- enumerators
    rows = []
    for r in et.itertuples(index=False):
        def hi(col, val, higher_is_bad=True):
            t = team[col]
            bad = np.isfinite(val) and np.isfinite(t) and ((val > max(t * 2, t + 0.05)) if higher_is_bad
                                                          else val < 0.6 * t)
            return "bad" if bad else ""
        rows.append([
            _td(f"<b>{_e(r.enumerator)}</b>" + (' <span class="tag">fabrication ?</span>'
                                                 if r.suspected_fabrication else "")),
            _td(_num(r.interviews), r.interviews),
            _td(_num(r.median_duration, 1), r.median_duration, hi("median_duration", r.median_duration, False)),
            _td(_pct(r.speeder_share), r.speeder_share, hi("speeder_share", r.speeder_share)),
            _td(_pct(r.straightliner_share), r.straightliner_share, hi("straightliner_share", r.straightliner_share)),
            _td(_pct(r.dont_know_share), r.dont_know_share, hi("dont_know_share", r.dont_know_share)),
            _td(_pct(r.soft_duplicate_share), r.soft_duplicate_share,
                hi("soft_duplicate_share", r.soft_duplicate_share)),
            _td(_pct(r.outlier_share), r.outlier_share, hi("outlier_share", r.outlier_share)),
            _td(_pct(r.logic_share), r.logic_share, hi("logic_share", r.logic_share)),
            _td(_pct(r.refusal_share), r.refusal_share, hi("refusal_share", r.refusal_share)),
            _td(_num(r.interview_refusals), r.interview_refusals),
            _td(_num(r.risk_score, 1), r.risk_score, "risk" if r.rank <= 3 and r.risk_score > 5 else ""),
        ])
    foot = ['<td class="team"><i>équipe (médiane)</i></td>', "<td></td>",
            _td(_num(team["median_duration"], 1), team["median_duration"]),
            *[_td(_pct(team[c]), team[c]) for c in ["speeder_share", "straightliner_share", "dont_know_share",
                                                   "soft_duplicate_share", "outlier_share", "logic_share",
                                                   "refusal_share"]], "<td></td>",
            _td(_num(team["risk_score"], 1), team["risk_score"])]
    enum_html = _table(["Enquêteur", "Entretiens", "Durée médiane (min)", "Trop rapides", "Ligne droite",
                        "« Ne sait pas »", "Quasi-doublons", "Valeurs extrêmes", "Incohérences", "Refus (réponses)",
                        "Refus d'entretien", "Score de risque"], rows, "enum", foot=foot)
    # --- strata
    srows = []
    for r in m.strata.itertuples(index=False):
        srows.append([_td(_e(r.label)), _td(_num(r.target), r.target), _td(_num(r.completes), r.completes),
                      _td(_pct(r.progress) + _bar(r.progress), r.progress), _td(_num(r.remaining), r.remaining)])
    strata_html = _table(["Strate", "Objectif", "Complets", "Avancement", "Reste à faire"], srows, "strata")
    # --- flagged submissions of the day
    today = flagged["uuid"].map(m.day_of).fillna("") == m.today if m.today else pd.Series(False, index=flagged.index)
    fd = flagged[today & flagged["severity"].isin(["high", "medium"])]
    frows = []
    if len(fd):
        sev_rank = fd["severity"].map({"high": 0, "medium": 1, "low": 2})
        fd = fd.assign(_s=sev_rank)
        g = fd.sort_values("_s").groupby("uuid", sort=False)
        for u, grp in list(g)[:max_flag_rows]:
            reasons = "<br>".join(f'<span class="sev-{_e(s)}">{_e(lab)}</span> — {_e(iss)}'
                                  + (f" <code>{_e(q)}</code>" if q and q not in ("_uuid", "end", "audit") else "")
                                  for lab, iss, s, q in zip(grp["label"], grp["issue"], grp["severity"], grp["question"]))
            frows.append([_td(f"<code>{_e(u)}</code>"), _td(_e(grp["enumerator"].iloc[0])),
                          _td(_e(_SEV.get(grp["severity"].iloc[0], ""))), _td(reasons)])
    flag_html = (_table(["Soumission (_uuid)", "Enquêteur", "Gravité", "Raisons"], frows, "flags")
                 if frows else "<p>Aucune soumission signalée ce jour.</p>")
    # --- skip logic, constraints and logical checks
    logic_ids = {"answer_not_relevant", "constraint_violated", "required_missing"}
    lg = flagged[flagged["check_id"].isin(logic_ids) | ~flagged["check_id"].isin(set(CHECKS))]
    lrows = []
    if len(lg):
        agg = lg.groupby(["check_id", "question"], sort=False).agg(
            n=("uuid", "size"), label=("label", "first"), issue=("issue", "first"),
            enums=("enumerator", lambda s: ", ".join(s.value_counts().index[:3].astype(str))))
        for (cid, q), r in agg.sort_values("n", ascending=False).iterrows():
            lrows.append([_td(f"<code>{_e(cid)}</code>"), _td(f"<code>{_e(q)}</code>"), _td(_num(r.n), r.n),
                          _td(_e(r.issue)), _td(_e(r.enums))])
    logic_html = (_table(["Contrôle", "Question", "Soumissions", "Problème", "Enquêteurs les plus concernés"],
                         lrows, "logic") if lrows else "<p>Aucune incohérence détectée.</p>")
    counts = flagged.groupby("label")["uuid"].nunique().sort_values(ascending=False)
    chips = "".join(f'<span class="chip">{_e(k)} : <b>{v}</b></span>' for k, v in counts.items())
    d = m.durations or {}
    tgt = f" sur un objectif de <b>{_num(m.target)}</b> ({_pct(m.n_completes / m.target)})" if m.target else ""
    summary = (f"<p><b>{_num(m.n_submissions)}</b> soumissions reçues, <b>{_num(m.n_completes)}</b> entretiens "
               f"complets{tgt}. Dernier jour de collecte : <b>{_e(m.today or '–')}</b>. "
               f"<b>{_num(len(et))}</b> enquêteurs.</p>")
    notes = (f"Seuils : durée trop courte sous {_num(d.get('low'), 1)} min (médiane {_num(d.get('median'), 1)} min), "
             f"trop longue au-delà de {_num(d.get('high'))} min ; autres seuils dans questionnaire/fieldwork.yaml. "
             "Score de risque : somme pondérée des écarts robustes à l'équipe (quasi-doublons ×3) ; "
             "« fabrication ? » : au moins 10 % de quasi-doublons.")
    data_json = json.dumps({"generated": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")})
    return _PAGE.format(title=_e(title), summary=summary, chips=chips, chart=_svg_daily(m.daily, m.target),
                        strata=strata_html, enums=enum_html, flags=flag_html, logic=logic_html, notes=_e(notes),
                        today=_e(m.today or "–"), data=data_json.replace("</", "<\\/"))


_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d2733;background:#f5f6f8}}
header{{background:#1f3a5f;color:#fff;padding:14px 24px}} header h1{{margin:0;font-size:22px}}
header p{{margin:4px 0 0;opacity:.85;font-size:13px}}
main{{padding:8px 24px 40px;max-width:1200px}} section{{background:#fff;border-radius:6px;padding:12px 18px;margin:14px 0;
box-shadow:0 1px 2px rgba(0,0,0,.08)}} h2{{font-size:17px;margin:4px 0 10px;color:#1f3a5f}}
table{{border-collapse:collapse;width:100%;font-size:13px}} th,td{{padding:4px 8px;border-bottom:1px solid #e3e6ea;
text-align:left;vertical-align:top}} th{{background:#eef1f5;cursor:pointer;user-select:none;font-size:12px;line-height:1.2}}
td[data-v]{{text-align:right;white-space:nowrap}} td.bad{{background:#fde2e1;color:#8a1c12;font-weight:600}}
td.risk{{background:#c62828;color:#fff;font-weight:700}} .tag{{display:inline-block;background:#c62828;color:#fff;border-radius:3px;
padding:0 4px;font-size:11px;white-space:nowrap}} .chip{{display:inline-block;background:#eef1f5;border-radius:12px;padding:2px 10px;
margin:2px 4px 2px 0;font-size:12px}} .pbar{{background:#e3e6ea;height:6px;border-radius:3px;margin-top:3px;
min-width:80px}} .pbar div{{height:6px;border-radius:3px}} .pbar .ok{{background:#2e7d32}}
.pbar .mid{{background:#f9a825}} .pbar .low{{background:#c62828}} .sev-high{{color:#c62828;font-weight:600}}
.sev-medium{{color:#b26a00;font-weight:600}} .chart{{width:100%;height:auto;max-width:900px}}
.chart .grid{{stroke:#e3e6ea}} .chart .ax{{font-size:11px;fill:#5b6673}} .chart .cum{{fill:#1f3a5f}}
.chart .bar{{fill:#8fb3de}} .chart .cumline{{fill:none;stroke:#1f3a5f;stroke-width:2.5}}
.chart .target{{stroke:#c62828;stroke-dasharray:6 4;stroke-width:1.5}} .chart .tgt{{fill:#c62828}}
.note{{font-size:12px;color:#5b6673}} code{{font-size:12px}} .scroll{{max-height:520px;overflow:auto}}
#js-status{{display:none}} tfoot td{{background:#f7f8fa;font-style:italic}}
</style></head>
<body>
<header><h1>{title}</h1><p>Page générée par si-survey monitor — données des enquêteurs : usage interne de
l'équipe de terrain, à ne pas diffuser.</p></header>
<main>
<section id="resume"><h2>Résumé</h2>{summary}<div>{chips}</div></section>
<section id="jours"><h2>Entretiens complets par jour et cumul</h2>{chart}</section>
<section id="strates"><h2>Avancement par strate (région × forme juridique), les plus en retard d'abord</h2>
<div class="scroll">{strata}</div></section>
<section id="enqueteurs"><h2>Enquêteurs, classés par risque de fabrication</h2>
<p class="note">Cases en rouge : nettement au-dessus de l'équipe (ou durée nettement plus courte). Cliquer sur un
en-tête pour trier.</p><div class="scroll">{enums}</div></section>
<section id="signalements"><h2>Soumissions signalées du jour ({today})</h2><div class="scroll">{flags}</div></section>
<section id="logique"><h2>Logique de saut, contraintes et contrôles logiques</h2><div class="scroll">{logic}</div>
</section>
<p class="note">{notes}</p>
</main>
<div id="js-status">pending</div>
<script type="application/json" id="meta">{data}</script>
<script>
(function(){{
  var status = document.getElementById("js-status");
  window.addEventListener("error", function(e){{ status.textContent = "error: " + e.message; }});
  try {{
    JSON.parse(document.getElementById("meta").textContent);
    document.querySelectorAll("table.sortable").forEach(function(table){{
      table.querySelectorAll("th").forEach(function(th){{
        th.addEventListener("click", function(){{
          var k = +th.getAttribute("data-k"), body = table.tBodies[0];
          var asc = th.getAttribute("data-asc") !== "1";
          th.setAttribute("data-asc", asc ? "1" : "0");
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function(a, b){{
            var x = a.cells[k], y = b.cells[k];
            var vx = x && x.hasAttribute("data-v") ? parseFloat(x.getAttribute("data-v")) : (x ? x.textContent : "");
            var vy = y && y.hasAttribute("data-v") ? parseFloat(y.getAttribute("data-v")) : (y ? y.textContent : "");
            var c = (typeof vx === "number" && typeof vy === "number") ? vx - vy : String(vx).localeCompare(String(vy), "fr");
            return asc ? c : -c;
          }});
          rows.forEach(function(r){{ body.appendChild(r); }});
        }});
      }});
    }});
    if (status.textContent === "pending") status.textContent = "ok";
  }} catch (err) {{ status.textContent = "error: " + err.message; }}
}})();
</script>
</body></html>
"""


def write_monitor(raw_paths, targets=None, form=None, out_dir=None, *, config=None, raw: pd.DataFrame | None = None
                  ) -> Path:
    """Read the raw exports and write ``out_dir/monitor.html``.

    Parameters
    ----------
    raw_paths : path or list of paths
        Raw exports downloaded so far (CSV/XLSX as Kobo writes them).
    targets : path or DataFrame, optional
        ``allocation.csv`` of ``si-survey sample`` (or its folder).
    form : path, optional
        Questionnaire folder (survey.csv, choices.csv, settings.csv) or XLSForm ``.xlsx`` of another
        form; default the study's ``questionnaire/``.
    out_dir : path
        Folder to write to (created).
    config : dict or path, optional
        Checks configuration (default ``questionnaire/fieldwork.yaml``).
    raw : pandas.DataFrame, optional
        Submissions already read (then ``raw_paths`` is ignored).

    Returns
    -------
    pathlib.Path
        The page written.

    Examples
    --------
    >>> write_monitor(["data/raw/demo/si_survey_kobo.csv"], out_dir=tmp_path)  # doctest: +SKIP
    """
    from analysis.utils.atomic import atomic_write_text

    if out_dir is None:
        raise InputError("an output folder is needed", expected="--out DIR")
    data = raw if raw is not None else read_raw(raw_paths, form)
    f = _form_from(form)
    m = build_monitor(data, targets, f, config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "monitor.html"
    atomic_write_text(path, render_html(m))
    return path
