"""``.helmignore`` rules with exactly helm's semantics (``pkg/ignore/rules.go``).

Helm's rules are *not* gitignore: patterns are Go ``filepath.Match`` globs (``*`` never
crosses ``/``; ``[^…]`` negates a class), ``**`` is rejected, a pattern without ``/`` is
matched against the base name only, a leading ``/`` anchors at the chart root, a trailing
``/`` matches directories only, and the first matching rule wins. A negated rule
(``!pattern``) that does *not* match ignores the path — helm's behaviour, reproduced so a
chart packaged by chartforge holds exactly the files ``helm package`` would put in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from chartforge.errors import UserError

HELMIGNORE = ".helmignore"
DEFAULT_RULES = ("templates/.?*",)  # helm's AddDefaults(): dotfiles under templates/


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """One (possibly ``\\``-escaped) character of a ``[...]`` class; Go rejects a bare ``-``/``]``."""
    if i >= len(pattern):
        raise ValueError("syntax error in pattern")
    ch = pattern[i]
    if ch == "\\":
        if i + 1 >= len(pattern):
            raise ValueError("syntax error in pattern")
        return pattern[i + 1], i + 2
    if ch in "-]":
        raise ValueError("syntax error in pattern")
    return ch, i + 1


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    """Translate the class starting after ``[`` at ``i``; return (regex, index after ``]``)."""
    negate = pattern[i : i + 1] == "^"
    i += 1 if negate else 0
    items: list[str] = []
    while True:
        if i < len(pattern) and pattern[i] == "]" and items:
            return "[" + ("^" if negate else "") + "".join(items) + "]", i + 1
        low, i = _class_char(pattern, i)
        if pattern[i : i + 1] == "-":
            high, i = _class_char(pattern, i + 1)
            items.append(f"{re.escape(low)}-{re.escape(high)}")
        else:
            items.append(re.escape(low))


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a Go ``filepath.Match`` pattern into an anchored regular expression."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            regex, i = _char_class(pattern, i)
            out.append(regex)
        elif ch == "\\":
            if i >= len(pattern):
                raise ValueError("syntax error in pattern")
            out.append(re.escape(pattern[i]))
            i += 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out) + r"\Z", re.DOTALL)


@dataclass(frozen=True)
class Rule:
    raw: str
    regex: re.Pattern[str]
    negate: bool
    must_dir: bool
    anchored_or_structural: bool  # False → match the base name only

    def matches(self, path: str) -> bool:
        subject = path if self.anchored_or_structural else path.rsplit("/", 1)[-1]
        return self.regex.match(subject) is not None


def parse_rule(line: str) -> Rule | None:
    rule = line.strip()
    if not rule or rule.startswith("#"):
        return None
    if "**" in rule:
        raise ValueError("double-star (**) syntax is not supported")
    raw, negate = rule, rule.startswith("!")
    rule = rule[1:] if negate else rule
    must_dir = rule.endswith("/")
    rule = rule.removesuffix("/") if must_dir else rule
    structural = "/" in rule
    rule = rule.removeprefix("/")
    return Rule(raw, glob_regex(rule), negate, must_dir, structural)


@dataclass(frozen=True)
class IgnoreRules:
    rules: tuple[Rule, ...]

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        """``path`` is relative to the chart root, ``/``-separated."""
        if path in ("", ".", "./"):
            return False
        for rule in self.rules:
            if rule.negate:
                if (rule.must_dir and not is_dir) or not rule.matches(path):
                    return True
                continue
            if rule.must_dir and not is_dir:
                continue
            if rule.matches(path):
                return True
        return False


def load_rules(chart_dir: Path, *, display: str) -> IgnoreRules:
    """The chart's ``.helmignore`` (if any) followed by helm's default rules."""
    rules: list[Rule] = []
    path = chart_dir / HELMIGNORE
    if path.is_file():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                rule = parse_rule(line)
            except (ValueError, re.error) as exc:
                raise UserError(
                    f"invalid pattern {line.strip()!r}: {exc}", path=f"{display}/{HELMIGNORE}", line=number
                ) from exc
            if rule is not None:
                rules.append(rule)
    rules.extend(r for r in (parse_rule(d) for d in DEFAULT_RULES) if r is not None)
    return IgnoreRules(tuple(rules))
