"""docs/tutorial.md, run: every ``console`` block's commands, in order, in a copy of the project.

Real tools throughout: chartforge (through a ``chartforge`` shim on PATH running this checkout),
helm 3 and helm 4, kubeconform, and Debian's docker-registry started by ``ci/registry.sh`` on a
free 127.0.0.1 port (the page says 5000: the port is swapped in the commands and back in the
output). Each command must exit 0 and print the lines the page shows under it, in order, with
``…`` standing for lines left out; digests, process ids, dates and paths are normalised.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool

TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGE_HOST = "127.0.0.1:5000"
NORMALISE = [
    (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
    (re.compile(r"\bpid \d+"), "pid <n>"),
    (re.compile(r"^PID=\d+$"), "PID=<n>"),
    (re.compile(r"^LAST DEPLOYED: .*"), "LAST DEPLOYED: <date>"),
    (re.compile(r"data \S*/\.registry/data\)"), "data <dir>/.registry/data)"),
    (re.compile(r"^DATA=.*/\.registry/data$"), "DATA=<dir>/.registry/data"),
]


def steps(text: str) -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` of every ``$ `` line of the console blocks."""
    found: list[tuple[str, list[str]]] = []
    for block in BLOCK.findall(text):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            else:
                assert found, f"output before any command in a console block: {line!r}"
                found[-1][1].append(line)
    return found


def normalise(line: str) -> str:
    line = line.rstrip()
    for pattern, replacement in NORMALISE:
        line = pattern.sub(replacement, line)
    return line


def assert_shows(expected: list[str], actual: list[str], command: str) -> None:
    """Each run of expected lines between ``…`` appears contiguously in ``actual``, in order."""
    want = [normalise(line) for line in expected]
    got = [normalise(line) for line in actual]
    segments: list[list[str]] = [[]]
    for line in want:
        if line == "…":
            segments.append([])
        else:
            segments[-1].append(line)
    start = 0
    for segment in (s for s in segments if s):
        for i in range(start, len(got) - len(segment) + 1):
            if got[i : i + len(segment)] == segment:
                start = i + len(segment)
                break
        else:
            shown = "\n".join(got)
            pytest.fail(
                f"`{command}` did not print, in order:\n" + "\n".join(segment) + f"\n--- it printed:\n{shown}"
            )


def test_the_page_has_every_step() -> None:
    commands = [c.split(" |")[0] for c, _ in steps(TUTORIAL.read_text())]
    for needed in ("chartforge new", "chartforge build", "chartforge check", "chartforge package",
                   "ci/registry.sh start", "chartforge publish", "helm4 install api oci://"):  # fmt: skip
        assert any(c.startswith(needed) for c in commands), needed


def test_matching_needs_the_lines_in_order() -> None:
    assert_shows(["a", "…", "c"], ["a", "b", "c"], "x")
    with pytest.raises(pytest.fail.Exception):
        assert_shows(["a", "c"], ["a", "b", "c"], "x")  # not contiguous without …
    with pytest.raises(pytest.fail.Exception):
        assert_shows(["c", "…", "a"], ["a", "b", "c"], "x")


@pytest.mark.slow
@pytest.mark.helm
@pytest.mark.kubeconform
@pytest.mark.registry
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    for tool in ("helm", "helm4", "kubeconform", "docker-registry"):
        require_tool(tool)
    project = tmp_path / "chartforge"
    for part in ("sources", "charts", "values", "ci"):
        shutil.copytree(ROOT / part, project / part)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "chartforge").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m chartforge "$@"\n')
    (shim / "chartforge").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
        "PYTHONUNBUFFERED": "1",  # stdout and stderr interleaved as on a terminal
        "PYTHONPATH": os.pathsep.join([str(ROOT / "generator"), os.environ.get("PYTHONPATH", "")]),
    }
    host, started = PAGE_HOST, False
    try:
        for command, expected in steps(TUTORIAL.read_text()):
            run = command.replace("--port 5000", "--port 0").replace(PAGE_HOST, host)
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-c", run], cwd=project, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, timeout=900, check=False,
            )  # fmt: skip
            started = started or run.startswith("ci/registry.sh start")
            assert done.returncode == 0, f"`{run}` exited {done.returncode}:\n{done.stdout}"
            if run.startswith("ci/registry.sh start"):
                state = dict(
                    line.split("=", 1)
                    for line in (project / ".registry" / "registry.state").read_text().splitlines()
                )
                host = state["HOST"]
            output = done.stdout.replace(host, PAGE_HOST)
            output = re.sub(r"^PORT=\d+$", "PORT=5000", output, flags=re.MULTILINE)
            assert_shows(expected, output.splitlines(), command)
    finally:
        if started:
            subprocess.run(["bash", "ci/registry.sh", "stop", "--dir", ".registry"], cwd=project,
                           capture_output=True, timeout=60, check=False)  # fmt: skip
