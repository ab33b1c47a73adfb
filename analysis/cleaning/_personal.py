"""Cleaning step: personal data found from the form and from the values, not from a fixed list of names.

A column is personal (never in ``survey.parquet``, a repeat table, the logs or
a report; its values stay in the private link table) when:

1. the study's codebook says so (``personal``);
2. its question type records a place, a device or a recording: ``geopoint``,
   ``geotrace``, ``geoshape``, ``deviceid``, ``imei``, ``subscriberid``,
   ``simserial``, ``phonenumber``, ``username``, ``email``, ``audio``,
   ``image``, ``video``, ``file``, ``background-audio``... (not ``barcode``:
   a scanned code names a sample or a product);
3. its name or label names a person or a way to reach one, in French, English
   or Arabic, **for a type that can hold one**:

   - a text question (``text``, ``calculate``, ``hidden``): names and labels
     asking for a name, a phone, an address, an e-mail or an identity number
     (``nom``, ``prénom``, ``name``, ``téléphone``, ``phone``, ``adresse``,
     ``rue``, ``street``, ``e-mail``, ``CIN``, ``الاسم``, ``الهاتف``,
     ``البريد الإلكتروني``...), and the role of a person whose name is asked
     (a question named or labelled ``inspector``, ``enquêteur``, ``respondent``,
     ``répondant``, ``الباحث``, ``المستجوب``...); a yes/no sentence of a
     label ("Is your email still ...?") asks for nothing;
   - a number (``integer``, ``decimal``): only an identifier typed as a number
     (``phone``, ``tel``, ``gsm``, ``CIN``, ``passport``, ``house_number``,
     ``latitude``...), never a count or an amount, so ``contact_years``,
     ``n_phones`` or "Nombre de téléphones" stay;
   - choices, dates and times: never (their answers are codes and instants);

4. the name of the organisation surveyed (``org_name``, "Nom de
   l'organisation", "اسم الجمعية"): in a survey of organisations the
   organisation is the respondent, and its name identifies it. The name of
   another organisation (a partner, a donor: "Nom de l'organisation
   partenaire", or any organisation named inside a repeat group) is neither a
   person's name nor the respondent's, and stays; nor is the name of a thing
   ("What is the toy's name?", "Nom du projet": a product, a project, an
   activity, a village...);
5. a text column one of whose answers holds a phone number or an e-mail
   address (free text such as "Appelez-moi au 0655998877"). The whole column
   is removed, not only the number: an answer that gives a way to reach its
   author often also names them, which no pattern finds (the study's own
   questionnaire removes ``comments`` for the same reason); the answers stay
   readable in the private link table. Numbers, years and amounts
   (``1998``, ``2 500 000``, ``12,5``) are not phone numbers: a phone number is
   ``0`` and nine digits (``06 61 23 45 67``, ``0537-765432``), or ``+`` /
   ``00`` and a country code (``+212 661 234 567``), or ``212``...``216``
   and a mobile number written without ``+``, in ASCII or Arabic-Indic digits,
   never inside a UUID, a date or a time;
6. a ``pii`` column of the form's survey sheet (``yes``/``no``) forces a
   question in or out, whatever the rules above say.

The reason of each column and its number of answers are kept
(``manifest.json``, ``personal_data_removed``). ``cleaning_log.csv`` has one
row per removed column (``change_type`` ``remove_column``, the reason and the
number of answers in ``issue``) and, for rule 5, one row per answer holding a
phone number or an e-mail, whose ``old_value`` is the answer's
:func:`hash_value` (``sha256:`` and 12 hex digits), never the answer.
The hash is not salted (no per-project secret exists yet): it proves that a
logged answer is the raw one, but a short value (a phone number alone, as in
a decision on ``resp_phone``) could be found again by trying every number.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import pandas as pd

from analysis.cleaning._state import CleaningState

__all__ = ["find_personal_data", "log_personal_data", "personal_columns", "contact_kind", "contact_kinds", "hash_value",
           "personal_log_rows", "PERSONAL_TYPES"]

#: Question types whose answers identify a person, a place or a device.
PERSONAL_TYPES = frozenset({
    "geopoint", "geotrace", "geoshape", "geopoint_part", "start-geopoint", "deviceid", "imei", "subscriberid",
    "simserial", "phonenumber", "phone_number", "username", "email", "audio", "image", "video", "file",
    "background-audio", "audit",
})
# (``barcode`` is not among them: a scanned code names a sample or a product, as the corpus's forms use it)
#: Types whose answers are free text: the name, label and value rules apply.
_TEXT_TYPES = frozenset({"text", "string", "calculate", "hidden"})
#: Types whose answers are numbers: only an identifier typed as a number is personal.
_NUMBER_TYPES = frozenset({"integer", "decimal", "int"})
#: Name tokens (folded, split on ``_ . - /`` and case changes) of an identifier, whatever its type.
_ID_TOKENS = {
    "phone", "phones", "telephone", "tel", "mobile", "gsm", "cellphone", "whatsapp", "cin", "passport",
    "passeport", "nid", "housenumber", "latitude", "longitude", "lat", "lon", "lng", "gps", "coordinates",
}
#: Name tokens and label words of a number that counts or measures (``n_phones``, "Nombre de téléphones").
_COUNT_TOKENS = {"n", "nb", "nbr", "count", "counts", "total", "nombre", "years", "year", "age", "cost",
                 "price", "prix", "montant", "amount", "share", "budget"}
_COUNT_LABEL = re.compile(r"\b(?:nombre|number of|how many|combien|total|montant|amount|cout|cost|prix|price)\b|عدد")
#: Name tokens of a text question naming a person or a way to reach one.
_NAME_TOKENS = _ID_TOKENS | {
    "name", "names", "nom", "noms", "prenom", "prenoms", "firstname", "lastname", "surname", "fullname",
    "email", "mail", "courriel", "address", "adresse", "street", "rue", "avenue", "contact",
}
#: Roles of a person whose name a text question asks when it is named or labelled by the role alone.
_ROLE_WORDS = {
    "inspector", "inspecteur", "inspectrice", "enumerator", "interviewer", "intervieweur", "enqueteur",
    "enqueteuse", "respondent", "repondant", "repondante", "controleur", "controleuse", "supervisor",
    "superviseur", "superviseuse", "surveyor", "collector", "collecteur", "collectrice", "observer",
    "observateur", "observatrice", "المستجوب", "المستجيب", "المستجوبة", "المستجيبة", "الباحث", "الباحثة",
    "المراقب", "المراقبة", "المشرف", "المشرفة", "المفتش", "المفتشة", "العداد", "المحاور", "المحاورة",
}
#: Words a label may add around a role ("L'enquêteur", "Name of the interviewer").
_ROLE_FILLERS = {"l", "le", "la", "les", "the", "de", "du", "d", "of", "nom", "name", "votre", "your", "et",
                 "and", "a", "an", "par", "by", "اسم", "و"}
#: Organisations (folded): after "nom de"/"name of", or before "name", they make a name an organisation's.
_ORG_WORDS = (r"organisation|organization|organisme|association|cooperative|entreprise|societe|company|structure"
              r"|ong|ngo|institution|etablissement|federation|groupement|union|reseau|network|org|asso|coop")
#: Words naming another organisation than the one surveyed (a third party).
_THIRD_PARTY = re.compile(
    r"\b(?:partenaire|partenaires|partner|partners|bailleur|bailleurs|donor|donors|donateur|financeur|funder"
    r"|fournisseur|supplier|client|customer|beneficiaire)\b|الشريك|الشريكة|الشركاء|المانح|المانحة|الممول|الممولة")
_THIRD_PARTY_TOKENS = {"partner", "partners", "partenaire", "partenaires", "donor", "donors", "bailleur", "funder",
                       "financeur", "supplier", "fournisseur", "client", "customer"}
_ORG_TOKENS = {"org", "organisation", "organization", "organisme", "association", "asso", "coop", "cooperative",
               "company", "entreprise", "societe", "ngo", "ong", "institution", "structure"}
#: Label words (folded) of a person's name.
_PERSON_NAME = re.compile(r"\b(?:nom|noms|name|names)\b")
_PERSON_NAME_ALWAYS = re.compile(
    r"\b(?:prenom|prenoms|first name|last name|surname|full name|nom complet|nom de famille|family name)\b"
    r"|الاسم|اللقب|\bلقب\b|اسم\s*(?:و\s*)?لقب|اسم\s+(?:ال)?(?:مستجوب|مستجيب|باحث|مراقب|مشرف|مفتش|عداد|محاور|رئيس"
    r"|مسؤول|المسؤول|الشخص|شخص|الأب|الأم|الزوج|الزوجة|الطفل)")
_ORG_NAME_AFTER = re.compile(r"^\s*(?:(?:de|du|des|d|of)\s+)?(?:(?:l|la|le|les|the|votre|vos|your|notre|our"
                             r"|cette|this)\s+)*(?:" + _ORG_WORDS + r")\b")
_ORG_NAME_BEFORE = re.compile(r"\b(?:" + _ORG_WORDS + r")(?:\s+s)?\s*$")
_ORG_NAME_AR = re.compile(r"اسم\s+(?:ال)?(?:منظمة|جمعية|تعاونية|مؤسسة|شركة|هيئة|مقاولة|منظمتكم|جمعيتكم|تعاونيتكم"
                          r"|مؤسستكم)")
#: Things (folded) whose name a form may ask ("What is the toy's name?", "Nom du projet"): not a person's.
_THING_WORDS = (r"toy|jouet|product|produit|project|projet|programme|program|activity|activite|event|evenement"
                r"|brand|marque|crop|animal|school|ecole|village|douar|item|article|training|formation|equipment"
                r"|equipement|initiative|campaign|campagne|innovation")
_THING_NAME_AFTER = re.compile(r"^\s*(?:(?:de|du|des|d|of)\s+)?(?:(?:l|la|le|les|the|votre|vos|your|notre|our"
                               r"|cette|ce|cet|this)\s+)*(?:" + _THING_WORDS + r")s?\b")
_THING_NAME_BEFORE = re.compile(r"\b(?:" + _THING_WORDS + r")s?(?:\s+s)?\s*$")
#: Label words (folded) of a way to reach a person or an identifier (any type that can hold one).
_CONTACT_LABEL = re.compile(
    r"(?:\b(?:telephone|phone|gsm|whatsapp|cin|passport|passeport|house number|numero de maison"
    r"|carte nationale|national id)\b"
    r"|الهاتف|هاتف|رقم البطاقة|رقم الهاتف|البطاقة الوطنية|جواز السفر)")
_REACH_LABEL = re.compile(
    r"(?:\b(?:e ?mail|courriel|adresse|address|rue|street|avenue)\b"
    r"|عنوان السكن|عنوان المنزل|العنوان البريدي|عنوان الإقامة|البريد الإلكتروني|البريد الالكتروني|الشارع)")
# ("tel" is left out of labels: "tel que" means "such as"; bare "اسم" and "عنوان" too: "اسم المشروع" is a
# project's name, "عنوان" also means a title)

#: Phone numbers: "0" and nine digits, "+"/"00" and a country code, a Maghreb mobile with its country code.
#: "00" right after a group of digits continues a grouped amount ("27 001 000 1000"), not a country prefix.
_SEP = r"[ \u00a0\u202f.\-]?"
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:"
    r"(?:\+|(?<!\d[ \u00a0\u202f.])00)[ \u00a0]?[1-9]\d{0,2}(?:" + _SEP + r"\(0\))?(?:" + _SEP + r"\d){7,12}"
    r"|\(?0[1-9]\)?(?:" + _SEP + r"\d){8}"
    r"|21[2-6][5-8]\d{8}"
    r")(?![0-9A-Za-z])")  # ASCII letters around: a code or a UUID; Arabic letters may touch a number
#: UUIDs, dates and times, taken out before phone numbers are looked for ("01.02.2024 10:30" is not a phone).
_DATE_TIME = re.compile(r"(?i)\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b"
                        r"|(?<!\d)(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d\d|(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2}"
                        r"|\d{1,2}\s?[:h]\s?\d\d)(?!\d)")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")
#: Arabic-Indic and Persian digits read as ASCII digits.
_DIGITS = str.maketrans({**{chr(0x660 + i): str(i) for i in range(10)}, **{chr(0x6F0 + i): str(i) for i in range(10)}})


def hash_value(value: object) -> str:
    """``sha256:<12 hex>`` of a personal value ("" stays ""): the log proves a change without showing it.

    The value is trimmed first (the same answer with a trailing space has the
    same hash). This is the only hash of personal values: decisions on a
    personal column (:mod:`analysis.cleaning._decide`), the answers that made a
    column personal, and ``si-survey verify`` use it.

    Examples
    --------
    >>> hash_value("0655998877")
    'sha256:e7defe2f9f03'
    >>> hash_value(" 0655998877 ") == hash_value("0655998877"), hash_value("")
    (True, '')
    """
    text = "" if value is None else str(value).strip()
    return "" if not text else "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def contact_kind(text: object) -> str:
    """``"phone number"``, ``"e-mail address"`` or ``""``: what a free-text answer holds.

    Examples
    --------
    >>> contact_kind("Appelez-moi au 06 55 99 88 77"), contact_kind("écrire à h.ali@exemple.ma")
    ('phone number', 'e-mail address')
    >>> contact_kind("créée en 1998, budget 2 500 000 DH, 35 membres")
    ''
    """
    s = "" if text is None else str(text)
    if not s or not any(c.isdigit() or c == "@" for c in s):
        return ""
    if "@" in s and _EMAIL.search(s):
        return "e-mail address"
    s = _DATE_TIME.sub(" | ", s.translate(_DIGITS))
    for m in _PHONE.finditer(s):
        if sum(c.isdigit() for c in m.group()) >= 10:
            return "phone number"
    return ""


def contact_kinds(values) -> np.ndarray:
    """:func:`contact_kind` of every answer (each distinct answer looked at once)."""
    v = np.asarray(values, dtype=object)
    if not len(v):
        return np.array([], dtype=object)
    codes, uniq = pd.factorize(pd.Series(v, dtype=object).fillna("").astype(str))
    kinds = np.array([contact_kind(u) for u in uniq] + [""], dtype=object)
    return kinds[np.where(codes >= 0, codes, len(uniq))]


def _fold(text: object) -> str:
    s = unicodedata.normalize("NFKD", str(text).casefold())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", s).split())


def _name_tokens(name: str) -> list:
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", str(name))
    return [t for t in re.split(r"[^0-9A-Za-z]+", _fold(s).replace(" ", "_")) if t]


def _token_set(toks: list) -> set:
    out = set(toks)
    out |= {a + b for a, b in zip(toks, toks[1:])}  # first_name -> firstname
    return out


#: A yes/no question ("Is your email still ...?", "Avez-vous un téléphone ?"): it does not ask for the data.
_YES_NO = re.compile(r"^(?:is|are|do|does|did|has|have|was|were|can|est ce|avez vous|etes vous|as tu|es tu"
                     r"|a t il|a t elle|هل)\b")


def _asking(label: str) -> list[str]:
    """The folded sentences of a label that are not yes/no questions."""
    parts = re.split(r"[.?!:;\n]+", str(label))
    return [f for f in (_fold(p) for p in parts) if f and not _YES_NO.match(f)]


def _person_name_in(label: str) -> bool:
    """Whether a folded label asks for a person's name (not an organisation's)."""
    if _PERSON_NAME_ALWAYS.search(label):
        return True
    for m in _PERSON_NAME.finditer(label):
        if not (_ORG_NAME_AFTER.match(label[m.end():]) or _ORG_NAME_BEFORE.search(label[:m.start()])
                or _is_thing_name(label, m)):
            return True
    return False


def _is_thing_name(label: str, m: re.Match) -> bool:
    """Whether the name mention ``m`` of a folded label is a thing's ("the toy's name", "nom du projet")."""
    return bool(_THING_NAME_AFTER.match(label[m.end():]) or _THING_NAME_BEFORE.search(label[:m.start()]))


def _thing_name_in(label: str) -> bool:
    """Whether a folded label asks for the name of a thing only (every name it mentions is a thing's)."""
    mentions = list(_PERSON_NAME.finditer(label))
    return bool(mentions) and not _PERSON_NAME_ALWAYS.search(label) and all(
        _is_thing_name(label, m) for m in mentions)


def _org_name_in(label: str) -> bool:
    """Whether a folded label asks for an organisation's name."""
    if _ORG_NAME_AR.search(label):
        return True
    return any(_ORG_NAME_AFTER.match(label[m.end():]) or _ORG_NAME_BEFORE.search(label[:m.start()])
               for m in _PERSON_NAME.finditer(label))


def _role_only(words: list) -> bool:
    return bool(words) and any(w in _ROLE_WORDS for w in words) and all(
        w in _ROLE_WORDS or w in _ROLE_FILLERS for w in words)


def _rule(name: str, t: str, labels: list[str], in_repeat: bool) -> str | None:
    """Why a question is personal from its type, name and labels (rules 2-4), else ``None``."""
    if t in PERSONAL_TYPES:
        return f"question type {t}"
    if t not in _TEXT_TYPES and t not in _NUMBER_TYPES or str(name).startswith("_"):
        return None  # choices, dates, times, notes: their answers are codes and instants
    toks = _name_tokens(name)
    tokset = _token_set(toks)
    folded = [f for lab in labels for f in _asking(lab)]
    if t in _NUMBER_TYPES and (tokset & _COUNT_TOKENS or any(_COUNT_LABEL.search(f) for f in folded)):
        return None  # a count or an amount: "n_phones", "Nombre de téléphones"
    if tokset & _ID_TOKENS or any(_CONTACT_LABEL.search(f) for f in folded):
        return "its name or label asks for a phone number, an identity number or a place"
    if t in _NUMBER_TYPES:
        return None
    third_party = in_repeat or bool(tokset & _THIRD_PARTY_TOKENS) or any(_THIRD_PARTY.search(f) for f in folded)
    org_named = bool(tokset & _ORG_TOKENS) and bool(tokset & {"name", "names", "nom", "noms"})
    person_label = any(_person_name_in(f) for f in folded)
    thing_named = bool(folded) and all(_thing_name_in(f) for f in folded)  # "What is the toy's name?"
    if (tokset & (_NAME_TOKENS - {"name", "names", "nom", "noms"})) or (tokset & {"name", "names", "nom", "noms"}
                                                                        and not org_named and not thing_named):
        return "its name names a person or a way to reach one"
    if person_label or any(_REACH_LABEL.search(f) for f in folded):
        return "its label asks for a person's name, address or e-mail"
    if _role_only(toks) or any(_role_only(f.split()) for f in folded):
        return "its name or label is the role of a person (their name is asked)"
    if (org_named or any(_org_name_in(f) for f in folded)) and not third_party:
        return "it asks for the name of the organisation surveyed (the organisation is the respondent)"
    return None


def personal_columns(q, cb: pd.DataFrame, values: dict | None = None, *, in_repeat: bool = False) -> dict[str, str]:
    """Personal columns of a form (and its values) with the reason of each (see the module notes).

    Parameters
    ----------
    q : Questionnaire
        The form (its survey sheet, for a ``pii`` column).
    cb : pandas.DataFrame
        Its codebook (``variable``, ``type``, ``label_*``, optionally ``personal``).
    values : dict of str to array, optional
        The answers as read (text columns are scanned for phones and e-mails).
    in_repeat : bool, default False
        Whether ``cb`` is a repeat group's (an organisation named there is not the one surveyed).

    Returns
    -------
    dict
        ``{column: reason}``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> cb = pd.DataFrame({"variable": ["contact_years", "inspector", "partner_org", "org_name", "comments"],
    ...                    "type": ["integer", "text", "text", "text", "text"],
    ...                    "label_fr": ["Années de collaboration", "Inspector", "Nom de l'organisation partenaire",
    ...                                 "Nom de l'organisation", "Remarques"]})
    >>> found = personal_columns(SimpleNamespace(survey=None), cb,
    ...                          {"comments": np.array(["RAS", "Appelez-moi au 0655998877"], dtype=object)})
    >>> sorted(found)
    ['comments', 'inspector', 'org_name']
    >>> found["comments"]
    'an answer holds a phone number (1 of 2 answers)'
    """
    out: dict[str, str] = {}
    labels = [c for c in cb.columns if c.startswith("label")]
    for row in cb.to_dict("records"):
        c, t = row["variable"], str(row["type"])
        if "personal" in cb.columns and bool(row["personal"]):
            out[c] = "personal in the study's codebook"
            continue
        why = _rule(c, t, [str(row[lab]) for lab in labels if row[lab] and not pd.isna(row[lab])], in_repeat)
        if why is None and values is not None and t in ("text", "string") and c in values \
                and not str(c).startswith("_"):  # system columns (_uuid...) are not answers
            why = _value_reason(values[c])
        if why:
            out[c] = why
    forced = _pii_column(q)
    for c, flag in forced.items():
        if flag:
            out[c] = "pii = yes in the form"
        else:
            out.pop(c, None)
    return out


def _value_reason(values) -> str | None:
    kinds = contact_kinds(values)
    v = pd.Series(np.asarray(values, dtype=object), dtype=object).fillna("").astype(str).str.strip()
    n = int((v != "").sum())
    for what in ("phone number", "e-mail address"):
        k = int((kinds == what).sum())
        if k:
            return f"{_VALUE_REASON} {_ARTICLE[what]} ({k} of {n} answers)"
    return None


_VALUE_REASON = "an answer holds"
_ARTICLE = {"phone number": "a phone number", "e-mail address": "an e-mail address"}


def _pii_column(q) -> dict[str, bool]:
    sv = getattr(q, "survey", None)
    if sv is None:
        return {}
    col = next((c for c in sv.columns if str(c).strip().lower() in ("pii", "personal", "personal_data")), None)
    if col is None:
        return {}
    out = {}
    for name, v in zip(sv["name"], sv[col]):
        f = str(v).strip().lower()
        if f in ("yes", "true", "1", "oui"):
            out[str(name)] = True
        elif f in ("no", "false", "0", "non"):
            out[str(name)] = False
    return out


def find_personal_data(s: CleaningState) -> None:
    """Personal columns found from the form and the answers; their reasons kept for the manifest."""
    values = {c: s.raw[c].to_numpy(dtype=object) for c in s.cb["variable"] if c in s.raw.columns
              and s.types.get(c) in ("text", "string")}
    found = personal_columns(s.q, s.cb, values)
    # select_multiple options and geopoint parts follow their question
    for c, t in s.types.items():
        if t in ("select_multiple_option", "geopoint_part") and c not in found:
            parent = c.split("/", 1)[0] if "/" in c else None
            if parent in found:
                found[c] = found[parent]
    s.personal = set(found)
    s.personal_reasons = dict(sorted(found.items()))


def personal_log_rows(columns: dict, reasons: dict, *, files, rows, uuids, table: str = "") -> list[dict]:
    """``cleaning_log.csv`` rows of removed personal columns (see the module notes).

    Parameters
    ----------
    columns : dict of str to array
        The personal columns as read (``""`` = no answer), in log order.
    reasons : dict of str to str
        Why each is personal.
    files, rows, uuids : array
        Source file, source row and ``_uuid`` of each row of the table.
    table : str, default ""
        The repeat the columns belong to (``""`` for the main table); logged as ``<table>/<column>``.

    Returns
    -------
    list of dict
        One row per column (``source_row`` 0, no ``_uuid``), then one row per answer holding a phone
        number or an e-mail address, its ``old_value`` hashed by :func:`hash_value`.
    """
    out: list[dict] = []
    for c, values in columns.items():
        v = pd.Series(np.asarray(values, dtype=object), dtype=object).fillna("").astype(str)
        n = int((v.str.strip() != "").sum())
        name = f"{table}/{c}" if table else c
        out.append({"file": "", "source_row": 0, "_uuid": "", "column": name, "old_value": "", "new_value": "",
                    "rule": "personal_data", "check_id": "personal_data",
                    "issue": f"personal column removed: {reasons.get(c, 'personal')}; {n} answer(s) kept in the "
                             "private link table", "change_type": "remove_column"})
        kinds = contact_kinds(v.to_numpy(dtype=object)) if reasons.get(c, "").startswith(_VALUE_REASON) \
            else np.full(len(v), "", dtype=object)
        for i in np.flatnonzero(kinds != ""):
            out.append({"file": str(files[i]), "source_row": int(rows[i]), "_uuid": str(uuids[i]), "column": name,
                        "old_value": hash_value(v.iat[i]), "new_value": "", "rule": "personal_data",
                        "check_id": "personal_data", "issue": f"the answer holds {_ARTICLE[kinds[i]]}",
                        "change_type": "remove_column"})
    return out


def log_personal_data(s: CleaningState) -> None:
    """Rows of ``cleaning_log.csv`` for the removed personal columns; their answer counts in the manifest."""
    cols = {c: s.asread[c] for c in s.personal_reasons if c in s.asread}
    rows = personal_log_rows(cols, s.personal_reasons, files=s.files, rows=s.rows, uuids=s.uuid)
    s.personal_answers = {c: int((pd.Series(np.asarray(v, dtype=object)).fillna("").astype(str).str.strip()
                                  != "").sum()) for c, v in cols.items()}
    if rows:
        log = s.log
        s.log = pd.concat([log, pd.DataFrame(rows, columns=log.columns)], ignore_index=True)
        s.log["source_row"] = s.log["source_row"].astype(np.int64)
