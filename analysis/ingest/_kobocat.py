"""Legacy KoBoCAT CSV exports: their ``n/a`` placeholder and their flattened repeat slots.

KoBoCAT's old CSV exporter (onadata's ``csv_builder``) writes the text
``n/a`` in **every** cell that holds no answer: a question that was not
relevant (skipped by its ``relevant``), an option column of a select_multiple
that was not asked, and every cell of the repeat slots
(``project[3]/partner[1]/...``) that a submission did not use, because the
export has as many slots as the submission with the most instances.

``n/a`` there is not an answer: it means "not asked", so it is read as a
missing cell, **only** in an export recognised as KoBoCAT's legacy layout
(:func:`is_kobocat_legacy`) and **never** in a select column whose choice
list has the code ``n/a`` (there it may be a real answer). Other exports
(KoboToolbox's formpack exports, ODK Central, R, Excel) leave empty cells
empty, so a respondent's typed ``n/a`` stays an answer there. In a legacy
export a typed ``n/a`` cannot be told from the placeholder; it is read as
missing, which is what it says.

A repeat slot whose every cell (its own and its nested slots') is empty or
``n/a`` is not an instance.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["NA_PLACEHOLDER", "is_kobocat_legacy", "is_repeat_slot", "blank_placeholders", "placeholder_codes"]

#: KoBoCAT's placeholder for a cell without an answer.
NA_PLACEHOLDER = "n/a"
#: System columns written by KoBoCAT's CSV exporter and by no other exporter.
_KOBOCAT_ONLY = frozenset({"_total_media", "_media_count", "_media_all_received"})
_SLOT = re.compile(r"\[\d+\]/")


def is_kobocat_legacy(headers) -> bool:
    """Whether a CSV header is KoBoCAT's legacy layout.

    Its signs: flattened repeat slots (``kids/kids_details[1]/kids_name``) or
    KoBoCAT's media columns (``_total_media``, ``_media_count``,
    ``_media_all_received``).

    Examples
    --------
    >>> is_kobocat_legacy(["start", "project[1]/project_title", "_uuid"])
    True
    >>> is_kobocat_legacy(["start", "_id", "_uuid", "_media_all_received"])
    True
    >>> is_kobocat_legacy(["start", "_id", "_uuid", "__version__"])
    False
    """
    names = {str(h).strip().lstrip("\ufeff") for h in headers}
    return bool(names & _KOBOCAT_ONLY) or any(is_repeat_slot(h) for h in names)


def is_repeat_slot(header) -> bool:
    """Whether a header is a flattened repeat slot's column (``project[2]/partner[1]/partner_org``).

    Examples
    --------
    >>> is_repeat_slot("org/project[2]/project_title"), is_repeat_slot("org/project_title")
    (True, False)
    """
    return bool(_SLOT.search(str(header)))


def placeholder_codes(select_lists: dict) -> set:
    """The select columns whose choice list has the code ``n/a`` (``{column: {label or code: code}}``)."""
    return {col for col, lut in select_lists.items() if NA_PLACEHOLDER in set(lut.values())}


def blank_placeholders(df: pd.DataFrame, keep=()) -> int:
    """Set the ``n/a`` cells of ``df`` to ``""`` in place, except in the columns ``keep``.

    Returns the number of cells blanked.

    Examples
    --------
    >>> d = pd.DataFrame({"sector_other": ["n/a", "crafts"], "answer": ["n/a", "yes"]})
    >>> blank_placeholders(d, keep={"answer"})
    1
    >>> d["sector_other"].tolist(), d["answer"].tolist()
    (['', 'crafts'], ['n/a', 'yes'])
    """
    keep = set(keep)
    n = 0
    for c in df.columns:
        if c in keep or not (pd.api.types.is_object_dtype(df[c].dtype) or pd.api.types.is_string_dtype(df[c].dtype)):
            continue
        hit = (df[c].to_numpy(dtype=object) == NA_PLACEHOLDER)
        if hit.any():
            df[c] = df[c].where(~hit, "")
            n += int(hit.sum())
    return n
