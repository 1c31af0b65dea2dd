"""NetworkPolicy semantics (networking.k8s.io/v1) for tests: may one pod open a TCP connection to
a port of another?

A connection is allowed when the source's egress and the destination's ingress both allow it. A
pod selected by no policy of a direction (in its namespace) is not isolated in that direction;
an isolated pod is allowed what at least one rule of one selecting policy allows (policies only
add). Peers: a ``podSelector`` alone means pods of the policy's namespace; a
``namespaceSelector`` is matched against the namespace's labels (``kubernetes.io/metadata.name``
is always there). ``ipBlock`` peers never match a pod here (pod IPs are not known at render time;
the catalog never addresses its own pods by IP). Ports: a missing or empty ``ports`` list allows
every port; a named port is resolved against the destination's container ports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chartforge.policy.selectors import selects

Direction = Literal["Ingress", "Egress"]


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: Mapping[str, str]
    ports: Mapping[str, int] = field(default_factory=dict)  # named container ports
    namespace_labels: Mapping[str, str] = field(default_factory=dict)

    def ns_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace, **self.namespace_labels}


def pod_from_template(name: str, namespace: str, template: Mapping[str, Any]) -> Pod:
    """A Pod from a workload's pod template (its labels and named container ports)."""
    spec = template.get("spec") or {}
    named = {
        str(p["name"]): int(p["containerPort"])
        for c in list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
        for p in c.get("ports") or []
        if p.get("name")
    }
    labels = {str(k): str(v) for k, v in ((template.get("metadata") or {}).get("labels") or {}).items()}
    return Pod(name, namespace, labels, named)


def _types(policy: Mapping[str, Any]) -> set[str]:
    spec = policy["spec"]
    if spec.get("policyTypes"):
        return {str(t) for t in spec["policyTypes"]}
    return {"Ingress", "Egress"} if "egress" in spec else {"Ingress"}


def _namespace(policy: Mapping[str, Any], default: str) -> str:
    return str(policy.get("metadata", {}).get("namespace") or default)


def _peer_matches(peer: Mapping[str, Any], pod: Pod, policy_ns: str) -> bool:
    if "ipBlock" in peer:
        return False
    ns_selector, pod_selector = peer.get("namespaceSelector"), peer.get("podSelector")
    ns_ok = pod.namespace == policy_ns if ns_selector is None else selects(ns_selector, pod.ns_labels())
    return ns_ok and (pod_selector is None or selects(pod_selector, pod.labels))


def _port_matches(rule_ports: Sequence[Mapping[str, Any]] | None, dst: Pod, port: int) -> bool:
    if not rule_ports:
        return True
    for p in rule_ports:
        if str(p.get("protocol", "TCP")) != "TCP":
            continue
        if "port" not in p:
            return True
        want = p["port"]
        number = dst.ports.get(want) if isinstance(want, str) else int(want)
        if number is None:
            continue
        if number == port or (p.get("endPort") and number <= port <= int(p["endPort"])):
            return True
    return False


def _allows(
    policies: Iterable[Mapping[str, Any]], subject: Pod, other: Pod, dst: Pod, port: int, direction: Direction,
    default_ns: str,
) -> bool:  # fmt: skip
    selecting = [
        p
        for p in policies
        if _namespace(p, default_ns) == subject.namespace
        and direction in _types(p)
        and selects(p["spec"].get("podSelector", {}), subject.labels)
    ]
    if not selecting:
        return True
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(
                _peer_matches(peer, other, _namespace(policy, default_ns)) for peer in peers
            )
            if peer_ok and _port_matches(rule.get("ports"), dst, port):
                return True
    return False


def allowed(policies: Iterable[Mapping[str, Any]], src: Pod, dst: Pod, port: int, default_ns: str) -> bool:
    """Whether ``src`` may open a TCP connection to ``dst`` on ``port`` under ``policies``
    (policies without a namespace are in ``default_ns``)."""
    policies = list(policies)
    return _allows(policies, src, dst, dst, port, "Egress", default_ns) and _allows(
        policies, dst, src, dst, port, "Ingress", default_ns
    )
