"""Stage ``compat``: what a release does to the people already running the previous one.

- :func:`upgrade_check` — changes ``helm upgrade`` is refused for (immutable fields) or that orphan
  or delete data, between two renderings (rules in :mod:`chartforge.compat.rules`);
- :func:`schema_semver` / :func:`chart_semver` — the smallest version bump a change needs;
- declared breaks and version bumps of ``sources/`` (:mod:`.breaks`, :mod:`.bump`);
- catalog mode (:mod:`.catalog`): every chart against its last published or committed version.
"""

from __future__ import annotations

from chartforge.compat.charts import ChartInput, chart_semver, load_input, render, tgz_input
from chartforge.compat.objects import K8sObject, Rendering, match
from chartforge.compat.rules import BY_ID, RULES, Rule
from chartforge.compat.semver import LEVELS, Level, Reason, SemverResult, compare_schemas, schema_semver
from chartforge.compat.upgrade import upgrade_check

__all__ = [
    "BY_ID", "LEVELS", "RULES", "ChartInput", "K8sObject", "Level", "Reason", "Rendering", "Rule", "SemverResult",
    "chart_semver", "compare_schemas", "load_input", "match", "render", "schema_semver", "tgz_input", "upgrade_check",
]  # fmt: skip
