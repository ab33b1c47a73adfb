"""Provenance: fingerprints of the code and of the questionnaire, and hashes of file sets.

The pipeline's stage keys, the cleaning manifest and the report manifest say
what they were computed from with these SHA-256 digests (no dates, no absolute
paths: the same inputs give the same digests).

Examples
--------
>>> len(code_fingerprint()) == len(questionnaire_fingerprint()) == 64
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from analysis import config
from analysis.utils.atomic import sha256_file

__all__ = ["hash_files", "code_fingerprint", "questionnaire_fingerprint"]


def hash_files(paths: Sequence[Path], root: Path | None = None) -> str:
    """SHA-256 over the names and contents of files, in sorted order.

    Parameters
    ----------
    paths : sequence of Path
    root : Path, optional
        Names are taken relative to ``root`` (default: the file names alone).

    Returns
    -------
    str
        Hexadecimal digest.

    Examples
    --------
    >>> hash_files([]) == hashlib.sha256().hexdigest()
    True
    """
    h = hashlib.sha256()
    for p in sorted(paths):
        name = str(p.relative_to(root)) if root is not None else p.name
        h.update(name.encode())
        h.update(sha256_file(p).encode())
    return h.hexdigest()


def code_fingerprint() -> str:
    """SHA-256 over the source files of the ``analysis`` package."""
    files = [p for p in config.PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts]
    return hash_files(files, config.PACKAGE_DIR)


def questionnaire_fingerprint() -> str:
    """SHA-256 over the text files of ``questionnaire/`` (the build folder excluded)."""
    files = [
        p
        for p in config.QUESTIONNAIRE_DIR.rglob("*")
        if p.is_file() and "build" not in p.relative_to(config.QUESTIONNAIRE_DIR).parts
    ]
    return hash_files(files, config.QUESTIONNAIRE_DIR)
