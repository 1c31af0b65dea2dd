"""Values are data: a hostile string reaches every manifest as one YAML scalar of its own type.

Two layers, both with the real helm: the values schema refuses what a parameter's pattern forbids
(an environment file setting ``tls.duration`` to YAML text fails ``build``), and the templates
quote what the schema lets through, so a parameter without a pattern, or any string parameter
when the schema is skipped (``--skip-schema-validation``), still renders as the exact string.
Before the templates were fixed (CF-BUILD-UNQUOTED), each case here injected a label, a key or
changed a string into a number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.catalog.conftest import ROOT, catalog
from tests.conftest import copy_tree, require_tool, run_cli

from chartforge import tools
from chartforge.compile.assemble import assemble, chart_values
from chartforge.compile.catalog import Catalog, load_catalog
from chartforge.helm import template, write_values

pytestmark = pytest.mark.helm

INJECTED_LABEL = "x\napp.kubernetes.io/name: hijack"
HOSTILE = (INJECTED_LABEL, "12345", "a: b")
Getter = Callable[[list[dict[str, Any]]], list[Any]]


def _render(cat: Catalog, chart: str, env: str, *extra: str) -> list[dict[str, Any]]:
    spec = cat.chart(chart)
    with assemble(cat) as tmp:
        values = write_values(tmp / "values.yaml", chart_values(cat, spec, env))
        text = template(tools.find_helm(), tmp / spec.name, release=spec.name, values_files=[values],
                        namespace=spec.name, extra=list(extra))  # fmt: skip
    return [d for d in yaml.safe_load_all(text) if d]


def _of_kind(kind: str, *path: str) -> Getter:
    def get(objects: list[dict[str, Any]]) -> list[Any]:
        found = []
        for obj in objects:
            if obj["kind"] == kind:
                node: Any = obj
                for key in path:
                    node = node[int(key)] if isinstance(node, list) else node[key]
                found.append(node)
        return found

    return get


def _assert_one_scalar(objects: list[dict[str, Any]], got: list[Any], value: str) -> None:
    assert got, "the parameter reached no object"
    assert all(v == value and isinstance(v, str) for v in got), got
    for obj in objects:
        labels = obj["metadata"].get("labels") or {}
        assert labels.get("app.kubernetes.io/name") != "hijack", f"{obj['kind']} got an injected label"
        assert "a" not in obj and "x" not in obj, f"{obj['kind']} got an injected key"


#: (chart, --set-json path, where it lands, other settings that make the object exist), production values
SCHEMA_SKIPPED = [
    ("postgresql-ha", "tls.duration", _of_kind("Certificate", "spec", "duration"), ()),
    ("redis-cluster", "tls.duration", _of_kind("Certificate", "spec", "duration"), ()),
    ("security-baseline", "podSecurity.version",
     _of_kind("Namespace", "metadata", "labels", "pod-security.kubernetes.io/enforce-version"),
     ("--set", "namespace.create=true")),
    ("observability", "podSecurityVersion",
     _of_kind("Namespace", "metadata", "labels", "pod-security.kubernetes.io/audit-version"),
     ("--set", "logs.nodeCollector.enabled=true,logs.elasticsearch.enabled=true")),
]  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE, ids=["newline-label", "number", "colon"])
@pytest.mark.parametrize(
    ("chart", "param", "get", "extra"), SCHEMA_SKIPPED, ids=[f"{c[0]}-{c[1]}" for c in SCHEMA_SKIPPED]
)
def test_templates_quote_string_parameters_even_without_the_schema(
    chart: str, param: str, get: Getter, extra: tuple[str, ...], value: str
) -> None:
    require_tool("helm")
    setting = f"{param}={json.dumps(value)}"
    objects = _render(
        catalog(), chart, "production", "--skip-schema-validation", "--set-json", setting, *extra
    )
    _assert_one_scalar(objects, get(objects), value)


@pytest.fixture(scope="module")
def hostile_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled catalog with hostile values in production.yaml for parameters without a pattern."""
    project = tmp_path_factory.mktemp("values-are-data") / "project"
    for top in ("sources", "charts", "values"):
        copy_tree(ROOT / top, project / top)
    env_file = project / "sources" / "environments" / "production.yaml"
    data = yaml.safe_load(env_file.read_text())
    data["postgresql-ha"]["postgresql"]["priorityClassName"] = "12345"
    data["security-baseline"]["certManager"]["certificates"] = [
        {"name": "client", "dnsNames": ["client.example"], "duration": INJECTED_LABEL, "secretName": "a: b"},
    ]
    env_file.write_text(yaml.safe_dump(data, sort_keys=False))
    done = run_cli("-C", str(project), "build")
    assert done.returncode == 0, done.stderr
    return project


def _client_certificate(field: str) -> Getter:
    def get(objects: list[dict[str, Any]]) -> list[Any]:
        return [o["spec"][field] for o in objects
                if o["kind"] == "Certificate" and "client.example" in o["spec"].get("dnsNames", [])]  # fmt: skip

    return get


#: (chart, value set in production.yaml by hostile_project, where it lands)
FROM_ENVIRONMENT = [
    ("postgresql-ha", "12345", _of_kind("StatefulSet", "spec", "template", "spec", "priorityClassName")),
    ("security-baseline", INJECTED_LABEL, _client_certificate("duration")),
    ("security-baseline", "a: b", _client_certificate("secretName")),
]


@pytest.mark.parametrize(
    ("chart", "value", "get"), FROM_ENVIRONMENT, ids=["priorityClassName", "duration", "secretName"]
)
def test_environment_file_values_render_as_one_scalar(
    hostile_project: Path, chart: str, value: str, get: Getter
) -> None:
    require_tool("helm")
    objects = _render(load_catalog(hostile_project), chart, "production")
    _assert_one_scalar(objects, get(objects), value)


@pytest.mark.parametrize(("chart", "param"), [("postgresql-ha", "tls"), ("security-baseline", "podSecurity")])
def test_the_schema_refuses_yaml_text_where_a_pattern_forbids_it(
    tmp_path: Path, chart: str, param: str
) -> None:
    project = tmp_path / "project"
    copy_tree(ROOT / "sources", project / "sources")
    env_file = project / "sources" / "environments" / "production.yaml"
    data = yaml.safe_load(env_file.read_text())
    key = "duration" if param == "tls" else "version"
    data[chart].setdefault(param, {})[key] = INJECTED_LABEL
    env_file.write_text(yaml.safe_dump(data, sort_keys=False))
    done = run_cli("-C", str(project), "build")
    assert done.returncode == 1, done.stderr
    assert "sources/environments/production.yaml" in done.stderr and key in done.stderr, done.stderr
