"""Report-ready tables: an immutable builder and separate writers.

Build a :class:`Table` from a tidy DataFrame of raw numbers, chain ``tab_*``,
``cols_*`` and ``fmt_*`` methods (each returns a new Table), then write it with
:func:`write_docx`, :func:`write_latex`, :func:`write_html_page`,
:func:`write_markdown`, :func:`write_xlsx` or :func:`write_csv`. Numbers are
formatted only here, for the table's locale (French by default).

Examples
--------
>>> import pandas as pd
>>> from analysis.tables import Table, to_markdown
>>> t = Table(pd.DataFrame({"forme": ["Association"], "n": [1200]})).fmt_integer("n")
>>> print(to_markdown(t).splitlines()[2])
| Association | 1\u202f200 |
"""

from __future__ import annotations

from analysis.tables._io import FORMULA_PREFIXES, neutralize_formula, neutralize_formula_column
from analysis.tables.builder import BodySection, Cell, HeaderSpan, NoteLine, RenderedTable, Table
from analysis.tables.formatting import (
    DEFAULT_LEVELS,
    LOCALES,
    Locale,
    format_integer,
    format_number,
    format_percent,
    format_pvalue,
    french_typography,
    get_locale,
    stars_for,
    stars_legend,
)
from analysis.tables.model_table import model_table
from analysis.tables.render_docx import add_table_to_document, new_document, write_docx
from analysis.tables.render_html import HTML_CSS, to_html, write_html_page
from analysis.tables.render_latex import LATEX_PREAMBLE, escape_latex, to_latex, write_latex
from analysis.tables.render_markdown import escape_markdown, to_markdown, write_markdown
from analysis.tables.render_xlsx import write_csv, write_xlsx
from analysis.tables.suppression import SuppressionResult, suppress_small_cells

__all__ = [
    "Table",
    "RenderedTable",
    "Cell",
    "HeaderSpan",
    "BodySection",
    "NoteLine",
    "Locale",
    "LOCALES",
    "DEFAULT_LEVELS",
    "get_locale",
    "format_number",
    "format_integer",
    "format_percent",
    "format_pvalue",
    "french_typography",
    "stars_for",
    "stars_legend",
    "FORMULA_PREFIXES",
    "neutralize_formula",
    "neutralize_formula_column",
    "model_table",
    "suppress_small_cells",
    "SuppressionResult",
    "to_markdown",
    "write_markdown",
    "escape_markdown",
    "to_latex",
    "write_latex",
    "escape_latex",
    "LATEX_PREAMBLE",
    "to_html",
    "write_html_page",
    "HTML_CSS",
    "write_docx",
    "add_table_to_document",
    "new_document",
    "write_xlsx",
    "write_csv",
]
