"""The table plan (``questionnaire/tables.yaml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from analysis import config
from analysis.errors import ConfigError
from analysis.report.kinds import KINDS


@dataclass(frozen=True)
class TablePlan:
    """The checked contents of ``questionnaire/tables.yaml``.

    Attributes
    ----------
    options : dict
        Global options (``small_cell_threshold``, ``loading_threshold``, ``decimals``,
        ``seed``, ``group``).
    tables : tuple of dict
        One specification per table, in order; each has ``id``, ``kind`` and ``title``.
    path : Path or None
    """

    options: dict
    tables: tuple
    path: Path | None = None

    @property
    def ids(self) -> list[str]:
        """The table ids, in order."""
        return [t["id"] for t in self.tables]


def load_table_plan(path: str | Path | None = None) -> TablePlan:
    """Read and check the table plan (default ``questionnaire/tables.yaml``).

    Raises
    ------
    ConfigError
        Unknown kind, duplicate id, missing title, bad option: the message names the table.

    Examples
    --------
    >>> plan = load_table_plan()
    >>> plan.ids[0]
    'flow'
    """
    from analysis.study._yaml import read_yaml

    path = Path(path) if path is not None else config.QUESTIONNAIRE_DIR / "tables.yaml"
    raw = read_yaml(path).data or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"the table plan '{path.name}' must be a mapping with 'options' and 'tables'")
    options = {
        "small_cell_threshold": 5,
        "loading_threshold": 0.30,
        "decimals": 2,
        "seed": 2026,
        "group": "legal_form_group",
        **(raw.get("options") or {}),
    }
    try:
        threshold = int(options["small_cell_threshold"])
        loading = float(options["loading_threshold"])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"table plan '{path.name}', options: {exc}") from exc
    if threshold < 1:
        raise ConfigError(f"table plan '{path.name}', options: small_cell_threshold must be >= 1, got {threshold}")
    if not 0 <= loading < 1:
        raise ConfigError(f"table plan '{path.name}', options: loading_threshold must be in [0, 1), got {loading}")
    tables = raw.get("tables") or []
    if not isinstance(tables, list):
        raise ConfigError(f"table plan '{path.name}': 'tables' must be a list")
    seen: set[str] = set()
    for i, spec in enumerate(tables, start=1):
        where = f"table plan '{path.name}', table {i}"
        if not isinstance(spec, dict) or "id" not in spec or "kind" not in spec:
            name = f" ('{spec.get('id')}')" if isinstance(spec, dict) and spec.get("id") else ""
            raise ConfigError(f"{where}{name}: every table needs an 'id' and a 'kind'")
        where = f"{where} ('{spec['id']}')"
        if spec["kind"] not in KINDS:
            raise ConfigError(
                f"{where}: unknown kind '{spec['kind']}'; choose among {', '.join(sorted(KINDS))}"
            )
        if spec["id"] in seen:
            raise ConfigError(f"{where}: the id '{spec['id']}' is used twice")
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", str(spec["id"])):
            raise ConfigError(f"{where}: the id must use letters, digits, '_' or '-'")
        title = spec.get("title")
        if not isinstance(title, dict) or not str(title.get("fr") or "").strip():
            raise ConfigError(f"{where}: 'title' needs at least a French text (title: {{fr: ...}})")
        if "loading_threshold" in spec:
            try:
                ok = 0 <= float(spec["loading_threshold"]) < 1
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ConfigError(f"{where}: loading_threshold must be a number in [0, 1)")
        seen.add(spec["id"])
    return TablePlan(options=options, tables=tuple(tables), path=path)
