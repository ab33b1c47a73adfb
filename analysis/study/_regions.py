"""Match the ways people write Moroccan regions and provinces to the official 2015 codes.

The questionnaire asks the region as a choice (codes ``R01``..``R12``, decree
2-15-40 of 2015) and the province as text; exports nevertheless hold labels,
names without accents, other hyphens, Arabic, transliterations, pre-2015
region names (16 regions, decree of 1997) and province names written in many
ways. :func:`match_regions` and :func:`match_provinces` map them, working on
the column's unique values.

Matching
--------
Every text is reduced to a *key* by :func:`fold_key`: Unicode NFKC, case
folding, accents removed, Arabic letters normalised (alef forms ``أ إ آ ٱ`` ->
``ا``, ``ة`` -> ``ه``, ``ى`` -> ``ي``, ``ؤ`` -> ``و``, ``ئ`` -> ``ي``,
tatweel and diacritics removed), punctuation and hyphens -> spaces, common
words dropped (``région``, ``province``, ``préfecture``, ``de``, ``la``,
``l'``, ``جهة``, ``إقليم``, ``عمالة``...). The key is looked up in a table
built from the official French and Arabic names, their transliterations and
the pre-2015 names; a key not in the table may match one entry by a close
spelling (``difflib`` ratio >= ``fuzzy_cutoff``, default 0.9, and clearly
better than the second best), else it is left unmatched.

A pre-2015 region whose territory is now split over several regions (e.g.
Chaouia-Ouardigha: Settat and Berrechid went to Casablanca-Settat, Khouribga
to Béni Mellal-Khénifra) is **ambiguous**: it is never guessed. When the
province of the same row is known and belongs to one of the candidate
regions, that region is used (status ``resolved_by_province``); otherwise the
region is left missing (status ``ambiguous``) and the row is reported.

Statuses: ``ok`` (already a code), ``mapped``, ``fuzzy``,
``resolved_by_province``, ``ambiguous``, ``unmatched``, ``empty``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "REGIONS",
    "REGIONS_AR",
    "OLD_REGIONS",
    "PROVINCES",
    "fold_key",
    "normalize_arabic",
    "match_regions",
    "match_provinces",
    "RegionMatch",
    "REGION_STATUSES",
]

#: Official 2015 regions: code -> French name.
REGIONS: dict[str, str] = {
    "R01": "Tanger-Tétouan-Al Hoceïma", "R02": "L'Oriental", "R03": "Fès-Meknès",
    "R04": "Rabat-Salé-Kénitra", "R05": "Béni Mellal-Khénifra", "R06": "Casablanca-Settat",
    "R07": "Marrakech-Safi", "R08": "Drâa-Tafilalet", "R09": "Souss-Massa", "R10": "Guelmim-Oued Noun",
    "R11": "Laâyoune-Sakia El Hamra", "R12": "Dakhla-Oued Ed-Dahab",
}
#: Official Arabic names.
REGIONS_AR: dict[str, str] = {
    "R01": "طنجة-تطوان-الحسيمة", "R02": "الشرق", "R03": "فاس-مكناس", "R04": "الرباط-سلا-القنيطرة",
    "R05": "بني ملال-خنيفرة", "R06": "الدار البيضاء-سطات", "R07": "مراكش-آسفي", "R08": "درعة-تافيلالت",
    "R09": "سوس-ماسة", "R10": "كلميم-واد نون", "R11": "العيون-الساقية الحمراء", "R12": "الداخلة-وادي الذهب",
}
#: Other spellings and transliterations of the 2015 regions.
_REGION_ALIASES: dict[str, tuple[str, ...]] = {
    "R01": ("Tanger-Tetouan-Al Hoceima", "Tanja-Titwan-Al Husayma", "TTA", "Tanger Tetouan Hoceima",
            "Tanger-Tétouan-Al Hoceima", "Tanger Tetouan El Hoceima"),
    "R02": ("Oriental", "Ach-Charq", "Ach Charq", "Région de l'Oriental", "Region Orientale", "Oujda"),
    "R03": ("Fes-Meknes", "Fas-Miknas", "Fez-Meknes", "Fès Meknès"),
    "R04": ("Rabat-Sale-Kenitra", "Ar-Ribat-Sala-Al Qunaytira", "RSK", "Rabat Sale Kenitra"),
    "R05": ("Beni Mellal-Khenifra", "Bni Mellal Khenifra", "Bani Mallal-Khanifra", "Béni-Mellal-Khénifra"),
    "R06": ("Casablanca-Settat", "Casa-Settat", "Ad-Dar al-Bayda-Settat", "Casa Settat", "Grand Casablanca-Settat"),
    "R07": ("Marrakech-Safi", "Marrakesh-Safi", "Murrakush-Asafi", "Marrakech Asfi"),
    "R08": ("Draa-Tafilalet", "Daraa-Tafilalt", "Drâa Tafilalet", "Draa Tafilalt"),
    "R09": ("Souss-Massa", "Sous Massa", "Sus-Masa", "Souss Massa"),
    "R10": ("Guelmim-Oued Noun", "Guelmim Oued Noun", "Kalmim-Wad Nun", "Guelmim-Oued Noun"),
    "R11": ("Laayoune-Sakia El Hamra", "Laâyoune Sakia Al Hamra", "Al Ayun-As-Saqiya al-Hamra",
            "Laayoune Sakia Al Hamra"),
    "R12": ("Dakhla-Oued Ed-Dahab", "Dakhla Oued Eddahab", "Ad-Dakhla-Wadi ad-Dahab", "Dakhla-Oued Eddahab"),
}
#: Pre-2015 regions (decree of 1997) -> the 2015 regions their territory went to.
OLD_REGIONS: dict[str, tuple[str, ...]] = {
    "Oued Ed-Dahab-Lagouira": ("R12",),
    "Laâyoune-Boujdour-Sakia El Hamra": ("R11",),
    "Guelmim-Es Semara": ("R10", "R11"),
    "Souss-Massa-Drâa": ("R09", "R08"),
    "Gharb-Chrarda-Béni Hssen": ("R04",),
    "Chaouia-Ouardigha": ("R06", "R05"),
    "Marrakech-Tensift-Al Haouz": ("R07",),
    "Oriental": ("R02",),
    "Grand Casablanca": ("R06",),
    "Rabat-Salé-Zemmour-Zaër": ("R04",),
    "Doukkala-Abda": ("R06", "R07"),
    "Tadla-Azilal": ("R05",),
    "Meknès-Tafilalet": ("R03", "R08", "R05"),
    "Fès-Boulemane": ("R03",),
    "Taza-Al Hoceïma-Taounate": ("R03", "R01", "R02"),
    "Tanger-Tétouan": ("R01",),
}
_OLD_AR: dict[str, str] = {
    "سوس ماسة درعة": "Souss-Massa-Drâa", "الدار البيضاء الكبرى": "Grand Casablanca",
    "الشاوية ورديغة": "Chaouia-Ouardigha", "دكالة عبدة": "Doukkala-Abda", "تادلة أزيلال": "Tadla-Azilal",
    "مكناس تافيلالت": "Meknès-Tafilalet", "فاس بولمان": "Fès-Boulemane", "طنجة تطوان": "Tanger-Tétouan",
    "الغرب الشراردة بني حسن": "Gharb-Chrarda-Béni Hssen", "الرباط سلا زمور زعير": "Rabat-Salé-Zemmour-Zaër",
    "مراكش تانسيفت الحوز": "Marrakech-Tensift-Al Haouz", "تازة الحسيمة تاونات": "Taza-Al Hoceïma-Taounate",
    "كلميم السمارة": "Guelmim-Es Semara", "العيون بوجدور الساقية الحمراء": "Laâyoune-Boujdour-Sakia El Hamra",
    "وادي الذهب الكويرة": "Oued Ed-Dahab-Lagouira",
}

#: The 75 provinces and prefectures (2015): official French name -> (region code, Arabic name).
PROVINCES: dict[str, tuple[str, str]] = {
    "Tanger-Assilah": ("R01", "طنجة أصيلة"), "M'diq-Fnideq": ("R01", "المضيق الفنيدق"), "Tétouan": ("R01", "تطوان"),
    "Fahs-Anjra": ("R01", "الفحص أنجرة"), "Larache": ("R01", "العرائش"), "Al Hoceïma": ("R01", "الحسيمة"),
    "Chefchaouen": ("R01", "شفشاون"), "Ouezzane": ("R01", "وزان"),
    "Oujda-Angad": ("R02", "وجدة أنجاد"), "Nador": ("R02", "الناظور"), "Driouch": ("R02", "الدريوش"),
    "Jerada": ("R02", "جرادة"), "Berkane": ("R02", "بركان"), "Taourirt": ("R02", "تاوريرت"),
    "Guercif": ("R02", "جرسيف"), "Figuig": ("R02", "فجيج"),
    "Fès": ("R03", "فاس"), "Meknès": ("R03", "مكناس"), "El Hajeb": ("R03", "الحاجب"), "Ifrane": ("R03", "إفران"),
    "Moulay Yacoub": ("R03", "مولاي يعقوب"), "Sefrou": ("R03", "صفرو"), "Boulemane": ("R03", "بولمان"),
    "Taounate": ("R03", "تاونات"), "Taza": ("R03", "تازة"),
    "Rabat": ("R04", "الرباط"), "Salé": ("R04", "سلا"), "Skhirate-Témara": ("R04", "الصخيرات تمارة"),
    "Kénitra": ("R04", "القنيطرة"), "Khémisset": ("R04", "الخميسات"), "Sidi Kacem": ("R04", "سيدي قاسم"),
    "Sidi Slimane": ("R04", "سيدي سليمان"),
    "Béni Mellal": ("R05", "بني ملال"), "Azilal": ("R05", "أزيلال"), "Fquih Ben Salah": ("R05", "الفقيه بن صالح"),
    "Khénifra": ("R05", "خنيفرة"), "Khouribga": ("R05", "خريبكة"),
    "Casablanca": ("R06", "الدار البيضاء"), "Mohammedia": ("R06", "المحمدية"), "El Jadida": ("R06", "الجديدة"),
    "Nouaceur": ("R06", "النواصر"), "Médiouna": ("R06", "مديونة"), "Benslimane": ("R06", "بنسليمان"),
    "Berrechid": ("R06", "برشيد"), "Settat": ("R06", "سطات"), "Sidi Bennour": ("R06", "سيدي بنور"),
    "Marrakech": ("R07", "مراكش"), "Chichaoua": ("R07", "شيشاوة"), "Al Haouz": ("R07", "الحوز"),
    "El Kelâa des Sraghna": ("R07", "قلعة السراغنة"), "Essaouira": ("R07", "الصويرة"), "Rehamna": ("R07", "الرحامنة"),
    "Safi": ("R07", "آسفي"), "Youssoufia": ("R07", "اليوسفية"),
    "Errachidia": ("R08", "الرشيدية"), "Ouarzazate": ("R08", "ورزازات"), "Midelt": ("R08", "ميدلت"),
    "Tinghir": ("R08", "تنغير"), "Zagora": ("R08", "زاكورة"),
    "Agadir Ida-Outanane": ("R09", "أكادير إداوتنان"), "Inezgane-Aït Melloul": ("R09", "إنزكان آيت ملول"),
    "Chtouka-Aït Baha": ("R09", "اشتوكة آيت باها"), "Taroudant": ("R09", "تارودانت"), "Tiznit": ("R09", "تيزنيت"),
    "Tata": ("R09", "طاطا"),
    "Guelmim": ("R10", "كلميم"), "Assa-Zag": ("R10", "آسا الزاك"), "Tan-Tan": ("R10", "طانطان"),
    "Sidi Ifni": ("R10", "سيدي إفني"),
    "Laâyoune": ("R11", "العيون"), "Boujdour": ("R11", "بوجدور"), "Tarfaya": ("R11", "طرفاية"),
    "Es-Semara": ("R11", "السمارة"),
    "Oued Ed-Dahab": ("R12", "وادي الذهب"), "Aousserd": ("R12", "أوسرد"),
}
_PROVINCE_ALIASES: dict[str, tuple[str, ...]] = {
    "Tanger-Assilah": ("Tanger", "Tangier", "Tanja"), "Tétouan": ("Tetouan", "Titwan"),
    "Al Hoceïma": ("Al Hoceima", "El Hoceima", "Hoceima"), "Oujda-Angad": ("Oujda",),
    "Fès": ("Fes", "Fez", "Fas"), "Meknès": ("Meknes", "Miknas"), "Salé": ("Sale", "Sala"),
    "Skhirate-Témara": ("Temara", "Skhirat Temara"), "Kénitra": ("Kenitra",),
    "Casablanca": ("Casa", "Dar El Beida", "Anfa"), "Marrakech": ("Marrakesh",),
    "El Kelâa des Sraghna": ("Kelaa des Sraghna", "El Kelaa Sraghna", "Kalaat Sraghna"),
    "Agadir Ida-Outanane": ("Agadir", "Agadir Ida Ou Tanane"), "Inezgane-Aït Melloul": ("Inezgane", "Ait Melloul"),
    "Chtouka-Aït Baha": ("Chtouka Ait Baha", "Biougra"), "Laâyoune": ("Laayoune", "El Ayoun"),
    "Es-Semara": ("Smara", "Semara"), "Oued Ed-Dahab": ("Dakhla", "Oued Eddahab"),
    "Tan-Tan": ("Tantan",), "Fquih Ben Salah": ("Fkih Ben Salah", "Fquih Bensalah"),
    "Béni Mellal": ("Beni Mellal", "Bni Mellal"), "M'diq-Fnideq": ("Mdiq Fnideq", "Mdiq", "Fnideq"),
}

REGION_STATUSES = ("ok", "mapped", "fuzzy", "resolved_by_province", "ambiguous", "unmatched", "empty")

_AR_MAP = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي",
                         "ـ": None, "گ": "ك", "ڭ": "ك", "ی": "ي", "ک": "ك"})
_AR_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_STOP = {
    "region", "regions", "province", "provinces", "prefecture", "prefectures", "de", "du", "des", "la", "le",
    "l", "d", "the", "wilaya", "jiha", "iqlim", "amalat", "جهه", "اقليم", "عماله", "ولايه",
}


def normalize_arabic(text: str) -> str:
    """Normalise Arabic spelling variants: alef/hamza forms, taa marbuta, alef maqsura, tatweel, diacritics.

    Examples
    --------
    >>> normalize_arabic("جِهَة الدار البيضاء") == "جهه الدار البيضاء"
    True
    """
    return _AR_DIACRITICS.sub("", text).translate(_AR_MAP)


def fold_key(text: object) -> str:
    """Reduce a region or province name to its matching key (see the module notes).

    Examples
    --------
    >>> fold_key("Région de Fès–Meknès ")
    'fes meknes'
    >>> fold_key("BÉNI MELLAL-KHÉNIFRA")
    'beni mellal khenifra'
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    s = normalize_arabic(s)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("œ", "oe").replace("æ", "ae")
    s = re.sub(r"[\W_]+", " ", s)
    words = [w for w in s.split() if w not in _STOP]
    # Arabic article glued to a word stays; "ال" alone is noise
    return " ".join(words)


def _squash(key: str) -> str:
    return key.replace(" ", "")


def _region_table() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    exact: dict[str, str] = {}
    for code, name in REGIONS.items():
        for variant in (code, name, REGIONS_AR[code], *_REGION_ALIASES.get(code, ())):
            exact[_squash(fold_key(variant))] = code
    old: dict[str, tuple[str, ...]] = {}
    for name, codes in OLD_REGIONS.items():
        k = _squash(fold_key(name))
        if len(codes) == 1:
            exact.setdefault(k, codes[0])
        else:
            old[k] = codes
    for ar, name in _OLD_AR.items():
        codes = OLD_REGIONS[name]
        k = _squash(fold_key(ar))
        if len(codes) == 1:
            exact.setdefault(k, codes[0])
        else:
            old[k] = codes
    return exact, old


def _province_table() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (_code, ar) in PROVINCES.items():
        for v in (name, ar, *_PROVINCE_ALIASES.get(name, ())):
            out[_squash(fold_key(v))] = name
    return out


_REGION_EXACT, _REGION_OLD = _region_table()
_PROVINCE_EXACT = _province_table()


def _fuzzy(key: str, table: dict, cutoff: float):
    if not key or len(key) < 4:
        return None
    keys = list(table)
    scores = sorted(((difflib.SequenceMatcher(None, key, k).ratio(), k) for k in keys), reverse=True)
    if not scores or scores[0][0] < cutoff:
        return None
    best, second = scores[0], scores[1] if len(scores) > 1 else (0.0, "")
    if table[best[1]] != table.get(second[1]) and best[0] - second[0] < 0.05:
        return None
    return table[best[1]]


@dataclass(frozen=True)
class RegionMatch:
    """Result of :func:`match_regions` / :func:`match_provinces`.

    Attributes
    ----------
    codes : numpy.ndarray
        Region codes (``R01``..``R12``) or official province names; ``None`` when missing.
    status : numpy.ndarray
        One of :data:`REGION_STATUSES` per value.
    candidates : numpy.ndarray
        For ambiguous pre-2015 regions, the candidate codes joined with ``|``; else ``""``.
    """

    codes: np.ndarray
    status: np.ndarray
    candidates: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Columns ``code``, ``status``, ``candidates``."""
        return pd.DataFrame({"code": self.codes, "status": self.status, "candidates": self.candidates})


def _match_unique(values: np.ndarray, table: dict, old: dict, cutoff: float, valid: set):
    n = len(values)
    codes = np.full(n, None, dtype=object)
    status = np.full(n, "unmatched", dtype=object)
    cands = np.full(n, "", dtype=object)
    for i, v in enumerate(values):
        raw = "" if v is None else str(v)
        if raw.strip() == "":
            status[i] = "empty"
            continue
        if raw in valid:
            codes[i], status[i] = raw, "ok"
            continue
        key = _squash(fold_key(raw))
        if key in table:
            codes[i], status[i] = table[key], "mapped"
        elif key in old:
            status[i], cands[i] = "ambiguous", "|".join(old[key])
        else:
            hit = _fuzzy(key, {**table, **{k: "|".join(c) for k, c in old.items()}}, cutoff)
            if hit is not None and "|" not in hit:
                codes[i], status[i] = hit, "fuzzy"
            elif hit is not None:
                status[i], cands[i] = "ambiguous", hit
    return codes, status, cands


def _by_unique(values, fn):
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values.astype(object)
    idx, uniq = pd.factorize(s.fillna(""), use_na_sentinel=True)
    uniq = np.asarray(uniq, dtype=object)
    c, st, ca = fn(uniq)
    idx = np.maximum(idx, 0)
    if len(uniq) == 0:
        n = len(s)
        return np.full(n, None, object), np.full(n, "empty", object), np.full(n, "", object)
    return c[idx], st[idx], ca[idx]


def match_provinces(values, *, fuzzy_cutoff: float = 0.9) -> RegionMatch:
    """Map province/prefecture texts to their official French names.

    Examples
    --------
    >>> match_provinces(["Préfecture El Jadida", "ورزازات", "BOULEMANE"]).codes.tolist()
    ['El Jadida', 'Ouarzazate', 'Boulemane']
    """
    valid = set(PROVINCES)
    c, st, ca = _by_unique(values, lambda u: _match_unique(u, _PROVINCE_EXACT, {}, fuzzy_cutoff, valid))
    return RegionMatch(c, st, ca)


def match_regions(values, provinces=None, *, fuzzy_cutoff: float = 0.9,
                  resolve_by_province: bool = True) -> RegionMatch:
    """Map region texts to the official codes ``R01``..``R12``.

    Parameters
    ----------
    values : array-like of str
        Region cells as written.
    provinces : array-like of str, optional
        Province cells of the same rows (any spelling): used only to resolve
        ambiguous pre-2015 region names.
    fuzzy_cutoff : float
        Minimum similarity for a spelling match (see module notes).
    resolve_by_province : bool
        Use the province to resolve ambiguous pre-2015 names.

    Returns
    -------
    RegionMatch

    Examples
    --------
    >>> match_regions(["R06", "casablanca - settat", "الدار البيضاء-سطات", "Tadla-Azilal"]).codes.tolist()
    ['R06', 'R06', 'R06', 'R05']
    >>> m = match_regions(["Chaouia-Ouardigha", "Chaouia-Ouardigha"], provinces=["Khouribga", ""])
    >>> m.codes.tolist(), m.status.tolist()
    (['R05', None], ['resolved_by_province', 'ambiguous'])
    """
    valid = set(REGIONS)
    c, st, ca = _by_unique(values, lambda u: _match_unique(u, _REGION_EXACT, _REGION_OLD, fuzzy_cutoff, valid))
    c, st = c.copy(), st.copy()
    amb = st == "ambiguous"
    if resolve_by_province and provinces is not None and amb.any():
        prov = match_provinces(np.asarray(pd.Series(provinces, dtype=object))[amb], fuzzy_cutoff=fuzzy_cutoff).codes
        prov_region = np.array([PROVINCES[p][0] if p is not None else "" for p in prov], dtype=object)
        cand = ca[amb]
        ok = np.array([bool(r) and r in k.split("|") for r, k in zip(prov_region, cand)], dtype=bool)
        pos = np.flatnonzero(amb)[ok]
        c[pos] = prov_region[ok]
        st[pos] = "resolved_by_province"
    return RegionMatch(c, st, ca)
