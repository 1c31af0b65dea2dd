"""The two validation engines behind one interface, and how ``auto`` chooses between them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Protocol, get_args

from chartforge import tools
from chartforge.errors import ToolNotFound, UsageError
from chartforge.manifests import Manifest
from chartforge.validate.builtin import BuiltinEngine
from chartforge.validate.kubeconform import KubeconformEngine
from chartforge.validate.results import ResourceResult
from chartforge.validate.schemas import SchemaStore

EngineName = Literal["auto", "kubeconform", "builtin"]
ENGINE_NAMES: tuple[EngineName, ...] = get_args(EngineName)


class Engine(Protocol):
    """Validates well-formed resources against every store's Kubernetes version.

    Returns one result per resource per store, ordered by store then by resource; a kind
    with no schema is a ``no-schema`` result, never skipped.
    """

    name: str

    def validate(
        self, resources: Sequence[Manifest], stores: Sequence[SchemaStore]
    ) -> list[ResourceResult]: ...


def _kubeconform(binary: str | None) -> Engine:
    found = tools.find_kubeconform(binary)
    if found is None:
        raise ToolNotFound(
            "kubeconform not found",
            hint="set KUBECONFORM, put it on PATH (ci/install.sh), or use --engine builtin",
        )
    return KubeconformEngine(found)


ENGINES: dict[str, Callable[[str | None], Engine]] = {
    "builtin": lambda _binary: BuiltinEngine(),
    "kubeconform": _kubeconform,
}


def make_engine(name: EngineName = "auto", *, kubeconform: str | None = None) -> Engine:
    """``auto`` is kubeconform when it is installed, else the built-in engine."""
    if name == "auto":
        name = "kubeconform" if tools.find_kubeconform(kubeconform) else "builtin"
    try:
        factory = ENGINES[name]
    except KeyError:
        raise UsageError(
            f"unknown validation engine {name!r}", hint=f"use one of {', '.join(ENGINE_NAMES)}"
        ) from None
    return factory(kubeconform)
