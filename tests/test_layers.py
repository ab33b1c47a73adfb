"""The layers of the package, read from the source with ``ast`` (issue 16).

Every import of every module of ``analysis/`` counts, deferred imports inside
functions included (``if TYPE_CHECKING:`` blocks excepted: they never run):

* no import cycle between modules;
* the engines import nothing from the study, the cleaning, the report, the
  pipeline or the command line;
* no module over 1 000 lines.

Every check is strict: an import cycle, an engine importing the study or the report, or a
module over 1 000 lines fails the suite.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "analysis"

#: Generic statistical and rendering engines: DataFrames in, result objects out.
ENGINES = ("psychometrics", "sem", "survey", "regression", "descriptives", "pls", "xlsform", "tables")
#: What an engine must not import: the study, its cleaning and report, the job, the CLI.
FORBIDDEN_FOR_ENGINES = ("study", "cleaning", "report", "pipeline", "cli")

MAX_LINES = 1000


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py")) if "__pycache__" not in p.parts}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module name imported anywhere in ``tree`` (absolute; ``from a import b`` gives a and a.b)."""
    out: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of ``analysis`` it imports (a package counts as its ``__init__``)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for imported in _imported_names(tree, name, path.name == "__init__.py"):
            if imported in modules and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return sorted(found)


def test_the_graph_sees_deferred_and_relative_imports():
    tree = ast.parse("from . import b\ndef f():\n    from analysis.x import y\n    import analysis.z\n")
    names = _imported_names(tree, "analysis.pkg.a", False)
    assert {"analysis.pkg", "analysis.pkg.b", "analysis.x", "analysis.x.y", "analysis.z"} <= names
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]




def test_no_import_cycle():
    # a package's __init__ with lazy exports names its modules in strings, not in imports
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_engines_import_no_study_cleaning_report_pipeline_or_cli():
    graph = _graph()
    bad = []
    for module, targets in graph.items():
        parts = module.split(".")
        if len(parts) < 2 or parts[1] not in ENGINES:
            continue
        for target in sorted(targets):
            tparts = target.split(".")
            if len(tparts) > 1 and tparts[1] in FORBIDDEN_FOR_ENGINES:
                bad.append(f"{module} imports {target}")
    assert not bad, "engines must not import the study layers:\n" + "\n".join(bad)


def test_no_module_over_1000_lines():
    long = {}
    for name, path in _modules().items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            long[name] = n
    assert not long, f"modules over {MAX_LINES} lines: {long}"
