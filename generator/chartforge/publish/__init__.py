"""Stage ``publish`` (push to an OCI registry, immutable versions) and ``diff`` (what would change).

``publish.publish`` pushes packaged charts with helm after comparing them with what the
registry holds (``oci.OciClient``); ``diff.diff_charts`` renders local and published versions.
"""

from __future__ import annotations

from chartforge.publish.diff import DiffResult, diff_charts
from chartforge.publish.publish import (
    PublishConflict,
    PublishIncomplete,
    PublishRefused,
    PublishResult,
    publish,
)
from chartforge.publish.target import Credentials, RegistryTarget

__all__ = [
    "Credentials",
    "DiffResult",
    "PublishConflict",
    "PublishIncomplete",
    "PublishRefused",
    "PublishResult",
    "RegistryTarget",
    "diff_charts",
    "publish",
]
