"""Cleaning step 12: the analysis file (``survey.parquet`` and its labels) and the private link table.

Each function is one step of :data:`analysis.cleaning._clean.STEPS`; it reads
and extends a :class:`~analysis.cleaning._state.CleaningState`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cleaning import _rules as R
from analysis.cleaning._config import DROP_SYSTEM
from analysis.cleaning._state import CleaningState, S, str_array

__all__ = ["build_analysis_file", "build_link_table"]


def _type_of(cbi, c):
    return cbi.at[c, "type"] if c in cbi.index else "derived"


def build_analysis_file(s: CleaningState) -> None:
    """``survey.parquet`` assembled (typed columns, derived columns, flags, ``resp_id``) with its labels.

    Personal columns, the Kobo identifiers and the select_multiple option
    columns as read are left out (the option columns are rebuilt).
    """
    s.say("building the analysis file")
    raw, q, cbi, known, personal, final, cur = s.raw, s.q, s.cbi, s.known, s.personal, s.final, s.cur
    multi_frames, likert, flags, analysed, lf_group = s.multi_frames, s.likert, s.flags, s.analysed, s.legal_form_group
    dur, dt, uuid_arr, cfg, year = s.duration, s.dt, s.uuid, s.cfg, s.year
    n = len(raw)
    cols: dict[str, object] = {}
    labels: dict[str, dict] = {}
    for c in known:
        if c in personal or c in DROP_SYSTEM or _type_of(cbi, c) == "select_multiple_option":
            continue
        t = _type_of(cbi, c)
        info = {"label_fr": cbi.at[c, "label_fr"], "label_ar": cbi.at[c, "label_ar"], "type": t}
        if c in dt:
            cols[c] = dt[c].reset_index(drop=True)
        elif t in ("integer", "decimal", "calculate") and c not in s.text_calculates:
            cols[c] = np.asarray(final[c], dtype=float)
        elif t == "select_one":
            ch = q.choice_list(cbi.at[c, "list_name"]) if cbi.at[c, "list_name"] else None
            if ch is not None:
                info["values"] = {str(k): {"fr": fr, "ar": ar} for k, fr, ar in zip(ch["name"], ch["label_fr"],
                                                                                      ch["label_ar"])}
            if c in likert:
                cols[c] = np.asarray(final[c], dtype=float)
                info["storage"] = "float64 codes; NaN = missing (97/98/99 and blanks)"
            else:
                cols[c] = str_array(final[c])
        elif t == "select_multiple":
            cols[c] = str_array(final[c])
            ch = q.choice_list(cbi.at[c, "list_name"])
            info["values"] = {str(k): {"fr": fr, "ar": ar} for k, fr, ar in zip(ch["name"], ch["label_fr"],
                                                                                  ch["label_ar"])}
            fr = multi_frames.get(c)
            labels[c] = info
            if fr is not None:
                for oc in fr.columns:
                    cols[oc] = fr[oc].to_numpy(dtype=float)
                    if oc.endswith("_count"):
                        labels[oc] = {"label_fr": f"{cbi.at[c, 'label_fr']} : nombre de réponses",
                                      "label_ar": cbi.at[c, "label_ar"], "type": "count"}
                    else:
                        labels[oc] = {"label_fr": cbi.at[oc, "label_fr"] if oc in cbi.index else oc,
                                      "label_ar": cbi.at[oc, "label_ar"] if oc in cbi.index else "",
                                      "type": "select_multiple_option", "values": {"1": {"fr": "Sélectionné"},
                                                                                   "0": {"fr": "Non sélectionné"}}}
            continue
        else:
            v = final.get(c, cur[c])
            cols[c] = str_array(v)
        labels[c] = info
    if "region" in cols and s.study:
        from analysis.study._regions import REGIONS, REGIONS_AR

        labels["region"]["values"] = {k: {"fr": REGIONS[k], "ar": REGIONS_AR[k]} for k in REGIONS}
    start = dt.get("start")
    sy = cfg.get("survey_year")
    if "year_created" in cols and s.study:
        if sy:
            ref = np.full(n, float(sy))
        elif start is not None:
            ref = start.dt.year.to_numpy(dtype=float, na_value=np.nan)
        else:
            ref = np.full(n, float(year))
        cols["org_age"] = ref - np.asarray(cols["year_created"], dtype=float)
        labels["org_age"] = {"label_fr": "Âge de l'organisation (années, année de l'entretien - année de création)",
                             "label_ar": "عمر المنظمة (بالسنوات)", "type": "derived"}
    if s.study:
        cols["legal_form_group"] = str_array(lf_group)
        labels["legal_form_group"] = {"label_fr": "Groupe de forme juridique", "label_ar": "مجموعة الشكل القانوني",
                                      "type": "derived", "values": {"association": {"fr": "Association", "ar": "جمعية"},
                                                                    "cooperative": {"fr": "Coopérative", "ar": "تعاونية"}}}
    cols["duration_min"] = dur
    labels["duration_min"] = {"label_fr": "Durée de l'entretien (minutes, fin - début)", "label_ar": "مدة المقابلة",
                              "type": "derived"}
    for k, v in flags.items():
        cols[k] = np.asarray(v, dtype=bool)
        labels[k] = {"label_fr": {"flag_duplicate": "Doublon", "flag_test": "Entretien test ou pilote",
                                  "flag_speeder": "Entretien trop rapide", "flag_straightliner": "Straightlining",
                                  "flag_ineligible": "Non éligible",
                                  "flag_incomplete": "Incomplet ou refus"}[k], "type": "flag"}
    cols["analysed"] = np.asarray(analysed, dtype=bool)
    labels["analysed"] = {"label_fr": "Retenu pour l'analyse", "type": "flag"}
    resp = R.pseudonymous_id(S(uuid_arr))
    cols["resp_id"] = pd.array(resp.to_numpy(dtype=object), dtype="str")
    labels["resp_id"] = {"label_fr": "Identifiant pseudonyme de la soumission (SHA-256 du _uuid)", "type": "id"}
    cols["_source_file"] = str_array(raw["_source_file"].to_numpy(dtype=object))
    cols["_source_row"] = raw["_source_row"].to_numpy(dtype=np.int64)
    labels["_source_file"] = {"label_fr": "Fichier brut d'origine", "type": "source"}
    labels["_source_row"] = {"label_fr": "Ligne dans le fichier brut (en-tête = 1)", "type": "source"}
    front = ["resp_id"]
    order = front + [c for c in cols if c not in front]
    # no copy: the columns are the arrays built above (a consolidated copy doubles the memory)
    data = pd.DataFrame({c: cols[c] for c in order}, copy=False)
    s.data, s.labels = data, labels


def build_link_table(s: CleaningState) -> None:
    """The private link table: ``resp_id`` <-> ``_uuid``, source file and row, personal columns as read."""
    raw, personal, resp_id, uuid_arr, asread = s.raw, s.personal, s.data["resp_id"], s.uuid, s.asread
    cols = {"resp_id": resp_id.to_numpy(dtype=object), "_uuid": uuid_arr,
            "_source_file": raw["_source_file"].to_numpy(dtype=object),
            "_source_row": raw["_source_row"].to_numpy()}
    for c, values in asread.items():  # the personal columns as read, in the codebook's order
        if c in personal:
            cols[c] = values
    s.link = pd.DataFrame(cols, copy=False)
