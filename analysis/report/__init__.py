"""The thesis report: table plan, table builders, figures and writers.

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "FIGURE_WIDTH": "_figure_style",
    "likert_diverging_bars": "_figure_likert",
    "scree_plot": "_figure_factor",
    "loadings_heatmap": "_figure_factor",
    "cfa_loadings_plot": "_figure_factor",
    "coefficient_plot": "_figure_coefficients",
    "funding_mix_bars": "_figure_funding",
    "regional_bars": "_figure_funding",
    "missingness_plot": "_figure_missing",
    "tidy_coefficients": "_figure_coefficients",
    "missing_shares": "_figure_missing",
    "figure_bytes": "_figure_style",
    "save_figure": "_figure_style",
    "write_report": "_build",
    "build_reports": "_build",
    "render_reports": "_build",
    "results_paragraphs": "_build",
    "report_manifest": "_manifest",
    "TablePlan": "_plan",
    "load_table_plan": "_plan",
    "ReportContext": "_context",
    "ReportResult": "_outputs",
    "TableOutput": "_outputs",
    "compute_report": "_compute",
    "path_diagram": "_path_diagram",
    "path_layers": "_path_diagram",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
