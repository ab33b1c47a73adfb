"""Cleaning step: personal data found from the form and from the values, not from a fixed list of names.

A column is personal (never in ``survey.parquet``, the logs or a report; its
values stay in the private link table) when:

1. the study's codebook says so (``personal``);
2. its question type records a place, a device or a recording: ``geopoint``,
   ``geotrace``, ``geoshape``, ``deviceid``, ``imei``, ``subscriberid``,
   ``simserial``, ``phonenumber``, ``username``, ``email``, ``audio``,
   ``image``, ``video``, ``file``, ``background-audio``...;
3. its name (any question type but a choice) or, for a text question, its
   label names a person or a way to reach one, in French, English or Arabic
   (``nom``, ``prénom``, ``name``, ``téléphone``, ``phone``, ``adresse``,
   ``rue``, ``street``, ``house_number``, ``e-mail``, ``CIN``, ``الاسم``,
   ``الهاتف``, ``العنوان``...);
4. a text column whose answers look like phone numbers or e-mail addresses
   (at least 3 such answers and at least a fifth of its answers);
5. a ``pii`` column of the form's survey sheet (``yes``/``no``) forces a
   question in or out, whatever the rules above say.

The reason of each column is kept (``manifest.json``,
``personal_data_removed``).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from analysis.cleaning._state import CleaningState

__all__ = ["find_personal_data", "personal_columns", "PERSONAL_TYPES"]

#: Question types whose answers identify a person, a place or a device.
PERSONAL_TYPES = frozenset({
    "geopoint", "geotrace", "geoshape", "geopoint_part", "start-geopoint", "deviceid", "imei", "subscriberid",
    "simserial", "phonenumber", "phone_number", "username", "email", "audio", "image", "video", "file",
    "background-audio", "audit", "barcode",
})
_CHOICE_TYPES = {"select_one", "select_multiple", "select_multiple_option", "rank", "select_one_from_file",
                 "select_multiple_from_file"}
#: Name tokens (folded, split on ``_ . - /`` and case changes) naming a person or a way to reach one.
_NAME_TOKENS = {
    "name", "names", "nom", "noms", "prenom", "prenoms", "firstname", "lastname", "surname", "fullname",
    "phone", "phones", "telephone", "tel", "mobile", "gsm", "cellphone", "whatsapp", "email", "mail", "courriel",
    "address", "adresse", "street", "rue", "avenue", "house", "housenumber", "cin", "passport", "passeport",
    "nid", "national_id", "contact", "gps", "latitude", "longitude", "lat", "lon", "lng", "coordinates",
}
#: Label words (folded) of a text question naming a person or a way to reach one.
_LABEL_WORDS = re.compile(
    r"(?:\b(?:nom|noms|prenom|prenoms|name|names|surname|telephone|phone|tel|gsm|mobile|whatsapp|e ?mail|courriel"
    r"|adresse|address|rue|street|avenue|house number|numero de maison|cin|passport|passeport)\b"
    r"|الاسم|الهاتف|هاتف|رقم الهاتف|عنوان السكن|عنوان المنزل|العنوان البريدي|عنوان الإقامة|البريد الإلكتروني"
    r"|البريد الالكتروني|الشارع|رقم البطاقة)")
# (bare "اسم" and "عنوان" are left out: "اسم المشروع" is a project's name, "عنوان" also means a title)
#: The organisation's own name is not a person's: "nom de l'organisation" alone does not make a column personal.
_PHONE = re.compile(r"^\+?[\d\s().\-]{8,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _fold(text: object) -> str:
    s = unicodedata.normalize("NFKD", str(text).casefold())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", s).split())


def _name_tokens(name: str) -> set:
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", str(name))
    toks = [t for t in re.split(r"[^0-9A-Za-z]+", _fold(s).replace(" ", "_")) if t]
    out = set(toks)
    out |= {a + b for a, b in zip(toks, toks[1:])}  # first_name -> firstname
    return out


def _looks_personal(values: np.ndarray) -> str | None:
    v = pd.Series(np.asarray(values, dtype=object), dtype=object).astype(str).str.strip()
    v = v[v != ""]
    if len(v) < 3:
        return None
    u = pd.Series(pd.unique(v), dtype=object)
    digits = u.str.count(r"\d")
    phone = u.str.match(_PHONE) & (digits >= 8)
    email = u.str.match(_EMAIL)
    counts = v.value_counts()
    n_phone = int(counts.reindex(u[phone]).sum()) if phone.any() else 0
    n_mail = int(counts.reindex(u[email]).sum()) if email.any() else 0
    for n_hit, what in ((n_phone, "phone numbers"), (n_mail, "e-mail addresses")):
        if n_hit >= 3 and n_hit >= 0.2 * len(v):
            return f"its answers look like {what} ({n_hit} of {len(v)})"
    return None


def personal_columns(q, cb: pd.DataFrame, values: dict | None = None) -> dict[str, str]:
    """Personal columns of a form (and its values) with the reason of each (see the module notes).

    Parameters
    ----------
    q : Questionnaire
        The form (its survey sheet, for a ``pii`` column).
    cb : pandas.DataFrame
        Its codebook (``variable``, ``type``, ``label_*``, optionally ``personal``).
    values : dict of str to array, optional
        The answers as read (text columns are scanned for phones and e-mails).

    Returns
    -------
    dict
        ``{column: reason}``.
    """
    out: dict[str, str] = {}
    labels = [c for c in cb.columns if c.startswith("label")]
    for row in cb.itertuples(index=False):
        c, t = row.variable, str(row.type)
        if "personal" in cb.columns and bool(row.personal):
            out[c] = "personal in the study's codebook"
        elif t in PERSONAL_TYPES:
            out[c] = f"question type {t}"
        elif t not in _CHOICE_TYPES and t != "system" and _name_tokens(c) & _NAME_TOKENS:
            out[c] = "its name names a person or a way to reach one"
        elif t == "text" and any(_LABEL_WORDS.search(_fold(getattr(row, lab)) + " " + str(getattr(row, lab)))
                                 for lab in labels if getattr(row, lab)):
            out[c] = "its label asks for a person's name, phone, address or e-mail"
        elif values is not None and t == "text" and not c.startswith("_") and c in values:
            why = _looks_personal(values[c])
            if why:
                out[c] = why
    forced = _pii_column(q)
    for c, flag in forced.items():
        if flag:
            out[c] = "pii = yes in the form"
        else:
            out.pop(c, None)
    return out


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
              and s.types.get(c) == "text"}
    found = personal_columns(s.q, s.cb, values)
    # select_multiple options and geopoint parts follow their question
    for c, t in s.types.items():
        if t in ("select_multiple_option", "geopoint_part") and c not in found:
            parent = c.split("/", 1)[0] if "/" in c else None
            if parent in found:
                found[c] = found[parent]
    s.personal = set(found)
    s.personal_reasons = dict(sorted(found.items()))
