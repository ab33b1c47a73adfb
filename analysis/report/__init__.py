"""The thesis report: table plan, table builders, figures and writers.

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "FIGURE_WIDTH": "_figures",
    "likert_diverging_bars": "_figures",
    "scree_plot": "_figures",
    "loadings_heatmap": "_figures",
    "cfa_loadings_plot": "_figures",
    "coefficient_plot": "_figures",
    "funding_mix_bars": "_figures",
    "regional_bars": "_figures",
    "missingness_plot": "_figures",
    "tidy_coefficients": "_figures",
    "missing_shares": "_figures",
    "figure_bytes": "_figures",
    "save_figure": "_figures",
    "TablePlan": "_reports",
    "load_table_plan": "_reports",
    "ReportContext": "_reports",
    "ReportResult": "_reports",
    "TableOutput": "_reports",
    "compute_report": "_reports",
    "write_report": "_build",
    "build_reports": "_build",
    "render_reports": "_build",
    "report_manifest": "_manifest",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
