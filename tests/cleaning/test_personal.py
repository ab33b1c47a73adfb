"""Personal data found from the form and the values (issue 14, point 6)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from analysis.cleaning._clean import clean_data
from analysis.cleaning._personal import personal_columns


def _form(rows, pii=None):
    cb = pd.DataFrame(rows, columns=["variable", "type", "label_fr", "label_ar"])
    survey = pd.DataFrame({"name": cb["variable"]})
    if pii is not None:
        survey["pii"] = [pii.get(v, "") for v in cb["variable"]]
    return SimpleNamespace(survey=survey), cb


def test_types_names_and_labels_in_three_languages():
    q, cb = _form([
        ("gps", "geopoint", "Position", ""),
        ("trace", "geotrace", "Parcours", ""),
        ("photo", "image", "Photo du local", ""),
        ("imei", "imei", "", ""),
        ("name_", "text", "Name", ""),
        ("street_name", "text", "Street", ""),
        ("house_number", "integer", "House number", ""),
        ("grp_first_name_of_respondent", "text", "", ""),
        ("hh_phone", "text", "", ""),
        ("q7", "text", "Téléphone du répondant", ""),
        ("q8", "text", "", "الاسم الكامل"),
        ("q9", "text", "Adresse e-mail", ""),
        ("q10", "text", "Quelle rue ?", ""),
        ("comm_tools", "select_multiple", "Outils : téléphone, e-mail, WhatsApp", ""),
        ("n_members", "integer", "Nombre de membres", ""),
        ("activity", "text", "Activité principale", ""),
    ])
    found = personal_columns(q, cb)
    assert set(found) == {"gps", "trace", "photo", "imei", "name_", "street_name", "house_number",
                          "grp_first_name_of_respondent", "hh_phone", "q7", "q8", "q9", "q10"}
    assert found["gps"] == "question type geopoint"


def test_values_that_look_like_phones_or_emails():
    q, cb = _form([("notes", "text", "Remarques", ""), ("other", "text", "Autre", ""),
                   ("amount", "text", "Montant", "")])
    values = {
        "notes": np.array(["appeler 0612", "+212 6 12 34 56 78", "0661-223344", "06 61 22 33 45", ""], dtype=object),
        "other": np.array(["a@b.ma", "x.y@mail.com", "contact@asso.org", "rien"], dtype=object),
        "amount": np.array(["1500", "2000", "250", "12"], dtype=object),
    }
    found = personal_columns(q, cb, values)
    assert "phone number" in found["notes"]
    assert "e-mail address" in found["other"]
    assert "amount" not in found


def test_pii_column_forces_a_question_in_or_out():
    q, cb = _form([("org_name", "text", "Nom de l'organisation", ""), ("motto", "text", "Devise", "")],
                  pii={"org_name": "no", "motto": "yes"})
    found = personal_columns(q, cb)
    assert set(found) == {"motto"}
    assert found["motto"] == "pii = yes in the form"


def test_thesis_form_personal_columns_out_of_every_output(tmp_path):
    from pathlib import Path

    base = Path(__file__).parents[1] / "malformed" / "files" / "bom_crlf.csv"
    r = clean_data([base])
    removed = {d["column"] for d in r.manifest["personal_data_removed"]}
    # written by reading questionnaire/survey.csv: who answered, how to reach them, where, which device
    by_hand = {"org_name", "resp_name", "resp_phone", "resp_email", "gps", "deviceid", "_submitted_by"}
    assert by_hand <= removed
    assert not (by_hand & set(r.data.columns))
    raw = pd.read_csv(base, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    secrets = {v for c in ("resp_name", "resp_phone", "resp_email") for v in raw[c] if len(v) > 3}
    paths = r.write(tmp_path / "out")
    for p in paths.values():
        text = p.read_bytes().decode("utf-8", errors="replace") if p.suffix != ".parquet" else \
            pd.read_parquet(p).astype(str).to_csv()
        assert not any(v in text for v in secrets), p.name


# --------------------------------------------------------------------------- issue 14 point 6: types decide


def test_name_and_label_rules_only_for_types_that_can_hold_personal_data():
    q, cb = _form([
        ("contact_years", "integer", "Années de collaboration", "سنوات التعاون"),
        ("n_phones", "integer", "Nombre de téléphones", ""),
        ("name_count", "integer", "", ""),
        ("contact_date", "date", "Date du premier contact", ""),
        ("resp_phone_num", "integer", "Téléphone", ""),
        ("cin_number", "decimal", "", ""),
        ("contact", "text", "Contact du responsable", ""),
        ("contact_type", "select_one", "Type de contact", ""),
    ])
    assert set(personal_columns(q, cb)) == {"resp_phone_num", "cin_number", "contact"}


def test_an_organisation_name_is_not_a_person_name():
    q, cb = _form([
        ("org_name", "text", "Nom de l'organisation", "اسم المنظمة"),
        ("partner_org", "text", "Nom de l'organisation partenaire", "اسم المنظمة الشريكة"),
        ("donor", "text", "Nom de l'organisation qui finance le projet (bailleur)", ""),
        ("q3", "text", "Nom de votre association", ""),
        ("q4", "text", "", "اسم الجمعية"),
        ("q5", "text", "Organisation name", ""),
        ("partner_org_name", "text", "", ""),
        ("q6", "text", "Nom du président de l'association", ""),
        ("project_title", "text", "Intitulé du projet", "عنوان المشروع"),
    ])
    found = personal_columns(q, cb)
    # the organisation surveyed identifies the respondent; a partner's or a donor's name does not
    assert set(found) == {"org_name", "q3", "q4", "q5", "q6"}
    assert "organisation surveyed" in found["org_name"]
    assert "person" in found["q6"]
    # inside a repeat group, an organisation named is never the one surveyed
    q, cb = _form([("org_name", "text", "Nom de l'organisation", ""), ("member", "text", "Nom du membre", "")])
    assert set(personal_columns(q, cb, in_repeat=True)) == {"member"}


def test_the_name_of_a_thing_is_not_a_person_name():
    """ODK's nested-repeat example asks "What is the toy's name?" in a question called ``name``
    (central-backend's multirepeat form): a thing's name, not a person's."""
    q, cb = _form([
        ("name", "text", "What is the toy's name?", ""),
        ("q2", "text", "Nom du projet", ""),
        ("q3", "text", "Name of the product", ""),
        ("q4", "text", "What is the child's name?", ""),
        ("q5", "text", "Nom", ""),
        ("q6", "text", "Nom et prénom du responsable du projet", ""),
    ])
    assert set(personal_columns(q, cb)) == {"q4", "q5", "q6"}


def test_a_role_names_a_person():
    q, cb = _form([
        ("inspector", "text", "Inspector", ""),
        ("q2", "text", "Enquêteur", ""),
        ("q3", "text", "L'enquêteur", ""),
        ("q4", "text", "", "الباحث"),
        ("q5", "text", "", "اسم المستجوب"),
        ("enumerator_notes", "text", "Remarques de l'enquêteur sur l'entretien", ""),
        ("respondent_role_other", "text", "Autre fonction (précisez)", ""),
        ("respondent_role", "select_one", "Fonction du répondant", ""),
    ])
    assert set(personal_columns(q, cb)) == {"inspector", "q2", "q3", "q4", "q5"}


def test_one_free_text_answer_with_a_phone_or_an_email_makes_the_column_personal():
    q, cb = _form([("comments", "text", "Souhaitez-vous ajouter quelque chose ?", ""),
                   ("notes", "text", "Remarques", ""), ("history", "text", "Historique", "")])
    values = {
        "comments": np.array(["Rien", "", "Très bonne enquête", "Appelez-moi au 0655998877."], dtype=object),
        "notes": np.array(["écrire à h.ali@exemple.ma svp", "RAS"], dtype=object),
        "history": np.array(["créée le 01.02.2014 à 10:30, 2 500 000 DH, 35 membres", "1998"], dtype=object),
    }
    found = personal_columns(q, cb, values)
    assert found["comments"] == "an answer holds a phone number (1 of 3 answers)"
    assert found["notes"] == "an answer holds an e-mail address (1 of 2 answers)"
    assert "history" not in found


def test_the_log_shows_hashes_of_personal_answers_never_the_values(tmp_path):
    from pathlib import Path

    from analysis.cleaning._personal import hash_value

    base = Path(__file__).parents[1] / "malformed" / "files" / "bom_crlf.csv"
    raw = pd.read_csv(base, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    r = clean_data([base])
    log = r.log
    removed = log[log["change_type"] == "remove_column"]
    per_column = removed[removed["_uuid"] == ""]
    assert not log.duplicated().any()
    # one row per removed column, its reason and number of answers
    manifest = {d["column"]: d for d in r.manifest["personal_data_removed"]}
    present = [c for c in manifest if c in raw.columns]
    assert sorted(per_column["column"]) == sorted(present)
    for rec in per_column.to_dict("records"):
        n = int((raw[rec["column"]].str.strip() != "").sum())
        assert manifest[rec["column"]]["answers"] == n
        assert f"{n} answer(s)" in rec["issue"] and rec["old_value"] == "" and rec["source_row"] == 0
    text = log.astype(str).to_csv(index=False)
    for c in ("resp_name", "resp_phone", "resp_email"):
        assert not any(v in text for v in raw[c] if len(v) > 3), c
    assert hash_value("  x ") == hash_value("x") != ""


def test_free_text_with_a_phone_is_logged_as_a_hash_per_answer(tmp_path):
    from analysis.cleaning._clean import clean_form_data
    from analysis.cleaning._personal import hash_value

    (tmp_path / "survey.csv").write_text("type,name,label\ninteger,contact_years,Années de collaboration\n"
                                         "text,comments,Remarques\ntext,inspector,Inspector\n", encoding="utf-8")
    (tmp_path / "choices.csv").write_text("list_name,name,label\n", encoding="utf-8")
    rows = [("3", "RAS", "clouseau"), ("12", "Appelez-moi au 06 55 99 88 77", "burger"), ("7", "", "clouseau")]
    text = "contact_years;comments;inspector;_uuid;_submission_time\n" + "".join(
        f"{a};{b};{c};u{i};2024-05-01T10:00:00\n" for i, (a, b, c) in enumerate(rows))
    (tmp_path / "export.csv").write_text(text, encoding="utf-8")
    r = clean_form_data([tmp_path / "export.csv"], tmp_path)
    assert r.data["contact_years"].tolist() == [3.0, 12.0, 7.0]
    assert "comments" not in r.data and "inspector" not in r.data
    cell = r.log[(r.log["column"] == "comments") & (r.log["_uuid"] != "")]
    assert cell[["_uuid", "source_row", "old_value", "new_value", "change_type"]].values.tolist() == [
        ["u1", 3, hash_value("Appelez-moi au 06 55 99 88 77"), "", "remove_column"]]
    assert "phone number" in cell["issue"].iloc[0]
    assert "0655998877" not in r.log.to_csv() and "06 55 99" not in r.log.to_csv()
    assert r.link["comments"].tolist()[1] == "Appelez-moi au 06 55 99 88 77"  # private: readable there


# --------------------------------------------------------------------------- property: phones and e-mails found

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from analysis.cleaning._personal import contact_kind  # noqa: E402

_WORDS = ["Appelez-moi", "au", "merci", "pour", "l'enquête", "contact", "association", "le", "numéro", "est",
          "écrivez", "à", "svp", "coopérative", "président", "رقم", "هاتفي", "هو", "شكرا", "الجمعية", "راسلوني",
          "على", "budget", "DH", "membres", "créée", "en", "(", ")", ":", ",", "-", "tél"]
_text = st.lists(st.sampled_from(_WORDS), max_size=8).map(" ".join)
_d = st.integers(0, 9).map(str)


@st.composite
def _phone(draw):
    """A Moroccan, Algerian or French number, local or international, grouped as people write them."""
    body = draw(st.sampled_from("5678")) + "".join(draw(st.lists(_d, min_size=8, max_size=8)))
    sep = draw(st.sampled_from(["", " ", ".", "-", "\u00a0"]))
    form = draw(st.sampled_from(["local", "plus", "00", "bare"]))
    if form == "local":  # 06 61 22 33 45, 0661 22 33 45, 0661 223 344, 066 122 3345
        digits, groupings = "0" + body, [(2, 2, 2, 2, 2), (4, 2, 2, 2), (4, 3, 3), (3, 3, 4), (10,)]
    else:  # +212 6 61 22 33 45, +212 661 223 344
        digits, groupings = body, [(1, 2, 2, 2, 2), (3, 3, 3), (9,)]
    parts, i = [], 0
    for g in draw(st.sampled_from(groupings)):
        parts.append(digits[i:i + g])
        i += g
    grouped = sep.join(parts)
    if form == "local":
        number = grouped
    elif form == "bare":
        number = "212" + body
    else:
        cc = draw(st.sampled_from(["212", "213", "33", "216"]))
        number = ("+" if form == "plus" else "00") + cc + draw(st.sampled_from(["", " "])) + grouped
    if draw(st.booleans()):
        number = number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))  # Arabic-Indic digits
    return number


_email = st.builds(lambda u, d, t: f"{u}@{d}.{t}", st.from_regex(r"[a-z][a-z0-9._-]{0,10}[a-z0-9]", fullmatch=True),
                   st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z]", fullmatch=True), st.sampled_from(["ma", "dz", "fr", "com"]))


@settings(max_examples=300, deadline=None)
@given(_text, _phone(), _text)
def test_phone_numbers_in_text_are_always_found(before, phone, after):
    assert contact_kind(f"{before} {phone} {after}") == "phone number", phone


@settings(max_examples=200, deadline=None)
@given(_text, _email, _text)
def test_emails_in_text_are_always_found(before, email, after):
    assert contact_kind(f"{before} {email} {after}") == "e-mail address", email


def _grouped(n: int, sep: str) -> str:
    s = f"{n:,}"
    return s.replace(",", sep)


@settings(max_examples=300, deadline=None)
@given(_text, st.lists(st.one_of(
    st.integers(0, 10 ** 10).map(str),                                                    # integers
    st.integers(1900, 2100).map(str),                                                     # years
    st.builds(_grouped, st.integers(1000, 10 ** 10), st.sampled_from([" ", ".", ",", "\u00a0"])),  # amounts
    st.builds(lambda a, b: f"{a},{b}", st.integers(0, 10 ** 6), st.integers(0, 99)),     # decimals
    st.uuids().map(str),                                                                  # Kobo's _uuid
    st.builds(lambda d, m, y: f"{d:02d}/{m:02d}/{y}", st.integers(1, 28), st.integers(1, 12), st.integers(1950, 2030)),
    st.builds(lambda d, m, y, h: f"{d:02d}.{m:02d}.{y} {h:02d}:30", st.integers(1, 28), st.integers(1, 12),
              st.integers(1950, 2030), st.integers(0, 23)),
), min_size=1, max_size=4), _text)
def test_numbers_years_amounts_dates_and_uuids_are_not_phone_numbers(before, numbers, after):
    assert contact_kind(f"{before} {' '.join(numbers)} {after}") == "", numbers


def test_an_amount_followed_by_a_number_is_not_an_international_phone():
    """Found by the property test: "27 001 000 1000" read "00" of an amount's group as a country prefix."""
    assert contact_kind("budget 27 001 000 1000 membres") == ""
    assert contact_kind("appelez le 00212 661 22 33 44") == "phone number"


def test_a_yes_no_question_about_an_email_and_a_barcode_are_not_personal():
    q, cb = _form([("my_output", "text", "review widget. is your email still ${my_trigger}?", ""),
                   ("my_barcode", "barcode", "barcode widget", ""),
                   ("q4", "text", "Votre adresse e-mail", "")])
    assert set(personal_columns(q, cb)) == {"q4"}
