"""Validation results as data: per resource, per Kubernetes version; and the report they form."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from chartforge import codes
from chartforge.diagnostics import Checked, Diagnostic
from chartforge.manifests import Manifest
from chartforge.validate.locate import FieldLocator
from chartforge.validate.schemas import SchemaStore, version_key

Status = Literal["valid", "invalid", "no-schema", "unparsable"]

CODE_SCHEMA = codes.VALIDATE_SCHEMA
CODE_NO_SCHEMA = codes.VALIDATE_NO_SCHEMA
CODE_YAML = codes.VALIDATE_YAML
_CODES: dict[Status, str] = {"invalid": CODE_SCHEMA, "no-schema": CODE_NO_SCHEMA, "unparsable": CODE_YAML}
STAGE = "validate"


@dataclass(frozen=True, order=True)
class FieldError:
    """One schema violation. ``path`` is a JSON pointer into the object (``""`` = the object).

    Both engines name the same ``path``: an unknown field or a missing required field is
    reported at the field itself (``/spec/template/spec/containers/0/foo``), everything
    else at the value that failed; a failed ``oneOf``/``anyOf`` at the value, not its branches.
    """

    path: str
    message: str


@dataclass(frozen=True)
class ResourceResult:
    resource: Manifest
    kubernetes_version: str
    status: Status
    errors: tuple[FieldError, ...] = ()
    schema: str = ""  # the schema file used, when one was found

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(e.path for e in self.errors)


def unparsable_result(resource: Manifest, version: str) -> ResourceResult:
    return ResourceResult(resource, version, "unparsable", (FieldError("", resource.error or "unparsable"),))


def no_schema_result(resource: Manifest, store: SchemaStore) -> ResourceResult:
    version = store.kubernetes_version
    served = store.served_as(resource.kind)
    why = (
        f"Kubernetes {version} serves {resource.kind} as {', '.join(served)}"
        if served
        else "removed or unknown API version?"
    )
    crds = f"the CRD schemas in {store.crd_dir}" if store.crd_dir else "any CRD schema (no CRD directory)"
    message = (
        f"no schema for {resource.api_version} {resource.kind} in Kubernetes {version} ({why}) nor in {crds}"
    )
    return ResourceResult(resource, version, "no-schema", (FieldError("", message),))


@dataclass(frozen=True)
class ValidationReport:
    """Every resource checked against every requested Kubernetes version by one engine."""

    engine: str
    kubernetes_versions: tuple[str, ...]
    resources: tuple[Manifest, ...]
    results: tuple[ResourceResult, ...]
    chart: str = ""
    environment: str = ""

    @property
    def valid(self) -> bool:
        return all(r.valid for r in self.results)

    def counts(self) -> dict[str, int]:
        """Resources (not results) by outcome: valid on every version, or not."""
        invalid = {id(r.resource) for r in self.results if not r.valid}
        return {
            "resources": len(self.resources),
            "invalid": len(invalid),
            "valid": len(self.resources) - len(invalid),
            "versions": len(self.kubernetes_versions),
            "checks": len(self.results),
            "failed_checks": sum(1 for r in self.results if not r.valid),
        }

    def by_resource(self) -> Iterator[tuple[Manifest, list[ResourceResult]]]:
        grouped: dict[int, list[ResourceResult]] = {}
        for result in self.results:
            grouped.setdefault(id(result.resource), []).append(result)
        for resource in self.resources:
            yield resource, grouped.get(id(resource), [])

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready record per resource (``--output json``)."""
        records = []
        for resource, results in self.by_resource():
            records.append(
                {
                    "file": resource.file,
                    "document_index": resource.document_index,
                    "item_index": resource.item_index,
                    "line": resource.line,
                    "source": resource.source,
                    "apiVersion": resource.api_version,
                    "kind": resource.kind,
                    "name": resource.name,
                    "namespace": resource.namespace,
                    "valid": all(r.valid for r in results),
                    "versions": {r.kubernetes_version: r.status for r in results},
                    "errors": [
                        {
                            "kubernetes_version": r.kubernetes_version,
                            "status": r.status,
                            "path": e.path,
                            "message": e.message,
                        }
                        for r in results
                        for e in r.errors
                    ],
                }
            )
        return records

    def to_diagnostics(self, *, chart: str | None = None, environment: str | None = None) -> list[Diagnostic]:
        """Findings for the shared reporters: one per failed field per version.

        A document that is not a Kubernetes object is reported once, not once per version.
        ``chart``/``environment`` default to the report's own.
        """
        chart = self.chart if chart is None else chart
        environment = self.environment if environment is None else environment
        locator = FieldLocator()
        out: list[Diagnostic] = []
        reported_unparsable: set[int] = set()
        for result in self.results:
            if result.valid:
                continue
            res = result.resource
            version = result.kubernetes_version
            if result.status == "unparsable":
                if id(res) in reported_unparsable:
                    continue
                reported_unparsable.add(id(res))
                version = ""
            for error in result.errors:
                line = res.error_line if result.status == "unparsable" else locator.line(res, error.path)
                path, line = _where(res, line)
                out.append(
                    Diagnostic(
                        severity="error",
                        code=_CODES[result.status],
                        message=error.message,
                        stage=STAGE,
                        chart=chart,
                        environment=environment,
                        kubernetes_version=version,
                        path=path,
                        line=line,
                        kind=res.kind,
                        name=res.name,
                        field=error.path,
                        extra=_extra(res, self.engine),
                    )
                )
        return out

    def checked(self, *, chart: str | None = None, environment: str | None = None) -> list[Checked]:
        """Every (resource, version) checked, for JUnit test cases (passes included)."""
        chart = self.chart if chart is None else chart
        environment = self.environment if environment is None else environment
        out = []
        for result in self.results:
            res = result.resource
            version = "" if result.status == "unparsable" else result.kubernetes_version
            out.append(Checked(STAGE, chart, environment, version, _where(res, None)[0], res.kind, res.name))
        return out


def _where(res: Manifest, line: int | None) -> tuple[str, int | None]:
    """Rendered streams (``<helm template …>``) are located by their template, real files by file:line."""
    if res.file.startswith("<"):
        return res.source or res.file, None
    return res.file, line


def _extra(res: Manifest, engine: str) -> tuple[tuple[str, str], ...]:
    extra = [("file", res.file), ("document", str(res.document_index)), ("engine", engine)]
    if res.item_index is not None:
        extra.append(("item", str(res.item_index)))
    if res.api_version:
        extra.append(("apiVersion", res.api_version))
    if res.source:
        extra.append(("source", res.source))
    return tuple(extra)


def results_sorted(
    results: Sequence[ResourceResult], resources: Sequence[Manifest]
) -> tuple[ResourceResult, ...]:
    order = {id(r): i for i, r in enumerate(resources)}
    rank = {v: version_key(v) for v in {r.kubernetes_version for r in results}}  # each version parsed once
    return tuple(sorted(results, key=lambda r: (order[id(r.resource)], rank[r.kubernetes_version])))
