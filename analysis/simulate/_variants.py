"""How people actually write Moroccan regions and provinces (for planted variants).

Pre-2015 regions (16, decree of 1997) and the 2015 regions (12, decree 2-15-40)
they fed into. A pre-2015 name is *ambiguous* when its territory is now split
over several regions (e.g. Chaouia-Ouardigha: Settat and Berrechid went to
Casablanca-Settat, Khouribga to Béni Mellal-Khénifra); the province then
decides.
"""

from __future__ import annotations

import unicodedata

from analysis.study._regions import OLD_REGIONS as _OLD_REGIONS

__all__ = ["OLD_REGIONS", "REGION_TRANSLIT", "strip_accents", "old_names_for", "PROVINCE_AR"]

#: pre-2015 region name -> new region codes it overlaps (first = main successor): the one table
#: of analysis.study (the cleaning matches the names this module plants)
OLD_REGIONS = _OLD_REGIONS

#: transliterations and common alternative spellings of the 2015 regions
REGION_TRANSLIT: dict[str, tuple[str, ...]] = {
    "R01": ("Tanja-Titwan-Al Husayma", "Tanger Tetouan Al Hoceima", "TTA"),
    "R02": ("Oriental", "Ach-Charq", "Région de l'Oriental"),
    "R03": ("Fes-Meknes", "Fas-Miknas", "Fès Meknès"),
    "R04": ("Rabat-Sale-Kenitra", "Ar-Ribat-Sala-Al Qunaytira", "RSK"),
    "R05": ("Beni Mellal-Khenifra", "Bni Mellal Khenifra", "Bani Mallal-Khanifra"),
    "R06": ("Casablanca-Settat", "Casa-Settat", "Ad-Dar al-Bayda-Settat", "Casa Settat"),
    "R07": ("Marrakech-Safi", "Marrakesh-Safi", "Murrakush-Asafi"),
    "R08": ("Draa-Tafilalet", "Daraa-Tafilalt", "Drâa Tafilalet"),
    "R09": ("Souss-Massa", "Sous Massa", "Sus-Masa"),
    "R10": ("Guelmim-Oued Noun", "Guelmim Oued Noun", "Kalmim-Wad Nun"),
    "R11": ("Laayoune-Sakia El Hamra", "Laâyoune Sakia Al Hamra", "Al Ayun-As-Saqiya al-Hamra"),
    "R12": ("Dakhla-Oued Ed-Dahab", "Dakhla Oued Eddahab", "Ad-Dakhla-Wadi ad-Dahab"),
}

PROVINCE_AR: dict[str, str] = {
    "Casablanca": "الدار البيضاء", "Rabat": "الرباط", "Marrakech": "مراكش", "Agadir Ida-Outanane": "أكادير إداوتنان",
    "Fès": "فاس", "Tanger-Assilah": "طنجة أصيلة", "Oujda-Angad": "وجدة أنجاد", "Meknès": "مكناس",
    "Salé": "سلا", "Kénitra": "القنيطرة", "Tétouan": "تطوان", "Nador": "الناظور", "Safi": "آسفي",
    "Béni Mellal": "بني ملال", "Errachidia": "الرشيدية", "Ouarzazate": "ورزازات", "Taroudant": "تارودانت",
    "Tiznit": "تيزنيت", "Guelmim": "كلميم", "Laâyoune": "العيون", "Oued Ed-Dahab": "وادي الذهب",
    "El Jadida": "الجديدة", "Settat": "سطات", "Khouribga": "خريبكة", "Essaouira": "الصويرة",
}


def strip_accents(text: str) -> str:
    """Remove diacritics (é -> e, â -> a); Arabic is left unchanged."""
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def old_names_for(code: str) -> list[tuple[str, bool]]:
    """Pre-2015 region names overlapping a 2015 region: ``[(name, ambiguous)]``."""
    return [(name, len(codes) > 1) for name, codes in OLD_REGIONS.items() if code in codes]
