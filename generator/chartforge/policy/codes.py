"""The stable ids of the built-in policy checks (waivers refer to them) and the finding record."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chartforge import codes
from chartforge.manifests import Manifest

#: code → one-line description (shown in docs/policy.md and used to validate waivers).
CHECKS: dict[str, str] = {
    # Pod Security Standard "baseline" controls (restricted includes them)
    "PSS-HOST-PROCESS": "Windows HostProcess containers are forbidden",
    "PSS-HOST-NAMESPACES": "hostNetwork, hostPID and hostIPC must be unset or false",
    "PSS-PRIVILEGED": "containers must not be privileged",
    "PSS-CAPABILITIES": "capabilities must drop ALL and add nothing but NET_BIND_SERVICE",
    "PSS-HOSTPATH": "hostPath volumes are forbidden",
    "PSS-HOST-PORTS": "containers must not use hostPort",
    "PSS-HOST-PROBES": "probes and lifecycle hooks must not set host (Kubernetes 1.34+)",
    "PSS-APPARMOR": "AppArmor profile must be RuntimeDefault or Localhost",
    "PSS-SELINUX": "SELinux type must be a container type; user and role must be unset",
    "PSS-PROC-MOUNT": "procMount must be Default",
    "PSS-SYSCTLS": "only the safe, namespaced sysctls are allowed",
    # Pod Security Standard "restricted" controls
    "PSS-VOLUME-TYPES": "only core volume types (configMap, secret, emptyDir, PVC, projected, csi…)",
    "PSS-PRIV-ESC": "allowPrivilegeEscalation must be false",
    "PSS-RUN-AS-NON-ROOT": "runAsNonRoot must be true (pod or every container)",
    "PSS-RUN-AS-USER": "runAsUser must not be 0",
    "PSS-SECCOMP": "seccompProfile must be RuntimeDefault or Localhost (pod or every container)",
    # Operational checks
    "RES-REQUESTS": "every container requests CPU and memory",
    "RES-LIMITS": "every container has CPU and memory limits",
    "PROBE-LIVENESS": "long-running containers have a liveness probe",
    "PROBE-READINESS": "long-running containers have a readiness probe",
    "PDB-MISSING": "a PodDisruptionBudget selects every workload with more than one replica",
    "NETPOL-UNCOVERED": "a NetworkPolicy in the same namespace selects every pod",
    "IMAGE-LATEST": "images are not tagged latest (a digest pins them)",
    "IMAGE-UNTAGGED": "images carry a tag or a digest",
    "SECRET-IN-CONFIGMAP": "ConfigMaps hold no passwords, tokens, keys or PEM private keys",
    "SECRET-IN-ENV": "container env values hold no literal passwords, tokens or keys",
    "SECRET-IN-VALUES": "values hold no literal passwords, tokens or keys",
    # Referenced objects (chartforge.policy.references)
    "REF-MISSING": "every Secret, ConfigMap, ServiceAccount, PVC and Service a workload names is rendered, "
    "written by an ExternalSecret/Certificate/SealedSecret, or declared in global.externalResources",
    "REF-TWO-WRITERS": "no Secret is both rendered and written by an ExternalSecret, Certificate or SealedSecret",
}
#: code → where the rule comes from (shown in docs/policy.md).
REFERENCES: dict[str, str] = {
    "REF-MISSING": "https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables",
    "REF-TWO-WRITERS": "https://external-secrets.io/latest/api/externalsecret/#creation-policy",
}
#: checkov's Kubernetes check ids (``CKV_K8S_43``, ``CKV2_K8S_6``); waivable like built-in ids.
CHECKOV_ID = re.compile(r"^CKV2?_K8S_\d+$")
#: Reported by the waiver machinery itself.
WAIVER_STALE = codes.WAIVER_STALE


def is_known(code: str) -> bool:
    return code in CHECKS or bool(CHECKOV_ID.match(code))


@dataclass(frozen=True)
class Finding:
    """What a check reports before the engine adds chart/environment context."""

    code: str
    manifest: Manifest
    field: str
    message: str
