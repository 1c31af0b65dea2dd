"""Release safety end to end, against the real registry (Debian's docker-registry) and the real helm.

The bundled catalog is published; a StatefulSet's serviceName is changed in sources; then
``check --against`` fails naming the rule and the chart, ``publish`` refuses before pushing,
a too-small bump is named, and ``bump … major`` plus a declared break make it pass and publish.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from chartforge.publish.oci import OciClient
from tests.conftest import ROOT, copy_tree, require_tool, run_cli
from tests.publish.conftest import LocalRegistry

pytestmark = [pytest.mark.registry, pytest.mark.helm, pytest.mark.slow]
STS = Path("sources/charts/postgresql-ha/templates/statefulset.yaml.j2")
BREAK = """breaks:
  - version: 2.0.0
    summary: The PostgreSQL StatefulSet's serviceName changes (pod DNS names move to the new Service).
    migration:
      - kubectl -n NS delete statefulset RELEASE-postgresql --cascade=orphan
      - helm upgrade RELEASE oci://REGISTRY/NS/spotify-ai-agent --version 2.0.0
    rules: [CF-UPG-002]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for top in ("sources", "charts", "values"):
        copy_tree(ROOT / top, root / top)
    return root


def _rename_service(project: Path) -> None:
    path = project / STS
    text = path.read_text()
    old = 'serviceName: {{ include "[[ chart.name ]].componentName" (dict "context" $ "component" "headless") }}'
    assert old in text
    path.write_text(text.replace(old, old.replace('"headless"', '"headless-v2"')))
    assert run_cli("-C", str(project), "build").returncode == 0


def _compat(
    project: Path, registry: LocalRegistry, url: str, env: dict[str, str] | None = None
) -> tuple[int, list[dict]]:  # type: ignore[type-arg]
    args = ["-C", str(project), "check", "--stage", "compat", "--against", url, "-o", "json"]
    args += ["--ca-file", str(registry.ca_file)] if registry.ca_file else ["--plain-http"]
    done = run_cli(*args, env=env or registry.cli_env)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)["diagnostics"]


def test_changed_service_name_is_caught_bumped_declared_and_published(
    plain_registry: LocalRegistry, project: Path
) -> None:
    target = plain_registry.target()
    publish = ["-C", str(project), "publish", *plain_registry.cli_args(target)]
    first = run_cli(*publish)
    assert first.returncode == 0, first.stderr
    assert _compat(project, plain_registry, target.url) == (0, [])

    _rename_service(project)
    code, found = _compat(project, plain_registry, target.url)
    assert code == 1
    upg = [d for d in found if d["code"] == "CF-UPG-002"]
    assert {d["environment"] for d in upg} == {"development", "staging", "production"}
    assert {(d["chart"], d["kind"], d["field"]) for d in upg} == {
        ("postgresql-ha", "StatefulSet", "spec.serviceName")
    }
    rel = {d["chart"]: d for d in found if d["code"] == "CF-REL-001"}
    assert set(rel) == {"postgresql-ha", "spotify-ai-agent"}
    assert (
        rel["postgresql-ha"]["path"] == "sources/charts/postgresql-ha/chart.yaml"
        and rel["postgresql-ha"]["line"] == 1
    )
    assert (
        "use 2.0.0" in rel["postgresql-ha"]["message"] and rel["postgresql-ha"]["extra"]["version"] == "2.0.0"
    )

    refused = run_cli(*publish)
    assert refused.returncode == 4, refused.stderr
    assert "refusing to release postgresql-ha, spotify-ai-agent" in refused.stderr
    assert "CF-UPG-002" in refused.stderr and "sources/charts/postgresql-ha/chart.yaml:1" in refused.stderr
    client = OciClient(target)
    assert client.tags(target.repository("postgresql-ha")) == ["1.0.0"]  # nothing was pushed

    assert run_cli("-C", str(project), "bump", "postgresql-ha", "minor").returncode == 0
    code, found = _compat(project, plain_registry, target.url)
    too_small = {d["chart"]: d["message"] for d in found if d["code"] == "CF-REL-002"}
    assert (
        code == 1
        and "1.0.0 → 1.1.0 is a minor bump but the change is major: use 2.0.0" in too_small["postgresql-ha"]
    )

    chart_yaml = project / "sources/charts/postgresql-ha/chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text() + BREAK)
    assert run_cli("-C", str(project), "bump", "postgresql-ha", "major").returncode == 0
    assert "version: 2.0.0" in chart_yaml.read_text()
    code, found = _compat(project, plain_registry, target.url)
    assert code == 0, found
    assert found and all(d["waived"] and d["code"] == "CF-UPG-002" for d in found)
    assert found[0]["waiver_reason"].startswith(
        "declared break 2.0.0: The PostgreSQL StatefulSet's serviceName"
    )

    done = run_cli(*publish, "-o", "json")
    assert done.returncode == 0, done.stderr
    status = {c["name"]: (c["version"], c["status"]) for c in json.loads(done.stdout)["charts"]}
    assert status["postgresql-ha"] == ("2.0.0", "pushed") and status["spotify-ai-agent"] == (
        "2.0.0",
        "pushed",
    )
    assert status["redis-cluster"] == ("1.0.0", "unchanged")
    helm = require_tool("helm")
    shown = subprocess.run([helm, "show", "readme", target.chart_url("postgresql-ha"), "--version", "2.0.0",
                            "--plain-http"], capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "## Upgrading" in shown and "### To 2.0.0" in shown and "--cascade=orphan" in shown


def test_tls_registry_with_credentials(secure_registry: LocalRegistry, project: Path) -> None:
    target = secure_registry.target()
    done = run_cli(
        "-C", str(project), "publish", *secure_registry.cli_args(target), env=secure_registry.cli_env
    )
    assert done.returncode == 0, done.stderr
    assert _compat(project, secure_registry, target.url) == (0, [])
    wrong = {"CHARTFORGE_REGISTRY_USERNAME": "chartforge", "CHARTFORGE_REGISTRY_PASSWORD": "Wr0ng-Pa55"}
    args = ["-C", str(project), "check", "--stage", "compat", "--against", target.url, "--ca-file",
            str(secure_registry.ca_file)]  # fmt: skip
    denied = run_cli(*args, env=wrong)
    assert denied.returncode != 0 and "Traceback" not in denied.stderr and "Wr0ng-Pa55" not in denied.stderr
    assert "credentials" in denied.stderr
