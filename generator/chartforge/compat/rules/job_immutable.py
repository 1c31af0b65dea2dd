"""CF-UPG-007: a Job's pod template, selector or another immutable spec field changed (not a recreated hook)."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, same, show

IMMUTABLE = ("selector", "template", "completions", "completionMode", "podFailurePolicy",
             "backoffLimitPerIndex", "managedBy", "successPolicy")  # fmt: skip


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    if pair.old.recreated_by_hook and pair.new.recreated_by_hook:
        return  # Helm deletes the previous hook Job before creating the new one
    old, new = pair.old.spec(), pair.new.spec()
    indexed = new.get("completionMode") == "Indexed" and new.get("completions") == new.get("parallelism")
    for key in IMMUTABLE:
        if key == "completions" and indexed:
            continue  # elastic Indexed Jobs may scale completions in tandem with parallelism
        if not same(old.get(key), new.get(key)):
            detail = "the pod template changes" if key == "template" else \
                f"{key} changes from {show(old.get(key))} to {show(new.get(key))}"  # fmt: skip
            yield Violation(f"spec.{key}", detail)


RULE = Rule(
    id="CF-UPG-007",
    title="Job spec.template, selector or another immutable Job field changed",
    kinds=(("batch", "Job"),),
    reference=f"{K8S}pkg/apis/batch/validation/validation.go ValidateJobSpecUpdate / validatePodTemplateUpdate",
    why="helm upgrade fails with 'field is immutable': a Job's pod template (labels included, so a chart "
    "version label alone is enough), selector, completions and completionMode cannot change",
    fix="make the Job a Helm hook with helm.sh/hook-delete-policy: before-hook-creation (Helm recreates it), "
    "or give it a name that changes with its content",
    check=_check,
)
