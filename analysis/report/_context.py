"""The context passed to every table kind."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.report._plan import TablePlan
from analysis.report._texts import StudyLabels, Texts, load_study_labels, load_texts


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
    cache : dict
        Results shared by the kinds (the prepared Likert items, the codebook index).
    texts : analysis.report._texts.Texts
        The fixed texts of ``lang`` (default: read from ``questionnaire/texts/<lang>.yaml``).
    labels : analysis.report._texts.StudyLabels
        The study's labels (default: read from ``questionnaire/``).
    questionnaire_dir : Path or None
        Folder of the study files (default ``config.QUESTIONNAIRE_DIR``).
    analysis_plan : analysis.regression.AnalysisPlan or None
        The models and comparisons (default: ``analysis_plan.yaml`` of the questionnaire
        folder, read when a kind first asks for it: a broken plan only loses its tables).

    Examples
    --------
    >>> from analysis.report._plan import load_table_plan
    >>> ctx = ReportContext(pd.DataFrame(), None, pd.DataFrame(columns=["variable"]), None,
    ...                     load_table_plan(), lang="en")
    >>> ctx.text("common.total"), ctx.group_label("cooperative"), ctx.label("org_age")
    ('All', 'Cooperatives', 'Age of the organisation (years)')
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
    texts: Texts | None = None
    labels: StudyLabels | None = None
    questionnaire_dir: object = None
    analysis_plan: object = None

    def __post_init__(self):
        if self.texts is None:
            self.texts = load_texts(self.lang, self.questionnaire_dir)
        if self.labels is None:
            self.labels = load_study_labels(self.questionnaire_dir)

    def text(self, key: str, **values) -> str:
        """A fixed text of the report language, its placeholders filled (``texts/<lang>.yaml``)."""
        return self.texts(key, **values)

    def plan_of_analysis(self):
        """The analysis plan (models, comparisons), read once."""
        if self.analysis_plan is None:
            from analysis.study import load_analysis_plan

            folder = self.questionnaire_dir
            self.analysis_plan = load_analysis_plan(None if folder is None else Path(folder) / "analysis_plan.yaml")
        return self.analysis_plan

    def title(self, spec: dict) -> str:
        """The table title in the report language (French if no translation)."""
        return spec["title"].get(self.lang) or spec["title"]["fr"]

    @property
    def source(self) -> str:
        """The source line under every table."""
        return self.text("common.source_demo" if self.demo else "common.source")

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
        """The label of a variable: a derived variable's label from the analysis plan, a score's
        construct label, else the codebook's label in the report language (French when the
        questionnaire has no label in that language; see :meth:`codebook_text`).

        A label is never cut: with ``short`` (a short label is wanted, e.g. a row of a wide
        table), the ``label_short`` the researcher wrote in ``survey.csv`` is used when the full
        label is longer than ``short`` characters; without one the full label (the writers wrap it).
        """
        derived = self.labels.variable(variable, "label", self.lang) or self.labels.variable(variable, "label", "fr")
        if variable == "Intercept":
            text = self.text("common.intercept")
        elif derived:
            text = derived
        elif variable.startswith("score_"):
            text = self.construct_label(variable[len("score_"):])
        else:
            text = self.codebook_text(variable, "label") or variable
        if short and len(text) > short:
            text = self.short_labels.get(variable) or text
        return text

    @property
    def short_labels(self) -> dict[str, str]:
        """Question name -> ``label_short`` of ``survey.csv`` (the column ``label_short`` or
        ``label_short::Français (fr)``; English: ``label_short::English (en)`` first), when present."""
        cached = self.cache.get("short_labels")
        if cached is None:
            cached = {}
            from analysis import config

            folder = Path(self.questionnaire_dir) if self.questionnaire_dir is not None else config.QUESTIONNAIRE_DIR
            path = folder / "survey.csv"
            if path.exists():
                survey = pd.read_csv(path, dtype=str, keep_default_na=False)
                cols = [c for c in survey.columns if c.split("::")[0].strip() == "label_short"]
                pref = [c for c in cols if f"({self.lang})" in c] + [c for c in cols if "(fr)" in c or "::" not in c]
                for col in reversed(list(dict.fromkeys(pref + cols))):
                    for name, value in zip(survey.get("name", []), survey[col]):
                        if isinstance(value, str) and value.strip():
                            cached[name] = value.strip()
            self.cache["short_labels"] = cached
        return cached

    def value_labels(self, variable: str) -> dict[str, str]:
        """Codes to labels of a select_one variable, from the codebook ``values`` column of the
        report language (``values_en`` in English; see :meth:`codebook_text`)."""
        values = self.codebook_text(variable, "values")
        out: dict[str, str] = {}
        for part in values.split("; ") if values else ():
            code, _, lab = part.partition("=")
            if code:
                out[code.strip()] = lab.strip()
        return out

    def codebook_text(self, variable: str, what: str) -> str:
        """The one look-up of the questionnaire's texts: ``what`` (``label`` or ``values``) of a
        codebook variable in the report language, else in French, else ``""``.

        The codebook names the French columns ``label_fr`` and ``values`` and the others
        ``label_<lang>`` and ``values_<lang>`` (``label_en``, ``values_en``: from the
        ``label::English (en)`` columns of ``survey.csv`` and ``choices.csv``). A language the
        questionnaire does not have gives the French text (and the report's note says so).

        Examples
        --------
        >>> from analysis.report._plan import load_table_plan
        >>> cb = pd.DataFrame({"variable": ["milieu"], "label_fr": ["Milieu d'intervention"],
        ...                    "label_en": ["Setting of operation"], "values": ["rural=Rural; urbain=Urbain"],
        ...                    "values_en": ["rural=Rural; urbain=Urban"]})
        >>> en = ReportContext(pd.DataFrame(), None, cb, None, load_table_plan(), lang="en")
        >>> en.codebook_text("milieu", "label"), en.value_labels("milieu")["urbain"]
        ('Setting of operation', 'Urban')
        >>> fr = ReportContext(pd.DataFrame(), None, cb, None, load_table_plan(), lang="fr")
        >>> fr.codebook_text("milieu", "label"), fr.value_labels("milieu")["urbain"]
        ("Milieu d'intervention", 'Urbain')
        """
        cb = self._cb_index
        if variable not in cb.index:
            return ""
        french = "values" if what == "values" else f"{what}_fr"
        for col in ([f"{what}_{self.lang}"] if self.lang != "fr" else []) + [french]:
            if col in cb.columns:
                value = cb.at[variable, col]
                if isinstance(value, str) and value.strip():
                    return value.strip()
        return ""

    @property
    def labels_translated(self) -> bool:
        """True when the questionnaire's labels exist in the report language (always in French;
        in English when the codebook has ``label_en`` texts)."""
        if self.lang == "fr":
            return True
        col = f"label_{self.lang}"
        return col in self.codebook.columns and bool((self.codebook[col].fillna("").astype(str) != "").any())

    @property
    def _cb_index(self) -> pd.DataFrame:
        cached = self.cache.get("codebook")
        if cached is None:
            cached = self.codebook.drop_duplicates("variable").set_index("variable")
            self.cache["codebook"] = cached
        return cached

    def group_label(self, value: object) -> str:
        """Label of a group of the plan's ``group`` variable (``group_labels`` of the texts), else the value."""
        key = f"group_labels.{value}"
        return self.text(key) if self.texts.has(key) else str(value)

    def construct_label(self, name: str) -> str:
        """Label of a construct or of one of its dimensions (``construct__dimension``)."""
        if self.lang == "en" and name in self.labels.construct_en:
            return self.labels.construct_en[name]
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
