"""Excel: ``tables.xlsx``, one sheet per table."""

from __future__ import annotations

from analysis.report.writers._base import Writer

__all__ = ["WRITER"]


def _combined(rendered, landscape, out_dir, lang):
    from analysis.tables import write_xlsx

    return write_xlsx(list(rendered), out_dir / "tables.xlsx")


WRITER = Writer("xlsx", combined=_combined)
