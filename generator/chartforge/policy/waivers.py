"""Waivers: accepted exceptions to policy findings, kept in ``sources/waivers.yaml``.

Each waiver names the check id, the object (kind + name, optionally chart, environment,
namespace and field) and a reason. A waived finding stays in the report, marked waived with
its reason; a waiver that matched nothing in a run is reported as stale (a warning) so the
list shrinks when the cause is fixed. The format is documented in ``docs/policy.md``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from chartforge.diagnostics import Diagnostic
from chartforge.errors import SourceError
from chartforge.policy.codes import CHECKOV_ID, CHECKS, WAIVER_STALE, is_known
from chartforge.yamlio import did_you_mean, line_of, load_yaml

REQUIRED = ("id", "kind", "name", "reason")
OPTIONAL = ("chart", "environment", "namespace", "field")


@lru_cache(maxsize=512)
def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` are wildcards; everything else is literal (field paths contain ``[...]``)."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(regex + r"\Z", re.DOTALL)


def glob_match(pattern: str, text: str) -> bool:
    return bool(_glob(pattern).match(text))


@dataclass(frozen=True)
class Waiver:
    id: str
    kind: str
    name: str
    reason: str
    chart: str = "*"
    environment: str = "*"
    namespace: str = "*"
    field: str = "*"
    path: str = ""
    line: int | None = None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def matches(self, d: Diagnostic) -> bool:
        namespace = dict(d.extra).get("namespace", "")
        return (
            d.code == self.id
            and glob_match(self.kind, d.kind)
            and glob_match(self.name, d.name)
            and glob_match(self.chart, d.chart)
            and glob_match(self.environment, d.environment)
            and glob_match(self.namespace, namespace)
            and glob_match(self.field, d.field)
        )


@dataclass(frozen=True)
class Waivers:
    path: str = ""
    items: tuple[Waiver, ...] = ()

    def find(self, d: Diagnostic) -> Waiver | None:
        return next((w for w in self.items if w.matches(d)), None)


def _problems(item: Any, index: int, shown: str, root: Any) -> Iterable[SourceError]:
    where = f"waivers[{index}]"
    if not isinstance(item, Mapping):
        yield SourceError("a waiver must be a mapping", path=shown, line=line_of(root, index), key=where)
        return
    for key in item:
        if key not in REQUIRED + OPTIONAL:
            hint = did_you_mean(str(key), REQUIRED + OPTIONAL)
            yield SourceError(
                "unknown key", path=shown, line=line_of(item, key), key=f"{where}.{key}", hint=hint
            )
    for key in REQUIRED + OPTIONAL:
        value = item.get(key)
        line = line_of(item, key) if key in item else line_of(item)
        if key in REQUIRED and (value is None or (isinstance(value, str) and not value.strip())):
            yield SourceError(f"'{key}' is required and must not be empty", path=shown, line=line, key=where)
        elif value is not None and not isinstance(value, str):
            yield SourceError(f"'{key}' must be a string", path=shown, line=line, key=f"{where}.{key}")
    code = item.get("id")
    if isinstance(code, str) and code.strip() and not is_known(code.strip()):
        hint = did_you_mean(code, CHECKS) + f"; checkov ids match {CHECKOV_ID.pattern}"
        yield SourceError(
            f"unknown check id '{code}'", path=shown, line=line_of(item, "id"), key=where, hint=hint
        )


def _waiver(item: Mapping[str, Any], shown: str) -> Waiver:
    def text(key: str, default: str = "*") -> str:
        value = item.get(key)
        return str(value).strip() if value is not None and str(value).strip() else default

    return Waiver(
        id=text("id"),
        kind=text("kind"),
        name=text("name"),
        reason=text("reason"),
        chart=text("chart"),
        environment=text("environment"),
        namespace=text("namespace"),
        field=text("field"),
        path=shown,
        line=line_of(item),
    )


def load_waivers(path: str | Path, *, display: str | None = None, missing_ok: bool = False) -> Waivers:
    """Read and check a waivers file; every problem names file:line.

    Raises :class:`SourceError` (the first problem, with the count of the others) when a
    waiver lacks an id, object or reason, uses an unknown key, or names an unknown check.
    """
    file = Path(path)
    shown = display or str(path)
    if missing_ok and not file.exists():
        return Waivers(path=shown)
    root = load_yaml(file, display=shown)
    if root is None:
        return Waivers(path=shown)
    if not isinstance(root, Mapping) or set(root) - {"waivers"}:
        raise SourceError("expected a mapping with one key, 'waivers', holding a list", path=shown, line=1)
    entries = root.get("waivers") or []
    if not isinstance(entries, list):
        raise SourceError("'waivers' must be a list", path=shown, line=line_of(root, "waivers"))
    problems = [p for i, item in enumerate(entries) for p in _problems(item, i, shown, entries)]
    if problems:
        first = problems[0]
        others = "; ".join(p.render() for p in problems[1:])
        hint = f"{len(problems) - 1} more: {others}" if others else first.hint
        raise SourceError(first.message, path=first.path, line=first.line, key=first.key, hint=hint)
    items = tuple(_waiver(item, shown) for item in entries)
    return Waivers(path=shown, items=items)


def apply_waivers(diagnostics: Iterable[Diagnostic], waivers: Waivers | None) -> list[Diagnostic]:
    """Mark every diagnostic a waiver matches as waived (reason and waiver location attached)."""
    out = []
    for d in diagnostics:
        waiver = waivers.find(d) if waivers else None
        if waiver is not None and not d.waived:
            extra = (*d.extra, ("waiver", waiver.location))
            d = replace(d, waived=True, waiver_reason=waiver.reason, extra=extra)
        out.append(d)
    return out


def stale_waivers(
    waivers: Waivers | None,
    diagnostics: Iterable[Diagnostic],
    *,
    checkov: bool = True,
    charts: Collection[str] | None = None,
    environments: Collection[str] | None = None,
) -> list[Diagnostic]:
    """Warnings for waivers that matched no finding in a run.

    Call once over the whole run (every chart × environment): a waiver for ``production`` is
    not stale because ``development`` did not need it. Waivers outside the run's scope (a
    chart or environment not checked, a checkov id when checkov did not run) are not reported.
    """
    if not waivers:
        return []
    used = {dict(d.extra).get("waiver") for d in diagnostics if d.waived}
    out = []
    for w in waivers.items:
        if w.location in used:
            continue
        if CHECKOV_ID.match(w.id) and not checkov:
            continue
        if charts is not None and not any(glob_match(w.chart, c) for c in charts):
            continue
        if environments is not None and not any(glob_match(w.environment, e) for e in environments):
            continue
        message = f"stale waiver: no {w.id} finding on {w.kind}/{w.name} any more; remove it"
        out.append(
            Diagnostic(
                severity="warning",
                code=WAIVER_STALE,
                message=message,
                stage="policy",
                path=w.path,
                line=w.line,
                kind=w.kind,
                name=w.name,
                extra=(("waiver_id", w.id),),
            )
        )
    return out
