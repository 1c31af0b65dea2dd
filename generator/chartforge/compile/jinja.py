"""The Jinja2 environment chartforge renders ``sources/`` with, and ``render_file``.

Delimiters are ``[[ … ]]`` (expressions), ``[% … %]`` (statements) and ``[# … #]``
(comments) so Helm's own ``{{ … }}`` passes through untouched. ``StrictUndefined`` turns every
undefined variable into an error naming the template and line. This module sits below
``catalog`` (which renders ``parameters.yaml.j2``) and ``render`` (which renders charts).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from chartforge.compile.placement import install as install_placement
from chartforge.compile.sourcetree import contained
from chartforge.errors import TemplateError
from chartforge.yamlio import read_text


class SourcesLoader(jinja2.BaseLoader):
    """Templates, macros and includes from ``sources/`` only, as UTF-8, symlinks kept inside."""

    def __init__(self, sources: Path) -> None:
        self.top = sources.resolve()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        name = safe_name(self.top, template)
        path = self.top / name
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        display = f"sources/{name}"
        contained(path, self.top, display=display, error=TemplateError)
        text = read_text(path, display=display, error=TemplateError)
        mtime = path.stat().st_mtime

        def uptodate() -> bool:
            try:
                return path.stat().st_mtime == mtime
            except OSError:
                return False

        return text, str(path), uptodate


def environment(sources: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=SourcesLoader(sources),
        undefined=jinja2.StrictUndefined,
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    install_placement(env)  # [[> macro() ]] places a block at its column (compile/placement.py)
    return env


def safe_name(sources: Path, name: str) -> str:
    """Refuse template names that would escape ``sources/`` (absolute, ``..``)."""
    norm = posixpath.normpath(name.replace(os.sep, "/"))
    if name.startswith(("/", "\\")) or norm.startswith("..") or os.path.isabs(name) or ":" in name:
        raise TemplateError(
            f"template name {name!r} escapes sources/", path="sources/", hint="use a relative name"
        )
    resolved = (sources / norm).resolve()
    if not resolved.is_relative_to(sources.resolve()):
        raise TemplateError(f"template name {name!r} escapes sources/", path="sources/")
    return norm


def render_file(env: jinja2.Environment, sources: Path, name: str, context: Mapping[str, Any]) -> str:
    """Render one template under ``sources/``; Jinja errors become TemplateError with name:line."""
    name = safe_name(sources, name)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error: {exc.message}", path=f"sources/{exc.name or name}", line=exc.lineno
        ) from exc
    except jinja2.UndefinedError as exc:
        template, line = _jinja_location(exc, sources, name)
        raise TemplateError(
            f"undefined template variable: {exc.message}", path=f"sources/{template}", line=line,
            hint="define it in the chart's context or fix the spelling",
        ) from exc  # fmt: skip
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template not found: {exc.name}", path=f"sources/{name}") from exc
    except jinja2.TemplateError as exc:
        template, line = _jinja_location(exc, sources, name)
        raise TemplateError(f"template error: {exc}", path=f"sources/{template}", line=line) from exc


def _jinja_location(exc: BaseException, sources: Path, default: str) -> tuple[str, int | None]:
    """The innermost template frame of the traceback Jinja rewrote to point at template lines."""
    tb = exc.__traceback__
    found: tuple[str, int | None] = (default, None)
    root = str(sources.resolve())
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(root + os.sep):
            found = (Path(filename).relative_to(root).as_posix(), tb.tb_lineno)
        tb = tb.tb_next
    return found
