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

import re
from collections.abc import Sequence
from pathlib import Path

from chartforge.kube import KubeVersion
from chartforge.tools import Helm
from chartforge.umbrellastub import Stubber

_DOC = re.compile(r"^---\n# Source: ([^\n]+)\n", re.MULTILINE)
_ACTION = re.compile(rb"\{\{(.*?)\}\}", re.DOTALL)
_VOLATILE = re.compile(  # a function call (a field ``.Values.env`` is not one)
    rb"(?<![.\w$])(rand\w*|shuffle|uuidv4|now|date\w*|unixEpoch|ago|htpasswd|bcrypt|derivePassword|gen[A-Z]\w*|"
    rb"getHostByName|env|expandenv)\b"
)
_COMMENT = re.compile(rb"/\*.*?\*/", re.DOTALL)
_STRING = re.compile(rb"\"(?:[^\"\\]|\\.)*\"|`[^`]*`")
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


def versions_tag(versions: Sequence[KubeVersion]) -> str:
    return ",".join(v.full for v in versions)


class RenderStubs:
    """Recorded documents of sub-charts, and umbrellas with them stubbed, for one check run."""

    def __init__(self, stubber: Stubber, helm: Helm) -> None:
        self.stubber, self.helm = stubber, helm
        self._stable: dict[str, bool] = {}

    def _key(self, env: str, versions: Sequence[KubeVersion], name: str) -> str | None:
        values = self.stubber.catalog.project.values_file(env)
        what = ("helm template", versions_tag(versions), f"namespace={self.stubber.catalog.umbrella}")
        return self.stubber.fact_key(self.helm, env, values, name, what)

    def stable(self, name: str) -> bool:
        """No hook, and no template action of ``name`` calls a function whose output can change between runs."""
        if name not in self._stable:
            ok = True
            for path in sorted((self.stubber.assembled / name).rglob("*")):
                if path.is_file():
                    data = path.read_bytes()
                    actions = (
                        _STRING.sub(b"", _COMMENT.sub(b"", a.group(1))) for a in _ACTION.finditer(data)
                    )
                    if any(_VOLATILE.search(action) for action in actions):
                        ok = False
                        break
            self._stable[name] = ok
        return self._stable[name]

    def record(self, env: str, versions: Sequence[KubeVersion], text: str) -> None:
        """After a full rendering: each stubbable sub-chart's documents, for later stubbed renderings."""
        catalog = self.stubber.catalog
        if self.stubber.cache.root is None:
            return
        docs = split_documents(text)
        if docs is None:
            return
        umbrella = next(c for c in catalog.charts if c.is_umbrella)
        for dep in umbrella.dependencies:
            if not (self.stubber.self_contained(dep.name) and self.stable(dep.name)):
                continue
            key = self._key(env, versions, dep.name)
            prefix = f"{catalog.umbrella}/charts/{dep.name}/templates/"
            if key is not None:
                own = [[p.removeprefix(prefix), d] for p, d in docs if p.startswith(prefix)]
                self.stubber.cache.put_payload(key, own)

    def stubbed(self, selected: Sequence[str], env: str, versions: Sequence[KubeVersion]) -> Path | None:
        """The umbrella with every unselected sub-chart printing its recorded documents, or None when not exact."""
        values = self.stubber.catalog.project.values_file(env)
        recorded: dict[str, list[tuple[str, str]]] = {}

        def eligible(name: str) -> bool:  # the others are rendered in full, as in a full rendering
            key = (
                self._key(env, versions, name)
                if self.stubber.self_contained(name) and self.stable(name)
                else None
            )
            data = self.stubber.cache.get_payload(key) if key else None
            if not isinstance(data, list) or not all(
                isinstance(d, list) and len(d) == 2 and all(isinstance(x, str) for x in d) for d in data
            ):
                return False
            recorded[name] = [(str(p), str(d)) for p, d in data]
            return True

        stubs = self.stubber.stubs_of(selected, values, eligible)
        if stubs is None:
            return None

        def fill(name: str, stub: Path) -> None:
            files: dict[str, list[str]] = {}
            for path, doc in recorded[name]:
                files.setdefault(path, []).append(doc)
            for i, (path, documents) in enumerate(files.items()):
                (stub / _DIR).mkdir(exist_ok=True)
                (stub / _DIR / f"{i}.yaml").write_text("\n---\n".join(documents) + "\n", encoding="utf-8")
                template = stub / "templates" / path
                template.parent.mkdir(parents=True, exist_ok=True)
                template.write_text(f'{{{{ .Files.Get "{_DIR}/{i}.yaml" }}}}', encoding="utf-8")

        return self.stubber.tree(stubs, fill, tag=f"render {env} {versions_tag(versions)}")
