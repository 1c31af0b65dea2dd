"""Pod Security Standard "baseline" controls (the "restricted" profile includes all of them).

Rules as defined on kubernetes.io (Pod Security Standards) and implemented by the
pod-security-admission checks; version-dependent allow lists follow the Kubernetes version
being checked (an unknown version gets the newest rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from chartforge.policy.codes import Finding
from chartforge.policy.model import PodTemplate, Version, as_list, as_map, at_least, item_key

Check = Callable[[PodTemplate, Version], Iterator[Finding]]


def finding(pod: PodTemplate, code: str, field: str, message: str) -> Finding:
    return Finding(code=code, manifest=pod.manifest, field=field, message=message)


def host_process(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    if as_map(pod.security.get("windowsOptions")).get("hostProcess") is True:
        field = f"{pod.spec_path}.securityContext.windowsOptions.hostProcess"
        yield finding(pod, "PSS-HOST-PROCESS", field, "pod runs Windows HostProcess containers")
    for c in pod.containers:
        if as_map(c.security.get("windowsOptions")).get("hostProcess") is True:
            field = f"{c.path}.securityContext.windowsOptions.hostProcess"
            yield finding(pod, "PSS-HOST-PROCESS", field, f"container '{c.name}' is a Windows HostProcess")


def host_namespaces(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.spec.get(key) is True:
            field = f"{pod.spec_path}.{key}"
            yield finding(pod, "PSS-HOST-NAMESPACES", field, f"{key}: true shares the node's namespace")


def privileged(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    for c in pod.containers:
        if c.security.get("privileged") is True:
            field = f"{c.path}.securityContext.privileged"
            yield finding(pod, "PSS-PRIVILEGED", field, f"container '{c.name}' is privileged")


def host_path(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    for i, vol in enumerate(as_list(pod.spec.get("volumes"))):
        if "hostPath" in as_map(vol):
            path = as_map(as_map(vol).get("hostPath")).get("path", "")
            field = f"{pod.spec_path}.volumes[{item_key(vol, i)}].hostPath"
            yield finding(pod, "PSS-HOSTPATH", field, f"hostPath volume mounts the node's '{path}'")


def host_ports(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    for c in pod.containers:
        for i, port in enumerate(as_list(c.spec.get("ports"))):
            host_port = as_map(port).get("hostPort")
            if host_port not in (None, 0):
                field = f"{c.path}.ports[{item_key(port, i)}].hostPort"
                yield finding(
                    pod, "PSS-HOST-PORTS", field, f"container '{c.name}' binds hostPort {host_port}"
                )


_HANDLERS = ("livenessProbe", "readinessProbe", "startupProbe", "lifecycle.postStart", "lifecycle.preStop")


def host_probes(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    if not at_least(version, (1, 34)):
        return
    for c in pod.containers:
        for handler in _HANDLERS:
            node: Any = c.spec
            for part in handler.split("."):
                node = as_map(node).get(part)
            for action in ("httpGet", "tcpSocket"):
                host = as_map(as_map(node).get(action)).get("host")
                if host:
                    field = f"{c.path}.{handler}.{action}.host"
                    message = f"container '{c.name}' {handler} targets host '{host}' (kubelet SSRF)"
                    yield finding(pod, "PSS-HOST-PROBES", field, message)


_APPARMOR_TYPES = {"RuntimeDefault", "Localhost"}
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def apparmor(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    profile = as_map(pod.security.get("appArmorProfile")).get("type")
    if profile is not None and profile not in _APPARMOR_TYPES:
        field = f"{pod.spec_path}.securityContext.appArmorProfile.type"
        yield finding(pod, "PSS-APPARMOR", field, f"pod AppArmor profile is {profile}")
    for c in pod.containers:
        profile = as_map(c.security.get("appArmorProfile")).get("type")
        if profile is not None and profile not in _APPARMOR_TYPES:
            field = f"{c.path}.securityContext.appArmorProfile.type"
            yield finding(pod, "PSS-APPARMOR", field, f"container '{c.name}' AppArmor profile is {profile}")
    for key, value in as_map(pod.metadata.get("annotations")).items():
        if str(key).startswith(_APPARMOR_ANNOTATION):
            text = str(value)
            if text != "runtime/default" and not text.startswith("localhost/"):
                field = f"{pod.meta_path}.annotations[{key}]"
                yield finding(pod, "PSS-APPARMOR", field, f"AppArmor annotation sets '{text}'")


def _selinux_types(version: Version) -> set[str]:
    allowed = {"", "container_t", "container_init_t", "container_kvm_t"}
    if at_least(version, (1, 31)):
        allowed.add("container_engine_t")
    return allowed


def selinux(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    allowed = _selinux_types(version)
    targets = [("pod", f"{pod.spec_path}.securityContext", pod.security)]
    targets += [(f"container '{c.name}'", f"{c.path}.securityContext", c.security) for c in pod.containers]
    for who, path, security in targets:
        options = as_map(security.get("seLinuxOptions"))
        if str(options.get("type") or "") not in allowed:
            message = f"{who} sets SELinux type '{options.get('type')}'"
            yield finding(pod, "PSS-SELINUX", f"{path}.seLinuxOptions.type", message)
        for key in ("user", "role"):
            if options.get(key):
                message = f"{who} sets a custom SELinux {key}"
                yield finding(pod, "PSS-SELINUX", f"{path}.seLinuxOptions.{key}", message)


def proc_mount(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    for c in pod.containers:
        mount = c.security.get("procMount")
        if mount not in (None, "Default"):
            field = f"{c.path}.securityContext.procMount"
            yield finding(pod, "PSS-PROC-MOUNT", field, f"container '{c.name}' sets procMount {mount}")


def _safe_sysctls(version: Version) -> set[str]:
    allowed = {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
    }
    if at_least(version, (1, 27)):
        allowed.add("net.ipv4.ip_local_reserved_ports")
    if at_least(version, (1, 29)):
        allowed.update(
            {
                "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
            }
        )
    if at_least(version, (1, 32)):
        allowed.update({"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"})
    return allowed


def sysctls(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    allowed = _safe_sysctls(version)
    for i, sysctl in enumerate(as_list(pod.security.get("sysctls"))):
        name = str(as_map(sysctl).get("name") or "")
        if name not in allowed:
            field = f"{pod.spec_path}.securityContext.sysctls[{item_key(sysctl, i)}]"
            yield finding(pod, "PSS-SYSCTLS", field, f"sysctl '{name}' is not in the safe set")


BASELINE_CHECKS: tuple[Check, ...] = (
    host_process,
    host_namespaces,
    privileged,
    host_path,
    host_ports,
    host_probes,
    apparmor,
    selinux,
    proc_mount,
    sysctls,
)
