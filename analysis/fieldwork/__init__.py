"""Fieldwork: draw the sample, check the submissions, watch the collection.

* :mod:`analysis.fieldwork.sampling` - stratified sample of organisations from a list frame
  (:func:`draw_sample`), allocation, reserve replacements, frame counts for the weights.
* :mod:`analysis.fieldwork.checks` - the quality checks of the submissions, each with an id
  (:func:`run_checks` returns one tidy flags table).
* :mod:`analysis.fieldwork.monitor` - the daily monitoring page ``monitor.html``
  (:func:`write_monitor`).

Enumerator accounts are staff, not respondents: they appear in the flags and the
monitoring page, never in the analysis file.
"""

from __future__ import annotations

from analysis.fieldwork.checks import CHECKS, FLAG_COLUMNS, load_check_config, run_checks
from analysis.fieldwork.enumerators import enumerator_table
from analysis.fieldwork.monitor import build_monitor, write_monitor
from analysis.fieldwork.sampling import SampleResult, draw_sample, read_frame, sample_size_for_moe

__all__ = [
    "draw_sample",
    "SampleResult",
    "read_frame",
    "sample_size_for_moe",
    "run_checks",
    "load_check_config",
    "FLAG_COLUMNS",
    "CHECKS",
    "enumerator_table",
    "write_monitor",
    "build_monitor",
]
