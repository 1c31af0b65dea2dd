"""Rendered manifests for the policy stage, read by the validate stage's parser.

``chartforge.validate.manifests`` parses ``helm template`` output once (keeping each
document's ``# Source:`` template path, file and line); policy wraps those records as
:class:`Manifest`. A document that is not a usable object is a user error here: policy
cannot judge what it cannot read (``chartforge validate`` reports such documents in full).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from chartforge.errors import UserError
from chartforge.policy.model import Manifest
from chartforge.validate.manifests import Resource
from chartforge.validate.manifests import load_manifests as _load_resources


def from_resources(resources: Iterable[Resource]) -> list[Manifest]:
    out = []
    for r in resources:
        if r.error is not None:
            raise UserError(
                f"cannot check this document: {r.error}", path=r.file, line=r.error_line or r.line
            )
        out.append(Manifest(obj=r.obj, source=r.source, file=r.file, line=r.line))
    return out


def load_manifests(paths: Iterable[str | Path]) -> list[Manifest]:
    """Manifests from files and directories (searched recursively for .yaml/.yml/.json)."""
    return from_resources(_load_resources([Path(p) for p in paths]))
