"""Go template actions of a Helm template, read well enough to see what each one writes.

``actions`` finds every ``{{ … }}`` of a template text (strings and comments kept whole, trim
markers removed); ``parse_pipeline`` splits an action into its declared variables and its
commands (``a | b x | c``), each a list of ``Term``s where a parenthesised group is a nested
pipeline. No evaluation happens here: :mod:`chartforge.compile.quoting` gives the meaning.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "block", "template",
                      "break", "continue"})  # fmt: skip


@dataclass(frozen=True)
class Action:
    start: int  # offset of "{{" in the text
    end: int  # offset just after "}}"
    body: str  # between the delimiters, without trim markers, stripped


@dataclass(frozen=True)
class Term:
    """One operand: a literal, a field chain, a variable chain, an identifier or a group."""

    kind: str  # "string" | "number" | "bool" | "nil" | "field" | "var" | "ident" | "group"
    text: str
    group: Pipeline | None = None


@dataclass(frozen=True)
class Pipeline:
    declared: tuple[str, ...] = ()  # "$x" (or "$i", "$v" of a range)
    assign: bool = False  # "=" re-assigns an existing variable
    commands: tuple[tuple[Term, ...], ...] = field(default_factory=tuple)


class ParseError(ValueError):
    """An action this reader does not understand (the check reports it rather than guess)."""


# the body of an action: strings (with escapes) and raw strings kept whole, up to the first "}}"
_BODY = re.compile(r"""(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`|[^"'`}]|\}(?!\}))*""")


@functools.lru_cache(maxsize=512)
def actions(text: str) -> tuple[Action, ...]:
    """Every action of a template text, comments skipped (cached: the check reads a text repeatedly)."""
    found: list[Action] = []
    pos = 0
    while (start := text.find("{{", pos)) >= 0:
        i = start + 2
        if text.startswith("/*", i) or text.startswith("- /*", i):
            close = text.find("*/", i)
            end = text.find("}}", close if close >= 0 else i)
            pos = (end + 2) if end >= 0 else len(text)
            continue
        match = _BODY.match(text, i)
        i = match.end() if match else i
        body = text[start + 2 : i]
        body = body[1:] if body.startswith("- ") or body == "-" else body
        body = body[:-1] if body.endswith(" -") else body
        found.append(Action(start, i + 2, body.strip()))
        pos = i + 2
    return tuple(found)


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>"(?:\\.|[^"\\])*"|`[^`]*`|'(?:\\.|[^'\\])*')
  | (?P<decl>:=|=(?!=))
  | (?P<punct>[|(),])
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
  | (?P<number>[-+]?[0-9][0-9A-Fa-fxXoObB_.eEpP+-]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  )""",
    re.VERBOSE,
)


def _tokens(body: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(body):
        if not body[pos:].strip():
            break
        m = _TOKEN.match(body, pos)
        if m is None or m.end() == pos:
            raise ParseError(f"cannot read {body[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


@functools.lru_cache(maxsize=4096)
def parse_pipeline(body: str) -> Pipeline:
    """``$a, $b := x | f y (g z)`` → declared variables and commands."""
    toks = _tokens(body)
    declared: list[str] = []
    assign = False
    for i, (kind, text) in enumerate(toks):
        if kind == "decl":
            names = [t for k, t in toks[:i] if k == "var"]
            if len(names) == len([t for t in toks[:i] if t[1] != ","]):
                declared, assign, toks = names, text == "=", toks[i + 1 :]
            break
    pipeline, rest = _pipeline(toks)
    if rest:
        raise ParseError(f"unexpected {rest[0][1]!r}")
    return Pipeline(tuple(declared), assign, pipeline.commands)


def _pipeline(toks: list[tuple[str, str]]) -> tuple[Pipeline, list[tuple[str, str]]]:
    commands: list[tuple[Term, ...]] = []
    current: list[Term] = []
    while toks:
        kind, text = toks[0]
        if text == ")":
            break
        toks = toks[1:]
        if text == "|":
            commands.append(tuple(current))
            current = []
        elif text == "(":
            inner, toks = _pipeline(toks)
            if not toks or toks[0][1] != ")":
                raise ParseError("unbalanced parenthesis")
            toks = toks[1:]
            tail = ""  # (x).field
            current.append(Term("group", "(…)" + tail, inner))
        elif kind == "ident" and text in ("true", "false"):
            current.append(Term("bool", text))
        elif kind == "ident" and text == "nil":
            current.append(Term("nil", text))
        elif kind in ("string", "number", "var", "field", "ident"):
            current.append(Term(kind, text))
        else:
            raise ParseError(f"unexpected {text!r}")
    commands.append(tuple(current))
    return Pipeline(commands=tuple(c for c in commands if c)), toks


def keyword(body: str) -> tuple[str, str]:
    """``("range", "$i, $v := .Values.x")`` for a control action, ``("", body)`` otherwise."""
    word, _, rest = body.partition(" ")
    if word in KEYWORDS:
        if word == "else" and rest.split(" ", 1)[0] in ("if", "with"):
            inner, _, rest2 = rest.partition(" ")
            return f"else {inner}", rest2.strip()
        return word, rest.strip()
    return "", body
