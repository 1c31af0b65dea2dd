"""CF-UPG-008: a Service's ``spec.clusterIP`` changed (headless ↔ not, or another fixed address)."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import K8sObject, Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, show


def _ip(obj: K8sObject) -> str:
    return str(obj.get("spec", "clusterIP") or "")


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    if "ExternalName" in (pair.old.get("spec", "type"), pair.new.get("spec", "type")):
        return  # ExternalName has no cluster IP; switching to or from it is allowed
    old, new = _ip(pair.old), _ip(pair.new)
    if (old == "None") != (new == "None"):
        before, after = ("headless", "not headless") if old == "None" else ("not headless", "headless")
        yield Violation("spec.clusterIP", f"the Service goes from {before} to {after} "
                        f"(clusterIP {show(old or None)} → {show(new or None)})")  # fmt: skip
    elif old and new and old != new:
        yield Violation("spec.clusterIP", f"clusterIP changes from {old} to {new}")


RULE = Rule(
    id="CF-UPG-008",
    title="Service spec.clusterIP changed (headless ↔ not headless, or a fixed address)",
    kinds=(("", "Service"),),
    reference=f"{K8S}pkg/apis/core/validation/validation.go ValidateServiceUpdate: ValidateImmutableField("
    "Spec.ClusterIP) once allocated; pkg/registry/core/service/storage keeps the old address when it is cleared",
    why="becoming headless is refused ('field is immutable'); ceasing to be headless is silently ignored "
    "(the API server keeps clusterIP: None), so the rendered change never applies",
    fix="add a second Service (headless or not) with a new name and move clients to it; keep the old one",
    check=_check,
)
