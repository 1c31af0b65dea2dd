"""chartforge: compile one canonical Jinja2 source tree into production Helm charts.

Public Python API (each stage is also a CLI command; docs/python-api.md)::

    from chartforge import load_catalog, render_template, build

    manifests = render_template("postgresql-ha", {"cluster_name": "prod-postgres", "node_count": 5})
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["__version__", "build", "load_catalog", "render_template"]

if TYPE_CHECKING:  # type checkers and IDEs see the real signatures; at run time they load lazily
    from chartforge.compile.build import build
    from chartforge.compile.catalog import load_catalog
    from chartforge.compile.instantiate import render_template


def __getattr__(name: str) -> object:  # lazy: importing chartforge stays cheap
    if name == "load_catalog":
        from chartforge.compile.catalog import load_catalog

        return load_catalog
    if name == "render_template":
        from chartforge.compile.instantiate import render_template

        return render_template
    if name == "build":
        from chartforge.compile.build import build

        return build
    raise AttributeError(f"module 'chartforge' has no attribute {name!r}")


def __dir__() -> list[str]:
    """``dir(chartforge)`` lists the public API, lazily loaded names included."""
    return sorted({*__all__, *(n for n in globals() if n.startswith("__"))})
