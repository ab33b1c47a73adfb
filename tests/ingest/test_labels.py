"""KoboToolbox "labels" exports: label headers (group label path, any language, any separator) and label answers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.ingest import read_export
from analysis.ingest._headers import header_map
from analysis.ingest._labels import SEPARATORS, label_matcher, labels_to_codes, parse_multiple
from analysis.ingest._repeats import read_repeat_tables
from analysis.xlsform._workbook import form_codebook, load_xlsform

# --------------------------------------------------------------------------- a small form with groups, 2 languages

SURVEY = """type,name,label::Français (fr),label::Español (es)
begin_group,org,Org./Assoc.,Organización
integer,staff,Nombre de salariés,Número de empleados
select_multiple acts,activities,Activités,Actividades
select_one sec or_other,sector,Secteur,Sector
geopoint,gps,Position,Posición
end_group,,,
begin_group,resp,Répondant - identité,
text,role,Rôle,Papel
integer,staff_2,Nombre de salariés,Número de empleados 2
end_group,,,
begin_repeat,partners,Partenaires,Socios
text,partner_name,Nom du partenaire,Nombre del socio
select_one ptype,partner_type,Type,Tipo
end_repeat,,,
"""
CHOICES = """list_name,name,label::Français (fr),label::Español (es)
acts,adv,Plaidoyer,Abogacía
acts,serv,Services directs,Servicios directos
acts,serv_plus,Services directs plus,Servicios directos más
acts,train,Formation,Formación
sec,health,Santé,Salud
sec,edu,Éducation,Educación
ptype,ngo,Association,Asociación
ptype,firm,Entreprise privée,Empresa privada
"""


@pytest.fixture(scope="module")
def form(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("labels_form")
    (d / "survey.csv").write_text(SURVEY, encoding="utf-8")
    (d / "choices.csv").write_text(CHOICES, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def hmap(form):
    q = load_xlsform(form)
    return header_map(form_codebook(q), q)


@pytest.mark.parametrize("sep", ["/", ".", "-"])
@pytest.mark.parametrize("header,name", [
    ("Org./Assoc.{s}Nombre de salariés", "staff"),
    ("Organización{s}Número de empleados", "staff"),
    ("Org./Assoc.{s}Activités{s}Services directs", "activities/serv"),
    ("Org./Assoc.{s}Activités{s}Services directs plus", "activities/serv_plus"),
    ("Organización{s}Actividades{s}Formación", "activities/train"),
    ("Org./Assoc.{s}sector_other", "sector_other"),
    ("Org./Assoc.{s}_Position_latitude", "_gps_latitude"),
    ("Répondant - identité{s}Rôle", "role"),
    ("resp{s}Papel", "role"),  # no Spanish label for the group: its name
    ("Répondant - identité{s}Papel", "role"),  # ... or its label in the form's first language
    ("Répondant - identité{s}Nombre de salariés", "staff_2"),
])
def test_group_label_paths_in_every_language_and_separator(hmap, header, name, sep):
    assert hmap.resolve(header.format(s=sep)) == name


def test_question_label_alone_folded_and_ambiguous(hmap):
    assert hmap.resolve("Rôle") == "role"
    assert hmap.resolve("  ORG./ASSOC. / nombre de SALARIES ") == "staff"  # case, accents, spaces folded
    assert hmap.resolve("Nombre de salariés") is None  # staff and staff_2 share this label: not guessed
    assert hmap.ambiguity("Nombre de salariés") == ("staff", "staff_2")
    assert hmap.resolve("Número de empleados") == "staff"  # Spanish labels differ


def test_an_ambiguous_header_is_reported_not_guessed(form, hmap, tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text("Nombre de salariés;Rôle;Secteur;_uuid\n3;chef;Santé;u1\n4;membre;Éducation;u2\n", encoding="utf-8")
    t = read_export(p, hmap=hmap, min_known_share=0.0)
    assert "Nombre de salariés" in t.unknown_columns
    assert any("reads as several columns" in n and "staff_2" in n for n in t.notes)
    assert t.data["sector"].tolist() == ["health", "edu"]


def test_labels_export_with_select_multiple_labels_in_one_column(form, hmap, tmp_path):
    p = tmp_path / "labels_es.csv"
    p.write_text("Organización/Actividades;Organización/Sector;_uuid\n"
                 "Servicios directos más Abogacía;Educación;u1\n"
                 "Servicios directos Formación;Salud;u2\n;;u3\n", encoding="utf-8")
    t = read_export(p, hmap=hmap, min_known_share=0.0)
    assert t.data["activities"].tolist() == ["serv_plus adv", "serv train", ""]
    assert t.data["sector"].tolist() == ["edu", "health", ""]
    assert t.label_columns == {"sector": 2, "activities": 2}


def test_parse_multiple_longest_labels_first_and_backtracks():
    labs = {"fr": {"a": "Services", "b": "Services directs", "c": "directs plus", "d": "plus"}}
    assert parse_multiple("Services directs plus", labs) == ["b", "d"]  # longest first
    assert parse_multiple("Services directs", labs) == ["b"]
    assert parse_multiple("Services Services directs", labs) == ["a", "b"]
    two = {"fr": {"x": "a b", "y": "b c", "z": "a"}}
    assert parse_multiple("a b c", two) == ["z", "y"]  # "a b" leaves "c": backtrack
    assert parse_multiple("a q", two) is None
    assert parse_multiple("x y", two) == ["x", "y"]  # codes
    assert parse_multiple("", two) == []


def test_labels_to_codes_leaves_codes_and_odd_values_alone(hmap):
    df = pd.DataFrame({"activities": ["adv serv", "train", "autre chose"], "sector": ["health", "edu", "??"]})
    notes: list = []
    assert labels_to_codes(df, hmap, notes, Path("x.csv")) == {}
    assert df["activities"].tolist() == ["adv serv", "train", "autre chose"] and not notes


def test_repeat_sheet_label_headers(form, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "main"
    ws.append(["Org./Assoc./Nombre de salariés", "_uuid", "_index"])
    ws.append([3, "u1", 1])
    rep = wb.create_sheet("Socios (cut to 31 characters..")
    rep.append(["Socios/Nombre del socio", "Socios/Tipo", "_index", "_parent_index", "_submission__uuid"])
    rep.append(["Nour", "Asociación", 1, 1, "u1"])
    rep.append(["Tafat", "Empresa privada", 2, 1, "u1"])
    p = tmp_path / "labels.xlsx"
    wb.save(p)
    tables, notes = read_repeat_tables([p], load_xlsform(form))
    t = tables["partners"]
    assert t["partner_name"].tolist() == ["Nour", "Tafat"]
    assert t["partner_type"].tolist() == ["ngo", "firm"]
    assert t["_submission__uuid"].tolist() == ["u1", "u1"]


# --------------------------------------------------------------------------- property: any form, any rendering

_CHARS = st.sampled_from(list("abcé") + ["ب", "ت"] + list("/.-") + [" "])
_LABEL = st.text(_CHARS, max_size=6).map(lambda s: " ".join(s.split()))


@st.composite
def forms(draw):
    """A random form: nested groups, questions in them, 1-3 label languages (labels may be empty or hold separators)."""
    n_groups = draw(st.integers(0, 4))
    parents = [draw(st.sampled_from([None, *range(i)])) for i in range(n_groups)]
    n_q = draw(st.integers(1, 6))
    where = [draw(st.sampled_from([None, *range(n_groups)])) for _ in range(n_q)]
    langs = draw(st.sampled_from([["label"], ["label::a"], ["label::a", "label::b"], ["label::a", "label::b", "label::c"]]))
    labels = {("g", i): [draw(_LABEL) for _ in langs] for i in range(n_groups)}
    labels.update({("q", j): [draw(_LABEL) for _ in langs] for j in range(n_q)})
    rows = []

    def row(kind, i, bt):
        name = f"{kind}{i}"
        r = {"type": bt, "name": name if bt != "end_group" else "", "base_type": bt}
        r.update({lang: (labels[(kind, i)][k] if bt != "end_group" else "") for k, lang in enumerate(langs)})
        rows.append(r)

    def emit(g):
        for j in range(n_q):
            if where[j] == g:
                row("q", j, "integer")
        for i in range(n_groups):
            if parents[i] == g:
                row("g", i, "begin_group")
                emit(i)
                row("g", i, "end_group")

    emit(None)
    survey = pd.DataFrame(rows)
    chain = {}
    for j in range(n_q):
        path, g = [], where[j]
        while g is not None:
            path.insert(0, ("g", g))
            g = parents[g]
        chain[f"q{j}"] = (path, ("q", j))
    return survey, langs, labels, chain


def _render(labels, langs, elem, lang, other=None):
    """An element as a labels export in ``lang`` writes it: its label, else (``other``) its label in that
    language, else its name."""
    kind, i = elem
    text = labels[elem][langs.index(lang)] if lang is not None else ""
    return text or (labels[elem][langs.index(other)] if other is not None else "") or f"{kind}{i}"


def _ways(langs):
    """(language, fallback language) pairs a labels export may use."""
    return [*((lang, None) for lang in [*langs, None]), *((lang, langs[0]) for lang in langs[1:])]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms(), st.data())
def test_any_label_path_with_any_separator_maps_back_to_its_name(form, data):
    survey, langs, labels, chain = form
    cb = pd.DataFrame({"variable": list(chain), "question": list(chain), "type": "integer", "list_name": "",
                       "label_fr": "", "label_ar": ""})
    m = label_matcher(cb, SimpleNamespace(survey=survey, choices=pd.DataFrame(columns=["list_name", "name"])))
    name = data.draw(st.sampled_from(list(chain)))
    lang, other = data.draw(st.sampled_from(_ways(langs)))
    sep = data.draw(st.sampled_from(SEPARATORS))
    with_groups = data.draw(st.booleans())
    path, own = chain[name]
    parts = [_render(labels, langs, e, lang, other) for e in path] if with_groups else []
    header = sep.join([*parts, _render(labels, langs, own, lang, other)])

    def full(v):
        p, o = chain[v]
        return {s.join([*(_render(labels, langs, e, la, fb) for e in p), _render(labels, langs, o, la, fb)])
                for la, fb in _ways(langs) for s in SEPARATORS}

    def alone(v):
        return {_render(labels, langs, chain[v][1], la, fb) for la, fb in _ways(langs)} if chain[v][0] else set()

    hit, several = m.match(header)
    # the oracle: exact renderings, a column's full path preferred to a question's label alone
    by_full = {v for v in chain if header in full(v)}
    by_alone = {v for v in chain if header in alone(v)}
    expected = by_full or by_alone
    assert name in by_full | by_alone
    if len(expected) == 1:
        assert hit == next(iter(expected))
    else:
        assert hit is None and set(several) == expected
    if with_groups or not path:  # a full path never reads as another column
        assert hit == name or (hit is None and name in several)
