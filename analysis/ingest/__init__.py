"""Readers of raw exports (KoboToolbox / ODK CSV and XLSX, SPSS, Stata, CSV).

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "RawTable": "_readers",
    "read_export": "_readers",
    "read_exports": "_readers",
    "sniff_format": "_readers",
    "HeaderMap": "_readers",
    "header_map": "_readers",
    "MAX_FIELD_CHARS": "_readers",
    "SOURCE_COLUMNS": "_readers",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
