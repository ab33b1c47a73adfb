"""Cleaning of raw exports: validation, rules and the audit trail (the cleaning stage).

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "CleanResult": "_clean",
    "clean": "_clean",
    "clean_data": "_clean",
    "default_raw_files": "_clean",
    "load_cleaning_config": "_clean",
    "write_link_table": "_clean",
    "LOG_COLUMNS": "_clean",
    "FLAG_COLUMNS": "_clean",
    "FLOW_STEPS": "_clean",
    "OUTPUT_FILES": "_clean",
    "STEPS": "_clean",
    "STUDY_STEPS": "_clean",
    "clean_form": "_clean",
    "clean_form_data": "_clean",
    "CleaningState": "_state",
    "ParsedNumbers": "_numbers",
    "parse_numbers": "_numbers",
    "parse_number": "_numbers",
    "STATUSES": "_numbers",
    "DONT_KNOW_WORDS": "_numbers",
    "REFUSED_WORDS": "_numbers",
    "harmonise_text": "_rules",
    "fold_text": "_rules",
    "choice_codes": "_rules",
    "numeric_values": "_rules",
    "parse_datetimes": "_rules",
    "out_of_range": "_rules",
    "funding_shares": "_rules",
    "recode_other": "_rules",
    "split_multiple": "_rules",
    "completeness": "_rules",
    "flag_tests": "_rules",
    "flag_duplicates": "_rules",
    "flag_speeders": "_rules",
    "flag_straightliners": "_rules",
    "pseudonymous_id": "_rules",
    "MISSING_REASONS": "_rules",
    "VALIDATION_COLUMNS": "_validation",
    "ProblemLog": "_validation",
    "RelevanceEvaluator": "_validation",
    "PERSONAL_MASK": "_validation",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
