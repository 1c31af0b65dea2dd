"""``diff``: rendered manifests, local vs latest published, chart-version labels ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartforge.package import PackageResult, package_charts
from chartforge.publish.diff import HIDDEN, MASK, diff_charts, latest_version, normalize
from chartforge.publish.helmreg import select_helm
from chartforge.publish.publish import publish
from chartforge.publish.retry import RetryPolicy
from tests.conftest import run_cli
from tests.publish.conftest import LocalRegistry

FAST = RetryPolicy(attempts=3, initial_delay=0.1, max_delay=0.5)


def test_mask_versions() -> None:
    text = (
        'metadata:\n  labels:\n    helm.sh/chart: db-1.0.0\n    app.kubernetes.io/version: "2.1.0"\n'
        "    chart: db-1.0.0\n    chart: not-a-version\n  annotations:\n    example.com/chart-version: 1.0.0\n"
    )
    lines = normalize(text)
    assert lines[2] == f"    helm.sh/chart: {MASK}"
    assert lines[3] == f"    app.kubernetes.io/version: {MASK}"
    assert lines[4] == f"    chart: {MASK}"
    assert lines[5] == "    chart: not-a-version"
    assert lines[7] == f"    example.com/chart-version: {MASK}"


def test_secret_values_and_checksums_are_hidden() -> None:
    text = (
        '---\n# Source: db/templates/secret.yaml\napiVersion: v1\ndata:\n  password: "c2VjcmV0"\n'
        "  'tls.crt': |\n    -----BEGIN CERTIFICATE-----\n    MIIB\nkind: Secret\nmetadata:\n  name: db\n"
        "---\napiVersion: v1\nkind: ConfigMap\ndata:\n  password_file: /etc/secret\n"
        "---\nkind: Deployment\nspec:\n  template:\n    metadata:\n      annotations:\n"
        "        checksum/secret: 0123abcd\n"
    )
    lines = normalize(text)
    assert f"  password: {HIDDEN}" in lines and f"  'tls.crt': {HIDDEN}" in lines
    assert not any("c2VjcmV0" in line or "MIIB" in line or "BEGIN" in line for line in lines)
    assert "  password_file: /etc/secret" in lines, "only Secrets are masked"
    assert f"        checksum/secret: {HIDDEN}" in lines
    assert "# Source: db/templates/secret.yaml" in lines and "  name: db" in lines


def test_latest_version() -> None:
    assert latest_version(["1.0.0", "1.10.0", "1.9.3", "latest", "2.0.0-rc.1"]) == "2.0.0-rc.1"
    assert latest_version(["1.0.0", "1.0.0_build.1"]) in ("1.0.0", "1.0.0+build.1")
    assert latest_version(["2.0.0-rc.1", "2.0.0"]) == "2.0.0"
    assert latest_version(["latest"]) is None


@pytest.mark.registry
@pytest.mark.helm
def test_diff_shows_content_changes_not_version_bumps(
    plain_registry: LocalRegistry, project: Path, packaged: PackageResult, tmp_path: Path
) -> None:
    target = plain_registry.target()
    helm = select_helm(target)
    values = project / "values"
    fresh = diff_charts(packaged, target, helm, values_dir=values, environments=["staging"], retry=FAST)
    assert all(d.remote_version is None and d.diff.startswith("--- /dev/null") for d in fresh.diffs)
    publish(packaged, target, helm, retry=FAST)
    same = diff_charts(packaged, target, helm, values_dir=values, retry=FAST)
    assert len(same.diffs) == 9 and not same.changed  # 3 charts × 3 environments
    # A version bump alone (db 1.0.1, umbrella pinning it) renders the same manifests.
    for rel, old, new in (
        ("charts/db/Chart.yaml", "version: 1.0.0", "version: 1.0.1"),
        ("charts/stack/Chart.yaml", "  - name: db\n    version: 1.0.0", "  - name: db\n    version: 1.0.1"),
    ):
        path = project / rel
        path.write_text(path.read_text().replace(old, new, 1))
    bumped = package_charts(project / "charts", tmp_path / "bumped")
    result = diff_charts(bumped, target, helm, values_dir=values, environments=["production"], retry=FAST)
    assert not result.changed, "\n".join(d.diff for d in result.diffs)
    assert [(d.chart, d.local_version, d.remote_version) for d in result.diffs][1] == ("db", "1.0.1", "1.0.0")
    # A template change shows up where it renders: the sub-chart and the umbrella.
    template = project / "charts/db/templates/configmap.yaml"
    template.write_text(template.read_text() + '  POOL_SIZE: "20"\n')
    changed = package_charts(project / "charts", tmp_path / "changed")
    result = diff_charts(changed, target, helm, values_dir=values, environments=["production"], retry=FAST)
    by_chart = {d.chart: d for d in result.diffs}
    assert not by_chart["cache"].changed
    for chart in ("db", "stack"):
        assert '+  POOL_SIZE: "20"' in by_chart[chart].diff
        assert f"--- {target.chart_url(chart)}:1.0.0 (production)" in by_chart[chart].diff
    cli = ["-C", str(project), "diff", "--env", "production", *plain_registry.cli_args(target), "--exit-code"]
    done = run_cli(*cli)
    assert done.returncode == 1, done.stderr
    assert (
        '+  POOL_SIZE: "20"' in done.stdout and "cache (production): no change against 1.0.0" in done.stderr
    )
    unknown = run_cli("-C", str(project), "diff", "--env", "qa", *plain_registry.cli_args(target))
    assert unknown.returncode == 1 and "no values file for environment 'qa'" in unknown.stderr
