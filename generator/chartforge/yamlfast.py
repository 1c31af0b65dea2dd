"""Load a manifest document with a native parser where that provably gives what KubeLoader gives.

``yaml_rs`` (Rust) builds plain ``dict``/``list``/scalars about ten times faster than the libyaml
node tree and Python walk of :mod:`chartforge.yamlload`. But it reads YAML 1.2 (``yes`` is a
string, ``0755`` is 755) and its grammar is not libyaml's in every corner, so it only takes a
document whose text a cheap pre-scan shows free of every construct where the two could differ;
everything else, and every document ``yaml_rs`` refuses, goes to :func:`yamlload.load_document`,
which stays the definition of the result (values and errors). Without the ``yaml_rs`` wheel every
document goes there: same results, slower.

A document is read by KubeLoader (:func:`unsafe_reason` says which trigger) when it has:

- a backslash (escapes), ``<<`` (merge keys), or a character Python does not call printable other
  than the line feed (tab, carriage return, controls, BOM, NEL, line separators, no-break space…);
- a line of 1,024 characters or more (libyaml's bound on an implicit key) or indented 200
  columns or more (nesting near KubeLoader's recursion limit);
- a token starting with an indicator: ``!`` (tags), ``@``, a backtick, ``%`` (directives), ``,``,
  ``]``, ``}``, ``?`` or ``:`` (explicit and empty keys), ``[`` or ``{`` other than an empty
  ``[]``/``{}`` (flow collections), ``|``/``>`` with an indentation indicator; ``---``/``...``;
- a token YAML 1.1 reads as a boolean (``y``, ``yes``, ``on``, ``off`` and their cases) or ``=``;
  ``true``/``false``/``null``/``~`` written as a key (go-yaml makes the key a string);
- a number-like token (a digit, ``_``, a sign or a dot, then more) that the two parsers read
  differently (``0755``, ``09``, ``_1``, ``.InF``…; each token probed once with both) or that is a
  key with a non-string value (``8080:``);
- anchors and aliases: a name libyaml does not take, an anchor defined twice, an alias its
  anchor's node could still contain; and with a ``*`` anywhere (KubeLoader then bounds the
  document, :mod:`chartforge.yamlbound`) 45 columns of indentation or 800,000 characters.
  yaml_rs itself refuses an alias inside an aliased node or more than 100,000 replayed nodes.

Token: a run of non-blank characters. Outside flow collections (excluded) a plain scalar that
could be typed is always exactly one token (a trailing ``:`` makes it a key): a scalar with a
blank inside is a string for both. Tokens inside quoted or block scalars only add fallbacks.
One-character tokens are not probed: digits read the same, ``-`` is the sequence indicator, and
``_ . +`` are strings for both. tests/test_yamlfast.py runs both paths over every corpus, random
edits of it, and each trigger alone.
"""

from __future__ import annotations

import re
from typing import Any

from chartforge import yamlload

try:
    import yaml_rs

    # an alias inside an aliased node, or 100,000 replayed events, and yaml_rs refuses (KubeLoader reads it)
    _ALIAS_LIMITS: Any = yaml_rs.AliasLimits(max_total_replayed_events=100_000, max_replay_stack_depth=1)
except ImportError:  # pragma: no cover - the wheel is a declared dependency
    yaml_rs = None  # type: ignore[assignment]

_DEEP = re.compile(r"\n[ -]{200}")  # nesting as deep as KubeLoader's recursion
_DEEP_ALIASED = re.compile(r"\n[ -]{45}")  # twice that nesting stays under yamlbound.MAX_DEPTH
_NAME = re.compile(r"[A-Za-z0-9_-]+")  # anchor names libyaml accepts
_BOOL11 = {
    *"yYnN",
    *("yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "="),
}
_TYPED_KEYS = {"true:", "True:", "TRUE:", "false:", "False:", "FALSE:", "null:", "Null:", "NULL:", "~:"}
_BLOCK = {"|", "|-", "|+", ">", ">-", ">+"}
_INDICATORS = frozenset("!@`%|>[]{},?:&*")
_NUMBER_START = frozenset("0123456789_.+-")
_MAX_ALIASED_TEXT = 800_000  # own nodes + replayed events stay under yamlbound.MAX_NODES
_safe_tokens: set[str] = set()  # tokens found safe
_safe_lines: set[str] = set()  # lines printable, shorter than 1,024, under 45 of " -", of safe tokens
_reasons: dict[str, str] = {}  # tokens found unsafe, and why
_CACHE_LIMIT = 200_000


def _fast(text: str, aliased: bool = False) -> Any:
    return yaml_rs.loads(
        text,
        parse_datetime=False,
        duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
        alias_limits=_ALIAS_LIMITS if aliased else None,
    )


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and repr(a) == repr(b)  # repr: nan, -0.0 and big ints compare as written


def _value_pair(scalar: str) -> tuple[object, object] | None:
    """What KubeLoader and yaml_rs make of ``scalar`` written plain as a value; None if either refuses."""
    probe = f"k: {scalar}\n"
    try:
        kube, fast = yamlload.load_document(probe), _fast(probe)
    except Exception:  # a token either parser refuses is simply not proven safe
        return None
    if not (isinstance(kube, dict) and isinstance(fast, dict) and list(kube) == list(fast) == ["k"]):
        return None
    return kube["k"], fast["k"]


def _number_is_safe(token: str) -> bool:
    pair = _value_pair(token)
    if pair is None or not _same(*pair):
        return False
    if token.endswith(":"):  # maybe a key: must be a string in both (go-yaml stringifies keys)
        key = _value_pair(token[:-1])
        return key is not None and isinstance(key[0], str) and _same(*key)
    return True


def _token_reason(token: str) -> str | None:
    """Why ``token`` (a run of non-blank characters) could read differently, or None."""
    first = token[0]
    if first in _INDICATORS:
        if first in "&*":  # where aliases may point: _alias_reason
            return None if _NAME.fullmatch(token, 1) else "anchor name"
        return None if token in _BLOCK or token in ("[]", "{}") else "indicator"
    if token in _BOOL11 or (token[:-1] in _BOOL11 and token[-1] == ":"):
        return "YAML 1.1 boolean"
    if token in _TYPED_KEYS:
        return "typed key"
    if token.startswith(("---", "...")):
        return "document marker"
    if first in _NUMBER_START and len(token) > 1 and not _number_is_safe(token):
        return "number"
    return None


def _alias_reason(text: str) -> str | None:
    """Why the anchors and aliases of ``text`` could read differently, or None.

    PyYAML refuses an anchor defined twice. yaml_rs reads an alias of a node not yet complete (an
    anchor containing itself) as null where KubeLoader refuses it: every alias must follow its
    anchor's node, which a block node ends at the first later line indented less (or as much, for
    a node after a key or ``- ``, on a line that does not start a sequence item).
    """
    defined: set[str] = set()
    open_anchors: dict[str, tuple[int, bool]] = {}  # name → indent of its line, anchor began it
    first = min(i for i in (text.find("&"), text.find("*"), len(text)) if i >= 0)
    last = text.find("\n", max(text.rfind("&"), text.rfind("*"), 0))
    # the lines before the first and after the last & or * hold no anchor and no alias
    for line in text[text.rfind("\n", 0, first) + 1 : last if last >= 0 else len(text)].split("\n"):
        if not open_anchors and "&" not in line and "*" not in line:
            continue
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        for name, (at, began) in list(open_anchors.items()):
            if indent < at or (indent == at and not began and tokens[0] != "-"):
                del open_anchors[name]
        for position, token in enumerate(tokens):
            if token[0] not in "&*":
                continue
            name = token[1:]
            if not _NAME.fullmatch(name):
                return "anchor name"
            if token[0] == "&":
                if name in defined:  # PyYAML refuses an anchor defined twice; go-yaml too
                    return "anchor defined twice"
                defined.add(name)
                open_anchors[name] = (indent, position == 0)
            elif name not in defined or name in open_anchors:
                return "alias inside its anchor"
    return None


def _tokens_reason(tokens: list[str]) -> str | None:
    if _safe_tokens.issuperset(tokens):
        return None
    for token in set(tokens) - _safe_tokens:
        reason = _reasons.get(token) or _token_reason(token)
        if reason is not None:
            if len(_reasons) < _CACHE_LIMIT:
                _reasons[token] = reason
            return f"{reason} {token!r}"
        if len(_safe_tokens) < _CACHE_LIMIT:
            _safe_tokens.add(token)
    return None


def unsafe_reason(text: str) -> str | None:
    """Why ``text`` must be read by KubeLoader, or None when yaml_rs provably reads it the same.

    The character, length, depth and token checks hold line by line, so a line found clean once
    (in this document or an earlier one: helm output repeats most lines) is not checked again.
    """
    if "\\" in text:
        return "backslash"
    if "<<" in text:
        return "merge key"
    lines = text.split("\n")
    new = () if _safe_lines.issuperset(lines) else set(lines) - _safe_lines
    for line in new:
        if not line.isprintable():  # tab, CR, controls, BOM, NEL, separators, nbsp…
            return "special character"
    for line in new:
        if len(line) >= 1024:
            return "long line"
    aliased = "*" in text  # KubeLoader then bounds the document (yamlbound)
    # a line found clean starts with fewer than _DEEP_ALIASED's 45 of " -": only new lines can match
    deep = [line for line in new if len(line) - len(line.lstrip(" -")) >= 45]
    if deep and (_DEEP_ALIASED if aliased else _DEEP).search(text):
        return "deep nesting"
    for line in new:
        reason = _tokens_reason(line.split())
        if reason is not None:
            return reason
        if len(_safe_lines) < _CACHE_LIMIT and line not in deep:  # printable, short, shallow, safe tokens
            _safe_lines.add(line)
    if aliased and len(text) > _MAX_ALIASED_TEXT:
        return "large document with '*'"
    if aliased or "&" in text:
        return _alias_reason(text)
    return None


def load_fast(text: str) -> dict[str, Any] | None:
    """The object yaml_rs reads from ``text`` when that is provably KubeLoader's; else None."""
    if yaml_rs is None or unsafe_reason(text) is not None:
        return None
    try:
        obj = _fast(text, aliased="*" in text)  # the limits only matter where aliases are
    except Exception:  # KubeLoader says what is wrong, in its own words and marks
        return None
    return obj if type(obj) is dict else None  # empty, scalar and list documents: KubeLoader's path


def load_document(text: str) -> Any:
    """:func:`yamlload.load_document`, through yaml_rs where that is proven to give the same."""
    obj = load_fast(text)
    return obj if obj is not None else yamlload.load_document(text)
