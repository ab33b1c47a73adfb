"""The review workbook: one row per flagged answer, for a human decision.

``si-survey review`` runs the fieldwork checks on the raw exports and writes
``private/review/review.xlsx`` (git-ignored: it shows raw answers). Its first sheet,
``decisions``, has one row per point to decide with the columns of a cleaningtools cleaning
log (``uuid, question, old_value, issue, check_id, change_type, new_value``) plus the
enumerator, the stratum and the answer's context; ``change_type`` is a drop-down list and the
sheet is protected except the two decision columns. The second sheet, ``checks``, explains each
check. Filled, the workbook goes to ``data/decisions/`` where ``clean`` and ``run`` apply it.
Points already decided in ``data/decisions/`` are not asked again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from analysis.fieldwork._decisions import CHANGE_TYPES, DecisionSet
from analysis.utils.atomic import atomic_write_bytes

__all__ = ["REVIEW_COLUMNS", "review_points", "write_review", "review"]

#: Columns of the ``decisions`` sheet, in order; the last two are filled by the reviewer.
REVIEW_COLUMNS: tuple[str, ...] = (
    "uuid",
    "question",
    "old_value",
    "issue",
    "check_id",
    "enumerator",
    "stratum",
    "context",
    "change_type",
    "new_value",
)
_EDITABLE = ("change_type", "new_value")
_CONTEXT = ("legal_form", "region", "start", "end")


def _stratum(raw: pd.DataFrame, strata: Sequence[str]) -> pd.Series:
    cols = [c for c in strata if c in raw.columns]
    if not cols:
        return pd.Series([""] * len(raw), index=raw.index)
    return raw[cols].fillna("").astype(str).agg(" x ".join, axis=1)


def review_points(
    flags: pd.DataFrame,
    raw: pd.DataFrame,
    decisions: DecisionSet | None = None,
    *,
    strata: Sequence[str] = ("region", "legal_form"),
    context: Sequence[str] = _CONTEXT,
    uuid_column: str = "_uuid",
    enumerator_column: str = "_submitted_by",
) -> pd.DataFrame:
    """The points still to decide, one row each, in the columns of :data:`REVIEW_COLUMNS`.

    Parameters
    ----------
    flags : pandas.DataFrame
        Flagged answers from the checks: ``uuid``, ``check_id``, ``question``, ``value``,
        ``issue`` (``enumerator`` optional).
    raw : pandas.DataFrame
        The raw answers (strings), for the stratum and the context of each point.
    decisions : DecisionSet, optional
        Decisions already taken: their points (same uuid, question and check) are left out.
    strata, context : sequence of str
        Columns that make the stratum, and answers shown as context.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> raw = pd.DataFrame({"_uuid": ["u1"], "region": ["oriental"], "legal_form": ["cooperative"],
    ...                     "_submitted_by": ["enq3"], "n_staff": ["900"]})
    >>> flags = pd.DataFrame({"uuid": ["u1"], "check_id": ["outlier"], "question": ["n_staff"],
    ...                       "value": ["900"], "issue": ["robust z = 12"]})
    >>> review_points(flags, raw)[["uuid", "question", "old_value", "enumerator", "stratum"]].values.tolist()
    [['u1', 'n_staff', '900', 'enq3', 'oriental x cooperative']]
    """
    f = flags.copy()
    for c in ("question", "value", "issue", "check_id"):
        if c not in f:
            f[c] = ""
    f = f.fillna("")
    if decisions is not None and len(decisions):
        done = decisions.decided_keys()
        keep = [(u, q, c) not in done for u, q, c in zip(f["uuid"], f["question"], f["check_id"])]
        f = f.loc[keep]
    info = raw.set_index(raw[uuid_column].astype(str).str.strip())
    info = info[~info.index.duplicated()]
    strat = _stratum(info, strata)
    ctx_cols = [c for c in context if c in info.columns]
    ctx = info[ctx_cols].fillna("").astype(str).apply(
        lambda r: "; ".join(f"{k}={v}" for k, v in r.items() if v), axis=1) if ctx_cols else \
        pd.Series("", index=info.index)
    enum = info[enumerator_column].fillna("").astype(str) if enumerator_column in info else \
        pd.Series("", index=info.index)
    uu = f["uuid"].astype(str)
    out = pd.DataFrame({
        "uuid": uu.to_numpy(),
        "question": f["question"].astype(str).to_numpy(),
        "old_value": f["value"].astype(str).to_numpy(),
        "issue": f["issue"].astype(str).to_numpy(),
        "check_id": f["check_id"].astype(str).to_numpy(),
        "enumerator": (f["enumerator"].astype(str).to_numpy() if "enumerator" in f
                       else enum.reindex(uu).fillna("").to_numpy()),
        "stratum": strat.reindex(uu).fillna("").to_numpy(),
        "context": ctx.reindex(uu).fillna("").to_numpy(),
        "change_type": "",
        "new_value": "",
    })
    out = out.drop_duplicates(subset=["uuid", "question", "check_id"])
    return out.sort_values(["enumerator", "uuid", "check_id", "question"], kind="stable") \
        .reset_index(drop=True)[list(REVIEW_COLUMNS)]


def write_review(points: pd.DataFrame, checks: Mapping[str, str], path: str | Path) -> Path:
    """Write ``review.xlsx``: the ``decisions`` sheet to fill and the ``checks`` sheet.

    Parameters
    ----------
    points : pandas.DataFrame
        From :func:`review_points`.
    checks : mapping
        ``check_id`` -> what the check looks for and what to do (French).
    path : path
        The workbook to write (atomically).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib, openpyxl
    >>> pts = pd.DataFrame([["u1", "n_staff", "900", "z = 12", "outlier", "enq3", "", "", "", ""]],
    ...                    columns=REVIEW_COLUMNS)
    >>> p = write_review(pts, {"outlier": "Valeur extrême"}, pathlib.Path(tempfile.mkdtemp()) / "r.xlsx")
    >>> wb = openpyxl.load_workbook(p)
    >>> wb.sheetnames, wb["decisions"].protection.sheet
    (['decisions', 'checks'], True)
    """
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "decisions"
    cols = list(REVIEW_COLUMNS)
    ws.append(cols)
    for rec in points[cols].itertuples(index=False):
        ws.append(["" if pd.isna(v) else str(v) for v in rec])
    n = len(points)
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for j, name in enumerate(cols, start=1):
        ws.cell(1, j).font = head
        letter = ws.cell(1, j).column_letter
        width = {"context": 48, "issue": 40, "uuid": 38}.get(name, 18)
        ws.column_dimensions[letter].width = width
        if name in _EDITABLE:
            ws.cell(1, j).fill = fill
            for i in range(2, n + 2):
                ws.cell(i, j).protection = Protection(locked=False)
                ws.cell(i, j).fill = fill
    for i in range(2, n + 2):
        ws.cell(i, cols.index("context") + 1).alignment = Alignment(wrap_text=True)
    ct = cols.index("change_type") + 1
    letter = ws.cell(1, ct).column_letter
    dv = DataValidation(type="list", formula1='"' + ",".join(CHANGE_TYPES) + '"',
                        allow_blank=True, showErrorMessage=True,
                        errorTitle="change_type", error="Choisir " + ", ".join(CHANGE_TYPES))
    ws.add_data_validation(dv)
    dv.add(f"{letter}2:{letter}{max(n + 1, 2)}")
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{ws.cell(1, len(cols)).column_letter}{n + 1}"
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False

    doc = wb.create_sheet("checks")
    doc.append(["check_id", "description"])
    doc.cell(1, 1).font = head
    doc.cell(1, 2).font = head
    for cid, text in checks.items():
        doc.append([cid, text])
    doc.append([])
    doc.append(["change_type", "change_response : remplacer la réponse par new_value ; "
                "blank_response : vider la réponse ; remove_survey : retirer la soumission ; "
                "no_action : la réponse est correcte, le point est clos."])
    doc.column_dimensions["A"].width = 24
    doc.column_dimensions["B"].width = 110
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(Path(path), buf.getvalue())


def review(raw_paths, out_dir, *, form=None, decisions=None, config=None) -> Path:
    """Run the fieldwork checks on the raw exports and write ``out_dir/review.xlsx``.

    ``si-survey review``: the points already decided in ``decisions`` (a folder such as
    ``data/decisions/`` or decision files) are left out, so that a new export with more
    submissions only asks about the new points.

    Parameters
    ----------
    raw_paths : path or list of paths
        Raw exports downloaded so far.
    out_dir : path
        Folder of ``review.xlsx`` (default of the command: ``private/review/``, git-ignored:
        the workbook shows raw answers).
    form : path, optional
        Another form (folder or XLSForm); default the study's questionnaire.
    decisions : path or list of paths, optional
        Decision files or their folder (study's own exports only).
    config : dict or path, optional
        Thresholds of the checks (default ``questionnaire/fieldwork.yaml``).

    Returns
    -------
    Path
        The workbook written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.simulate import simulate_export
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> export = simulate_export(n=60, seed=4, out_dir=tmp / "raw")["export"]
    >>> review([export], tmp / "review").name
    'review.xlsx'
    """
    from analysis.fieldwork._checks import CHECKS, run_checks
    from analysis.fieldwork._decisions import read_decisions
    from analysis.fieldwork._monitor import read_raw

    paths = [Path(p) for p in (raw_paths if isinstance(raw_paths, list | tuple) else [raw_paths])]
    raw = read_raw(paths, form=form)
    flags = run_checks(raw, form=form, config=config)
    taken = None
    if decisions is not None and form is None:
        from analysis.study import codebook, load_questionnaire

        taken = read_decisions(decisions, codebook(load_questionnaire()))
    points = review_points(flags, raw, taken)
    doc = {cid: f"{label} : {text}" for cid, (label, text) in CHECKS.items()}
    for cid in sorted(set(points["check_id"]) - set(doc)):
        doc[cid] = "Contrôle écrit par le chercheur (questionnaire/checks.csv)."
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return write_review(points, doc, out / "review.xlsx")
