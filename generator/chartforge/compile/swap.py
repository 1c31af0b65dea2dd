"""Replace ``charts/`` and ``values/`` together: both the old generation or both the new one.

Two directories cannot be swapped by one atomic rename, so the swap is journaled:

1. the new trees are written into a staging folder ``.chartforge-build-<id>/new/`` beside them;
2. ``state`` (written atomically) says ``swapping`` and which trees existed before;
3. each current tree moves to ``<stage>/old/`` and the new one takes its place;
4. ``state`` says ``done``; the staging folder is removed.

A failure in step 3 rolls back at once. A *kill* (SIGKILL, power loss) at any point leaves the
staging folder behind; the next chartforge run (:func:`recover`, under the build lock) rolls a
``swapping`` journal back to the old generation, finishes a ``done`` one, and deletes staging
folders that never reached step 2 — and the ``.charts.old``/``.values.old`` folders older
chartforge versions could leave. Until then, readers of ``charts/`` may see a half swap;
every command runs :func:`recover` first.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from chartforge.errors import UserError
from chartforge.privatefile import ensure_private_dir

log = logging.getLogger("chartforge.build")
TREES = ("charts", "values")
STAGE_PREFIX = ".chartforge-build-"
LOCK = Path(".chartforge") / "build.lock"


@contextlib.contextmanager
def build_lock(root: Path, *, wait: bool = True) -> Iterator[bool]:
    """Exclusive lock of ``root``'s outputs; yields False when ``wait`` is off and another build holds it."""
    path = root / LOCK
    try:
        ensure_private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise UserError(f"cannot take the build lock: {exc.strerror or exc}", path=path) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                yield False
                return
            raise
        yield True
    finally:
        os.close(fd)


def _write_state(stage: Path, state: Mapping[str, object]) -> None:
    tmp = stage / "state.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(dict(state)))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, stage / "state")


def _read_state(stage: Path) -> dict[str, object]:
    try:
        data = json.loads((stage / "state").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _rollback(root: Path, stage: Path, had: list[str]) -> None:
    """Put every tree back to what it was before the swap began (idempotent)."""
    for top in TREES:
        old, new, current = stage / "old" / top, stage / "new" / top, root / top
        if old.exists():  # moved away: whatever is in place now is the new one
            if current.exists() and not new.exists():
                os.replace(current, new)
            elif current.exists():
                shutil.rmtree(current)
            os.replace(old, current)
        elif top not in had and current.exists() and not new.exists():  # first build: new one moved in
            os.replace(current, new)


def recover(root: Path) -> list[str]:
    """Finish or undo interrupted swaps and delete leftovers; returns what was done (for logs).

    Must be called holding :func:`build_lock`.
    """
    done: list[str] = []
    for stage in sorted(root.glob(f"{STAGE_PREFIX}*")):
        if not stage.is_dir() or stage.is_symlink():
            continue
        state = _read_state(stage)
        if state.get("phase") == "swapping":
            listed = state.get("had")
            had = [str(t) for t in listed] if isinstance(listed, list) else list(TREES)
            _rollback(root, stage, had)
            done.append(
                f"rolled back an interrupted build ({stage.name}): charts/ and values/ are the previous ones"
            )
        shutil.rmtree(stage, ignore_errors=True)
        done.append(f"removed {stage.name}")
    for top in TREES:  # what chartforge before the journal could leave
        legacy = root / f".{top}.old"
        if legacy.is_dir() and not legacy.is_symlink():
            if not (root / top).exists():
                os.replace(legacy, root / top)
                done.append(f"restored {top}/ from {legacy.name}")
            else:
                shutil.rmtree(legacy, ignore_errors=True)
                done.append(f"removed {legacy.name}")
    for line in done:
        log.warning("%s", line)
    return done


def replace_trees(root: Path, tree: Mapping[str, bytes]) -> None:
    """Write ``tree`` (``{"charts/…"|"values/…": bytes}``) as the new ``charts/`` and ``values/``."""
    stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=root))
    had = [top for top in TREES if (root / top).exists()]
    swapping = False
    try:
        for rel, data in tree.items():
            target = stage / "new" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, 0o644)
        for top in TREES:
            (stage / "new" / top).mkdir(parents=True, exist_ok=True)
        (stage / "old").mkdir()
        _write_state(stage, {"phase": "swapping", "had": had})
        swapping = True
        for top in TREES:
            if (root / top).exists():
                os.replace(root / top, stage / "old" / top)
            os.replace(stage / "new" / top, root / top)
        _write_state(stage, {"phase": "done", "had": had})
        swapping = False
    except BaseException:
        if swapping:
            _rollback(root, stage, had)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
