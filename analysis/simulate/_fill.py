"""Free text, names, places and GPS of the simulated answers (personal columns included).

Fills the text questions of the simulated export: "other, specify" answers, organisation and
person names, phones and e-mails (personal data, which cleaning must keep out of the analysis
file), provinces consistent with the region, GPS points near the region's centroid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analysis.simulate._draws import _draw_codes, _map_codes
from analysis.xlsform._form import Form, Value

if TYPE_CHECKING:
    from analysis.simulate._model import Simulation

__all__ = ["fill_text", "province_for", "_range_bounds"]


_OTHER_TEXTS = [
    "Activités culturelles amazighes", "Sensibilisation routière", "Soutien scolaire du soir",
    "Accompagnement des détenus", "Apiculture", "Plantes médicinales", "Tissage de tapis",
    "Transport scolaire rural", "Club de lecture", "Coopération avec la commune",
    "دعم الأسر المعوزة", "محاربة الهدر المدرسي", "Recyclage des déchets", "Radio associative",
]
_FIRST = ["Mohamed", "Fatima", "Ahmed", "Khadija", "Youssef", "Aicha", "Rachid", "Naima", "Hassan", "Zineb",
          "Abdellah", "Malika", "Said", "Latifa", "Omar", "Samira", "Mustapha", "Hanane", "Karim", "Nadia",
          "Brahim", "Souad", "Abdelaziz", "Meryem", "Lahcen", "Ilham", "Hicham", "Rkia", "Driss", "Amina"]
_LAST = ["El Amrani", "Benali", "Alaoui", "Bennani", "El Idrissi", "Tazi", "Ouahbi", "Chraibi", "Berrada",
         "El Fassi", "Ait Ouaziz", "Amzil", "Boutaleb", "Lahlou", "Ziani", "Naciri", "Ouchen", "Bouzid",
         "El Khatib", "Saidi", "Oubaha", "Jabri", "Mansouri", "Raji", "Haddad", "Bakkali", "Tahiri", "Id Brahim"]
_ORG_WORDS = ["Amal", "Annour", "Tanmia", "Al Khair", "Tifawin", "Assafa", "Nour", "Al Amal", "Tamount",
              "Atlas", "Ennahda", "Al Baraka", "Tawada", "Al Wafa", "Izourane", "Argane", "Al Fath"]
REGION_CENTROIDS = {
    "R01": (35.3, -5.6), "R02": (34.2, -2.5), "R03": (33.9, -4.8), "R04": (34.0, -6.4),
    "R05": (32.5, -6.2), "R06": (33.2, -7.8), "R07": (31.7, -8.4), "R08": (31.3, -5.2),
    "R09": (30.3, -9.0), "R10": (28.6, -10.0), "R11": (26.8, -13.0), "R12": (23.5, -15.5),
}


def _pick(rng, pool, k):
    return np.array(pool, dtype=object)[rng.integers(0, len(pool), k)]


def fill_text(sim: Simulation, rng: np.random.Generator, q, mask: np.ndarray) -> None:
    """Free text, contacts, names and geopoints, only where relevant (vectorised)."""
    n = sim.n
    name = q.name
    out = np.full(n, "", dtype=object)
    idx = np.flatnonzero(mask)
    k = len(idx)
    if k == 0:
        sim.data[name] = Value("str", out)
        return
    gen = sim.cfg["generic"]
    if q.type in ("date", "dateTime"):
        year = int(sim.cfg["survey_year"])
        day = np.datetime64(f"{year - 10}-01-01") + rng.integers(0, 3650, k).astype("timedelta64[D]")
        out[idx] = np.datetime_as_string(day).astype(object)
    elif q.type == "geopoint":
        reg = sim.org["region"][idx]
        lat0 = _centroid(reg, 0)
        lon0 = _centroid(reg, 1)
        la = lat0 + rng.uniform(-0.4, 0.4, k)
        lo = lon0 + rng.uniform(-0.4, 0.4, k)
        alt = rng.uniform(5, 1500, k)
        acc = rng.uniform(3, 25, k)
        out[idx] = _join4(la, lo, alt, acc)
    elif name == "resp_name":
        out[idx] = _pick(rng, _FIRST, k) + " " + _pick(rng, _LAST, k)
    elif name == "resp_phone":
        digits = rng.integers(10_000_000, 100_000_000, k).astype(str).astype(object)
        pre = _pick(rng, ["6", "7"], k)
        style = rng.random(k) < 0.5
        out[idx] = np.where(style, "+212 " + pre + digits, "0" + pre + digits)
    elif name == "resp_email":
        f = np.char.lower(_pick(rng, _FIRST, k).astype(str))
        l_ = np.char.replace(np.char.lower(_pick(rng, _LAST, k).astype(str)), " ", "")
        dom = _pick(rng, ["gmail.com", "yahoo.fr", "hotmail.com", "menara.ma", "outlook.fr"], k).astype(str)
        num_ = rng.integers(1, 99, k).astype(str)
        out[idx] = np.char.add(np.char.add(np.char.add(np.char.add(f, "."), l_), np.char.add(num_, "@")), dom).astype(object)
    elif name == "org_name":
        lf = sim.org["side"][idx]
        pre = np.where(lf == "cooperative", "Coopérative ", "Association ")
        out[idx] = pre + _pick(rng, _ORG_WORDS, k) + " " + _pick(rng, ["", "pour le développement", "des femmes", "Tighanimine", "de solidarité"], k)
        out[idx] = np.char.strip(out[idx].astype(str)).astype(object)
    elif name == "province":
        out[idx] = province_for(sim.org["region"][idx], rng)
    elif name.endswith("_other"):
        out[idx] = _pick(rng, _OTHER_TEXTS, k)
    else:
        # optional free text (comments): answered by a share of respondents
        if q.required:
            out[idx] = _pick(rng, _OTHER_TEXTS, k)
        else:
            ans = rng.random(k) < float(gen.get("text_answer_rate", 0.15))
            out[idx[ans]] = _pick(rng, ["Merci pour cette enquête.", "Nous avons besoin de plus de soutien.",
                                        "Bonne initiative", "نحتاج إلى دعم أكبر"], int(ans.sum()))
    rate = (gen.get("optional_answer_rate") or {}).get(name)
    if rate is not None and not q.required:
        # optional questions left blank, more often by small rural organisations (MAR)
        small_rural = (sim.org["members"][idx] <= np.median(sim.org["members"])) & (sim.org["milieu"][idx] == "rural")
        p = np.where(small_rural, float(rate) ** 2, float(rate))
        out[idx[rng.random(k) >= p]] = ""
    sim.data[name] = Value("str", out)


def _range_bounds(form: Form, name: str) -> tuple[float, float]:
    """Start and end of an XLSForm ``range`` question (``parameters`` column), default 1..10."""
    import csv

    lo, hi = 1.0, 10.0
    path = getattr(form, "path", None)
    if path is not None:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                if (r.get("name") or "").strip() == name:
                    for part in (r.get("parameters") or "").replace(";", " ").split():
                        k, _, v = part.partition("=")
                        if k == "start":
                            lo = float(v)
                        elif k == "end":
                            hi = float(v)
    return lo, hi


def _centroid(reg, j):
    lut = np.array([REGION_CENTROIDS[f"R{i:02d}"][j] for i in range(1, 13)])
    ids = _map_codes(np.asarray(reg, dtype=object), [f"R{i:02d}" for i in range(1, 13)])
    return lut[np.where(ids >= 0, ids, 5)]


def _join4(a, b, c, d):
    fa = np.char.mod("%.6f", a)
    fb = np.char.mod("%.6f", b)
    fc = np.char.mod("%.1f", c)
    fd = np.char.mod("%.1f", d)
    s = np.char.add(np.char.add(np.char.add(fa, " "), np.char.add(fb, " ")), np.char.add(np.char.add(fc, " "), fd))
    return s.astype(object)


PROVINCES = {
    "R01": ["Tanger-Assilah", "Tétouan", "Larache", "Al Hoceïma", "Chefchaouen", "M'diq-Fnideq", "Ouezzane", "Fahs-Anjra"],
    "R02": ["Oujda-Angad", "Nador", "Berkane", "Taourirt", "Driouch", "Guercif", "Jerada", "Figuig"],
    "R03": ["Fès", "Meknès", "Taza", "Taounate", "Sefrou", "El Hajeb", "Ifrane", "Moulay Yacoub", "Boulemane"],
    "R04": ["Rabat", "Salé", "Kénitra", "Skhirate-Témara", "Khémisset", "Sidi Kacem", "Sidi Slimane"],
    "R05": ["Béni Mellal", "Khouribga", "Fquih Ben Salah", "Azilal", "Khénifra"],
    "R06": ["Casablanca", "El Jadida", "Settat", "Mohammedia", "Berrechid", "Nouaceur", "Sidi Bennour", "Benslimane", "Médiouna"],
    "R07": ["Marrakech", "Safi", "El Kelâa des Sraghna", "Essaouira", "Al Haouz", "Chichaoua", "Youssoufia", "Rehamna"],
    "R08": ["Errachidia", "Ouarzazate", "Tinghir", "Midelt", "Zagora"],
    "R09": ["Agadir Ida-Outanane", "Inezgane-Aït Melloul", "Taroudant", "Chtouka-Aït Baha", "Tiznit", "Tata"],
    "R10": ["Guelmim", "Tan-Tan", "Sidi Ifni", "Assa-Zag"],
    "R11": ["Laâyoune", "Es-Semara", "Boujdour", "Tarfaya"],
    "R12": ["Oued Ed-Dahab", "Aousserd"],
}


def province_for(regions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A province of each region (first ones more frequent: weight 1 / rank ** 0.8)."""
    out = np.full(len(regions), "", dtype=object)
    for r, provs in PROVINCES.items():
        m = regions == r
        k = int(m.sum())
        if k:
            w = 1.0 / np.arange(1, len(provs) + 1) ** 0.8
            out[m] = np.array(provs, dtype=object)[_draw_codes(rng, k, [str(i) for i in range(len(provs))], {str(i): x for i, x in enumerate(w)})]
    return out

