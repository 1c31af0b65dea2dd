"""``chartforge build`` when nothing changed, answered before typer, Jinja or YAML are imported.

Starting the full command line costs far more than checking that the last build is still up to
date (:mod:`chartforge.compile.uptodate`), so :func:`answer` recognises the plain forms of the
command — ``[-C DIR | --root DIR] build [--check] [-o text|json]`` — and, when the build stamp
says nothing changed, prints what the full command would print and returns its exit status
(0). Any other argument, a build running or interrupted, a missing or stale stamp: it returns
None and the full command line runs, deciding as before.
"""

from __future__ import annotations

import os
import sys

from chartforge.compile import uptodate

LEFTOVERS = (".chartforge-build-", ".charts.old", ".values.old")  # what swap.recover() cleans up


def parse(argv: list[str]) -> tuple[str, bool, str] | None:
    """(root, check, output format) of a plain ``build`` command line; None for anything else."""
    root, args = ".", list(argv)
    while args and args[0] != "build":
        option = args.pop(0)
        if option in ("-C", "--root") and args:
            root = args.pop(0)
        elif option.startswith("--root="):
            root = option.removeprefix("--root=")
        else:
            return None
    if not args:
        return None
    check, output, rest = False, "text", args[1:]
    while rest:
        option = rest.pop(0)
        if option == "--check":
            check = True
        elif option in ("-o", "--output") and rest:
            output = rest.pop(0)
        elif option.startswith("--output="):
            output = option.removeprefix("--output=")
        else:
            return None
    return (root, check, output) if output in ("text", "json") and root else None


def answer(argv: list[str]) -> int | None:
    """The exit status of an up-to-date ``build`` once its output is printed, else None."""
    parsed = parse(argv)
    if parsed is None:
        return None
    root, check, output = parsed
    root = os.path.realpath(root)
    try:
        if any(name.startswith(LEFTOVERS) for name in os.listdir(root)):
            return None  # an interrupted build: the full command recovers it first
    except OSError:
        return None
    files = uptodate.check_locked(root)
    if files is None:
        return None
    if output == "json":
        import json

        data = {"changes": [], "clean": True, "files": len(files), "written": False}
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write("up to date\n" if check else f"built {len(files)} files (no change)\n")
    return 0
