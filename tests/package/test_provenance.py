"""``--sign --key FILE`` writes .prov files that ``helm verify`` (3 and 4) accepts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chartforge import proc
from chartforge.errors import ToolError, UserError
from chartforge.package import Signer, package_charts
from chartforge.package.provenance import provenance_matches
from tests.conftest import require_tool, run_cli
from tests.package import SAMPLE

PASSPHRASE = "prov-test-passphrase"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(secret key file, public keyring) of a fresh test key protected by PASSPHRASE."""
    gpg = require_tool("gpg")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    base: list[str | Path] = [gpg, "--batch", "--homedir", home]
    proc.run([*base, "--pinentry-mode", "loopback", "--passphrase", PASSPHRASE, "--quick-gen-key",
              "Chartforge Test <test@chartforge.invalid>", "rsa2048", "sign", "never"], timeout=120)  # fmt: skip
    secret, public = home / "secret.asc", home / "pubring.gpg"
    proc.run([*base, "--pinentry-mode", "loopback", "--passphrase", PASSPHRASE, "--armor",
              "--export-secret-keys", "-o", secret], timeout=60)  # fmt: skip
    proc.run([*base, "--export", "-o", public], timeout=60)
    proc.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False)
    return secret, public


@pytest.mark.helm
@pytest.mark.parametrize("helm_name", ["helm3", "helm4"])
def test_helm_verify_accepts_the_provenance(helm_name: str, keys: tuple[Path, Path], tmp_path: Path) -> None:
    helm = require_tool(helm_name)
    secret, public = keys
    result = package_charts(SAMPLE / "charts", tmp_path, signer=Signer(secret, PASSPHRASE))
    unsigned = package_charts(SAMPLE / "charts", tmp_path / "unsigned")
    for chart, plain in zip(result.charts, unsigned.charts, strict=True):
        assert chart.provenance == chart.path.with_name(chart.archive_name + ".prov")
        assert chart.sha256 == plain.sha256, "signing never changes the archive"
        out = proc.run([helm, "verify", chart.path, "--keyring", public])
        assert "Signed by: Chartforge Test" in out.stdout + out.stderr


@pytest.mark.helm
def test_helm_verify_rejects_a_tampered_archive(keys: tuple[Path, Path], tmp_path: Path) -> None:
    helm = require_tool("helm")
    secret, public = keys
    result = package_charts(SAMPLE / "charts", tmp_path, signer=Signer(secret, PASSPHRASE))
    db = result.get("db").path
    other = result.get("cache").path.read_bytes()
    db.write_bytes(other)
    done = proc.run([helm, "verify", db, "--keyring", public], check=False)
    assert done.returncode != 0 and "sha256 sum does not match" in done.stderr


def test_wrong_passphrase_fails_without_leaking_it(keys: tuple[Path, Path], tmp_path: Path) -> None:
    secret, _ = keys
    with pytest.raises(ToolError) as info:
        package_charts(SAMPLE / "charts", tmp_path, signer=Signer(secret, "not-the-passphrase"))
    assert "not-the-passphrase" not in info.value.render()
    assert not list(tmp_path.glob("*.tgz")), "nothing is written when signing fails"


def test_cli_sign_needs_a_key(tmp_path: Path) -> None:
    result = run_cli("-C", str(SAMPLE), "package", "--sign", "--out", str(tmp_path))
    assert result.returncode == 2 and "--sign needs --key" in result.stderr
    with pytest.raises(UserError):
        package_charts(SAMPLE / "charts", tmp_path, signer=Signer(tmp_path / "missing.asc"))


def test_unsigned_package_over_a_signed_one_removes_the_stale_provenance(
    keys: tuple[Path, Path], tmp_path: Path
) -> None:
    secret, _ = keys
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project)
    dist = tmp_path / "dist"
    signed = package_charts(project / "charts", dist, signer=Signer(secret, PASSPHRASE))
    assert all(c.provenance is not None and c.provenance.exists() for c in signed.charts)
    with (project / "charts/db/values.yaml").open("a") as fh:
        fh.write("# changed\n")
    unsigned = package_charts(project / "charts", dist)
    assert not list(dist.glob("*.prov")), "a .prov signing other bytes was left beside the new archive"
    assert all(c.provenance is None for c in unsigned.charts)
    assert not list(dist.glob(".chartforge-package-*"))


def test_provenance_matches_only_its_own_archive(keys: tuple[Path, Path], tmp_path: Path) -> None:
    secret, _ = keys
    result = package_charts(SAMPLE / "charts", tmp_path, signer=Signer(secret, PASSPHRASE))
    db, cache = result.get("db"), result.get("cache")
    assert db.provenance is not None and cache.provenance is not None
    assert provenance_matches(db.path, db.provenance)
    assert not provenance_matches(db.path, cache.provenance)
    db.path.write_bytes(cache.path.read_bytes())
    assert not provenance_matches(db.path, db.provenance)
