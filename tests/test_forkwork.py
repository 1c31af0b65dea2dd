"""A large manifest stream parsed on two cores gives the records one process gives.

Each test runs its code in a fresh interpreter: :func:`chartforge.forkwork.start` forks only from
a process with a single thread, which a test process that another test left a thread in is not;
with ``CHARTFORGE_PARSE_FORK=always``, so that the machine's load average does not decide.
The children are real forked processes; the corpus is every manifest under tests/cases/ (valid,
invalid, broken YAML, Lists, empty documents) repeated past the size where the fork starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """
import os, threading, time
from pathlib import Path
from chartforge import forkwork, manifests
from chartforge.manifests import Manifest, _parse_part, iter_manifest_files, parse_manifest_text

def fields(records: list[Manifest]) -> list[dict[str, object]]:
    return [dict(m.__dict__) for m in records]  # every field, obj and raw included

def corpus() -> str:
    texts = [p.read_bytes().decode("utf-8", "replace") for p in iter_manifest_files([Path("tests/cases")])]
    stream = "".join("---\\n" + (t if t.endswith("\\n") else t + "\\n") for t in texts)
    return stream * (manifests.FORK_MIN_CHARS // len(stream) + 2)
"""


def run(code: str, mode: str = "always") -> str:
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, "CHARTFORGE_PARSE_FORK": mode},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_corpus_parsed_on_two_cores_gives_every_record_and_field_one_process_gives() -> None:
    out = run(
        """
        text = corpus()
        assert len(text) >= manifests.FORK_MIN_CHARS and forkwork.usable()
        serial = _parse_part(text, "corpus.yaml")[0]
        assert len(serial) > 1000 and any(m.error for m in serial)
        assert any(m.item_index is not None for m in serial)
        children = []
        start = forkwork.start
        forkwork.start = lambda fn: children.append(start(fn)) or children[-1]  # count the forks
        assert fields(parse_manifest_text(text, "corpus.yaml")) == fields(serial)
        assert len(children) == 1 and children[0] is not None
        # the child's share alone: its rows, rebuilt, are the serial records after the cut
        cut = manifests.cut_point(text, manifests.FORK_SHARE)
        first, count = _parse_part(text[:cut], "corpus.yaml")
        child = start(lambda: manifests._rows(text[cut:], "corpus.yaml", text.count("\\n", 0, cut) + 1))
        rows = child.result()
        assert isinstance(rows, tuple) and rows[0] > 0
        rebuilt = [manifests._from_row(row, count) for row in rows[1]]
        assert fields(first + rebuilt) == fields(serial)
        print(len(serial), len(rebuilt))
        """
    )
    total, second = map(int, out.split())
    assert 0 < second < total


def test_a_child_that_gives_nothing_leaves_the_parse_to_this_process() -> None:
    run(
        """
        text = corpus()
        serial = _parse_part(text, "f.yaml")[0]
        def fails(*args: object) -> object:
            raise RuntimeError("child failed")
        manifests._rows = fails  # runs in the child: it exits with no value
        assert fields(parse_manifest_text(text, "f.yaml")) == fields(serial)
        """
    )


def test_a_value_marshal_cannot_write_a_failure_or_a_killed_child_give_none() -> None:
    run(
        """
        assert forkwork.start(lambda: {"a": [1, 2.5, None, True, "x", b"y", (3,)]}).result() == {
            "a": [1, 2.5, None, True, "x", b"y", (3,)]
        }
        assert forkwork.start(lambda: object()).result() is None
        assert forkwork.start(lambda: 1 // 0).result() is None
        assert forkwork.start(lambda: os._exit(0)).result() is None  # exits without writing
        def assert_reaped(child: forkwork.Child, what: str) -> None:
            try:
                os.waitpid(child._pid, 0)
                raise AssertionError(f"the {what} child was not reaped")
            except ChildProcessError:
                pass
        child = forkwork.start(lambda: time.sleep(60))
        started = time.monotonic()
        child.cancel()
        assert time.monotonic() - started < 10
        assert_reaped(child, "cancelled")
        # interrupted while waiting (as Ctrl-C or SIGTERM would): the child is killed, not awaited
        import signal
        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt
        signal.signal(signal.SIGALRM, interrupt)
        child = forkwork.start(lambda: time.sleep(60))
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        started = time.monotonic()
        try:
            child.result()
            raise AssertionError("not interrupted")
        except KeyboardInterrupt:
            pass
        assert time.monotonic() - started < 10
        assert_reaped(child, "interrupted")
        """
    )


def test_no_fork_beside_another_thread_or_for_a_small_stream() -> None:
    run(
        """
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait)
        worker.start()
        try:
            assert forkwork.start(lambda: 1) is None
        finally:
            stop.set()
            worker.join()
        assert forkwork.start(lambda: 1).result() == 1
        small = "---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: a\\n"
        forkwork.start = lambda fn: (_ for _ in ()).throw(AssertionError("forked for a small stream"))
        assert [m.name for m in parse_manifest_text(small)] == ["a"]
        """
    )


def test_never_forks_and_a_wrong_mode_is_a_usage_error() -> None:
    run(
        """
        assert not forkwork.usable() and forkwork.start(lambda: 1) is None
        """,
        mode="never",
    )
    run(
        """
        from chartforge.errors import UsageError
        try:
            forkwork.usable()
            raise AssertionError("no error")
        except UsageError as exc:
            assert "CHARTFORGE_PARSE_FORK is 'sometimes'" in str(exc), exc
        """,
        mode="sometimes",
    )
