"""Pod Security Standard semantics beyond the case corpus: version gates and exemptions."""

from __future__ import annotations

from typing import Any

import pytest

from chartforge.manifests import Manifest
from chartforge.policy import check_manifests
from tests.policy.conftest import allow_all_netpol, deployment


def codes(obj: dict[str, Any], version: str = "") -> list[tuple[str, str]]:
    found = check_manifests([Manifest.of(obj), Manifest.of(allow_all_netpol())], version)
    return sorted((f.code, f.field) for f in found)


def test_clean_minimal_deployment() -> None:
    assert codes(deployment()) == []


@pytest.mark.parametrize(
    ("version", "flagged"),
    [("1.33", False), ("1.34", True), ("v1.35.1", True), ("", True)],
)
def test_probe_host_is_forbidden_from_1_34(version: str, flagged: bool) -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
        "tcpSocket": {"port": 80, "host": "db"}
    }
    expected = [("PSS-HOST-PROBES", "spec.template.spec.containers[app].readinessProbe.tcpSocket.host")]
    assert codes(obj, version) == (expected if flagged else [])


@pytest.mark.parametrize(("version", "flagged"), [("1.32", True), ("1.33", False)])
def test_image_volumes_allowed_from_1_33(version: str, flagged: bool) -> None:
    obj = deployment(volumes=[{"name": "models", "image": {"reference": "registry.example.com/models:1"}}])
    expected = [("PSS-VOLUME-TYPES", "spec.template.spec.volumes[models].image")]
    assert codes(obj, version) == (expected if flagged else [])


@pytest.mark.parametrize(
    ("sysctl", "version", "flagged"),
    [
        ("net.ipv4.tcp_keepalive_time", "1.28", True),
        ("net.ipv4.tcp_keepalive_time", "1.29", False),
        ("net.ipv4.ip_local_reserved_ports", "1.26", True),
        ("net.ipv4.ip_local_reserved_ports", "1.27", False),
        ("net.ipv4.ip_unprivileged_port_start", "1.25", False),
        ("kernel.shm_rmid_forced", "", False),
        ("vm.swappiness", "", True),
    ],
)
def test_sysctl_allow_list_follows_version(sysctl: str, version: str, flagged: bool) -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["securityContext"]["sysctls"] = [{"name": sysctl, "value": "1"}]
    assert bool(codes(obj, version)) == flagged


@pytest.mark.parametrize(("version", "flagged"), [("1.30", True), ("1.31", False)])
def test_selinux_container_engine_t_from_1_31(version: str, flagged: bool) -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["securityContext"]["seLinuxOptions"] = {"type": "container_engine_t"}
    assert bool(codes(obj, version)) == flagged


def test_selinux_user_and_role_are_forbidden() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["securityContext"]["seLinuxOptions"] = {
        "user": "u",
        "role": "r",
    }
    base = "spec.template.spec.containers[app].securityContext.seLinuxOptions"
    assert codes(obj) == [("PSS-SELINUX", f"{base}.role"), ("PSS-SELINUX", f"{base}.user")]


def test_container_level_settings_satisfy_restricted_without_pod_level() -> None:
    obj = deployment(securityContext={})
    sc = obj["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    sc.update({"runAsNonRoot": True, "seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}})
    assert codes(obj) == []


def test_pod_level_runasnonroot_false_is_reported_on_the_pod() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False
    obj["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = True
    assert codes(obj) == [("PSS-RUN-AS-NON-ROOT", "spec.template.spec.securityContext.runAsNonRoot")]


def test_windows_pods_are_exempt_from_linux_only_controls() -> None:
    obj = deployment(os={"name": "windows"})
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {}
    obj["spec"]["template"]["spec"]["securityContext"] = {"runAsNonRoot": True}
    assert codes(obj) == []


def test_user_namespace_pods_are_exempt_from_non_root_controls() -> None:
    obj = deployment(hostUsers=False)
    obj["spec"]["template"]["spec"]["securityContext"] = {
        "runAsUser": 0,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert codes(obj) == []


def test_cronjob_pod_template_path_and_no_probes_required() -> None:
    dep = deployment()
    pod = dep["spec"]["template"]
    del pod["spec"]["containers"][0]["livenessProbe"]
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = True
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": pod}}},
    }
    field = "spec.jobTemplate.spec.template.spec.containers[app].securityContext.privileged"
    assert codes(cron) == [("PSS-PRIVILEGED", field)]


def test_unnamed_list_items_are_addressed_by_index() -> None:
    obj = deployment(volumes=[{"gitRepo": {"repository": "x"}}])
    assert codes(obj) == [("PSS-VOLUME-TYPES", "spec.template.spec.volumes[0].gitRepo")]


def test_image_reference_parsing() -> None:
    from chartforge.policy.workload import split_image

    assert split_image("nginx") == ("nginx", "", "")
    assert split_image("localhost:5000/app") == ("localhost:5000/app", "", "")
    assert split_image("localhost:5000/app:1.2") == ("localhost:5000/app", "1.2", "")
    assert split_image("app:latest@sha256:abc") == ("app", "latest", "sha256:abc")
    assert split_image("app@sha256:abc") == ("app", "", "sha256:abc")
