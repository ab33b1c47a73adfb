"""Fieldwork: draw the sample, check the submissions, watch the collection, decide, verify.

* sampling (``_sampling``): stratified sample of organisations from a list frame
  (:func:`draw_sample`), allocation, reserve replacements, frame counts for the weights;
* checks (``_checks``, ``_similarity``, ``_enumerators``): the quality checks of the
  submissions, each with an id (:func:`run_checks` returns one tidy flags table);
* monitoring (``_monitor``): the daily page ``monitor.html`` (:func:`write_monitor`);
* review and decisions (``_review``, ``_decisions``): the review workbook and the researcher's
  decisions, applied by the cleaning stage;
* verification (``_verify``): the analysis file is the raw exports plus the logged changes.

Enumerator accounts are staff, not respondents: they appear in the flags, the monitoring page
and the review workbook, never in the analysis file.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "FLAG_COLUMNS": "_checks",
    "CHECKS": "_checks",
    "run_checks": "_checks",
    "load_check_config": "_checks",
    "load_logic_checks": "_checks",
    "submission_durations": "_checks",
    "closed_questions": "_checks",
    "likert_grids": "_checks",
    "CHANGE_TYPES": "_decisions",
    "DECISION_COLUMNS": "_decisions",
    "Decision": "_decisions",
    "DecisionSet": "_decisions",
    "AppliedDecisions": "_decisions",
    "read_decisions": "_decisions",
    "apply_decisions": "_decisions",
    "decision_files": "_decisions",
    "same_answer": "_decisions",
    "enumerator_table": "_enumerators",
    "ENUMERATOR_COLUMNS": "_enumerators",
    "MonitorData": "_monitor",
    "build_monitor": "_monitor",
    "write_monitor": "_monitor",
    "read_raw": "_monitor",
    "render_html": "_monitor",
    "REVIEW_COLUMNS": "_review",
    "review_points": "_review",
    "write_review": "_review",
    "review": "_review",
    "SampleResult": "_sampling",
    "draw_sample": "_sampling",
    "read_frame": "_sampling",
    "sample_size_for_moe": "_sampling",
    "allocate": "_sampling",
    "harmonise_frame": "_sampling",
    "ALLOCATIONS": "_sampling",
    "soft_duplicates": "_similarity",
    "encode_answers": "_similarity",
    "gower_pairs": "_similarity",
    "VerifyResult": "_verify",
    "verify": "_verify",
    "verify_frames": "_verify",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
