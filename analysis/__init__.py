"""si-survey: survey toolkit for a doctoral study of Social Innovation in Morocco.

The public API is re-exported here; each name lives in a module of one topic.
"""

from __future__ import annotations

from . import config
from .errors import ConfigError, EstimationWarning, InputError, SiSurveyError

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "config",
    "ConfigError",
    "EstimationWarning",
    "InputError",
    "SiSurveyError",
]
