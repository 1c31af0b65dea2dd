"""Pod Security Standard "restricted" controls, on top of :mod:`pss_baseline`.

Semantics follow pod-security-admission: a pod-level setting covers containers that leave
the field unset; a container's own value wins over the pod's. Pods with ``os.name: windows``
are exempt from the Linux-only controls (privilege escalation, seccomp, capabilities) and pods
in a user namespace (``hostUsers: false``) from the non-root controls, as in Kubernetes 1.25+.
"""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.policy.codes import Finding
from chartforge.policy.model import PodTemplate, Version, as_list, as_map, at_least, item_key
from chartforge.policy.pss_baseline import Check, finding

_CORE_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def volume_types(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    allowed = _CORE_VOLUMES | ({"image"} if at_least(version, (1, 33)) else set())
    for i, vol in enumerate(as_list(pod.spec.get("volumes"))):
        for key in as_map(vol):
            if key in ("name", "hostPath") or key in allowed:  # hostPath: reported as PSS-HOSTPATH
                continue
            field = f"{pod.spec_path}.volumes[{item_key(vol, i)}].{key}"
            yield finding(pod, "PSS-VOLUME-TYPES", field, f"volume type '{key}' is not allowed")


def privilege_escalation(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    if pod.is_windows:
        return
    for c in pod.containers:
        if c.security.get("allowPrivilegeEscalation") is not False:
            field = f"{c.path}.securityContext.allowPrivilegeEscalation"
            yield finding(
                pod, "PSS-PRIV-ESC", field, f"container '{c.name}' must set allowPrivilegeEscalation: false"
            )


def _user_namespaced(pod: PodTemplate) -> bool:
    return pod.spec.get("hostUsers") is False


def run_as_non_root(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    if _user_namespaced(pod):
        return
    pod_value = pod.security.get("runAsNonRoot")
    if pod_value is False:
        field = f"{pod.spec_path}.securityContext.runAsNonRoot"
        yield finding(pod, "PSS-RUN-AS-NON-ROOT", field, "pod sets runAsNonRoot: false")
    for c in pod.containers:
        value = c.security.get("runAsNonRoot")
        field = f"{c.path}.securityContext.runAsNonRoot"
        if value is False:
            yield finding(pod, "PSS-RUN-AS-NON-ROOT", field, f"container '{c.name}' sets runAsNonRoot: false")
        elif value is None and pod_value is not True:
            message = f"neither the pod nor container '{c.name}' sets runAsNonRoot: true"
            yield finding(pod, "PSS-RUN-AS-NON-ROOT", field, message)


def run_as_user(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    if _user_namespaced(pod):
        return
    if pod.security.get("runAsUser") == 0:
        field = f"{pod.spec_path}.securityContext.runAsUser"
        yield finding(pod, "PSS-RUN-AS-USER", field, "pod runs as UID 0 (root)")
    for c in pod.containers:
        if c.security.get("runAsUser") == 0:
            field = f"{c.path}.securityContext.runAsUser"
            yield finding(pod, "PSS-RUN-AS-USER", field, f"container '{c.name}' runs as UID 0 (root)")


_SECCOMP_OK = {"RuntimeDefault", "Localhost"}


def _bad_seccomp(value: object, windows: bool) -> bool:
    """Unconfined is never allowed (baseline); anything else but the two good types is a
    restricted violation, except on Windows where seccomp does not apply."""
    return value == "Unconfined" or (value is not None and value not in _SECCOMP_OK and not windows)


def seccomp(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    pod_type = as_map(pod.security.get("seccompProfile")).get("type")
    if _bad_seccomp(pod_type, pod.is_windows):
        field = f"{pod.spec_path}.securityContext.seccompProfile.type"
        yield finding(pod, "PSS-SECCOMP", field, f"pod seccomp profile is {pod_type}")
    for c in pod.containers:
        value = as_map(c.security.get("seccompProfile")).get("type")
        field = f"{c.path}.securityContext.seccompProfile.type"
        if _bad_seccomp(value, pod.is_windows):
            yield finding(pod, "PSS-SECCOMP", field, f"container '{c.name}' seccomp profile is {value}")
        elif value is None and pod_type not in _SECCOMP_OK and not pod.is_windows:
            message = (
                f"neither the pod nor container '{c.name}' sets seccompProfile RuntimeDefault or Localhost"
            )
            yield finding(pod, "PSS-SECCOMP", field, message)


def capabilities(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    for c in pod.containers:
        caps = as_map(c.security.get("capabilities"))
        path = f"{c.path}.securityContext.capabilities"
        if not pod.is_windows and "ALL" not in [str(x) for x in as_list(caps.get("drop"))]:
            yield finding(
                pod, "PSS-CAPABILITIES", f"{path}.drop", f"container '{c.name}' must drop ALL capabilities"
            )
        added = [str(x) for x in as_list(caps.get("add")) if str(x) != "NET_BIND_SERVICE"]
        if added and not pod.is_windows:
            message = f"container '{c.name}' adds {', '.join(added)} (only NET_BIND_SERVICE is allowed)"
            yield finding(pod, "PSS-CAPABILITIES", f"{path}.add", message)


RESTRICTED_CHECKS: tuple[Check, ...] = (
    volume_types,
    privilege_escalation,
    run_as_non_root,
    run_as_user,
    seccomp,
    capabilities,
)
