"""Declared breaks and deprecated parameter aliases, from ``sources/charts/<chart>/chart.yaml``.

A chart declares an intended break next to its version::

    breaks:
      - version: 2.0.0
        summary: The headless Service is renamed <release>-postgresql-hl.
        migration:
          - kubectl -n NS delete statefulset RELEASE-postgresql --cascade=orphan
          - helm upgrade RELEASE … --version 2.0.0
        rules: [CF-UPG-002]        # optional: the findings it accepts (default: every upgrade-check finding)

A declared break is not a finding (its findings show as waived, with the summary as the reason);
it becomes the README's "Upgrading" section and, for the chart's current version, the
``artifacthub.io/changes`` annotation. A renamed parameter keeps its old name as a deprecated
alias for two major versions (the seed's compatibility promise)::

    deprecations:
      - name: postgresql.replicas          # the old values path
        renamedTo: postgresql.replicaCount
        since: 1.1.0                       # may be removed from 3.0.0 on

The schema accepts the old name, the chart maps it to the new key before any template reads
it, NOTES prints a warning, and ``semver`` counts the rename as minor while the alias lives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chartforge.codes import CODES
from chartforge.errors import SourceError
from chartforge.yamlio import did_you_mean, line_of, load_yaml

SEMVER_CORE = r"^\d+\.\d+\.\d+"
BREAK_KEYS = {"version", "summary", "migration", "rules"}
DEPRECATION_KEYS = {"name", "renamedTo", "since"}


def parse_version(text: str) -> tuple[int, int, int]:
    core = text.split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return int(parts[0]), int(parts[1]), int(parts[2])


@dataclass(frozen=True)
class Break:
    version: str
    summary: str
    migration: tuple[str, ...]
    rules: tuple[str, ...] = ()  # empty: every upgrade-check finding of the chart

    def covers(self, code: str) -> bool:
        return not self.rules or code in self.rules


@dataclass(frozen=True)
class Deprecation:
    name: str  # old values path
    renamed_to: str
    since: str

    @property
    def removable_from(self) -> str:
        return f"{parse_version(self.since)[0] + 2}.0.0"


@dataclass(frozen=True)
class Declared:
    breaks: tuple[Break, ...] = ()
    deprecations: tuple[Deprecation, ...] = ()

    def breaks_between(self, old: str, new: str) -> list[Break]:
        """Breaks declared for a version in (old, new]: the ones an upgrade from ``old`` to ``new`` crosses."""
        lo, hi = parse_version(old), parse_version(new)
        return [b for b in self.breaks if lo < parse_version(b.version) <= hi]


def _strings(value: Any, file: str, node: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SourceError(f"'{key}' must be a list of strings", path=file, line=line_of(node, key))
    return tuple(v.strip() for v in value)


def _check_keys(item: Mapping[str, Any], allowed: set[str], file: str, where: str) -> None:
    for key in item:
        if key not in allowed:
            raise SourceError(f"unknown key '{key}'", path=file, line=line_of(item, key), key=where,
                              hint=did_you_mean(str(key), allowed))  # fmt: skip


def _version(item: Mapping[str, Any], key: str, file: str, where: str) -> str:
    value = str(item.get(key, ""))
    try:
        parse_version(value)
    except ValueError:
        raise SourceError(f"'{key}' must be a semantic version, got {value!r}", path=file,
                          line=line_of(item, key) or line_of(item), key=where) from None  # fmt: skip
    return value


def parse_declared(meta: Mapping[str, Any], file: str) -> Declared:
    breaks = []
    for i, item in enumerate(meta.get("breaks") or []):
        where = f"breaks[{i}]"
        if not isinstance(item, Mapping):
            raise SourceError(
                "a break must be a mapping", path=file, line=line_of(meta["breaks"], i), key=where
            )
        _check_keys(item, BREAK_KEYS, file, where)
        for key in ("summary", "migration"):
            if not item.get(key):
                raise SourceError(f"a declared break needs '{key}'", path=file, line=line_of(item), key=where,
                                  hint="version, summary (what breaks), migration (the steps)")  # fmt: skip
        version = _version(item, "version", file, where)
        rules = _strings(item.get("rules") or [], file, item, "rules")
        upgrade_rules = sorted(c for c in CODES if c.startswith("CF-UPG-"))  # the compat rule catalogue
        for rule in rules:
            if rule not in upgrade_rules:
                raise SourceError(f"unknown rule '{rule}'", path=file, line=line_of(item, "rules"), key=where,
                                  hint=did_you_mean(rule, upgrade_rules))  # fmt: skip
        breaks.append(Break(version, str(item["summary"]).strip(), _strings(item["migration"], file, item, "migration"),
                            rules))  # fmt: skip
    deprecations = []
    for i, item in enumerate(meta.get("deprecations") or []):
        where = f"deprecations[{i}]"
        if not isinstance(item, Mapping) or not item.get("name") or not item.get("renamedTo"):
            raise SourceError("a deprecation needs 'name' (the old values path), 'renamedTo' and 'since'",
                              path=file, line=line_of(meta["deprecations"], i), key=where)  # fmt: skip
        _check_keys(item, DEPRECATION_KEYS, file, where)
        deprecations.append(
            Deprecation(str(item["name"]), str(item["renamedTo"]), _version(item, "since", file, where))
        )
    return Declared(tuple(sorted(breaks, key=lambda b: parse_version(b.version))), tuple(deprecations))


def load_declared(source_dir: Path, root: Path) -> Declared:
    path = source_dir / "chart.yaml"
    file = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    meta = load_yaml(path, display=file) if path.is_file() else {}
    return parse_declared(meta if isinstance(meta, Mapping) else {}, file)


# --- what the build emits -------------------------------------------------------------------


def upgrading_markdown(declared: Declared) -> str:
    """The README's "Upgrading" section (newest break first), or "" when nothing is declared."""
    if not declared.breaks and not declared.deprecations:
        return ""
    lines = ["## Upgrading", ""]
    for brk in reversed(declared.breaks):
        lines += [f"### To {brk.version}", "", brk.summary, ""]
        lines += [f"{i}. {step}" for i, step in enumerate(brk.migration, 1)]
        lines.append("")
    if declared.deprecations:
        lines += ["### Deprecated parameters", "", "| Old name | Use instead | Deprecated in | Removed in |",
                  "|----------|-------------|---------------|------------|"]  # fmt: skip
        lines += [f"| `{d.name}` | `{d.renamed_to}` | {d.since} | {d.removable_from} at the earliest |"
                  for d in declared.deprecations]  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def changes_annotation(declared: Declared, version: str) -> str | None:
    """``artifacthub.io/changes`` for ``version``: its declared breaks and the deprecations it introduced."""
    entries = [{"kind": "changed", "description": f"BREAKING: {b.summary} Migration: " + " ".join(
        f"({i}) {s}" for i, s in enumerate(b.migration, 1))} for b in declared.breaks if b.version == version]  # fmt: skip
    entries += [{"kind": "deprecated", "description": f"{d.name} is renamed {d.renamed_to}; the old name works "
                 f"until {d.removable_from}"} for d in declared.deprecations if d.since == version]  # fmt: skip
    if not entries:
        return None
    return yaml.safe_dump(entries, sort_keys=False, width=10_000)


def _path(dotted: str) -> list[str]:
    return dotted.split(".")


def add_alias_properties(schema: dict[str, Any], deprecations: Sequence[Deprecation], file: str) -> None:
    """Declare each old name next to its new one: same type and constraints, ``deprecated``, no default."""
    for dep in deprecations:
        target: Any = schema
        for part in _path(dep.renamed_to):
            target = (target.get("properties") or {}).get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            raise SourceError(f"deprecation renamedTo '{dep.renamed_to}' is not a declared parameter", path=file,
                              key="deprecations")  # fmt: skip
        parent: Any = schema
        *parents, leaf = _path(dep.name)
        for part in parents:
            parent = (parent.get("properties") or {}).get(part) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or "properties" not in parent:
            raise SourceError(f"deprecated name '{dep.name}': its parent is not a parameter group", path=file,
                              key="deprecations")  # fmt: skip
        if leaf in parent["properties"]:
            raise SourceError(f"deprecated name '{dep.name}' is still a declared parameter", path=file,
                              key="deprecations", hint="remove it from parameters.yaml: the alias replaces it")  # fmt: skip
        alias = {k: v for k, v in target.items() if k not in ("default", "description")}
        alias["description"] = (f"Deprecated since {dep.since}: use {dep.renamed_to} (this name is removed in "
                                f"{dep.removable_from} at the earliest)")  # fmt: skip
        alias["deprecated"] = True
        alias["x-chartforge-renamed-to"] = dep.renamed_to
        alias["x-chartforge-deprecated-since"] = dep.since
        parent["properties"][leaf] = alias


def aliases(schema: Mapping[str, Any], path: str = "") -> dict[str, str]:
    """Deprecated aliases declared in a values schema: values path → the version that deprecated it."""
    found: dict[str, str] = {}
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        here = f"{path}.{key}" if path else key
        if sub.get("x-chartforge-renamed-to"):
            found[here] = str(sub.get("x-chartforge-deprecated-since") or "")
        found.update(aliases(sub, here))
    return found


def early_alias_removals(
    old: Mapping[str, Any], new: Mapping[str, Any], new_version: str
) -> list[tuple[str, str]]:
    """``(alias, removable_from)`` for each alias ``new`` drops before the two majors the seed promises."""
    kept = aliases(new)
    out = []
    for name, since in sorted(aliases(old).items()):
        if name in kept or not since:
            continue
        removable = f"{parse_version(since)[0] + 2}.0.0"
        if parse_version(new_version) < parse_version(removable):
            out.append((name, removable))
    return out


def _gotpl_path(dotted: str) -> str:
    return " ".join(f'"{p}"' for p in _path(dotted))


def deprecations_tpl(chart: str, deprecations: Sequence[Deprecation]) -> str:
    """A named template that copies each old name's value to its new key (idempotent, run by every template)."""
    lines = [f"{{{{/* Generated by chartforge from sources/charts/{chart}/chart.yaml (deprecations); do not edit. */}}}}",
             f'{{{{- define "{chart}.deprecations" -}}}}',
             "{{- $values := .Values.AsMap }}"]  # fmt: skip
    for dep in deprecations:
        *new_parents, new_leaf = _path(dep.renamed_to)
        parent = "$values" if not new_parents else f"(dig {_gotpl_path('.'.join(new_parents))} dict $values)"
        lines += [
            f'{{{{- $old := dig {_gotpl_path(dep.name)} "\\x00unset" $values }}}}',
            '{{- if ne (toString $old) "\\x00unset" }}',
            f'{{{{- $_ := set {parent} "{new_leaf}" $old }}}}',
            "{{- end }}",
        ]
    lines.append("{{- end -}}")
    return "\n".join(lines) + "\n"


def notes_warnings(deprecations: Sequence[Deprecation]) -> str:
    """Lines appended to NOTES.txt: one warning per deprecated name the user still sets."""
    out = []
    for dep in deprecations:
        out += [
            f'{{{{- if ne (toString (dig {_gotpl_path(dep.name)} "\\x00unset" .Values.AsMap)) "\\x00unset" }}}}',
            "",
            f"WARNING: value '{dep.name}' is deprecated since {dep.since} and will be removed in "
            f"{dep.removable_from}; use '{dep.renamed_to}' instead.",
            "{{- end }}",
        ]
    return "\n".join(out) + "\n"


def with_deprecations(
    chart: str, files: dict[str, str], deprecations: Sequence[Deprecation]
) -> dict[str, str]:
    """The chart's files with the alias mapping run first by every template, and NOTES warnings."""
    if not deprecations:
        return files
    out = dict(files)
    include = f'{{{{- include "{chart}.deprecations" . }}}}'
    for path, text in files.items():
        if not path.startswith("templates/") or Path(path).name.startswith("_"):
            continue
        head, sep, rest = text.partition("\n")
        out[path] = f"{head}\n{include}\n{rest}" if sep else f"{include}\n{text}"
        if Path(path).name == "NOTES.txt":
            out[path] = out[path].rstrip("\n") + "\n" + notes_warnings(deprecations)
    out["templates/_deprecations.tpl"] = deprecations_tpl(chart, deprecations)
    return out
