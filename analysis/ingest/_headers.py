"""Export headers -> XLSForm names: group paths, separators, labels, SPSS/R-mangled names, system aliases.

:func:`header_map` builds a :class:`HeaderMap` from a codebook and its form;
:meth:`HeaderMap.resolve` names the column a header means and
:meth:`HeaderMap.alias` gives Kobo's name of another exporter's system
column (ODK Central, KoBoCAT, R's ``write.csv``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from analysis.ingest._labels import LabelMatcher, choice_labels, label_matcher
from analysis.ingest._labels import fold as _fold

__all__ = ["HeaderMap", "header_map", "CENTRAL_SYSTEM"]

#: Other exporters' names of Kobo's system columns (lower case; ``.`` and ``-`` read as ``/``).
_SYSTEM_ALIASES = {
    "submissiondate": "_submission_time",
    "submission_time": "_submission_time",
    "meta/instanceid": "_uuid",
    "instanceid": "_uuid",
    "key": "_uuid",
    "uuid": "_uuid",
    "submitterid": "_submitted_by",
    "submittername": "_submitted_by",
    "submitted_by": "_submitted_by",
    "formversion": "__version__",
    "version": "__version__",
    "reviewstate": "_validation_status",
}
#: ODK Central's own columns (exact case), before or after the form's questions: Kobo's name of each, or
#: None for the columns set aside (no Kobo counterpart; ``DeviceID`` is a device identifier, never an answer).
#: When two give the same Kobo name, the first listed wins and the other is set aside.
CENTRAL_SYSTEM = {
    "SubmissionDate": "_submission_time",
    "meta-instanceID": "_uuid",
    "KEY": "_uuid",
    "SubmitterName": "_submitted_by",
    "SubmitterID": None,
    "AttachmentsPresent": None,
    "AttachmentsExpected": None,
    "Status": None,
    "ReviewState": "_validation_status",
    "DeviceID": None,
    "Edits": None,
    "FormVersion": "__version__",
}
_GEO_PARTS = {"latitude": "latitude", "longitude": "longitude", "altitude": "altitude", "accuracy": "precision",
              "precision": "precision"}
_BOM_MANGLED = ("\ufeff", "ï»¿", "X.U.FEFF.", "ï..", "ï.")


def _strip_bom(h: str) -> str:
    """A header without its byte-order mark, also as Excel or R mangle it (``ï»¿``, ``X.U.FEFF.``, ``ï..``)."""
    h = h.strip()
    for b in _BOM_MANGLED:
        if h.startswith(b):
            return h[len(b):].strip()
    return h


# --------------------------------------------------------------------------- headers


def _spss_name(c: str) -> str:
    s = c
    if s.startswith("_"):
        s = "kobo_" + s.strip("_")
    s = s.replace("/", "_")
    s = re.sub(r"[^A-Za-z0-9_.]", "_", s)
    if not re.match(r"[A-Za-z]", s):
        s = "v_" + s
    return s.rstrip(".")[:64]


@dataclass
class HeaderMap:
    """How headers as written map to export column names (see :func:`header_map`)."""

    variables: list
    groups: set
    by_fold: dict
    select_one: dict  # variable -> {folded label or code: code}
    select_multiple: dict  # variable -> {folded label or code: code}
    options: dict  # option column -> (parent, code)
    labels: LabelMatcher = field(default_factory=LabelMatcher)  # label headers (any language, group paths)
    choice_texts: dict = field(default_factory=dict)  # select variable -> {language: {code: label}}

    def resolve(self, header: str) -> str | None:
        """Export column name for a header, or None if unknown.

        Accepted: the name itself; group paths with ``/``, ``.``, ``-`` or
        ``:`` as separator (``sec_a/org_name``, ``sec_a.org_name``,
        ``sec_a-org_name``), also for select_multiple options
        (``target_groups.women``) and geopoint parts (``gps-Latitude`` of ODK
        Central, ``_sec_a/gps_latitude`` of Kobo); names as R's
        ``write.csv`` makes them (``X_uuid``, dots for slashes, a BOM read as
        ``ï..`` or ``X.U.FEFF.``); SPSS/Stata-safe names; labels in any
        language of the form, alone or with their groups' labels
        (``Organisation/Nombre de salariés``, any separator; see
        :mod:`analysis.ingest._labels`). A header that renders several
        columns alike is unknown (:meth:`ambiguity` names them).
        """
        h = _strip_bom(str(header))
        if h in self._names:
            return h
        hit = self._by_path(h)
        if hit is not None:
            return hit
        hit, several = self.labels.match(h)
        if hit is not None:
            return hit
        if several:
            return None
        hit = self.by_fold.get(_fold(h))
        if hit is not None:
            return hit
        low = h.lower()
        hit = self._lower.get(low)
        if hit is None and h.startswith("X_"):  # R's make.names: "_uuid" -> "X_uuid"
            hit = self.resolve(h[1:])
        return hit

    def _by_path(self, h: str) -> str | None:
        for sep in ("/", ".", "-", ":"):
            if sep not in h:
                continue
            parts = [p for p in h.split(sep)]
            lead = parts[0].startswith("_") and parts[0][1:] in self.groups  # Kobo: _group/gps_latitude
            if lead:
                parts[0] = parts[0][1:]
            while len(parts) > 1 and parts[0] in self.groups:
                parts = parts[1:]
            for cand in ("/".join(parts), sep.join(parts)):
                if cand in self._names:
                    return cand
                if lead and "_" + cand in self._names:
                    return "_" + cand
            if len(parts) == 2 and parts[1].lower() in _GEO_PARTS:  # ODK Central: gps-Latitude
                cand = f"_{parts[0]}_{_GEO_PARTS[parts[1].lower()]}"
                if cand in self._names:
                    return cand
        return None

    def ambiguity(self, header: str) -> tuple:
        """The columns a label header could mean when it means several (else ``()``)."""
        h = _strip_bom(str(header))
        if h in self._names or self._by_path(h) is not None:
            return ()
        return self.labels.match(h)[1]

    def alias(self, header: str) -> str | None:
        """Kobo's name of another exporter's system column (ODK Central, KoBoCAT, R), or None."""
        h = _strip_bom(str(header))
        key = re.sub(r"^X(?=[_.])", "", h).lower().lstrip("_").replace(".", "/").replace("-", "/")
        return _SYSTEM_ALIASES.get(key)

    def central_system(self, header: str) -> tuple[bool, str | None]:
        """Whether a header is one of ODK Central's own columns, and Kobo's name for it (None: set aside).

        Central writes its columns in a fixed case (``DeviceID``, ``KEY``...):
        only that exact spelling is Central's, and a form question of exactly
        that name keeps its column. A question whose name differs only in case
        (the ``deviceid`` metadata question) is never taken for it.

        Examples
        --------
        >>> hm = HeaderMap(["deviceid", "age"], set(), {}, {}, {}, {})
        >>> hm.central_system("DeviceID"), hm.central_system("deviceid"), hm.central_system("KEY")
        ((True, None), (False, None), (True, '_uuid'))
        """
        h = _strip_bom(str(header))
        if h in self._names or h not in CENTRAL_SYSTEM:
            return False, None
        return True, CENTRAL_SYSTEM[h]

    def __post_init__(self):
        self._names = set(self.variables)
        self._lower = {v.lower(): v for v in self.variables}


def header_map(codebook: pd.DataFrame, questionnaire=None) -> HeaderMap:
    """Build the header resolver from the codebook (and the questionnaire's group names)."""
    cb = codebook
    variables = list(cb["variable"])
    groups: set = set()
    if questionnaire is not None:
        s = questionnaire.survey
        groups = set(s.loc[s["base_type"].isin(["begin_group", "begin_repeat"]), "name"])
    by_fold: dict = {}
    for v in variables:
        for alias in (_spss_name(v), _spss_name(v)[:32]):
            by_fold.setdefault(_fold(alias), v)
    sel1: dict = {}
    selm: dict = {}
    options: dict = {}
    texts: dict = {}
    if questionnaire is not None:
        for row in cb.itertuples(index=False):
            if row.type in ("select_one", "select_multiple") and row.list_name:
                by_lang = choice_labels(questionnaire, row.list_name)
                lut = {}
                for labels in by_lang.values():
                    for code, lab in labels.items():
                        if lab:
                            lut.setdefault(_fold(lab), code)
                for code in questionnaire.choice_list(row.list_name)["name"]:
                    lut[code] = code
                (sel1 if row.type == "select_one" else selm)[row.variable] = lut
                texts[row.variable] = by_lang
            if row.type == "select_multiple_option":
                parent, code = row.variable.split("/", 1)
                options[row.variable] = (parent, code)
    for v in variables:  # names themselves win over labels
        by_fold[_fold(v)] = v
    return HeaderMap(variables, groups, by_fold, sel1, selm, options, label_matcher(cb, questionnaire), texts)
