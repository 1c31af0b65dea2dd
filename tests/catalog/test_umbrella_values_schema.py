"""The umbrella's ``values.schema.json`` holds only its own values; helm still refuses every bad
sub-chart value given through the umbrella, naming the sub-chart and the field (real helm 3 and 4).

helm checks an umbrella's values chart by chart: the umbrella's section against the umbrella's
schema, each enabled dependency's section against that sub-chart's own schema
(``ValidateAgainstSchema`` recurses into the dependencies). A disabled sub-chart is dropped before
that check, so helm accepts anything under it; ``chartforge build`` still refuses such a value in
an environment file (tests/test_umbrellaschema.py), and docs/source-format.md says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.catalog.conftest import ROOT, catalog
from tests.conftest import require_tool

from chartforge import proc, tools
from chartforge.compile.assemble import assemble
from chartforge.helm import write_values
from chartforge.tools import Helm

pytestmark = pytest.mark.helm

UMBRELLA = "spotify-ai-agent"
# one wrong value per sub-chart, deep in its own schema, and one unknown key each
BAD: dict[str, tuple[tuple[str, ...], Any]] = {
    "postgresql-ha": (("postgresql", "replicaCount"), "three"),
    "redis-cluster": (("cluster", "nodeTimeout"), "soon"),
    "mongodb-sharded": (("configsvr", "replicaCount"), "many"),
    "security-baseline": (("networkPolicy", "patroniApi", "port"), "http"),
    "observability": (("components", "postgresql-ha", "replicationLagSeconds"), "slow"),
}
UNKNOWN = "noSuchParameter"


def _helm(major: int) -> Helm:
    helm = next((h for h in tools.find_helms() if h.major == major), None)
    if helm is None:
        require_tool(f"helm{major}")
        pytest.skip(f"no helm {major}")
    return helm


def _bad_values(*, disabled: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for chart, (path, value) in BAD.items():
        section: dict[str, Any] = {UNKNOWN: 1}
        node = section
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
        if disabled:
            section["enabled"] = False
        data[chart] = section
    return data


def _sections(text: str) -> dict[str, list[str]]:
    """helm's schema error, cut by chart: ``<chart>:`` then ``- <problem>`` lines."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if re.fullmatch(r"[a-z0-9-]+:", line.strip()):
            current = line.strip()[:-1]
        elif line.startswith("- ") and current:
            found.setdefault(current, []).append(line[2:])
    return found


def _field(major: int, path: tuple[str, ...]) -> str:
    return ".".join(path) + ":" if major == 3 else "at '/" + "/".join(path) + "'"


def _unknown(major: int) -> str:
    return f"Additional property {UNKNOWN} is not allowed" if major == 3 else f"'{UNKNOWN}' not allowed"


def _commands(helm: Helm, chart: Path, files: list[Path]) -> dict[str, list[str]]:
    values = [arg for f in files for arg in ("-f", str(f))]
    commands = {
        "lint": [helm.path, "lint", "--strict", str(chart), *values],
        "template": [helm.path, "template", UMBRELLA, str(chart), *values],
    }
    if helm.major == 4:  # helm 3.17 asks an API server for capabilities even with a client dry-run
        commands["install"] = [helm.path, "install", UMBRELLA, str(chart), "--dry-run=client", *values]
    return commands


def test_the_umbrella_schema_holds_only_its_own_values() -> None:
    schema = json.loads((ROOT / "charts" / UMBRELLA / "values.schema.json").read_text())
    assert len(json.dumps(schema)) < 20_000  # was 428 KB with every sub-chart schema embedded
    for chart in BAD:
        entry = schema["properties"][chart]
        assert entry["properties"] == {"enabled": entry["properties"]["enabled"]}
        assert entry["properties"]["enabled"]["type"] == "boolean"
        assert entry["additionalProperties"] is True and entry["type"] == "object"
        assert (ROOT / "charts" / chart / "values.schema.json").is_file()


@pytest.mark.parametrize("major", [3, 4])
def test_every_bad_subchart_value_is_refused_naming_the_subchart_and_field(
    major: int, tmp_path: Path
) -> None:
    helm = _helm(major)
    with assemble(catalog()) as tmp:
        bad = write_values(tmp_path / "bad.yaml", _bad_values())
        files = [ROOT / "values" / "production.yaml", bad]
        for verb, args in _commands(helm, tmp / UMBRELLA, files).items():
            done = proc.run(args, check=False, what=f"helm {verb}")
            assert done.returncode != 0, f"helm {major} {verb} accepted bad values"
            sections = _sections(done.stdout + done.stderr)
            assert UMBRELLA not in sections, f"helm {major} {verb}: the umbrella's schema should not see them"
            for chart, (path, _) in BAD.items():
                problems = sections.get(chart, [])
                assert any(p.startswith(_field(major, path)) for p in problems), (verb, chart, problems)
                assert any(_unknown(major) in p for p in problems), (verb, chart, problems)


@pytest.mark.parametrize("major", [3, 4])
def test_the_umbrella_schema_still_refuses_its_own_mistakes(major: int, tmp_path: Path) -> None:
    helm = _helm(major)
    with assemble(catalog()) as tmp:
        bad = write_values(tmp_path / "bad.yaml", {"redis-cluster": {"enabled": "yes"}, "global": {"typo": 1},
                                                   "noSuchChart": {}})  # fmt: skip
        args = _commands(helm, tmp / UMBRELLA, [ROOT / "values" / "production.yaml", bad])["template"]
        done = proc.run(args, check=False, what="helm template")
    assert done.returncode != 0
    problems = " ".join(_sections(done.stderr).get(UMBRELLA, []))
    assert "redis-cluster" in problems and "typo" in problems and "noSuchChart" in problems


@pytest.mark.parametrize("major", [3, 4])
def test_a_disabled_subcharts_values_are_not_checked_by_helm(major: int, tmp_path: Path) -> None:
    # Pinned, documented behaviour: helm drops a disabled dependency before validating values, so
    # neither the sub-chart's schema nor the umbrella's (which no longer nests it) sees them.
    helm = _helm(major)
    with assemble(catalog()) as tmp:
        bad = write_values(tmp_path / "bad.yaml", _bad_values(disabled=True))
        for verb, args in _commands(helm, tmp / UMBRELLA, [ROOT / "values" / "production.yaml", bad]).items():
            done = proc.run(args, check=False, what=f"helm {verb}")
            assert done.returncode == 0, f"helm {major} {verb}:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("major", [3, 4])
def test_it_is_the_subchart_schema_that_refuses(major: int, tmp_path: Path) -> None:
    # without the sub-chart's own values.schema.json the same bad value passes: nothing else checks it
    helm = _helm(major)
    with assemble(catalog()) as tmp:
        (tmp / "redis-cluster" / "values.schema.json").unlink()
        bad = write_values(tmp_path / "bad.yaml", {"redis-cluster": {UNKNOWN: 1}})
        args = _commands(helm, tmp / UMBRELLA, [ROOT / "values" / "production.yaml", bad])["template"]
        done = proc.run(args, check=False, what="helm template")
    assert done.returncode == 0, done.stderr
