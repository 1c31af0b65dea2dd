"""Make Go-flavoured ``pattern``\\ s readable by ``jsonschema_rs``.

CRD schemas are written for Go's RE2 (kubeconform uses it), which allows the inline flag
``(?i)``; ``jsonschema_rs`` checks every pattern is an ECMA-262 regex and refuses the whole
schema otherwise. The flag is rewritten into explicit case classes (``abort`` →
``[aA][bB][oO][rR][tT]``), which matches exactly the same strings.
"""

from __future__ import annotations

from typing import Any

_FLAG = "(?i)"


def case_insensitive(pattern: str) -> str:
    """Expand ASCII letters after ``(?i)`` so the pattern matches regardless of case."""
    head, _, tail = pattern.partition(_FLAG)
    out: list[str] = [head]
    in_class = False
    i = 0
    while i < len(tail):
        c = tail[i]
        if c == "\\":
            out.append(tail[i : i + 2])
            i += 2
            continue
        is_letter = c.isascii() and c.isalpha()
        if in_class:
            ranged = is_letter and i + 2 < len(tail) and tail[i + 1] == "-" and tail[i + 2].isalpha()
            if c == "]":
                in_class = False
                out.append(c)
            elif ranged:
                lo, hi = c, tail[i + 2]
                out.append(f"{lo}-{hi}{lo.swapcase()}-{hi.swapcase()}")
                i += 3
                continue
            else:
                out.append(c + c.swapcase() if is_letter else c)
        elif c == "[":
            in_class = True
            out.append(c)
        else:
            out.append(f"[{c.lower()}{c.upper()}]" if is_letter else c)
        i += 1
    return "".join(out)


def ecma_patterns(node: Any) -> Any:
    """A copy of a schema with every ``(?i)`` pattern rewritten; other nodes shared, not copied."""
    if isinstance(node, list):
        return [ecma_patterns(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "pattern" and isinstance(value, str) and _FLAG in value:
            out[key] = case_insensitive(value)
        elif key == "patternProperties" and isinstance(value, dict):
            out[key] = {
                (case_insensitive(k) if _FLAG in k else k): ecma_patterns(v) for k, v in value.items()
            }
        elif key in ("enum", "const", "default", "examples", "example"):
            out[key] = value
        else:
            out[key] = ecma_patterns(value)
    return out


def needs_rewrite(text: str) -> bool:
    """Cheap pre-check on the raw schema text."""
    return _FLAG in text
