"""Simulate a realistic, messy KoboToolbox export of the survey, with its known truth.

Public names are imported from their private module on first use (see ``_survey``,
``_fieldwork``, ``_model``, ``_export``, ``_messiness``).
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "simulate_export": "_survey",
    "simulate_survey": "_survey",
    "SurveySimulation": "_survey",
    "implied_item_correlations": "_survey",
    "read_form": "_survey",
    "evaluate": "_survey",
    "Expression": "_survey",
    "spss_names": "_survey",
    "EXPORT_NAMES": "_survey",
    "FieldworkSimulation": "_fieldwork",
    "simulate_fieldwork": "_fieldwork",
    "simulated_frame": "_fieldwork",
    "HABITS": "_fieldwork",
    "load_simulation_config": "_model",
    "load_constructs_spec": "_model",
    "SampleDesign": "_model",
    "sample_design": "_model",
    "Simulation": "_model",
    "simulate_answers": "_model",
    "likert_lists": "_model",
    "item_measurement": "_model",
    "Plan": "_export",
    "build_plan": "_export",
    "iter_tables": "_export",
    "write_kobo_csv": "_export",
    "write_kobo_xlsx": "_export",
    "write_spss": "_export",
    "TRAILING_META": "_export",
    "Ledger": "_messiness",
    "plant_before_skip": "_messiness",
    "plant_after_skip": "_messiness",
    "plant_rows": "_messiness",
    "driver_questions": "_messiness",
    "OLD_REGIONS": "_variants",
    "REGION_TRANSLIT": "_variants",
    "strip_accents": "_variants",
    "old_names_for": "_variants",
    "PROVINCE_AR": "_variants",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
