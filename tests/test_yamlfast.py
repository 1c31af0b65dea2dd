"""yamlfast gives exactly what KubeLoader gives, on every corpus, and each fallback trigger is needed.

The reference is :func:`chartforge.yamlload.load_document` (KubeLoader: the reading the agreement
corpus proves equal to kubeconform's). Results are compared by ``repr``, which tells ``1``,
``1.0`` and ``True`` apart and keeps key order; errors by type and message.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml_rs

from chartforge import manifests, yamlfast, yamlload
from chartforge.manifests import parse_manifest_text, split_documents
from tests.conftest import CASES, ROOT


def outcome(load: Callable[[str], Any], text: str) -> tuple[str, str]:
    try:
        return "ok", repr(load(text))
    except Exception as exc:  # the same exception either way (KubeLoader's), compared by its words
        return type(exc).__name__, str(exc)


def agree(text: str) -> bool:
    return outcome(yamlfast.load_document, text) == outcome(yamlload.load_document, text)


def documents(text: str) -> list[str]:
    return [chunk.text for chunk in split_documents(text)]


def bench_corpus(count: int) -> str:
    spec = importlib.util.spec_from_file_location("bench_validate", ROOT / "bench" / "bench_validate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_validate", module)
    spec.loader.exec_module(module)
    return str(module.generate(count))


def repository_yaml() -> Iterator[Path]:
    """Every YAML file of the project: the agreement corpus, every case folder, sources, charts, values."""
    for folder in (CASES, ROOT / "sources", ROOT / "charts", ROOT / "values", ROOT / "tests" / "golden"):
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".yaml", ".yml") and path.is_file():
                yield path


def test_every_yaml_file_of_the_project_reads_the_same() -> None:
    texts = {path: path.read_text(encoding="utf-8", errors="replace") for path in repository_yaml()}
    assert len(texts) > 300 and any("validate/invalid" in str(p) for p in texts)
    docs = [doc for text in texts.values() for doc in documents(text)]
    fast = sum(yamlfast.load_fast(doc) is not None for doc in docs)
    assert [d for d in docs if not agree(d)] == []
    assert fast > len(docs) // 2, "the fast path must actually be taken"
    assert fast < len(docs), "and the fallback too"


def test_the_agreement_corpus_gives_the_same_manifest_records(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = sorted((CASES / "validate").rglob("*.yaml"))
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in paths]
    fast = [parse_manifest_text(text, name) for name, text in texts]
    monkeypatch.setattr(manifests, "load_document", yamlload.load_document)
    kube = [parse_manifest_text(text, name) for name, text in texts]
    assert len(paths) >= 40
    assert fast == kube  # file, document, line, kind, name, errors and their lines…
    assert [[repr(m.obj) for m in r] for r in fast] == [[repr(m.obj) for m in r] for r in kube]


def test_the_bench_corpus_takes_the_fast_path_and_reads_the_same() -> None:
    docs = documents(bench_corpus(400))
    assert len(docs) == 400 and sum("*id001" in d for d in docs) == 100  # Deployments share labels by alias
    assert all(yamlfast.load_fast(d) is not None for d in docs)
    assert [d for d in docs if not agree(d)] == []


@pytest.mark.helm
def test_the_bundled_catalog_rendered_for_every_environment_reads_the_same() -> None:
    from tests.catalog.conftest import ENVIRONMENTS, catalog, render_text

    docs = [doc for env in ENVIRONMENTS for doc in documents(render_text(catalog().umbrella, env))]
    assert len(docs) > 300
    assert [d for d in docs if not agree(d)] == []
    assert sum(yamlfast.load_fast(d) is not None for d in docs) > len(docs) // 3


_PIECES = [
    ": ", "- ", "#", "'", '"', "|", "|-", "|+", ">", ">+", "|2", "{}", "[]", "[a, b]", "{a: 1}", "&a ",
    "*a", "yes", "0755", " ", "\n", "  ", ":", "-", "?", "!!str ", "~", "null", "1e3", "_1", "0x1F",
    ".5", "a: b", "\n- ", "\n  ", "---", "...", "%", "@", ",", "<<", "=", "y", "+1", "-.inf", "09",
    "0o7", "0b1", "1_000", "1:30", "2024-01-01", "\t", "é", "\u2028", "\x85", "\ufeff", "\\", "\n\n",
    "   \n", "\n# c\n", " #", "key:\n  - a\n  - b\n", "x: |\n  l1\n\n  l2\n", '"a\n  b"', "'a\n\n b'",
]  # fmt: skip


def mutants(seed: int, count: int) -> Iterator[str]:
    """Documents of the agreement corpus and the bench with 1-3 random edits of YAML syntax."""
    rng = random.Random(seed)
    base = [d for p in sorted((CASES / "validate").rglob("*.yaml")) for d in documents(p.read_text())]
    base += documents(bench_corpus(8))
    for _ in range(count):
        doc = rng.choice(base)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(doc) + 1)
            edit = rng.random()
            if edit < 0.6:
                doc = doc[:at] + rng.choice(_PIECES) + doc[at:]
            elif edit < 0.8:
                doc = doc[:at] + doc[at + rng.randint(1, 3) :]
            else:
                lines = doc.split("\n")
                i = rng.randrange(len(lines))
                lines[i] = " " * rng.randint(1, 3) + lines[i] if rng.random() < 0.5 else lines[i].lstrip(" ")
                doc = "\n".join(lines)
        yield doc


def test_random_edits_of_the_corpus_read_the_same() -> None:
    docs = list(mutants(seed=15, count=1500))
    assert [d for d in docs if not agree(d)] == []
    fast = sum(yamlfast.load_fast(d) is not None for d in docs)
    assert 100 < fast < len(docs)  # edits that keep a document provably safe, and edits that do not


def nested(depth: int, leaf: str = "v") -> str:
    return (
        "".join(" " * i + f"k{i}:\n" for i in range(depth - 1))
        + " " * (depth - 1)
        + f"k{depth - 1}: {leaf}\n"
    )


ALIASED_TOO_DEEP = (  # 110 levels under the anchor, the alias 100 levels down: 210 > yamlbound's 200
    nested(110).replace("k0:", "a: &deep", 1)
    + "".join(" " * i + f"b{i}:\n" for i in range(100))
    .replace("b99:", "b99: *deep", 1)
    .rstrip("\n")
    .rsplit("\n", 0)[0]
    + "\n"
)

# (document, the reason yamlfast gives, whether yaml_rs alone reads it, differently from KubeLoader);
# the others are guards kept where the two agree on every case tried or both refuse
TRIGGERS = [
    ("\ufeffa: 1\n", "special character", True),  # yaml_rs keeps the BOM in the key
    ("a: b\u2028c\n", "special character", True),  # a line break in YAML 1.1: libyaml refuses
    ("a: b\x85c\n", "special character", True),  # NEL, a line break too
    ("base: &b\n  x: 1\nd:\n  <<: *b\n", "merge key", True),  # yaml_rs: a key named '<<'
    ('a: "\\u00e9"\n', "backslash", False),  # escapes agree (30,000 random cases): kept as a guard
    ("k" * 1100 + ": v\n", "long line", False),  # both refuse; libyaml's bound, kept as a guard
    (ALIASED_TOO_DEEP, "deep nesting", True),  # yamlbound refuses the expansion, yaml_rs builds it
    (nested(250), "deep nesting", False),  # both read it; near Python's recursion limit they may not agree
    ("a: '*'\n" + "".join(f"k{i}: v\n" for i in range(100_000)), "large document with '*'", False),
    ("a: &x\n  b: *x\n", "alias inside its anchor", True),  # yaml_rs: b is null
    ("a: &x\n- b\n- *x\n", "alias inside its anchor", True),
    ("a: 1\nb: *x\n", "alias inside its anchor", False),  # undefined: both refuse
    ("a: &x 1\nb: &x 2\n", "anchor defined twice", True),  # PyYAML refuses, yaml_rs takes the last
    ("a: &x 1\nb: *x\nc: &y 2\nd: &y 3\n", "anchor defined twice", True),  # after the last alias too
    ("a: &x.y v\nb: *x.y\n", "anchor name", True),  # libyaml's names are [A-Za-z0-9_-]
    ("a: !foo x\n", "indicator", True),  # unknown tag: KubeLoader refuses, yaml_rs drops it
    ("[a, b]: c\n", "indicator", True),  # flow key: a string for go-yaml, a tuple for yaml_rs
    (": a\n", "indicator", True),  # empty key: libyaml refuses, yaml_rs has a None key
    ("a: %x\n", "indicator", False),
    ("a: yes\n", "YAML 1.1 boolean", True),
    ("a: Off\n", "YAML 1.1 boolean", True),
    ("n: 1\n", "YAML 1.1 boolean", True),  # the key n is false, so "false"
    ("a: =\n", "YAML 1.1 boolean", True),  # the 1.1 value tag: KubeLoader refuses it
    ("true: 1\n", "typed key", True),  # go-yaml: "true"; yaml_rs: True
    ("~: 1\n", "typed key", True),
    ("a: ---\n", "document marker", False),
    ("mode: 0755\n", "number", True),  # octal in YAML 1.1, 755 in 1.2
    ("a: 09\n", "number", True),
    ("a: _1\n", "number", True),
    ("a: 0X1F\n", "number", True),
    ("a: .InF\n", "number", True),
    ("8080: http\n", "number", True),  # go-yaml makes the key "8080"
]


@pytest.mark.parametrize(
    ("text", "reason", "differs"), TRIGGERS, ids=[t[1] + f"-{i}" for i, t in enumerate(TRIGGERS)]
)
def test_each_trigger_sends_the_document_to_kubeloader(text: str, reason: str, differs: bool) -> None:
    assert (yamlfast.unsafe_reason(text) or "").startswith(reason)
    assert yamlfast.load_fast(text) is None
    assert agree(text)
    raw = outcome(lambda t: yaml_rs.loads(t, parse_datetime=False), text)
    # where yaml_rs alone reads it without error but not as KubeLoader does, the trigger is what keeps them equal
    assert (raw[0] == "ok" and raw != outcome(yamlload.load_document, text)) is differs


def test_documents_yaml_rs_refuses_or_that_are_no_mapping_go_to_kubeloader() -> None:
    for text in ("a: 1\na: 2\n", "a: b: c\n", "- a\n- b\n", "just text\n", "# only a comment\n", ""):
        assert yamlfast.unsafe_reason(text) is None
        assert yamlfast.load_fast(text) is None
        assert agree(text)


def test_safe_documents_take_the_fast_path_with_typed_scalars() -> None:
    text = (
        "a: 1\nb: 1.5\nc: true\nd: null\ne: ~\nf: 1e3\ng: 0x1F\nh: 0o17\ni: '0755'\nj: -.inf\nk: []\nl: {}\n"
    )
    assert yamlfast.unsafe_reason(text) is None
    assert yamlfast.load_fast(text) is not None
    assert agree(text)


def test_one_character_tokens_need_no_probe() -> None:
    for char in "0123456789_.+-~":
        text = f"a: {char}\nb:\n- {char}\n" if char != "-" else "a:\n- x\n- -\n"
        assert yamlfast.unsafe_reason(text) is None, char
        assert agree(text), char


def test_without_the_wheel_every_document_goes_to_kubeloader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlfast, "yaml_rs", None)
    text = "a: 1\n"
    assert yamlfast.load_fast(text) is None
    assert yamlfast.load_document(text) == {"a": 1}
