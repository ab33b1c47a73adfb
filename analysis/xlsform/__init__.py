"""XLSForm reading and the XLSForm expression language (generic: any form).

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Question": "_form",
    "Form": "_form",
    "read_form": "_form",
    "Expression": "_form",
    "Value": "_form",
    "evaluate": "_form",
    "XLSForm": "_workbook",
    "load_xlsform": "_workbook",
    "form_codebook": "_workbook",
    "KOBO_SYSTEM_COLUMNS": "_workbook",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
