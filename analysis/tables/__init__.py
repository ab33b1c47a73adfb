"""Report-ready tables: an immutable builder and separate writers.

Build a :class:`Table` from a tidy DataFrame of raw numbers, chain ``tab_*``,
``cols_*`` and ``fmt_*`` methods (each returns a new Table), then write it with
:func:`write_docx`, :func:`write_latex`, :func:`write_html_page`,
:func:`write_markdown`, :func:`write_xlsx` or :func:`write_csv`. Numbers are
formatted only here, for the table's locale (French by default). Public names are
imported from their module on first use.

Examples
--------
>>> import pandas as pd
>>> from analysis.tables import Table, to_markdown
>>> t = Table(pd.DataFrame({"forme": ["Association"], "n": [1200]})).fmt_integer("n")
>>> print(to_markdown(t).splitlines()[2])
| Association | 1\u202f200 |
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Table": "builder",
    "RenderedTable": "builder",
    "Cell": "builder",
    "HeaderSpan": "builder",
    "BodySection": "builder",
    "NoteLine": "builder",
    "Locale": "formatting",
    "LOCALES": "formatting",
    "DEFAULT_LEVELS": "formatting",
    "get_locale": "formatting",
    "format_number": "formatting",
    "format_integer": "formatting",
    "format_percent": "formatting",
    "format_pvalue": "formatting",
    "french_typography": "formatting",
    "stars_for": "formatting",
    "stars_legend": "formatting",
    "FORMULA_PREFIXES": "_formula",
    "neutralize_formula": "_formula",
    "neutralize_formula_column": "_formula",
    "FIXED_TIMESTAMP": "_io",
    "stable_zip": "_io",
    "model_table": "model_table",
    "suppress_small_cells": "suppression",
    "SuppressionResult": "suppression",
    "to_markdown": "render_markdown",
    "write_markdown": "render_markdown",
    "escape_markdown": "render_markdown",
    "to_latex": "render_latex",
    "write_latex": "render_latex",
    "escape_latex": "render_latex",
    "LATEX_PREAMBLE": "render_latex",
    "latex_document": "render_latex",
    "latex_layout": "render_latex",
    "to_html": "render_html",
    "write_html_page": "render_html",
    "HTML_CSS": "render_html",
    "write_docx": "render_docx",
    "add_table_to_document": "render_docx",
    "new_document": "render_docx",
    "write_xlsx": "render_xlsx",
    "write_csv": "render_xlsx",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
