"""``upgrade-check``: what ``helm upgrade`` from one rendering to another is refused for, or loses.

Every object of the old rendering is paired with the same object of the new one (API group,
kind, namespace, name) and every rule of :mod:`chartforge.compat.rules` that applies to its kind
looks at the pair. A finding is a :class:`~chartforge.diagnostics.Diagnostic` (stage ``compat``,
code = the rule id) carrying the field path, why, and what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from chartforge.compat.objects import Rendering, match
from chartforge.compat.rules import RULES, Context, Rule
from chartforge.diagnostics import Diagnostic

Waiver = Callable[[Diagnostic], "str | None"]  # a reason when the finding is waived (a declared break)


def upgrade_check(
    old: Rendering,
    new: Rendering,
    *,
    chart: str = "",
    environment: str = "",
    rules: Sequence[Rule] = RULES,
    waive: Waiver | None = None,
) -> list[Diagnostic]:
    """Every rule violation going from ``old`` to ``new``, in object then rule order."""
    ctx = Context(old, new)
    found: list[Diagnostic] = []
    for pair in match(old, new):
        obj = pair.any
        if (
            pair.old is not None
            and pair.new is not None
            and pair.old.recreated_by_hook
            and pair.new.recreated_by_hook
        ):
            continue  # Helm deletes the previous hook object before creating the new one
        for rule in rules:
            if not rule.applies(obj):
                continue
            for violation in rule.check(pair, ctx):
                diagnostic = Diagnostic(
                    "error", rule.id, f"{violation.message}: {rule.why}", stage="compat", chart=chart,
                    environment=environment, path=obj.source, kind=obj.kind, name=obj.name, field=violation.field,
                    extra=(("namespace", obj.namespace), ("change", violation.message), ("fix", rule.fix), ("reference", rule.reference),
                           ("rule", rule.title)),
                )  # fmt: skip
                reason = waive(diagnostic) if waive is not None else None
                found.append(replace(diagnostic, waived=True, waiver_reason=reason) if reason else diagnostic)
    return found
