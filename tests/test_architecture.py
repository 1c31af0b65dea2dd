"""The layering of docs/architecture.md holds: imports only go down, no cycles, no big modules.

The layer table is read from docs/architecture.md itself, so the page and the code cannot drift:
a new module must be placed in a layer there before this test passes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "generator" / "chartforge"
DOC = ROOT / "docs" / "architecture.md"
MAX_LINES = 300
ROW = re.compile(r"^\|\s*(\d+)\s*\|[^|]*\|([^|]*)\|")


def layers() -> dict[str, int]:
    """``{module prefix: layer number}`` from the table rows ``| N | name | `chartforge.x`, ... |``."""
    found: dict[str, int] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            for name in re.findall(r"`(chartforge[\w.]*)`", match.group(2)):
                found[name] = int(match.group(1))
    return found


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def layer_of(module: str, table: dict[str, int]) -> int | None:
    # the root package ``chartforge`` stands for its own __init__ only, not for every module
    best = max(
        (p for p in table if module == p or (p != "chartforge" and module.startswith(p + "."))),
        key=len,
        default=None,
    )
    return None if best is None else table[best]


def imports(module: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported chartforge module, line) of every import in ``path``, wherever it stands."""
    out = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("chartforge")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            if not base.startswith("chartforge"):
                continue
            for alias in node.names:  # `from chartforge.validate import manifests` names a module
                sub = f"{base}.{alias.name}"
                out.append((sub if sub in known else base, node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: {t for t, _ in imports(m, p, known) if t != m} for m, p in known.items()}


def test_every_module_is_placed_in_a_layer() -> None:
    table = layers()
    assert table, "docs/architecture.md has no layer table"
    unplaced = [m for m in modules() if layer_of(m, table) is None]
    assert not unplaced, f"add these modules to the layer table of docs/architecture.md: {unplaced}"


def test_imports_only_go_down_or_stay_in_their_layer() -> None:
    table, known = layers(), modules()
    wrong = []
    for module, path in known.items():
        mine = layer_of(module, table)
        for target, line in imports(module, path, known):
            theirs = layer_of(target, table)
            if mine is not None and theirs is not None and theirs > mine:
                wrong.append(
                    f"{path.relative_to(ROOT)}:{line}: {module} (layer {mine}) imports {target} (layer {theirs})"
                )
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    edges = graph()
    # a package's __init__ only hands its submodules' names on; an edge into it from its own
    # submodules would be a cycle through the face, which is one too
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (> {MAX_LINES}): split it"


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    """The rule itself: a core module importing the CLI is flagged (guards against a blind test)."""
    table = layers()
    assert layer_of("chartforge.errors", table) is not None
    assert layer_of("chartforge.cli.check", table) is not None
    assert layer_of("chartforge.cli.check", table) > layer_of("chartforge.errors", table)  # type: ignore[operator]
    fake = tmp_path / "errors.py"
    fake.write_text("from chartforge.cli import check\nfrom . import proc\n", encoding="utf-8")
    found = imports("chartforge.errors", fake, modules())
    assert ("chartforge.cli.check", 1) in found and ("chartforge.proc", 2) in found
