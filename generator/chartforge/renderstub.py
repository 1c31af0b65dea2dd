"""The umbrella's ``helm template`` with unselected sub-charts as stubs that print their cached documents.

On a run over some charts (``--chart``, ``--changed-since``) every rendering of the umbrella
(environment × Kubernetes version) would render all its sub-charts again, though only the
selected charts' objects are validated and policy-checked; the others are needed as the release
around them (a NetworkPolicy or PDB of another chart covers these pods too) and must be exactly
what a full rendering gives, down to each document's place and line in the stream.

So a full rendering records, for each sub-chart ``s`` that can be stubbed, the documents ``s``
produced (each template file's documents, in output order), keyed like the lint facts of
:mod:`chartforge.umbrellastub` (helm version, environment, ``s``'s files, its values section,
``global`` and ``tags`` in the values file and the umbrella's defaults, its dependency entry,
release name and namespace) plus the Kubernetes versions the rendering served. A later run
renders the umbrella with ``s`` replaced by a stub: ``Chart.yaml`` and ``values.yaml`` (the values
every chart receives stay those of the full tree) and, for each template file ``s`` rendered,
a template that prints those documents verbatim from the stub's own files (``.Files.Get``).
helm then splits, sorts and prints them itself, so the text is byte for byte the full
rendering's, whatever helm's ordering rules: nothing is merged here.

Stubbing applies only when it is exact: the conditions :meth:`Stubber.stubs_of` checks for the
lint (the stub is self-contained, no named template crosses the boundary, nothing opaque), and
the stub's documents cannot differ between two renderings: no template action of ``s`` calls a
function whose output is random, time-, environment- or network-dependent (``randAlphaNum``,
``now``, ``genCA``, ``uuidv4``, ``htpasswd``, ``env`` …; ``lookup`` gives nothing to ``helm
template``), and the recorded text has the exact shape ``helm template`` prints. Hooks need no rule: a stub prints the same documents,
annotations included, so helm sets them apart and orders them as before. A sub-chart that cannot
be stubbed is rendered in full beside the stubs; a missing fact or any doubt about the boundary
renders the full tree, as before; a stubbed rendering that fails is rendered again in full, so a
failure is always the full tree's own message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

from chartforge.kube import KubeVersion
from chartforge.stubcharts import keep
from chartforge.tools import Helm
from chartforge.umbrellastub import Stubber

_DOC = re.compile(r"^---\n# Source: ([^\n]+)\n", re.MULTILINE)
_DIR = "chartforge-stub"  # the stub's files holding the recorded documents


def split_documents(text: str) -> list[tuple[str, str]] | None:
    """``helm template`` output as (``# Source:`` path, document) pairs, or None when it is not exactly that shape.

    helm prints every document as ``---\\n# Source: PATH\\nDOCUMENT\\n`` with ``DOCUMENT`` trimmed."""
    starts = [m.start() for m in _DOC.finditer(text)]
    if not starts or starts[0] != 0:
        return None
    out = []
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        head = _DOC.match(text, begin)
        assert head is not None
        body = text[head.end() : end]
        if not body.endswith("\n") or body[:-1] != body[:-1].strip() or not body[:-1]:
            return None
        out.append((head.group(1), body[:-1]))
    return out


def _fill(files: dict[str, list[str]], stub: Path) -> None:
    """A template per file the sub-chart rendered, printing its documents from the stub's own files."""
    (stub / _DIR).mkdir()
    for i, (path, documents) in enumerate(files.items()):
        (stub / _DIR / f"{i}.yaml").write_text("\n---\n".join(documents) + "\n", encoding="utf-8")
        template = stub / "templates" / path
        template.parent.mkdir(parents=True, exist_ok=True)
        template.write_text(f'{{{{ .Files.Get "{_DIR}/{i}.yaml" }}}}', encoding="utf-8")


def versions_tag(versions: Sequence[KubeVersion]) -> str:
    return ",".join(v.full for v in versions)


class RenderStubs:
    """Recorded documents of sub-charts, as stub charts kept in the result cache, and umbrellas using them.

    A recorded sub-chart is a directory ``stub-charts/<key>`` beside the result entries: written
    once (in a temporary directory renamed into place, so a reader sees all of it or nothing),
    then only linked into a stubbed umbrella, so a run over some charts writes no file per stub."""

    def __init__(self, stubber: Stubber, helm: Helm) -> None:
        self.stubber, self.helm = stubber, helm
        root = stubber.cache.root
        self.store = None if root is None else root.parent / "stub-charts"

    def _key(self, env: str, versions: Sequence[KubeVersion], name: str) -> str | None:
        values = self.stubber.catalog.project.values_file(env)
        what = ("helm template", versions_tag(versions), f"namespace={self.stubber.catalog.umbrella}")
        return self.stubber.fact_key(self.helm, env, values, name, what)

    def _stubbable(self, name: str) -> bool:
        return self.stubber.self_contained(name) and self.stubber.scan(name).stable

    def record(self, env: str, versions: Sequence[KubeVersion], text: str) -> None:
        """After a full rendering: each stubbable sub-chart's documents, as a stub chart in the cache."""
        catalog = self.stubber.catalog
        docs = split_documents(text) if self.store is not None else None
        if docs is None or self.store is None:
            return
        for dep in next(c for c in catalog.charts if c.is_umbrella).dependencies:
            key = self._key(env, versions, dep.name) if self._stubbable(dep.name) else None
            if key is None or (self.store / key).is_dir():
                continue
            prefix = f"{catalog.umbrella}/charts/{dep.name}/templates/"
            files: dict[str, list[str]] = {}
            for path, doc in docs:
                if path.startswith(prefix):
                    files.setdefault(path.removeprefix(prefix), []).append(doc)
            keep(self.stubber.cache, key, self.stubber.assembled / dep.name, functools.partial(_fill, files))

    def stubbed(self, selected: Sequence[str], env: str, versions: Sequence[KubeVersion]) -> Path | None:
        """The umbrella with unselected sub-charts printing their recorded documents, or None when not exact."""
        values, store = self.stubber.catalog.project.values_file(env), self.store
        recorded: dict[str, Path] = {}
        if store is None:
            return None

        def eligible(name: str) -> bool:  # the others are rendered in full, as in a full rendering
            key = self._key(env, versions, name) if self._stubbable(name) else None
            if key is None or not (store / key / "Chart.yaml").is_file():  # written whole or not at all
                return False
            recorded[name] = store / key
            return True

        stubs = self.stubber.stubs_of(selected, values, eligible)
        if stubs is None:
            return None
        return self.stubber.tree(stubs, recorded, tag=f"render {env} {versions_tag(versions)}")
