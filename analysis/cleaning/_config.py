"""Inputs of a cleaning run: the options file, the recode table, the questionnaire and the raw files.

Also the constants the cleaning modules share (output files, flags, flow steps).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from analysis import config
from analysis.errors import ConfigError

__all__ = ["load_cleaning_config", "recode_table", "instrument", "default_raw_files", "LOG_COLUMNS",
           "CELL_LOG_COLUMNS", "FLAG_COLUMNS", "FLOW_STEPS", "OUTPUT_FILES", "DROP_SYSTEM", "DATETIME", "CONFIG_NAME"]

#: Columns of cleaning_log.csv: a cell is (file, source_row, column); ``_uuid`` repeats for a submission
#: received twice, so the source row keeps every row of the log distinct.
CELL_LOG_COLUMNS = ["file", "source_row", "_uuid", "column", "old_value", "new_value", "rule"]
#: ... and the cleaningtools columns every row carries (automatic rules and decisions alike):
#: ``check_id`` (the rule or the check), ``issue``, ``change_type`` (change_response,
#: blank_response, remove_survey).
LOG_COLUMNS = [*CELL_LOG_COLUMNS, "check_id", "issue", "change_type"]
FLAG_COLUMNS = ["flag_duplicate", "flag_test", "flag_speeder", "flag_straightliner", "flag_ineligible",
                "flag_incomplete"]
#: Flow steps in order: (step, flag, description).
FLOW_STEPS = [
    ("duplicate", "flag_duplicate", "Doublons (même soumission ou même organisation)"),
    ("test", "flag_test", "Entretiens test ou pilotes"),
    ("speeder", "flag_speeder", "Entretiens trop rapides"),
    ("straightliner", "flag_straightliner", "Réponses identiques sur les grilles (straightlining)"),
    ("ineligible", "flag_ineligible", "Organisations non éligibles"),
    ("incomplete", "flag_incomplete", "Entretiens incomplets ou refus"),
]
OUTPUT_FILES = ("survey.parquet", "labels.json", "cleaning_log.csv", "validation.csv", "flow.csv", "manifest.json")
#: Kobo system columns never copied into the analysis file.
DROP_SYSTEM = ("_id", "_uuid", "_index", "_notes", "_tags", "_status", "_submitted_by", "deviceid")
#: Timestamp columns (parsed to UTC).
DATETIME = ("start", "end", "_submission_time")
CONFIG_NAME = "cleaning.yaml"


def load_cleaning_config(path: str | Path | None = None) -> dict:
    """Read ``questionnaire/cleaning.yaml`` (see the comments in that file)."""
    p = Path(path) if path is not None else config.QUESTIONNAIRE_DIR / CONFIG_NAME
    try:
        cfg = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"cleaning rules file '{p}' is missing") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"'{p}' is not valid YAML: {exc}") from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"'{p}' must hold a mapping of options")
    cfg["_path"] = str(p)
    return cfg


def recode_table(cfg: dict, qdir: Path) -> pd.DataFrame:
    """The "autre (précisez)" recode table named by ``recode_other`` in the options (empty when none)."""
    name = cfg.get("recode_other")
    if not name:
        return pd.DataFrame(columns=["question", "text", "code"])
    p = qdir / name
    if not p.exists():
        raise ConfigError(f"recode table '{p}' named in {CONFIG_NAME} is missing")
    t = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    for c in ("question", "text", "code"):
        if c not in t.columns:
            raise ConfigError(f"recode table '{p}' has no column '{c}'")
    return t


_INSTRUMENT_CACHE: dict = {}


def instrument(qdir: Path):
    """(questionnaire, codebook, header map), cached while the questionnaire files are unchanged."""
    from analysis.ingest._readers import header_map
    from analysis.study._instrument import codebook as make_codebook
    from analysis.study._instrument import load_questionnaire

    stamp = tuple((n, (qdir / n).stat().st_mtime_ns if (qdir / n).exists() else 0)
                  for n in ("survey.csv", "choices.csv", "settings.csv", "constructs.yaml"))
    key = (str(qdir.resolve()), stamp)
    if key not in _INSTRUMENT_CACHE:
        q = load_questionnaire(qdir)
        cb = make_codebook(q)
        _INSTRUMENT_CACHE.clear()
        _INSTRUMENT_CACHE[key] = (q, cb, header_map(cb, q))
    return _INSTRUMENT_CACHE[key]


def default_raw_files(folder: str | Path | None = None) -> list[Path]:
    """The raw exports of ``data/raw/demo/`` (files named ``truth*`` and hidden files excluded)."""
    d = Path(folder) if folder is not None else config.DEMO_RAW_DIR
    if not d.exists():
        return []
    exts = {".csv", ".xlsx", ".sav", ".zsav", ".dta", ".txt", ".tsv"}
    return sorted(p for p in d.iterdir()
                  if p.is_file() and not p.name.startswith(("truth", ".")) and p.suffix.lower() in exts)
