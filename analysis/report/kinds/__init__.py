"""The table kinds of the report: kind name -> module.

Each module of this package builds one kind of table of ``questionnaire/tables.yaml``:
``build(ctx, spec, number) -> TableOutput`` (``ctx`` an
:class:`analysis.report._context.ReportContext`, ``spec`` the plan entry, ``number``
the number of its first table) and ``OPTIONS``, the options its plan entry accepts
(option name -> what value it expects). The registry is explicit; the modules are
imported when a kind is first asked for, so importing this package imports nothing else.

A new kind: a module here with ``build`` and ``OPTIONS``, and a line in :data:`KINDS`.

Examples
--------
>>> sorted(KINDS)[:3]
['cfa', 'efa', 'flow']
>>> kind_module("flow").__name__
'analysis.report.kinds.flow'
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: Kind name -> module of this package.
KINDS: dict[str, str] = {
    "flow": "flow",
    "sample": "sample",
    "likert": "likert",
    "reliability": "reliability",
    "efa": "efa",
    "cfa": "cfa",
    "invariance": "invariance",
    "funding": "funding",
    "problems": "problems",
    "models": "models",
    "groups": "groups",
    "pls": "pls",
    "sem": "sem",
}


def kind_module(kind: str) -> ModuleType:
    """The module of a table kind (``KeyError`` for an unknown kind)."""
    return importlib.import_module(f"{__name__}.{KINDS[kind]}")


def kind_options(kind: str) -> dict[str, str]:
    """The options a plan entry of this kind accepts (name -> expected value)."""
    return dict(kind_module(kind).OPTIONS)


def all_kind_options() -> dict[str, dict[str, str]]:
    """Every kind and the options its plan entry accepts, for the checks of ``tables.yaml``.

    Examples
    --------
    >>> all_kind_options()["flow"]
    {}
    """
    return {kind: kind_options(kind) for kind in KINDS}
