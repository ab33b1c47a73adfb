"""YAML files of the study read once, with the line of every key kept for messages.

:func:`read_yaml` returns a :class:`YamlDoc`: the parsed data (plain dicts,
lists and scalars, as :func:`yaml.safe_load` gives them), the path of the file,
and the 1-based line of every mapping key and list item, so that a check can
say ``file 'questionnaire/tables.yaml', line 34: ...``. A YAML syntax error
becomes a :class:`~analysis.errors.ConfigError` naming the file and the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis.errors import ConfigError

__all__ = ["YamlDoc", "read_yaml", "display_path"]

Key = tuple  # a path of mapping keys and list indexes


def display_path(path: str | Path) -> str:
    """The path as shown in messages: relative to the current folder when inside it.

    Examples
    --------
    >>> from pathlib import Path
    >>> display_path(Path.cwd() / "questionnaire" / "tables.yaml")
    'questionnaire/tables.yaml'
    """
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(p)


@dataclass(frozen=True)
class YamlDoc:
    """One YAML file: its data, its path and the line of each key.

    Attributes
    ----------
    path : Path
    data : object
        What :func:`yaml.safe_load` returns (``{}`` for an empty file).
    lines : dict
        ``(key, key, index, ...) -> line`` (1-based) of every mapping key and list item.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.yaml"
    >>> _ = p.write_text("a:\\n  b: 1\\n  c: [x, y]\\n")
    >>> doc = read_yaml(p)
    >>> doc.data["a"]["c"], doc.line("a", "c", 1), doc.line("a", "zz")
    (['x', 'y'], 3, 1)
    """

    path: Path
    data: object
    lines: dict = field(default_factory=dict, repr=False)

    def line(self, *keys) -> int | None:
        """The line of the deepest known prefix of ``keys`` (None for an empty file)."""
        keys = tuple(keys)
        while keys:
            if keys in self.lines:
                return self.lines[keys]
            keys = keys[:-1]
        return self.lines.get((), None)

    def get(self, *keys, default=None):
        """The value at ``keys`` (mapping keys and list indexes), or ``default``."""
        node = self.data
        for k in keys:
            try:
                node = node[k]
            except (KeyError, IndexError, TypeError):
                return default
        return node


def _walk(node, key: Key, lines: dict, scalar) -> None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            try:
                name = scalar(k) if isinstance(k, yaml.ScalarNode) else None
            except yaml.YAMLError:
                name = None
            if name is None and not isinstance(k, yaml.ScalarNode):
                continue
            lines.setdefault(key + (name,), k.start_mark.line + 1)
            _walk(v, key + (name,), lines, scalar)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            lines.setdefault(key + (i,), v.start_mark.line + 1)
            _walk(v, key + (i,), lines, scalar)


def read_yaml(path: str | Path, *, required: bool = True) -> YamlDoc:
    """Read a YAML file and the line of each of its keys.

    Parameters
    ----------
    path : str or Path
    required : bool, default True
        Raise when the file does not exist (else return an empty document).

    Raises
    ------
    ConfigError
        If the file is missing (and required) or is not valid YAML: the message
        names the file and the line of the syntax error.
    """
    p = Path(path)
    if not p.exists():
        if required:
            raise ConfigError(f"file '{display_path(p)}' is missing.")
        return YamlDoc(path=p, data={}, lines={})
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"file '{display_path(p)}' cannot be read ({exc}).") from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        what = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise ConfigError(
            f"file '{display_path(p)}'{where}: the YAML cannot be read ({what}); "
            "check the indentation, the colons and the quotes on that line or the line above."
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"file '{display_path(p)}': the YAML cannot be read ({exc}).") from exc
    finally:
        loader.dispose()
    lines: dict = {}
    if node is not None:
        lines[()] = node.start_mark.line + 1
        helper = yaml.constructor.SafeConstructor()
        _walk(node, (), lines, lambda n: helper.construct_object(n, deep=True))
    return YamlDoc(path=p, data={} if data is None else data, lines=lines)
