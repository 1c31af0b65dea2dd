"""check progress on stderr: a live line on a terminal, one line per stage without one; stdout is the result."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from chartforge.cli.progress import ProgressPrinter
from chartforge.compile.build import build
from chartforge.progress import Event
from tests.conftest import CASES, copy_tree, require_tool, run_cli

BASE = CASES / "build" / "base"  # 3 charts × 2 environments × 3 Kubernetes versions


@pytest.fixture
def project(tmp_path: Path) -> Path:
    require_tool("helm")
    root = copy_tree(BASE, tmp_path / "project")
    build(root)
    return root


def test_printer_counts_what_is_left_across_stages() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=True)
    printer(Event("lint", "", 0, 2))
    printer(Event("render", "", 0, 1))
    printer(Event("lint", "alpha × development × helm v4", 1, 2))
    assert out.getvalue().endswith("check: lint 1/2 · alpha × development × helm v4 · 2 left")
    printer.close()
    assert out.getvalue().endswith("\r\x1b[K")


@pytest.mark.helm
def test_without_a_terminal_one_line_per_stage(project: Path) -> None:
    result = run_cli("-C", str(project), "check", "--engine", "builtin", "-o", "json")
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # stdout is only the result
    stages = [line.split(":")[1].strip() for line in result.stderr.splitlines() if line.startswith("check: ")]
    assert sorted(stages) == ["build", "lint", "policy", "render", "validate"]
    helms = len(json.loads(result.stdout)["matrix"]["helm_versions"])
    assert f"check: lint: {3 * 2 * helms} done" in result.stderr
    assert "check: render: 6 done" in result.stderr
    assert "\x1b[K" not in result.stderr


@pytest.mark.helm
def test_on_a_terminal_a_live_line_shows_what_runs_and_what_is_left(project: Path) -> None:
    main, secondary = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chartforge", "-C", str(project), "check", "--engine", "builtin", "-o", "json"],
        stdout=subprocess.PIPE, stderr=secondary, text=True,
    )  # fmt: skip
    os.close(secondary)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(main, 4096)
            except OSError:  # the terminal closed with the process
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    stdout, _ = proc.communicate(timeout=600)
    reader.join(timeout=30)
    os.close(main)
    terminal = b"".join(chunks).decode()
    assert proc.returncode == 0, terminal
    json.loads(stdout)
    assert "\r\x1b[K" in terminal
    assert "check: render" in terminal and "development × Kubernetes 1.31" in terminal
    assert "check: lint" in terminal and "alpha × production × helm" in terminal
    assert " left" in terminal
