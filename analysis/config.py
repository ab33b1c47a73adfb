"""Project paths, resolved from the package location (never from the current directory).

Every module that reads or writes a project file takes its path from here, so
that the toolkit behaves the same whichever folder it is launched from.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "PACKAGE_DIR",
    "QUESTIONNAIRE_DIR",
    "QUESTIONNAIRE_BUILD_DIR",
    "DATA_DIR",
    "RAW_DIR",
    "DEMO_RAW_DIR",
    "PROCESSED_DIR",
    "REPORTS_DIR",
    "PRIVATE_DIR",
    "DECISIONS_DIR",
    "TESTS_REFERENCE_DIR",
]

PACKAGE_DIR: Path = Path(__file__).resolve().parent
PROJECT_ROOT: Path = PACKAGE_DIR.parent
#: The study's text files; ``si-survey --questionnaire DIR`` (or the environment variable
#: ``SI_SURVEY_QUESTIONNAIRE``) points it at another folder, e.g. a copy being edited.
QUESTIONNAIRE_DIR: Path = (
    Path(os.environ["SI_SURVEY_QUESTIONNAIRE"]).resolve()
    if os.environ.get("SI_SURVEY_QUESTIONNAIRE")
    else PROJECT_ROOT / "questionnaire"
)
QUESTIONNAIRE_BUILD_DIR: Path = QUESTIONNAIRE_DIR / "build"
DATA_DIR: Path = PROJECT_ROOT / "data"
RAW_DIR: Path = DATA_DIR / "raw"
DEMO_RAW_DIR: Path = RAW_DIR / "demo"
PROCESSED_DIR: Path = DATA_DIR / "processed"
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
#: Link tables (pseudonymous id <-> personal data) live here, outside data/processed/, git-ignored.
PRIVATE_DIR: Path = PROJECT_ROOT / "private"
#: The researcher's decisions on flagged answers (si-survey review), applied by clean and run.
DECISIONS_DIR: Path = DATA_DIR / "decisions"
TESTS_REFERENCE_DIR: Path = PROJECT_ROOT / "tests" / "reference"
