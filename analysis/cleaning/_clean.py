"""From raw exports to one analysis-ready dataset, with a full audit trail.

:func:`clean_data` reads the raw exports (:mod:`analysis.ingest._readers`), checks
them against the codebook (:mod:`analysis.cleaning._validation`), applies the rules of
:mod:`analysis.cleaning._rules` with the options of
``questionnaire/cleaning.yaml``, and returns a :class:`CleanResult` (in memory:
nothing is written). :func:`clean` also writes it, under a lock and through a
staging folder, to ``data/processed/``, and writes the link table
(pseudonymous id <-> personal data) to ``private/`` (git-ignored).

Order of the rules
------------------
The steps are listed, in order, in :data:`STEPS` (one function each over a
:class:`~analysis.cleaning._state.CleaningState`); a new cleaning rule is a
new step there. In plain words:

1. read every file as text; unknown and missing columns reported;
2. text harmonised (NFC, trimmed, spaces collapsed);
3. timestamps (``start``, ``end``, ``_submission_time``) parsed to UTC;
4. numbers typed as text parsed; -98/-99 set missing (reason kept in the log);
5. skip logic evaluated on the answers as recorded (a "Je ne sais pas" code
   is an answer); region and province mapped to the official names;
   select_one codes checked (97/98/99 set missing with their reason;
   labels typed instead of codes mapped back; other values set missing);
6. "autre (précisez)" recoded through ``questionnaire/recode_other.csv``;
7. answers to questions the skip logic hides set missing;
8. out-of-range values and values breaking a cross-question constraint set
   missing (never clipped);
9. funding shares re-normalised within the tolerance, else set missing;
10. select_multiple answers split into 0/1 columns plus ``<question>_count``;
11. flags: test, duplicate, speeder, straightliner, ineligible, incomplete;
    ``analysed`` = no excluding flag;
12. derived columns: ``legal_form_group``, ``org_age``, ``duration_min``,
    ``resp_id``; personal columns removed.

The analysis file
-----------------
``survey.parquet`` holds **one row per submission received** (every row of
every raw file, in file order), with the flags and ``analysed``: analyses
use ``data[data["analysed"]]`` (one row per organisation), while the flow
table and sensitivity analyses can use the flagged rows. Types: Likert items
and numeric-coded choices (yes/no, ...) are float64 codes (1-5, 0/1) with NaN
for missing (97/98/99 and blanks); other choices are strings (codes);
numbers are float64; timestamps are UTC; flags are bool. Labels of every
column and code are in ``labels.json`` and in the parquet schema metadata
(key ``si_survey.labels``). Personal columns (codebook ``personal`` = True)
and the Kobo identifiers (``_uuid``, ``_id``, ``_index``...) are not in it;
``resp_id`` (see :func:`analysis.cleaning._rules.pseudonymous_id`) identifies
the submission.

Missing answers
---------------
"Je ne sais pas", "Refus" and "Sans objet" (codes 98/99/97, numeric codes
-98/-99, or the words typed) become missing; the reason is the rule of the
cell's row in ``cleaning_log.csv`` (``dont_know``, ``refused``,
``not_applicable``). No companion reason columns are added to the analysis
file: names such as ``si_nov_01_reason`` would be caught by item-prefix
selections (``si_nov_*``) in the scoring code.

The cleaning log
----------------
``cleaning_log.csv`` has one row per cell whose value in the analysis file
differs from the value as read (after the readers' representation changes:
headers, labels of a label export, encodings), with the rule(s) that changed
it. A cell is ``(file, source_row, column)``: no two rows are the same, even
for a submission received twice. Cells of personal columns are never logged
with their values: each removed personal column has one row (``change_type``
``remove_column``, its reason and number of answers in ``issue``), and an
answer that made a free-text column personal (a phone number, an e-mail) one
row whose ``old_value`` is its hash (:mod:`analysis.cleaning._personal`).

Other forms
-----------
:func:`clean_form_data` / :func:`clean_form` clean the exports of any XLSForm
(``si-survey clean EXPORT... --form FORM --out DIR``) with the generic rules
only: :data:`STUDY_STEPS` are skipped and no study-derived column is added.
Repeat groups become ``repeats/<name>.parquet`` (:mod:`analysis.cleaning._repeats`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.cleaning import (
    _answers,
    _assemble,
    _audit,
    _checks,
    _decide,
    _flags,
    _personal,
    _read,
    _types,
)
from analysis.cleaning._config import (
    CONFIG_NAME,
    FLAG_COLUMNS,
    FLOW_STEPS,
    LOG_COLUMNS,
    OUTPUT_FILES,
    default_raw_files,
    instrument,
    load_cleaning_config,
    recode_table,
)
from analysis.cleaning._result import CleanResult, write_link_table
from analysis.cleaning._state import CleaningState
from analysis.errors import InputError
from analysis.utils.atomic import RunLock, staged_directory

__all__ = [
    "CleanResult",
    "clean",
    "clean_data",
    "default_raw_files",
    "load_cleaning_config",
    "write_link_table",
    "LOG_COLUMNS",
    "FLAG_COLUMNS",
    "FLOW_STEPS",
    "OUTPUT_FILES",
    "STEPS",
    "STUDY_STEPS",
    "clean_form",
    "clean_form_data",
]

#: The cleaning steps in order: (name, function over a CleaningState). The one place a rule is added.
STEPS: tuple[tuple[str, Callable[[CleaningState], None]], ...] = (
    ("read", _read.read_raw),
    ("personal_data", _personal.find_personal_data),
    ("identify", _read.identify_submissions),
    ("columns", _read.check_columns),
    ("harmonise_text", _read.harmonise_text),
    ("decisions", _decide.apply_decisions),
    ("timestamps", _types.parse_timestamps),
    ("numbers", _types.parse_numbers),
    ("relevance", _checks.evaluate_relevance),
    ("places", _checks.match_places),
    ("choices", _checks.check_choices),
    ("file_fit", _checks.check_file_fit),
    ("recode_other", _answers.recode_other),
    ("skip_logic", _checks.apply_skip_logic),
    ("ranges", _checks.check_ranges),
    ("constraints", _checks.check_constraints),
    ("funding_shares", _answers.funding_shares),
    ("select_multiple", _answers.split_select_multiple),
    ("flag_tests", _flags.flag_tests),
    ("flag_duplicates", _flags.flag_duplicates),
    ("flag_speeders", _flags.flag_speeders),
    ("flag_straightliners", _flags.flag_straightliners),
    ("flag_ineligible", _flags.flag_ineligible),
    ("flag_incomplete", _flags.flag_incomplete),
    ("analysed", _flags.decide_analysed),
    ("analysis_file", _assemble.build_analysis_file),
    ("cleaning_log", _audit.build_log),
    ("decision_audit", _decide.audit_columns),
    ("personal_log", _personal.log_personal_data),
    ("flow", _audit.build_flow),
    ("link_table", _assemble.build_link_table),
    ("drop_removed", _decide.drop_removed),
    ("problems", _audit.collect_problems),
    ("manifest", _audit.build_manifest),
)


#: Steps that apply the study's own rules (regions of Morocco, "autre (précisez)" recode table, funding
#: shares, legal-form eligibility): skipped for a form given with ``--form`` (generic rules only).
STUDY_STEPS = frozenset({"places", "recode_other", "funding_shares", "flag_ineligible"})

#: Options of a generic cleaning run (a form given with ``--form``): the generic checks only.
GENERIC_OPTIONS = {
    "text": {"unicode_form": "NFC", "collapse_spaces": True},
    "numbers": {"dot_thousands": True},
    "speeders": {"fraction_of_median": 0.3},
    "exclude": ["duplicate"],
    "eligibility": {"require_legal_form_group": False},
}


def run_steps(state: CleaningState) -> CleanResult:
    """Run :data:`STEPS` over ``state`` (the study steps only for the study's questionnaire)."""
    for name, step in STEPS:
        if not state.study and name in STUDY_STEPS:
            continue
        step(state)
    result = CleanResult(data=state.data, log=state.log, flow=state.flow, validation=state.validation,
                         manifest=state.manifest, warnings=state.warnings, labels=state.labels, link=state.link)
    result._dup_kept = state.kept  # positions of kept rows (tests, audits)
    result._uuid = state.uuid
    return result


def clean_form_data(exports: Sequence[str | Path], form: str | Path, *, time_zone: str | None = None,
                    progress: Callable[[str], None] | None = None) -> CleanResult:
    """Clean the exports of any XLSForm with the generic rules (in memory; ``si-survey clean --form``).

    Repeat groups (XLSX sheets matched by their columns, ODK Central child
    CSVs linked by ``PARENT_KEY``) become :attr:`CleanResult.repeats` and
    ``<name>_count`` in the main table (:mod:`analysis.cleaning._repeats`).

    Parameters
    ----------
    exports : sequence of path
        The exports (any Kobo/ODK export setting of the form).
    form : path
        The XLSForm: an ``.xlsx``/``.xls`` workbook or a folder with
        ``survey.csv``, ``choices.csv``, ``settings.csv``.
    time_zone : str, optional
        UTC offset (``--time-zone``) of timestamps (``start``, ``end``,
        dateTime questions) written without one, unless the submission's
        ``end``/``start`` carries its offset in the export; without it the
        offset is inferred from ``_submission_time`` and reported.

    Returns
    -------
    CleanResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "survey.csv").write_text("type,name,label\\nselect_one yn,water,Water?\\n"
    ...     "decimal,share,Share\\n", encoding="utf-8")
    >>> _ = (d / "choices.csv").write_text("list_name,name,label\\nyn,yes,Yes\\nyn,no,No\\n", encoding="utf-8")
    >>> _ = (d / "export.csv").write_text("water;share;_uuid;_submission_time\\n"
    ...     "yes;33.333;u1;2024-05-01T10:00:00\\nno;50;u2;2024-05-01T11:00:00\\n", encoding="utf-8")
    >>> r = clean_form_data([d / "export.csv"], d)
    >>> r.data["share"].tolist(), r.data["water"].tolist()
    ([33.333, 50.0], ['yes', 'no'])
    """
    from analysis.cleaning._repeats import add_repeat_tables
    from analysis.ingest._readers import header_map
    from analysis.ingest._repeats import is_child_csv
    from analysis.xlsform._workbook import form_codebook, load_xlsform

    every = [Path(p) for p in exports]
    paths = [p for p in every if not is_child_csv(p)]  # ODK Central child CSVs hold repeat instances
    if not paths:
        raise InputError("no export to clean", expected="at least one export file")
    q = load_xlsform(form)
    cb = form_codebook(q)
    cfg = json.loads(json.dumps(GENERIC_OPTIONS))
    cfg["_path"] = str(form)
    if time_zone is not None:
        cfg["time_zone"] = time_zone
    state = CleaningState(paths=paths, cfg=cfg, qdir=Path(form), q=q, cb=cb, hmap=header_map(cb, q),
                          recode=pd.DataFrame(columns=["question", "text", "code"]), study=False)
    if progress is not None:
        state.say = progress
    result = run_steps(state)
    add_repeat_tables(state, result, every)
    return result


def clean_form(exports: Sequence[str | Path], form: str | Path, out_dir: str | Path, *,
               private_dir: str | Path | None = None, time_zone: str | None = None,
               progress: Callable[[str], None] | None = None) -> CleanResult:
    """:func:`clean_form_data`, then the outputs written to ``out_dir`` (``si-survey clean EXPORT... --form FORM
    --out DIR``); the link table goes to ``private_dir`` (default ``DIR/../private``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "survey.csv").write_text("type,name,label\\ninteger,n,People\\n", encoding="utf-8")
    >>> _ = (d / "export.csv").write_text("n;_uuid\\n3;u1\\n4;u2\\n", encoding="utf-8")
    >>> r = clean_form([d / "export.csv"], d, d / "out", private_dir=d / "private")
    >>> sorted(p.name for p in (d / "out").iterdir())[:3]
    ['cleaning_log.csv', 'flow.csv', 'labels.json']
    """
    result = clean_form_data(exports, form, time_zone=time_zone, progress=progress)
    out = Path(out_dir)
    with RunLock(out), staged_directory(out) as stage:
        result.write(stage)
    write_link_table(result, private_dir if private_dir is not None else out.parent / "private")
    return result


def _in_repeats(survey: pd.DataFrame) -> set:
    """Names of the questions inside a repeat group (any depth)."""
    out, depth = set(), 0
    for bt, name in zip(survey["base_type"], survey["name"]):
        if bt == "begin_repeat":
            depth += 1
        elif bt == "end_repeat":
            depth = max(0, depth - 1)
        elif depth and name:
            out.add(str(name))
    return out


def decision_sources(decisions=None) -> list[Path]:
    """The decision files to apply: those given, else ``data/decisions/`` when it holds any.

    Examples
    --------
    >>> decision_sources([]) == []
    True
    """
    from analysis.fieldwork._decisions import decision_files

    if decisions is None:
        return decision_files(config.DECISIONS_DIR) if config.DECISIONS_DIR.is_dir() else []
    return decision_files(decisions)


def start_state(raw_paths: Sequence[str | Path] | None = None, progress: Callable[[str], None] | None = None, *,
                questionnaire_dir: str | Path | None = None,
                config_path: str | Path | None = None, time_zone: str | None = None,
                decisions=None) -> CleaningState:
    """The state before the first step: options, questionnaire, codebook, raw files and decisions."""
    qdir = Path(questionnaire_dir) if questionnaire_dir is not None else config.QUESTIONNAIRE_DIR
    cfg = load_cleaning_config(config_path or (qdir / CONFIG_NAME))
    if time_zone is not None:  # --time-zone wins over the options file
        cfg["time_zone"] = time_zone
    paths = [Path(p) for p in raw_paths] if raw_paths else default_raw_files()
    if not paths:
        raise InputError("no raw export to clean", file=config.DEMO_RAW_DIR,
                         expected="at least one export file (CSV, XLSX, SAV or DTA)")
    q, cb, hmap = instrument(qdir)
    inside = _in_repeats(q.survey)
    if inside:  # questions of a repeat group are in their own table (repeats/<name>.parquet), not the main one
        cb = cb[~cb["variable"].map(lambda v: str(v).split("/", 1)[0] in inside)].reset_index(drop=True)
    state = CleaningState(paths=paths, cfg=cfg, qdir=qdir, q=q, cb=cb, hmap=hmap, recode=recode_table(cfg, qdir))
    files = decision_sources(decisions)
    if files:  # checked before any cleaning work: a bad decision file stops here, nothing written
        from analysis.fieldwork._decisions import read_decisions

        state.decisions = read_decisions(files, cb)
    if progress is not None:
        state.say = progress
    return state


def clean_data(raw_paths: Sequence[str | Path] | None = None, progress: Callable[[str], None] | None = None, *,
               questionnaire_dir: str | Path | None = None, config_path: str | Path | None = None,
               time_zone: str | None = None, decisions=None) -> CleanResult:
    """Read, validate and clean the raw exports (in memory; nothing is written).

    Parameters
    ----------
    raw_paths : sequence of path, optional
        Raw export files (default: :func:`default_raw_files`).
    progress : callable, optional
        Called with a short message at each step.
    questionnaire_dir : path, optional
        Folder of the questionnaire, ``cleaning.yaml`` and ``recode_other.csv``
        (default ``questionnaire/``).
    config_path : path, optional
        Another cleaning rules file.
    time_zone : str, optional
        UTC offset (``+01:00``) of timestamps (``start``, ``end``, dateTime
        questions) written without one; overrides the ``time_zone`` option
        (``--time-zone``).
    decisions : path or list of paths, optional
        The researcher's decision files (``si-survey review``) or their folder; default
        ``data/decisions/`` when it exists. Each decision is a row of ``cleaning_log.csv``.

    Returns
    -------
    CleanResult

    Raises
    ------
    InputError
        A raw file cannot be used (the message names the file, row and column).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.simulate import simulate_export
    >>> raw = pathlib.Path(tempfile.mkdtemp())
    >>> files = simulate_export(n=60, seed=3, out_dir=raw)
    >>> result = clean_data([files["export"]])
    >>> int(result.data["analysed"].sum()) <= 60
    True
    """
    state = start_state(raw_paths, progress, questionnaire_dir=questionnaire_dir, config_path=config_path,
                        time_zone=time_zone, decisions=decisions)
    result = run_steps(state)
    if "begin_repeat" in set(state.q.survey["base_type"]):  # a repeat group added to the study's form
        from analysis.cleaning._repeats import add_repeat_tables
        from analysis.xlsform._workbook import load_xlsform

        add_repeat_tables(state, result, state.paths, form=load_xlsform(state.qdir))
    return result


def clean(raw_paths: Sequence[str | Path] | None = None, out_dir: str | Path = config.PROCESSED_DIR, *,
          private_dir: str | Path = config.PRIVATE_DIR, progress: Callable[[str], None] | None = None,
          questionnaire_dir: str | Path | None = None, time_zone: str | None = None,
          decisions=None) -> CleanResult:
    """Clean the raw exports and write the outputs (``si-survey clean``).

    ``decisions``: decision files or their folder (default ``data/decisions/`` when it exists;
    see :mod:`analysis.cleaning._decide`).

    :func:`clean_data`, then the outputs are written to ``out_dir`` under a
    :class:`~analysis.utils.atomic.RunLock` through a staging folder (an error
    leaves the previous outputs untouched), then the link table is written
    atomically to ``private_dir``.

    Returns
    -------
    CleanResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.simulate import simulate_export
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> files = simulate_export(n=60, seed=3, out_dir=tmp / "raw")
    >>> result = clean([files["export"]], out_dir=tmp / "processed", private_dir=tmp / "private")
    >>> (tmp / "processed" / "survey.parquet").exists()
    True
    """
    result = clean_data(raw_paths, progress=progress, questionnaire_dir=questionnaire_dir, time_zone=time_zone,
                        decisions=decisions)
    out = Path(out_dir)
    with RunLock(out), staged_directory(out) as stage:
        result.write(stage)
    write_link_table(result, private_dir)
    return result
