"""SIGTERM and SIGKILL during ``publish`` (how CI cancels a job) and what helm's children can see.

Real ``chartforge publish`` processes against the real TLS + htpasswd registry, driving the real
helm 4 through a wrapper script that records its environment and lingers in ``helm push`` so
the signal lands while the temporary registry login (``registry.json``) exists.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chartforge.tools import find_helms
from tests.conftest import copy_tree
from tests.package import SAMPLE
from tests.publish.conftest import PASSWORD, USER, LocalRegistry

pytestmark = [pytest.mark.registry, pytest.mark.helm]


def _wrapper(tmp_path: Path) -> Path:
    helm4 = [h for h in find_helms() if h.major >= 4]
    if not helm4:
        pytest.fail("helm 4 is needed for the TLS registry on loopback (ci/install.sh installs it)")
    dumps = tmp_path / "env-dumps"
    dumps.mkdir()
    script = tmp_path / "helm-wrapper"
    script.write_text(
        "#!/bin/sh\n"
        f'env > "{dumps}/env.$$"\n'
        'if [ "$1" = push ]; then sleep 2; fi\n'
        f'exec "{helm4[-1].path}" "$@"\n'
    )
    script.chmod(0o755)
    return script


def _publish_inside_first_push(
    registry: LocalRegistry, tmp_path: Path
) -> tuple[subprocess.Popen[str], Path, list[str], dict[str, str]]:
    """A publish (helm wrapped to record its environment and slow its pushes) caught inside its first push.

    Returns the running process, its TMPDIR, and the command and environment that started it."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    helm = _wrapper(tmp_path)
    project = copy_tree(SAMPLE, tmp_path / "project")
    env = {**os.environ, **registry.cli_env, "TMPDIR": str(scratch), "CHARTFORGE_LOCK_DIR": str(tmp_path / "locks")}  # fmt: skip
    command = [sys.executable, "-m", "chartforge", "-C", str(project), "publish", "--helm", str(helm),
               *registry.cli_args(registry.target())]  # fmt: skip
    running = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(scratch.glob("chartforge-helm-*/registry.json")):
        assert running.poll() is None, running.communicate()
        assert time.monotonic() < deadline, "helm registry login never happened"
        time.sleep(0.02)
    time.sleep(0.3)  # inside the (slow) first push
    return running, scratch, command, env


def test_sigterm_mid_publish_removes_the_login_and_children_never_see_the_password(
    secure_registry: LocalRegistry, tmp_path: Path
) -> None:
    running, scratch, _, _ = _publish_inside_first_push(secure_registry, tmp_path)
    running.send_signal(signal.SIGTERM)
    _, stderr = running.communicate(timeout=60)
    assert running.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert "interrupted by SIGTERM" in stderr
    assert not list(scratch.glob("chartforge-helm-*")), "the temporary registry login was left behind"
    dumps = sorted((tmp_path / "env-dumps").iterdir())
    assert dumps, "helm was never run"
    for dump in dumps:
        text = dump.read_text()
        assert PASSWORD not in text, f"{dump.name}: a helm child saw the registry password"
        assert "CHARTFORGE_REGISTRY_PASSWORD" not in text


def _helm_children_running(scratch: Path) -> bool:
    """Whether a process whose environment points into ``scratch`` (an orphaned helm) still runs."""
    marker = str(scratch).encode()
    for proc_dir in Path("/proc").iterdir():
        if proc_dir.name.isdigit():
            try:
                if marker in (proc_dir / "environ").read_bytes():
                    return True
            except OSError:
                continue
    return False


def test_sigkill_mid_publish_leaves_no_credentials_once_the_next_run_is_done(
    secure_registry: LocalRegistry, tmp_path: Path
) -> None:
    killed, scratch, command, env = _publish_inside_first_push(secure_registry, tmp_path)
    killed.kill()  # SIGKILL: no handler runs, the login stays on disk
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert list(scratch.glob("chartforge-helm-*/registry.json")), "nothing was left behind to sweep"
    deadline = time.monotonic() + 120
    while _helm_children_running(scratch):  # the orphaned `helm push` finishes on its own
        assert time.monotonic() < deadline, "an orphaned helm never ended"
        time.sleep(0.1)

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stderr
    assert not list(scratch.glob("chartforge-helm-*")), (
        "the killed run's registry login survived the next run"
    )
    secret = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for file in (p for p in scratch.rglob("*") if p.is_file()):
        text = file.read_text(errors="replace")
        assert PASSWORD not in text and secret not in text, f"{file}: credentials survived"
