"""A hung external tool ends in exit 3 after the timeout, with its whole process group killed.

The stand-in ``kubeconform`` is a shell script that never answers (the real kubeconform cannot
be made to hang on demand); it also starts a child that would keep the output pipe open.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import run_cli

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: apps}\ndata: {a: b}\n"


def test_hung_kubeconform_times_out_with_exit_3(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    hung = tmp_path / "kubeconform"
    hung.write_text(f"#!/bin/sh\nsleep 600 &\necho $! > {pid_file}\nwait\n")
    hung.chmod(0o755)
    (tmp_path / "cm.yaml").write_text(CM)
    started = time.monotonic()
    done = run_cli(
        "validate", "--engine", "kubeconform", "--kubeconform", str(hung), "--manifests", str(tmp_path / "cm.yaml"),
        env={"CHARTFORGE_TOOL_TIMEOUT": "3"},
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert "kubeconform timed out after 3s" in done.stderr
    assert elapsed < 60
    child = int(pid_file.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2], (
        "the tool's child process survived"
    )
