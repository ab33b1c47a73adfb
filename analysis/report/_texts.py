"""The report's texts and the study's labels, read once from ``questionnaire/``.

Nothing about the study is written in the report's code; it is read here, once per
report, from the questionnaire folder:

* :class:`Texts`: the fixed texts and table notes of one language,
  ``questionnaire/texts/<lang>.yaml``, with named placeholders (``{n}``, ``{construct}``).
  ``texts("cfa.fit_note", n_factors=6, ...)`` is the one way the report translates.
* :class:`StudyLabels`: the labels and orders the report needs beyond the questionnaire's
  questions: English labels of the constructs, dimensions and problem groups
  (``label_en`` in ``constructs.yaml``), short labels and families of the funding shares
  (``share_labels`` of the formative construct), labels of the derived and dependent
  variables (``variables`` in ``analysis_plan.yaml``), the factor covariates with their
  reference category (``factors`` in ``analysis_plan.yaml``) and the order of the
  legal-form groups (the groups of ``legal_form_groups`` in ``cleaning.yaml``, in order).

The two loaders below are the only readers of these files in the report; a study object
that carries the same things can replace them.

Examples
--------
>>> texts = load_texts("en")
>>> texts("common.suppressed_others_many", n=3)
' In addition, 3 other cells are suppressed so that hidden counts cannot be recovered from totals.'
>>> load_study_labels().construct_en["si_presence"]
'Social innovation presence'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analysis import config
from analysis.errors import ConfigError

__all__ = ["Texts", "StudyLabels", "load_texts", "load_study_labels"]


def _read_yaml(path: Path) -> dict:
    """A study YAML file as a mapping (the one reader of the study's files, with file and line)."""
    from analysis.study._yaml import read_yaml

    raw = read_yaml(path).data or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"'{path.name}' must be a mapping")
    return raw


@dataclass(frozen=True)
class Texts:
    """The fixed texts of one report language (``questionnaire/texts/<lang>.yaml``).

    Call it with a dotted key (``section.name``) and the values of the text's named
    placeholders; a key absent from the file is an error naming the file.
    """

    lang: str
    entries: dict
    path: Path | None = None

    def _node(self, key: str):
        node = self.entries
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                where = self.path.name if self.path else f"texts/{self.lang}.yaml"
                raise ConfigError(f"{where}: no text '{key}'")
            node = node[part]
        return node

    def has(self, key: str) -> bool:
        """Whether the file has a text (or a section) under ``key``."""
        try:
            self._node(key)
        except ConfigError:
            return False
        return True

    def section(self, key: str) -> dict[str, str]:
        """The texts of a section as they are written, placeholders unfilled (for the figures,
        which fill them as they draw)."""
        node = self._node(key)
        if not isinstance(node, dict):
            raise ConfigError(f"texts/{self.lang}.yaml: '{key}' is a text, not a section")
        return {str(k): str(v) for k, v in node.items()}

    def __call__(self, key: str, **values) -> str:
        text = self._node(key)
        if not isinstance(text, str):
            raise ConfigError(f"texts/{self.lang}.yaml: '{key}' is a section, not a text")
        try:
            return text.format(**values)
        except (KeyError, IndexError) as exc:
            raise ConfigError(f"texts/{self.lang}.yaml: the text '{key}' uses an unknown placeholder {exc}") from exc


@dataclass(frozen=True)
class StudyLabels:
    """What the report knows about the study beyond the questionnaire's questions.

    Attributes
    ----------
    construct_en : dict
        ``construct`` or ``construct__dimension`` -> English label (``label_en``).
    problem_groups_en : dict
        Problem group -> English label.
    shares : dict
        Funding share -> ``{"short_fr", "short_en", "family_fr", "family_en"}`` (those given).
    variables : dict
        Derived or dependent variable -> ``{"label_fr", "label_en", "short_fr", ..., "long_en"}``.
    factors : dict
        Factor covariate -> ``{"label_fr", "label_en", "reference"}`` (those given), in plan order.
    group_order : tuple of str
        The legal-form groups in the order of ``cleaning.yaml``.
    """

    construct_en: dict = field(default_factory=dict)
    problem_groups_en: dict = field(default_factory=dict)
    shares: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)
    factors: dict = field(default_factory=dict)
    group_order: tuple = ()

    def variable(self, name: str, what: str, lang: str) -> str | None:
        """``what`` (label, short, long) of a derived or dependent variable in ``lang``, or None."""
        value = (self.variables.get(name) or {}).get(f"{what}_{lang}")
        return str(value) if value not in (None, "") else None


def load_texts(lang: str, questionnaire_dir: str | Path | None = None) -> Texts:
    """The fixed texts of a language (``<questionnaire>/texts/<lang>.yaml``).

    Raises
    ------
    ConfigError
        No such file (an unknown language) or not valid YAML.
    """
    folder = Path(questionnaire_dir) if questionnaire_dir is not None else config.QUESTIONNAIRE_DIR
    path = folder / "texts" / f"{lang}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in (folder / "texts").glob("*.yaml"))
        raise ConfigError(f"unknown language '{lang}'; choose {' or '.join(known) or 'fr or en'}")
    return Texts(lang=lang, entries=_read_yaml(path), path=path)


def load_study_labels(questionnaire_dir: str | Path | None = None) -> StudyLabels:
    """The study's labels from ``constructs.yaml``, ``analysis_plan.yaml`` and ``cleaning.yaml``."""
    folder = Path(questionnaire_dir) if questionnaire_dir is not None else config.QUESTIONNAIRE_DIR
    constructs = _read_yaml(folder / "constructs.yaml")
    construct_en, shares = {}, {}
    for cname, body in (constructs.get("constructs") or {}).items():
        body = body or {}
        if body.get("label_en"):
            construct_en[cname] = str(body["label_en"])
        for dname, dbody in (body.get("dimensions") or {}).items():
            if (dbody or {}).get("label_en"):
                construct_en[f"{cname}__{dname}"] = str(dbody["label_en"])
        for share, lab in (body.get("share_labels") or {}).items():
            shares[str(share)] = {k: str(v) for k, v in (lab or {}).items()}
    problem_groups_en = {str(g): str(b["label_en"]) for g, b in (constructs.get("problem_groups") or {}).items()
                         if (b or {}).get("label_en")}
    plan = _read_yaml(folder / "analysis_plan.yaml")
    variables = {str(k): dict(v or {}) for k, v in (plan.get("variables") or {}).items()}
    factors = {str(k): dict(v or {}) for k, v in (plan.get("factors") or {}).items()}
    cleaning_path = folder / "cleaning.yaml"
    groups = (_read_yaml(cleaning_path).get("legal_form_groups") or {}) if cleaning_path.exists() else {}
    order = tuple(dict.fromkeys(str(g) for g in groups.values() if g))
    return StudyLabels(construct_en=construct_en, problem_groups_en=problem_groups_en, shares=shares,
                       variables=variables, factors=factors, group_order=order)
