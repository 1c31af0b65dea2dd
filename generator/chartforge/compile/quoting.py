"""Values are data: no string parameter reaches a manifest as raw template text.

Helm writes the text of an output action ``{{ pipeline }}`` into the YAML as is, so a string
value holding a newline, ``: `` or ``12345`` changes the manifest's structure or types. This
check reads every action of a generated Helm template (after Jinja, as Helm sees it), follows
what each pipeline writes, and refuses one that writes a values parameter the chart's values
schema lets be an arbitrary string (or an object, array, or a parameter it does not declare)
without a formatter that makes it one YAML scalar or node. The rules are in docs/source-format.md
("Values are data"); :mod:`chartforge.compile.gotmpl` reads the actions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chartforge.compile.gotmpl import Action, ParseError, Pipeline, Term, actions, keyword, parse_pipeline
from chartforge.compile.valuekinds import RANK, Val, kinds_at, worst
from chartforge.compile.yamlchars import BREAKS, DANGER
from chartforge.compile.yamlcontext import Context, context

#: Functions whose output is one YAML scalar or node whatever their input.
FORMATTERS = frozenset({"quote", "squote", "toYaml", "toJson", "toPrettyJson", "toRawJson", "mustToJson",
                        "mustToPrettyJson", "mustToRawJson", "include", "template"})  # fmt: skip
#: Functions returning a number or a boolean.
NON_STRING = frozenset({"int", "int64", "float64", "atoi", "len", "add", "add1", "sub", "mul", "div", "mod",
    "max", "min", "ceil", "floor", "round", "eq", "ne", "lt", "le", "gt", "ge", "not", "empty", "has",
    "hasKey", "contains", "hasPrefix", "hasSuffix", "kindIs", "typeIs", "semverCompare", "regexMatch",
    "toDecimal", "required_bool"})  # fmt: skip
#: Functions whose result holds only the characters of their arguments (and of a printf format).
CONCAT = frozenset({"printf", "print", "cat", "trim", "trimPrefix", "trimSuffix", "trimAll", "lower", "upper",
                    "trunc", "title", "toString"})  # fmt: skip
#: Functions whose result is one of their arguments.
PASS_THROUGH = frozenset({"default", "coalesce", "ternary", "and", "or", "required", "indent", "nindent",
                          "first", "last"})  # fmt: skip


@dataclass(frozen=True)
class Unquoted:
    offset: int  # of the action's "{{" in the template text
    action: str
    param: str
    kind: str
    where: str = "start"

    @property
    def message(self) -> str:
        what = {"scalar": "parameter", "string": "string parameter", "structure": "object/array parameter"}.get(
            self.kind, "parameter the values schema does not declare")  # fmt: skip
        place = {"start": "as a YAML value or key", "plain": "inside a plain YAML scalar", "block": "inside a block scalar",
                 "dquote": 'inside a "…" scalar', "squote": "inside a '…' scalar", "comment": "in a comment"}[self.where]  # fmt: skip
        return f"`{{{{ {self.action} }}}}` writes the {what} `{self.param}` unquoted {place}"


class _Scope:
    def __init__(self, dot: Val, variables: dict[str, Val], word: str, outer: Val) -> None:
        self.dot, self.vars, self.word, self.outer = dot, variables, word, outer
        self.define: tuple[str, int] | None = None  # a named template: its name and body offset
        self.emits: list[tuple[Unquoted, Val]] = []  # its raw writes of hostile values


class Checker:
    """Walks one template's actions with Go's scoping of ``.`` and ``$variables``."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.text = ""
        self.defines: dict[str, Val] = {}  # what each named template writes (see _end_define)
        self._values: dict[tuple[str, ...], Val] = {}

    def value(self, path: list[str]) -> Val:
        key = tuple(path)
        if key not in self._values:
            self._values[key] = self._value(path)
        return self._values[key]

    def _value(self, path: list[str]) -> Val:
        kinds = kinds_at(self.schema, path)
        kind = max((k for k, _ in kinds), key=RANK.__getitem__)
        return Val(kind, ".".join(path), frozenset().union(*(c for _, c in kinds)))

    def chain(self, base: Val, parts: list[str]) -> Val:
        if "Values" in parts:
            rest = parts[len(parts) - parts[::-1].index("Values") :]
            return self.value(rest) if rest else Val("structure", "(all values)", DANGER)
        if not parts:
            return base
        if base.kind == "root" or base.path is None:
            return Val("string") if base.kind == "root" else base
        return self.value([*base.path.split("."), *parts] if base.path else parts)

    def term(self, term: Term, scope: _Scope) -> Val:
        if term.kind == "group" and term.group is not None:
            return self.pipeline(term.group, scope)
        if term.kind == "field":
            return self.chain(scope.dot, [p for p in term.text.split(".") if p])
        if term.kind == "var":
            name, *parts = term.text.split(".")
            base = scope.vars.get(name, Val("unknown"))
            return self.chain(base, parts)
        if term.kind == "number":
            return Val("scalar", indent=int(term.text) if term.text.isdigit() else None)
        if term.kind in ("bool", "nil"):
            return Val("scalar")
        return Val("string", literal=_go_string(term.text))

    def pipeline(self, pipe: Pipeline, scope: _Scope) -> Val:
        result: Val | None = None
        for command in pipe.commands:
            head, args = command[0], [self.term(t, scope) for t in command[1:]]
            if result is not None:
                args.append(result)
            if head.kind != "ident":
                result = self.term(head, scope) if not args else Val("unknown")
            elif head.text in ("include", "template") and len(command) >= 2 and command[1].kind == "string":
                result = self.defines.get(command[1].text[1:-1], Val("safe"))
            elif head.text in ("index", "get") and len(command) >= 3:
                result = self.index(args[0], command[2:], scope) if result is None else Val("unknown")
            else:
                result = self.call(head.text, args)
        return result or Val("scalar")

    def index(self, base: Val, keys: tuple[Term, ...], scope: _Scope) -> Val:
        """``index $m "a" "b"`` / ``get $m $k``: the element, by name when the key is a literal."""
        if base.path is None:
            return Val("unknown") if base.kind == "root" else base
        parts = [k.text.strip('"`') if k.kind == "string" else "[]" for k in keys]
        return self.chain(base, parts)

    @staticmethod
    def call(name: str, args: list[Val]) -> Val:
        if name in FORMATTERS:
            return Val("safe")
        if name in NON_STRING:
            return Val("scalar")
        if name in ("indent", "nindent") and args:
            return replace(args[-1], indent=args[0].indent if len(args) == 2 else None)
        if name in PASS_THROUGH:
            picked = args[:2] if name == "ternary" else args[1:] if name == "required" else args
            return worst(picked or [Val("scalar")])
        if name == "printf" and args and args[0].literal is not None:
            # %q writes Go's quoted form: one line, its own quotes, the argument's other characters
            verbs = [v for v in _VERB.findall(args[0].literal) if v != "%"]
            verbs += ["v"] * len(args)
            args = [
                args[0],
                *(
                    replace(a, kind="string", chars=(a.chars - BREAKS) | {'"', "\\"})
                    if a.hostile and v == "q"
                    else a
                    for a, v in zip(args[1:], verbs, strict=False)
                ),
            ]
        if name == "replace" and len(args) == 3 and args[0].literal and args[1].literal is not None:
            old, new, src = args[0].literal, args[1].literal, args[2]
            gone = {old} if len(old) == 1 else set()
            return (
                replace(src, chars=(src.chars - gone) | (set(new) & DANGER)) if src.hostile else Val("string")
            )
        hostile = [a for a in args if a.hostile]
        if not hostile:
            return Val("string")
        most = worst(hostile)
        if name in CONCAT and most.kind in ("scalar", "string"):
            return Val("string", most.path, most.chars)
        return Val("string", most.path, DANGER)

    def check_files(self, texts: Mapping[str, str]) -> dict[str, list[Unquoted]]:
        """Every file of a chart: named templates are resolved across files before ``include``s."""
        found: dict[str, list[Unquoted]] = {}
        for _ in range(8):  # a named template including another: until every result is stable
            before = dict(self.defines)
            found = {name: self.check(text) for name, text in texts.items()}
            if self.defines == before:
                break
        return found

    def check(self, text: str) -> list[Unquoted]:
        self.text = text
        root = Val("root")
        stack = [_Scope(root, {"$": root}, "", root)]
        found: list[Unquoted] = []
        for act in actions(text):
            try:
                self._action(act, stack, found)
            except ParseError as exc:
                found.append(Unquoted(act.start, act.body, f"(cannot read the action: {exc})", "unknown"))
        return found

    def _end_define(self, scope: _Scope, end: int, found: list[Unquoted]) -> None:
        """A named template writing only a value passes it to its callers; one writing text quotes."""
        assert scope.define is not None
        name, start = scope.define
        body = self.text[start:end]
        own_text, pos = "", 0
        for inner in actions(body):
            own_text, pos = own_text + body[pos : inner.start], inner.end
        own_text += body[pos:]
        if own_text.strip() or not scope.emits:
            found.extend(hit for hit, _ in scope.emits)
            self.defines[name] = Val("safe")
        else:
            self.defines[name] = worst([v for _, v in scope.emits])

    def _action(self, act: Action, stack: list[_Scope], found: list[Unquoted]) -> None:
        word, rest = keyword(act.body)
        scope = stack[-1]
        if word == "end":
            if len(stack) > 1:
                ended = stack.pop()
                if ended.define:
                    self._end_define(ended, act.start, found)
            return
        if word in ("define", "block"):
            unknown = Val("unknown")
            stack.append(_Scope(unknown, {"$": unknown}, word, unknown))
            terms = parse_pipeline(rest).commands
            if terms and terms[0] and terms[0][0].kind == "string":
                stack[-1].define = (terms[0][0].text[1:-1], act.end)
            return
        if word in ("else", "else if", "else with"):
            scope.dot = scope.outer
            if word == "else with":
                scope.dot = self.pipeline(parse_pipeline(rest), scope)
            return
        if word in ("if", "with", "range"):
            pipe = parse_pipeline(rest)
            value = self.pipeline(replace(pipe, declared=()), scope)
            child = _Scope(scope.dot, dict(scope.vars), word, scope.dot)
            child.define, child.emits = None, scope.emits
            if word == "with":
                child.dot = value
            elif word == "range":
                element = Val(value.kind if value.kind != "root" else "unknown")
                if value.path and value.kind in ("structure", "unknown"):
                    element = self.chain(value, ["[]"])
                elif value.hostile:
                    element = value
                child.dot = element
                if len(pipe.declared) == 2:
                    key = Val("string", value.path, DANGER) if value.path else Val("scalar")
                    child.vars[pipe.declared[0]] = key
                if pipe.declared:
                    child.vars[pipe.declared[-1]] = element
            stack.append(child)
            return
        if word:  # template, break, continue
            return
        pipe = parse_pipeline(act.body)
        value = self.pipeline(pipe, scope)
        if pipe.declared:
            for name in pipe.declared:
                if pipe.assign:
                    for frame in reversed(stack):
                        if name in frame.vars:
                            frame.vars[name] = value
                            break
                else:
                    scope.vars[name] = value
            return
        where = context(self.text, act.start) if value.hostile else Context("start")
        if value.hostile and value.path is not None and not value.raw_ok(where):
            hit = Unquoted(act.start, act.body, value.path, value.kind, where.where)
            if any(frame.define for frame in stack):
                scope.emits.append((hit, value))
            else:
                found.append(hit)


_VERB = re.compile(r"%[-+# 0]*(?:\[\d+\])?[0-9*]*(?:\.[0-9*]+)?([a-zA-Z%])")


def _go_string(token: str) -> str | None:
    """The value of a Go string literal token (None when this reader cannot decode it)."""
    if token.startswith("`"):
        return token[1:-1]
    try:
        value = json.loads(token) if token.startswith('"') else None
    except ValueError:
        return None
    return value if isinstance(value, str) else None
