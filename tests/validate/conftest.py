"""Fixtures for the validate tests: the agreement corpus, a private schema cache, kubeconform."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chartforge import tools
from chartforge.compile.catalog import load_catalog
from tests.conftest import CASES, ROOT

CORPUS = CASES / "validate"
CRD_DIR = ROOT / "sources" / "crds"
CATALOG_VERSIONS = tuple(
    str(v) for v in load_catalog(ROOT).kubernetes_versions
)  # the range the cases are checked on by default
_HEADER = re.compile(r"^#\s*(expect|versions):\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Case:
    """One corpus file: what both engines must say about it on which versions."""

    path: Path
    valid: bool
    expect: frozenset[str]  # field paths, or {"no-schema"}
    versions: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"


def load_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    expect: set[str] = set()
    versions: tuple[str, ...] = CATALOG_VERSIONS
    for key, value in _HEADER.findall(text):
        if key == "expect":
            expect.add(value)
        else:
            versions = tuple(value.split())
    return Case(path, path.parent.name == "valid", frozenset(expect), versions)


def corpus() -> list[Case]:
    return [load_case(p) for kind in ("valid", "invalid") for p in sorted((CORPUS / kind).glob("*.yaml"))]


@pytest.fixture(scope="session")
def schema_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A session-private schema cache; also exported for CLI subprocesses."""
    cache = tmp_path_factory.mktemp("chartforge-cache")
    previous = os.environ.get("CHARTFORGE_CACHE")
    os.environ["CHARTFORGE_CACHE"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("CHARTFORGE_CACHE", None)
    else:
        os.environ["CHARTFORGE_CACHE"] = previous


@pytest.fixture(scope="session")
def kubeconform_bin() -> str:
    """The real kubeconform; skip when absent, fail when CHARTFORGE_REQUIRE_TOOLS=1."""
    found = tools.find_kubeconform()
    if found:
        return found
    message = "kubeconform is not installed (run ci/install.sh or set KUBECONFORM)"
    if os.environ.get("CHARTFORGE_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)
