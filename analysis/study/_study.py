"""The study loaded once: questionnaire, constructs, cleaning settings, plans, population.

:func:`load_study` reads every file of ``questionnaire/`` once into frozen
objects that keep the path of each file (and the line of each YAML key) for
messages; :func:`analysis.study.validate_study` then checks them against each
other before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis import config
from analysis.errors import ConfigError
from analysis.study._construct_spec import ConstructSpec, parse_constructs
from analysis.study._instrument import Questionnaire, load_questionnaire
from analysis.study._yaml import YamlDoc, display_path, read_yaml

__all__ = [
    "Study",
    "CleaningSettings",
    "TableSpec",
    "TablePlanSpec",
    "AnalysisPlanFile",
    "PopulationFile",
    "load_study",
    "load_cleaning_settings",
]


@dataclass(frozen=True)
class CleaningSettings:
    """``cleaning.yaml``: the thresholds of the cleaning rules.

    Attributes
    ----------
    settings : dict
        The file's contents.
    doc : YamlDoc
        The file as read (path, lines).
    """

    settings: dict
    doc: YamlDoc

    @property
    def path(self) -> Path:
        """The file read."""
        return self.doc.path

    @property
    def legal_form_groups(self) -> dict[str, str]:
        """Legal form code -> group (``association`` / ``cooperative``), in file order.

        Examples
        --------
        >>> load_cleaning_settings().legal_form_groups["union_coop"]
        'cooperative'
        """
        return {str(k): str(v) for k, v in (self.settings.get("legal_form_groups") or {}).items()}


@dataclass(frozen=True)
class TableSpec:
    """One table of ``tables.yaml``.

    Attributes
    ----------
    id, kind : str
    title : dict
        ``{"fr": ..., "en": ...}``.
    options : dict
        The other keys of the table (options of its kind).
    index : int
        0-based position in the plan.
    line : int or None
        Line of the table in the file.
    """

    id: str
    kind: str
    title: dict
    options: dict
    index: int
    line: int | None = None

    def as_dict(self) -> dict:
        """The table as written (``id``, ``kind``, ``title`` and the options)."""
        return {"id": self.id, "kind": self.kind, "title": self.title, **self.options}


@dataclass(frozen=True)
class TablePlanSpec:
    """``tables.yaml``: the plan's options and its tables, in order."""

    options: dict
    tables: tuple[TableSpec, ...]
    doc: YamlDoc

    @property
    def path(self) -> Path:
        """The file read."""
        return self.doc.path

    @property
    def ids(self) -> list[str]:
        """Table ids in order."""
        return [t.id for t in self.tables]


@dataclass(frozen=True)
class AnalysisPlanFile:
    """``analysis_plan.yaml`` as read (the models are built by the regression layer)."""

    doc: YamlDoc

    @property
    def path(self) -> Path:
        """The file read."""
        return self.doc.path

    @property
    def terms(self) -> dict[str, str]:
        """Formula snippets, by name."""
        return {str(k): str(v) for k, v in (self.doc.get("terms") or {}).items()}

    @property
    def models(self) -> dict[str, dict]:
        """Model name -> its keys as written."""
        models = self.doc.get("models") or {}
        return dict(models) if isinstance(models, dict) else {}


@dataclass(frozen=True)
class PopulationFile:
    """``population.yaml`` as read (the totals are built by the survey layer)."""

    doc: YamlDoc

    @property
    def path(self) -> Path:
        """The file read."""
        return self.doc.path


@dataclass(frozen=True)
class Study:
    """Everything ``questionnaire/`` says about the study, read once.

    Attributes
    ----------
    folder : Path
        The questionnaire folder.
    questionnaire : Questionnaire
        ``survey.csv``, ``choices.csv``, ``settings.csv``.
    constructs : ConstructSpec
    constructs_doc : YamlDoc
    cleaning : CleaningSettings
    tables : TablePlanSpec
    analysis_plan : AnalysisPlanFile
    population : PopulationFile

    Examples
    --------
    >>> study = load_study()
    >>> study.constructs.names[0], study.tables.ids[0]
    ('si_presence', 'flow')
    """

    folder: Path
    questionnaire: Questionnaire
    constructs: ConstructSpec
    constructs_doc: YamlDoc
    cleaning: CleaningSettings
    tables: TablePlanSpec
    analysis_plan: AnalysisPlanFile
    population: PopulationFile


def load_cleaning_settings(path: str | Path | None = None) -> CleaningSettings:
    """Read ``cleaning.yaml`` (default ``questionnaire/cleaning.yaml``)."""
    doc = read_yaml(Path(path) if path is not None else config.QUESTIONNAIRE_DIR / "cleaning.yaml")
    if not isinstance(doc.data, dict):
        raise ConfigError(f"file '{display_path(doc.path)}': expected a mapping of settings.")
    return CleaningSettings(settings=doc.data, doc=doc)


def _table_plan(doc: YamlDoc) -> TablePlanSpec:
    data = doc.data if isinstance(doc.data, dict) else {}
    options = data.get("options") or {}
    tables = []
    raw = data.get("tables") or []
    for i, t in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(t, dict):
            t = {}
        rest = {k: v for k, v in t.items() if k not in ("id", "kind", "title")}
        title = t.get("title") if isinstance(t.get("title"), dict) else {}
        tables.append(TableSpec(id=str(t.get("id", "")), kind=str(t.get("kind", "")), title=dict(title),
                                options=rest, index=i, line=doc.line("tables", i)))
    return TablePlanSpec(options=dict(options) if isinstance(options, dict) else {}, tables=tuple(tables), doc=doc)


def load_study(questionnaire_dir: str | Path | None = None) -> Study:
    """Read every file of the questionnaire folder once.

    Parameters
    ----------
    questionnaire_dir : str or Path, optional
        Default ``config.QUESTIONNAIRE_DIR`` (``questionnaire/``).

    Returns
    -------
    Study

    Raises
    ------
    ConfigError
        If a file is missing, is not valid YAML (the message names the file and
        the line) or is malformed. Whether the files agree with each other is
        checked by :func:`analysis.study.validate_study`.
    """
    folder = Path(questionnaire_dir) if questionnaire_dir is not None else config.QUESTIONNAIRE_DIR
    docs = {name: read_yaml(folder / f"{name}.yaml")
            for name in ("constructs", "cleaning", "tables", "analysis_plan", "population")}
    questionnaire = load_questionnaire(folder)
    cleaning = docs["cleaning"]
    return Study(
        folder=folder,
        questionnaire=questionnaire,
        constructs=parse_constructs(docs["constructs"]),
        constructs_doc=docs["constructs"],
        cleaning=CleaningSettings(settings=cleaning.data if isinstance(cleaning.data, dict) else {}, doc=cleaning),
        tables=_table_plan(docs["tables"]),
        analysis_plan=AnalysisPlanFile(docs["analysis_plan"]),
        population=PopulationFile(docs["population"]),
    )
