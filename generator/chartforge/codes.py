"""Every diagnostic code chartforge reports outside the policy rules, with its stage and meaning.

Waivers, JUnit reports and ``--output json`` refer to these ids; they are documented in
docs/diagnostics.md. The policy rules keep their own table next to them
(``chartforge.policy.codes.CHECKS``, documented in docs/policy.md); together the two are the
registry, and ``tests/test_codes.py`` fails on a code that is emitted but registered in neither.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    stage: str
    summary: str


BUILD_DRIFT = "CF-BUILD-DRIFT"
BUILD_UNQUOTED = "CF-BUILD-UNQUOTED"
RENDER_FAILED = "CF-RENDER-FAILED"
VALIDATE_SCHEMA = "CF-VALIDATE-SCHEMA"
VALIDATE_NO_SCHEMA = "CF-VALIDATE-NO-SCHEMA"
VALIDATE_YAML = "CF-VALIDATE-YAML"
LINT_FAILED = "HELM-LINT-FAILED"
WAIVER_STALE = "WAIVER-STALE"
CHECKOV_UNKNOWN = "CKV_UNKNOWN"


def lint_code(level: str) -> str:
    """``helm lint``'s ``[ERROR]``/``[WARNING]``/``[INFO]`` → ``HELM-LINT-ERROR``…"""
    return f"HELM-LINT-{level}"


CODES: dict[str, Code] = {
    BUILD_DRIFT: Code("build", "charts/ or values/ differ from what `chartforge build` makes of sources/"),
    BUILD_UNQUOTED: Code("build", "a template writes a string value into a manifest without quoting it"),
    RENDER_FAILED: Code("render", "`helm template` of the umbrella failed for an environment and version"),
    lint_code("ERROR"): Code("lint", "`helm lint --strict` reported an error"),
    lint_code("WARNING"): Code("lint", "`helm lint` reported a warning (an error under --strict)"),
    lint_code("INFO"): Code("lint", "`helm lint` reported an informational message"),
    LINT_FAILED: Code("lint", "`helm lint` failed without reporting an [ERROR] line"),
    VALIDATE_SCHEMA: Code("validate", "an object does not match its Kubernetes or CRD schema"),
    VALIDATE_NO_SCHEMA: Code("validate", "no schema is known for an object's apiVersion/kind"),
    VALIDATE_YAML: Code("validate", "a document is not valid YAML or not a Kubernetes object"),
    WAIVER_STALE: Code("policy", "a waiver in sources/waivers.yaml no longer matches any finding"),
    CHECKOV_UNKNOWN: Code("policy", "checkov reported a failed check without an id"),
    # compat: release safety (chartforge.compat); CF-UPG-* are the upgrade-check rules, one module each
    "CF-REL-001": Code("compat", "chart content changed but its version did not"),
    "CF-REL-002": Code("compat", "version bump smaller than the change requires"),
    "CF-REL-003": Code("compat", "version lower than the released one"),
    "CF-REL-004": Code(
        "compat", "deprecated parameter alias removed before the two major versions it is kept for"
    ),
    "CF-UPG-001": Code("compat", "StatefulSet spec.selector changed"),
    "CF-UPG-002": Code("compat", "StatefulSet spec.serviceName changed"),
    "CF-UPG-003": Code("compat", "StatefulSet spec.podManagementPolicy changed"),
    "CF-UPG-004": Code(
        "compat",
        "StatefulSet spec.volumeClaimTemplates changed (added, removed, resized, class, access modes, labels)",
    ),
    "CF-UPG-005": Code(
        "compat", "StatefulSet spec field outside the mutable set changed (revisionHistoryLimit, …)"
    ),
    "CF-UPG-006": Code("compat", "Deployment, DaemonSet or ReplicaSet spec.selector changed"),
    "CF-UPG-007": Code("compat", "Job spec.template, selector or another immutable Job field changed"),
    "CF-UPG-008": Code(
        "compat", "Service spec.clusterIP changed (headless ↔ not headless, or a fixed address)"
    ),
    "CF-UPG-009": Code(
        "compat",
        "PersistentVolumeClaim storageClassName, accessModes, volumeMode or selector changed, or request shrunk",
    ),
    "CF-UPG-010": Code("compat", "ConfigMap or Secret with immutable: true changed"),
    "CF-UPG-011": Code("compat", "Secret type changed"),
    "CF-UPG-012": Code("compat", "RoleBinding or ClusterRoleBinding roleRef changed"),
    "CF-UPG-013": Code(
        "compat", "StorageClass provisioner, parameters, reclaimPolicy or volumeBindingMode changed"
    ),
    "CF-UPG-014": Code("compat", "StatefulSet with volumeClaimTemplates removed or renamed"),
    "CF-UPG-015": Code("compat", "PersistentVolumeClaim removed from the chart (deleted by helm upgrade)"),
}
