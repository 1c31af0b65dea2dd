"""kube.KubeVersion: every spelling parses to one version, printed one way."""

from __future__ import annotations

import pytest

from chartforge.errors import UserError
from chartforge.kube import KubeVersion, spelled
from chartforge.policy.model import parse_version


@pytest.mark.parametrize("text", ["1.34", "v1.34", "1.34.0", " v1.34.2 "])
def test_every_spelling_is_one_version(text: str) -> None:
    version = KubeVersion.parse(text)
    assert (version.major, version.minor, str(version), version.full) == (1, 34, "1.34", "1.34.0")
    assert spelled(text) == "1.34"
    assert parse_version(text) == (1, 34)


def test_versions_sort_numerically() -> None:
    assert KubeVersion.parse("1.9") < KubeVersion.parse("1.10") < KubeVersion.parse("v1.34.0")


@pytest.mark.parametrize("text", ["", "1", "one.two", "1.34.0.1", "1.34-rc"])
def test_anything_else_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError, match="not a Kubernetes version"):
        KubeVersion.parse(text)
    assert parse_version(text) is None
