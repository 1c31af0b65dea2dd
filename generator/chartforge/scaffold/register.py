"""Register a new chart in ``sources/``, editing YAML in place (ruamel round trip: comments kept).

Three places name every chart: ``catalog.yaml`` (``charts:``, before the umbrella), the umbrella's
``chart.yaml`` (``dependencies:``) and each ``environments/<env>.yaml`` (a ``<name>:`` section with
``enabled: true`` where the environment's values for it go). Each edit is computed as text first,
so nothing is written until every file parsed and took its change.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from chartforge.compat.bump import round_trip_yaml
from chartforge.errors import SourceError, UsageError


def _load(path: Path, display: str) -> Any:
    try:
        return round_trip_yaml().load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SourceError(f"invalid YAML: {getattr(exc, 'problem', exc)}", path=display,
                          line=mark.line + 1 if mark else None) from None  # fmt: skip


def _dump(data: Any) -> str:
    out = io.StringIO()
    round_trip_yaml().dump(data, out)
    return out.getvalue()


def _list(data: Any, key: str, display: str) -> CommentedSeq:
    if not isinstance(data, CommentedMap):
        raise SourceError("expected a mapping", path=display, line=1)
    if data.get(key) is None:
        data[key] = CommentedSeq()
    found = data[key]
    if not isinstance(found, CommentedSeq):
        raise SourceError(f"'{key}' must be a list", path=display, line=data.lc.key(key)[0] + 1)
    return found


def catalog_text(path: Path, display: str, name: str, umbrella: str) -> str:
    """catalog.yaml with ``name`` in ``charts:``, just before the umbrella (last otherwise)."""
    data = _load(path, display)
    charts = _list(data, "charts", display)
    names = [str(c) for c in charts]
    if name in names:
        raise UsageError(
            f"chart '{name}' is already listed", path=display, line=charts.lc.item(names.index(name))[0] + 1
        )
    charts.insert(names.index(umbrella) if umbrella in names else len(names), name)
    return _dump(data)


def umbrella_text(path: Path, display: str, name: str) -> str:
    """The umbrella's chart.yaml with ``- name: <name>`` appended to ``dependencies:``."""
    data = _load(path, display)
    deps = _list(data, "dependencies", display)
    entry = CommentedMap()
    entry["name"] = name
    deps.append(entry)
    return _dump(data)


def environment_text(path: Path, display: str, name: str, env: str) -> str:
    """An environment file with a ``<name>:`` section (``enabled: true``) and a comment saying what goes there."""
    data = _load(path, display)
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise SourceError("an environment file must be a mapping", path=display, line=1)
    if name in data:
        raise UsageError(
            f"'{name}' already has a section here", path=display, line=data.lc.key(name)[0] + 1,
            hint="choose another name, or remove the section left from an earlier chart",
        )  # fmt: skip
    section = CommentedMap()
    section["enabled"] = True
    data[name] = section
    data.yaml_set_comment_before_after_key(
        name, before=f"{name}: added by `chartforge new`; its {env} values go here (charts/{name}/README.md)."
    )
    return _dump(data)
