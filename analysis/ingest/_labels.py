"""KoboToolbox "labels" exports: label headers and label answers back to XLSForm names and codes.

A labels export writes each header as the labels of the enclosing groups (and
repeats) and of the question, in the export's language, joined by the group
separator (``/``, ``.`` or ``-``): ``Organisation/Nombre de salariés``; or the
question's label alone when group names are left out of the headers. An
element without a label in that language is written with its name
(``Organisation/sector_other``). A select_multiple option adds the choice's
label (``Organisation/Activités/Plaidoyer``), a geopoint part is
``_<label>_latitude``.

:class:`LabelMatcher` renders every column of the form in every label
language (and with the names), with every separator, with and without the
groups, and looks a header up in those renderings: labels may themselves hold
``/``, ``.`` or ``-``, so a header is never split. Lookups go from the
strictest to the loosest (the exact full path, then the question alone, then
the same after folding case, accents, punctuation and Arabic letter variants);
a header two columns render alike is *ambiguous* and names no column.

:func:`parse_multiple` reads a select_multiple answer written as choice labels
separated by spaces (labels may hold spaces themselves).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.ingest import _fastread
from analysis.study._regions import normalize_arabic

__all__ = ["LabelMatcher", "label_matcher", "fold", "parse_multiple", "choice_labels", "labels_to_codes"]

#: Group separators of exports (Kobo: ``/``, ``.``, ``-``; ``:`` of some converters).
SEPARATORS = ("/", ".", "-", ":")
_GROUP_TYPES = ("begin_group", "begin_repeat", "begin_loop")
_END_TYPES = ("end_group", "end_repeat", "end_loop")
_TRUE = {"1", "true", "vrai", "oui", "yes", "selected", "نعم"}
_FALSE = {"0", "false", "faux", "non", "no", "لا"}


def fold(text: object) -> str:
    """Text folded for loose comparison: case, accents, Arabic letter variants, punctuation (``/`` kept).

    Examples
    --------
    >>> fold("Nombre  de Salariés (%)"), fold("Org. / Nombre")
    ('nombre de salaries', 'org/nombre')
    """
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = normalize_arabic(s)
    s = " ".join(re.sub(r"[^\w/]+", " ", s).split())
    return s.replace(" /", "/").replace("/ ", "/")


def _norm(text: object) -> str:
    """Text compared exactly: Unicode NFKC, case and runs of white space only."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def _label_columns(df: pd.DataFrame) -> list:
    return [c for c in df.columns if c == "label" or str(c).startswith("label::")]


def _text(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v).strip()


@dataclass
class LabelMatcher:
    """Rendered headers -> columns, in four tiers (see the module notes and :func:`label_matcher`).

    Attributes
    ----------
    tiers : list of dict
        ``{key: set of columns}`` for: exact full path, exact question alone,
        folded full path, folded question alone.
    """

    tiers: list = field(default_factory=lambda: [{}, {}, {}, {}])

    def add(self, text: str, column: str, full: bool) -> None:
        """Record that ``column`` is written ``text`` (``full``: with its groups)."""
        if not text:
            return
        base = 0 if full else 1
        self.tiers[base].setdefault(_norm(text), set()).add(column)
        self.tiers[base + 2].setdefault(fold(text), set()).add(column)

    def match(self, header: str) -> tuple[str | None, tuple]:
        """``(column, ())`` for a header, ``(None, candidates)`` when ambiguous, ``(None, ())`` when unknown.

        Examples
        --------
        >>> m = LabelMatcher()
        >>> m.add("Santé/Accès", "access", True); m.add("Accès", "access", False)
        >>> m.add("Éducation/Accès", "school_access", True); m.add("Accès", "school_access", False)
        >>> m.match("Santé/Accès"), m.match("SANTE / acces"), m.match("Accès")
        (('access', ()), ('access', ()), (None, ('access', 'school_access')))
        """
        h = str(header)
        for i, tier in enumerate(self.tiers):
            hits = tier.get(_norm(h) if i < 2 else fold(h))
            if hits:
                if len(hits) == 1:
                    return next(iter(hits)), ()
                return None, tuple(sorted(hits))
        return None, ()


def _chains(survey: pd.DataFrame) -> dict:
    """``{name: (row, [enclosing group rows, outermost first])}`` of every named survey row."""
    out: dict = {}
    stack: list = []
    for row in survey.to_dict("records"):
        bt = row.get("base_type", "")
        if bt in _END_TYPES:
            if stack:
                stack.pop()
            continue
        name = _text(row.get("name", ""))
        if name and name not in out:
            out[name] = (row, list(stack))
        if bt in _GROUP_TYPES:
            stack.append(row)
    return out


def choice_labels(questionnaire, list_name: str) -> dict:
    """``{label column: {code: label}}`` of a choice list, every label language of the form.

    Works on the study's questionnaire and on any :class:`~analysis.xlsform._workbook.XLSForm`.
    """
    ch = questionnaire.choices
    sub = ch.loc[ch["list_name"].astype(str) == str(list_name)]
    codes = [str(c) for c in sub["name"]]
    return {c: {k: _text(v) for k, v in zip(codes, sub[c].tolist())} for c in _label_columns(sub)}


def label_matcher(codebook: pd.DataFrame, questionnaire=None) -> LabelMatcher:
    """The renderings of every codebook column as a labels export writes its header.

    ``questionnaire`` is the study's questionnaire or any XLSForm (its survey
    sheet gives the groups and every label language); without it, the
    codebook's ``label_fr``/``label_ar`` are used, question alone.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> survey = pd.DataFrame({"type": ["begin_group", "integer", "end_group"], "name": ["org", "staff", ""],
    ...     "base_type": ["begin_group", "integer", "end_group"], "label::fr": ["Org./Assoc.", "Salariés", ""]})
    >>> form = SimpleNamespace(survey=survey, choices=pd.DataFrame(columns=["list_name", "name"]))
    >>> cb = pd.DataFrame({"variable": ["staff"], "question": ["staff"], "type": ["integer"], "list_name": [""]})
    >>> m = label_matcher(cb, form)
    >>> m.match("Org./Assoc./Salariés")[0], m.match("Org./Assoc.-Salariés")[0], m.match("org-staff")[0]
    ('staff', 'staff', 'staff')
    """
    m = LabelMatcher()
    for row in codebook.itertuples(index=False):  # the codebook's own labels (the study's start, end...)
        if row.type not in ("select_multiple_option", "geopoint_part", "repeat_count", "system"):
            for lab in (getattr(row, "label_fr", ""), getattr(row, "label_ar", "")):
                if _text(lab):
                    m.add(_text(lab), row.variable, False)
    if questionnaire is None:
        return m
    survey = questionnaire.survey
    langs = _label_columns(survey)
    chains = _chains(survey)
    lists: dict = {}
    for row in codebook.to_dict("records"):
        var, typ = str(row["variable"]), str(row.get("type", ""))
        q = str(row.get("question", "") or var)
        if typ == "select_multiple_option" and "/" in var:
            q = var.split("/", 1)[0]
        if q not in chains or typ == "repeat_count":
            continue
        elem, groups = chains[q]
        # each language, an element without a label in it written with its name (Kobo's formpack) or,
        # failing that, with its label in the form's first language
        for lang, other in [*((lang, None) for lang in [*langs, None]), *((lang, langs[0]) for lang in langs[1:])]:
            def say(r, lang=lang, other=other):
                return ((_text(r.get(lang, "")) if lang else "") or (_text(r.get(other, "")) if other else "")
                        or _text(r.get("name", "")))

            path = [say(g) for g in groups]
            own = say(elem)
            if typ == "select_multiple_option":
                code = var.split("/", 1)[1]
                ln = str(row.get("list_name", "") or elem.get("list_name", ""))
                if ln not in lists:
                    lists[ln] = choice_labels(questionnaire, ln)
                opt = ((lists[ln].get(lang, {}).get(code, "") if lang else "")
                       or (lists[ln].get(other, {}).get(code, "") if other else "") or code)
                tail = [own, opt]
            elif typ == "geopoint_part":
                tail = [f"_{own}_{var.rsplit('_', 1)[-1]}"]
            elif var != q:  # or_other's "<name>_other": written with its name
                tail = [var]
            else:
                tail = [own]
            for sep in SEPARATORS:
                m.add(sep.join(path + tail), var, True)
                if path:
                    m.add(sep.join(tail), var, False)
    return m


# --------------------------------------------------------------------------- answers written as labels


def _vocabularies(by_lang: dict) -> list:
    """One ``{tuple of folded tokens: code}`` per label language, then the codes; labels two codes share dropped."""
    out = []
    for labels in by_lang.values():
        voc: dict = {}
        bad = set()
        for code, lab in labels.items():
            key = tuple(fold(lab).split())
            if not key:
                continue
            if key in voc and voc[key] != code:
                bad.add(key)
            voc[key] = code
        out.append({k: v for k, v in voc.items() if k not in bad})
    codes = {}
    for labels in by_lang.values():
        for code in labels:
            codes[tuple(fold(code).split())] = code
    out.append(codes)
    return out


def parse_multiple(text: str, by_lang: dict) -> list | None:
    """The codes of a select_multiple answer written as choice labels separated by spaces, or None.

    Labels may hold spaces: the longest label that matches at each place is
    taken first, trying one label language at a time (backtracking only when
    the longest choice leaves words that no label reads).

    Parameters
    ----------
    text : str
        The answer as written (``"Esférico Radial Bilateral"``).
    by_lang : dict
        ``{language: {code: label}}`` (:func:`choice_labels`).

    Examples
    --------
    >>> labs = {"es": {"sp": "Esférico", "ra": "Radial simple", "bi": "Bilateral"},
    ...         "en": {"sp": "Spherical", "ra": "Radial", "bi": "Bilateral"}}
    >>> parse_multiple("Esférico Radial simple Bilateral", labs), parse_multiple("Radial Blue", labs)
    (['sp', 'ra', 'bi'], None)
    """
    toks = tuple(fold(text).split())
    if not toks:
        return []
    for voc in _vocabularies(by_lang):
        if not voc:
            continue
        longest = max(len(k) for k in voc)
        memo: dict = {}

        def walk(i, voc=voc, longest=longest, memo=memo):
            if i == len(toks):
                return []
            if i in memo:
                return memo[i]
            memo[i] = None
            for k in range(min(longest, len(toks) - i), 0, -1):
                code = voc.get(toks[i:i + k])
                if code is not None:
                    rest = walk(i + k)
                    if rest is not None:
                        memo[i] = [code, *rest]
                        break
            return memo[i]

        found = walk(0)
        if found is not None:
            return list(dict.fromkeys(found))
    return None


def labels_to_codes(df: pd.DataFrame, hmap, notes: list, path) -> dict:
    """Select answers written as labels (any form language) turned back into codes, in place.

    A select_one column is mapped when most of its filled cells are labels; a
    select_multiple answer column when most are not lists of codes (from its
    0/1 option columns when there are some, else by :func:`parse_multiple`);
    option columns holding ``True/False``, ``Oui/Non``... become ``1/0``.
    Returns ``{column: number of cells mapped}`` and adds a note.
    """
    mapped: dict = {}
    for col, lut in hmap.select_one.items():
        if col not in df.columns:
            continue
        s = df[col]
        code_set = set(lut.values())
        if _fastread.only_among(s, code_set):
            continue  # only codes (checked on the distinct values, before factorizing): nothing to map
        codes, uniq = pd.factorize(s)
        uniq = np.asarray(uniq, dtype=object)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniq))
        nonempty = np.array([str(u).strip() != "" for u in uniq], dtype=bool)
        is_code = np.array([str(u).strip() in lut and lut[str(u).strip()] == str(u).strip() for u in uniq],
                           dtype=bool)
        as_label = np.array([lut.get(fold(u)) for u in uniq], dtype=object)
        lab_ok = nonempty & ~is_code & np.array([x is not None for x in as_label], dtype=bool)
        total = counts[nonempty].sum()
        if total == 0 or counts[lab_ok].sum() < 0.5 * total:
            continue
        new = np.where(lab_ok, as_label, uniq).astype(object)
        df[col] = pd.Series(new[codes], index=df.index, dtype=object).where(codes >= 0, "")
        mapped[col] = int(counts[lab_ok].sum())
    for col, lut in hmap.select_multiple.items():
        if col not in df.columns:
            continue
        opts = [c for c in df.columns if isinstance(c, str) and c.startswith(col + "/")]
        for oc in opts:
            if _fastread.zero_one(df[oc]) or set(pd.unique(df[oc])) <= {"", "0", "1"}:
                continue
            v = df[oc].astype(str).str.strip().str.casefold()
            t = v.isin(list(_TRUE))
            f = v.isin(list(_FALSE))
            if (t | f | (v == "")).all():
                df[oc] = np.where(t, "1", np.where(f, "0", ""))
                mapped[oc] = int((t | f).sum())
        s = df[col].astype(str)
        uniq = pd.unique(s)
        bad = [u for u in uniq if u.strip() and not all(tok in lut and lut[tok] == tok for tok in u.split())]
        if not bad:
            continue
        n_bad = int(s.isin(bad).sum())
        if n_bad < 0.5 * int((s.str.strip() != "").sum()):
            continue
        if opts:
            mat = np.column_stack([(df[o] == "1").to_numpy() for o in opts])
            answered = np.column_stack([(df[o] != "").to_numpy() for o in opts]).any(axis=1)
            codes_ = [o.split("/", 1)[1] for o in opts]
            rebuilt = np.array([" ".join(c for c, on in zip(codes_, row) if on) for row in mat], dtype=object)
            df[col] = np.where(answered, rebuilt, s.to_numpy(dtype=object))
            mapped[col] = n_bad
        else:
            by_lang = hmap.choice_texts.get(col, {})
            conv = {}
            for u in bad:
                found = parse_multiple(u, by_lang)
                conv[u] = " ".join(found) if found is not None else u
            df[col] = s.map(lambda x, m=conv: m.get(x, x))
            mapped[col] = sum(int((s == u).sum()) for u in bad if conv[u] != u)
            if not mapped[col]:
                del mapped[col]
    if mapped:
        notes.append(f"{path.name}: labels mapped back to codes in {len(mapped)} column(s): "
                     + ", ".join(f"{k} ({v})" for k, v in list(mapped.items())[:8])
                     + (" ..." if len(mapped) > 8 else ""))
    return mapped
