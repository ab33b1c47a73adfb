"""Tests of the region and province matcher (analysis.study._regions)."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.study._regions import (
    OLD_REGIONS,
    PROVINCES,
    REGIONS,
    REGIONS_AR,
    fold_key,
    match_provinces,
    match_regions,
    normalize_arabic,
)


def _strip(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def test_twelve_regions_and_75_provinces():
    assert sorted(REGIONS) == [f"R{i:02d}" for i in range(1, 13)]
    assert len(PROVINCES) == 75
    assert {code for code, _ in PROVINCES.values()} == set(REGIONS)


@pytest.mark.parametrize("code", sorted(REGIONS))
def test_official_names_codes_and_arabic(code):
    names = [code, REGIONS[code], REGIONS_AR[code], _strip(REGIONS[code]), REGIONS[code].upper(),
             REGIONS[code].replace("-", " - "), REGIONS[code].replace("-", "\u2013"), "Région " + REGIONS[code],
             "  " + _strip(REGIONS[code]).lower() + " ", "جهة " + REGIONS_AR[code]]
    m = match_regions(names)
    assert m.codes.tolist() == [code] * len(names)
    assert m.status[0] == "ok"


@pytest.mark.parametrize(
    ("text", "code"),
    [("Tanger Tetouan Al Hoceima", "R01"), ("Oriental", "R02"), ("Fes-Meknes", "R03"), ("RSK", "R04"),
     ("Bni Mellal Khenifra", "R05"), ("Casa-Settat", "R06"), ("Marrakesh-Safi", "R07"), ("Daraa-Tafilalt", "R08"),
     ("Sus-Masa", "R09"), ("Kalmim-Wad Nun", "R10"), ("Laayoune-Sakia El Hamra", "R11"),
     ("Dakhla Oued Eddahab", "R12"), ("Tadla-Azilal", "R05"), ("GRAND CASABLANCA", "R06"),
     ("Gharb-Chrarda-Beni Hssen", "R04"), ("Tanger-Tétouan", "R01"), ("Oued Ed-Dahab-Lagouira", "R12"),
     ("Marrakech-Tensift-Al Haouz", "R07"), ("Fès-Boulemane", "R03"), ("Rabat-Salé-Zemmour-Zaër", "R04"),
     ("الدار البيضاء الكبرى", "R06"), ("Casablanca Setat", "R06"), ("Souss Masaa", "R09")],
)
def test_transliterations_old_names_and_typos(text, code):
    assert match_regions([text]).codes.tolist() == [code]


@pytest.mark.parametrize("name", [n for n, codes in OLD_REGIONS.items() if len(codes) > 1])
def test_ambiguous_old_regions_are_flagged_not_guessed(name):
    m = match_regions([name, name.upper(), _strip(name)])
    assert m.codes.tolist() == [None, None, None]
    assert set(m.status) == {"ambiguous"}
    assert set(m.candidates[0].split("|")) == set(OLD_REGIONS[name])


def test_ambiguous_resolved_only_by_a_deciding_province():
    m = match_regions(["Chaouia-Ouardigha"] * 4, provinces=["Khouribga", "Settat", "", "Marrakech"])
    assert m.codes.tolist() == ["R05", "R06", None, None]
    assert m.status.tolist() == ["resolved_by_province", "resolved_by_province", "ambiguous", "ambiguous"]
    m = match_regions(["Chaouia-Ouardigha"], provinces=["Khouribga"], resolve_by_province=False)
    assert m.codes.tolist() == [None]


def test_unmatched_and_empty():
    m = match_regions(["Paris", "", None, "xx"])
    assert m.codes.tolist() == [None] * 4
    assert m.status.tolist() == ["unmatched", "empty", "empty", "unmatched"]


@pytest.mark.parametrize("name", sorted(PROVINCES))
def test_provinces_french_arabic_and_variants(name):
    code, ar = PROVINCES[name]
    variants = [name, ar, _strip(name).lower(), "Province de " + name, "Préfecture " + name, name.upper(),
                name.replace("-", " ") + " ", "إقليم " + ar, "عمالة " + ar]
    assert match_provinces(variants).codes.tolist() == [name] * len(variants)


def test_arabic_normalisation():
    assert normalize_arabic("أإآٱ") == "اااا"
    assert normalize_arabic("مدرسـة") == "مدرسه"
    assert normalize_arabic("مُدِيرَة") == "مديره"
    assert normalize_arabic("مستشفى") == "مستشفي"
    assert fold_key("Région de l'Oriental") == "oriental"


_TRANSFORMS = [
    lambda s: s,
    lambda s: _strip(s),
    lambda s: s.upper(),
    lambda s: _strip(s).lower(),
    lambda s: s.replace("-", " - "),
    lambda s: s.replace("-", "\u2013"),
    lambda s: s.replace("-", " "),
    lambda s: "  " + s + "  ",
    lambda s: "Région " + s,
    lambda s: unicodedata.normalize("NFD", s),
]


@settings(max_examples=120, deadline=None)
@given(code=st.sampled_from(sorted(REGIONS)), t=st.sampled_from(range(len(_TRANSFORMS))),
       arabic=st.booleans())
def test_property_variants_map_to_their_region(code, t, arabic):
    base = REGIONS_AR[code] if arabic else REGIONS[code]
    text = _TRANSFORMS[t](base)
    assert match_regions([text]).codes.tolist() == [code]


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=25))
def test_property_never_a_wrong_confident_match_on_noise(text):
    m = match_regions([text])
    assert m.status[0] in ("ok", "mapped", "fuzzy", "ambiguous", "unmatched", "empty")
    if m.codes[0] is not None:
        assert m.codes[0] in REGIONS


@pytest.mark.slow
def test_simulated_variants_99_percent_right_none_wrong(tmp_path):
    import pandas as pd

    from analysis.simulate import simulate_export

    paths = simulate_export(n=1500, seed=7, out_dir=tmp_path)
    led = pd.read_csv(paths["truth_ledger"], dtype=str, keep_default_na=False)
    df = pd.read_csv(paths["export"], sep=";", dtype=str, keep_default_na=False)
    prov = df.drop_duplicates("_uuid").set_index("_uuid")["province"]
    r = led[led["kind"].isin(["region_variant", "region_ambiguous"])]
    m = match_regions(r["written_value"], provinces=prov.reindex(r["_uuid"]).to_numpy())
    right = m.codes == r["true_value"].to_numpy()
    wrong = np.array([c is not None for c in m.codes]) & ~right
    assert right.mean() >= 0.99
    assert wrong.sum() == 0
