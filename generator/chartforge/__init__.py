"""chartforge: compile one canonical Jinja2 source tree into production Helm charts.

Public Python API (each stage is also a CLI command)::

    from chartforge import load_catalog, render_template, build
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "build", "load_catalog", "render_template"]


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
    raise AttributeError(name)
