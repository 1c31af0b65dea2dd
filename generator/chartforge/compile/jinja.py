"""The Jinja2 environment chartforge renders ``sources/`` with, and ``render_file``.

Delimiters are ``[[ … ]]`` (expressions), ``[% … %]`` (statements) and ``[# … #]``
(comments) so Helm's own ``{{ … }}`` passes through untouched. ``StrictUndefined`` turns every
undefined variable into an error naming the template and line. This module sits below
``catalog`` (which renders ``parameters.yaml.j2``) and ``render`` (which renders charts).

A process keeps one environment per ``sources/`` tree (:func:`environment`, and :func:`shared`
for variants such as the line map's marking environment), so the shared macros are parsed and
compiled once, not once per chart and pass. A cached template is reused only while its file
holds the same bytes (compared on every use, never by mtime: an edit within the same second is
seen). Shared environments must not be changed by their callers.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import posixpath
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import jinja2

from chartforge.compile import bytecode
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
        data = text.encode("utf-8")
        top = self.top

        def uptodate() -> bool:
            """The same bytes, still a regular file inside sources/ (else reload: its error is raised)."""
            try:
                resolved = path.resolve()
                if not resolved.is_relative_to(top) or not stat.S_ISREG(resolved.stat().st_mode):
                    return False
                return resolved.read_bytes() == data
            except OSError:
                return False

        return text, str(path), uptodate


MAX_TREES = 8  # sources trees whose environments a process keeps (tests build many small projects)
_SHARED: OrderedDict[tuple[str, str], jinja2.Environment] = OrderedDict()
_LOCK = threading.Lock()


def shared(sources: Path, kind: str, make: Callable[[Path], jinja2.Environment]) -> jinja2.Environment:
    """The process's one ``kind`` environment of ``sources`` (``make`` builds it the first time)."""
    key = (str(sources.resolve()), kind)
    with _LOCK:
        env = _SHARED.get(key)
        if env is None:
            env = _SHARED[key] = make(sources)
            while len(_SHARED) > MAX_TREES * 2:
                _SHARED.popitem(last=False)
        _SHARED.move_to_end(key)
        return env


def environment(sources: Path) -> jinja2.Environment:
    """The shared environment of ``sources`` (see the module docstring; do not change it)."""
    return shared(sources, "plain", new_environment)


_LOADED: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("chartforge_loaded", default=None)


class RecordingEnvironment(jinja2.Environment):
    """An environment that notes every template name it loads while :func:`recording` is on."""

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> jinja2.Template:
        loaded = _LOADED.get()
        if loaded is not None:
            loaded.add(name)
        return super()._load_template(name, globals)


@contextlib.contextmanager
def recording() -> Iterator[set[str]]:
    """The names of the templates (and macros, includes) loaded in this thread inside the block."""
    loaded: set[str] = set()
    token = _LOADED.set(loaded)
    try:
        yield loaded
    finally:
        _LOADED.reset(token)


def new_environment(sources: Path) -> jinja2.Environment:
    """A fresh environment of ``sources``, templates cached without limit (a catalog's every file)
    and, in a project, their compiled code kept on disk between runs (:mod:`chartforge.compile.bytecode`)."""
    env = RecordingEnvironment(
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
        cache_size=-1,
        bytecode_cache=bytecode.for_sources(sources, "plain"),
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
        template, line, inner = _jinja_location(exc, sources, name)
        raise TemplateError(
            f"undefined template variable: {exc.message}{inner}", path=f"sources/{template}", line=line,
            hint="define it in the chart's context or fix the spelling",
        ) from exc  # fmt: skip
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template not found: {exc.name}", path=f"sources/{name}") from exc
    except jinja2.TemplateError as exc:
        template, line, inner = _jinja_location(exc, sources, name)
        raise TemplateError(f"template error: {exc}{inner}", path=f"sources/{template}", line=line) from exc


def _jinja_location(exc: BaseException, sources: Path, default: str) -> tuple[str, int | None, str]:
    """Where a render failed: the caller's template and line first, the macro's line as context.

    Jinja rewrites the traceback to point at template lines. The innermost template frame is
    where the error happened; when that is a macro in another file, the author's call site
    (the last frame outside that file and outside ``macros/``) is the location and `` (in macro sources/…:N)`` the context.
    """
    tb = exc.__traceback__
    frames: list[tuple[str, int]] = []
    root = str(sources.resolve())
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(root + os.sep):
            frames.append((Path(filename).relative_to(root).as_posix(), tb.tb_lineno))
        tb = tb.tb_next
    if not frames:
        return default, None, ""
    inner_file, inner_line = frames[-1]
    callers = [f for f in frames if f[0] != inner_file]
    authors = [f for f in callers if not f[0].startswith("macros/")]  # a macro called by a macro
    callers = authors or callers
    if not callers:
        return inner_file, inner_line, ""
    caller_file, caller_line = callers[-1]
    return caller_file, caller_line, f" (in macro sources/{inner_file}:{inner_line})"
