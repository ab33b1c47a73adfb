"""The context passed to every table kind."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from analysis.report._plan import TablePlan
from analysis.report._texts import CONSTRUCT_LABELS_EN, DERIVED_LABELS, TEXTS


@dataclass
class ReportContext:
    """Everything a table builder needs.

    Attributes
    ----------
    data : pandas.DataFrame
        Analysis data set (rows analysed, scores and derived indicators added).
    flow : pandas.DataFrame or None
        Respondent flow from the cleaning stage.
    codebook : pandas.DataFrame
    spec : analysis.study._constructs.ConstructSpec
    plan : TablePlan
    lang : {"fr", "en"}
    demo : bool
        True when the data come from the simulator (the source note says so).
    warnings : list of str
    refs : dict
        Table id -> the number its first table gets (filled before the builders run,
        so that a note can cite another table).
    """

    data: pd.DataFrame
    flow: pd.DataFrame | None
    codebook: pd.DataFrame
    spec: object
    plan: TablePlan
    lang: str = "fr"
    demo: bool = False
    warnings: list = field(default_factory=list)
    refs: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)

    def t(self, key: str) -> str:
        """A fixed text in the report language."""
        return TEXTS[self.lang][key]

    def tr(self, fr: str, en: str) -> str:
        """``fr`` or ``en`` by the report language."""
        return en if self.lang == "en" else fr

    def title(self, spec: dict) -> str:
        """The table title in the report language (French if no translation)."""
        return spec["title"].get(self.lang) or spec["title"]["fr"]

    @property
    def source(self) -> str:
        """The source line under every table."""
        return self.t("source_demo" if self.demo else "source")

    def option(self, spec: dict, name: str, default=None):
        """A table option, else the plan's global option, else ``default``."""
        if name in spec:
            return spec[name]
        return self.plan.options.get(name, default)

    @property
    def threshold(self) -> int:
        """Small-cell threshold of the plan."""
        return int(self.plan.options.get("small_cell_threshold", 5))

    def label(self, variable: str, short: int | None = None) -> str:
        """The label of a variable: derived variables named here, else the codebook's French label."""
        cb = self._cb_index
        if variable in DERIVED_LABELS:
            text = DERIVED_LABELS[variable][self.lang]
        elif variable.startswith("score_"):
            text = self.construct_label(variable[len("score_"):])
        else:
            text = variable
            if variable in cb.index:
                value = cb.at[variable, "label_fr"]
                if isinstance(value, str) and value.strip():
                    text = value.strip()
        if short and len(text) > short:
            text = text[: short - 1].rstrip(" ,;:(") + "…"
        return text

    def value_labels(self, variable: str) -> dict[str, str]:
        """Codes to labels of a select_one variable, from the codebook ``values`` column."""
        cb = self._cb_index
        if variable not in cb.index:
            return {}
        values = cb.at[variable, "values"]
        out: dict[str, str] = {}
        if isinstance(values, str):
            for part in values.split("; "):
                code, _, lab = part.partition("=")
                if code:
                    out[code.strip()] = lab.strip()
        return out

    @property
    def _cb_index(self) -> pd.DataFrame:
        cached = self.cache.get("codebook")
        if cached is None:
            cached = self.codebook.drop_duplicates("variable").set_index("variable")
            self.cache["codebook"] = cached
        return cached

    def group_label(self, value: object) -> str:
        """Label of a ``legal_form_group`` value (Associations, Coopératives)."""
        return TEXTS[self.lang].get(str(value), str(value))

    def construct_label(self, name: str) -> str:
        """Label of a construct or of one of its dimensions (``construct__dimension``)."""
        if self.lang == "en" and name in CONSTRUCT_LABELS_EN:
            return CONSTRUCT_LABELS_EN[name]
        construct, _, dim = name.partition("__")
        try:
            c = self.spec[construct]
        except KeyError:
            return name
        if dim:
            for d in c.dimensions:
                if d.name == dim:
                    text = getattr(d, "label_fr", None) or dim
                    return re.sub(r"\s*\(\d+ = [^)]*\)", "", text)  # "(97 = sans objet, ...)"
            return dim
        return getattr(c, "label_fr", None) or construct

    def warn(self, where: str, message: str) -> None:
        """Record a warning for the run summary."""
        self.warnings.append(f"{where}: {message}")
