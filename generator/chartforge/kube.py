"""Kubernetes versions: parsed once at the edge, spelled one way (``1.34``) in every output.

Users, the catalog and tools write them in several ways (``1.34``, ``v1.34``, ``1.34.0``,
``v1.34.2``); :meth:`KubeVersion.parse` accepts them all. Everything chartforge reports says
``1.34``; ``full`` (``1.34.0``) is only what helm's ``--kube-version``, kubeconform and the
schema directories want.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chartforge.errors import UserError

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?$")


@dataclass(frozen=True, order=True)
class KubeVersion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> KubeVersion:
        match = _VERSION.match(text.strip())
        if not match:
            raise UserError(
                f"not a Kubernetes version: {text!r}", key="kubernetes-version", hint='e.g. "1.34"'
            )
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def full(self) -> str:
        """``1.34.0``: the spelling helm's ``--kube-version`` and kubeconform expect."""
        return f"{self.major}.{self.minor}.0"


def spelled(text: str) -> str:
    """``v1.34.0`` → ``1.34``: the one spelling of every output."""
    return str(KubeVersion.parse(text))
