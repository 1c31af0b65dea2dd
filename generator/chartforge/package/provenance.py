"""Helm provenance files (``<chart>-<version>.tgz.prov``) signed with GnuPG.

The format is what ``helm package --sign`` writes and ``helm verify`` checks: an OpenPGP
clear-signed message whose body is the chart metadata as YAML, the YAML end marker
``...``, then ``files: {<archive name>: sha256:<hex>}``. helm only trusts the checksum
of the signed body, so signing our reproducible archive is enough. The signature carries a
timestamp, so ``.prov`` files are not byte-reproducible (the archives they sign are).

The key is an exported secret key file (``gpg --export-secret-keys``, armored or binary),
imported into a throw-away GnuPG home so the user's keyrings are never touched.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chartforge import proc
from chartforge.errors import ToolNotFound, UserError


@dataclass(frozen=True)
class Signer:
    key_file: Path
    passphrase: str | None = None


def message_block(archive: bytes, filename: str, metadata: Mapping[str, Any]) -> str:
    """The signed body: metadata YAML (keys sorted, as helm marshals it), ``...``, checksums."""
    meta = yaml.safe_dump(dict(metadata), sort_keys=True, default_flow_style=False, allow_unicode=True)
    sums = yaml.safe_dump(
        {"files": {filename: "sha256:" + hashlib.sha256(archive).hexdigest()}}, width=10_000
    )
    return meta + "\n...\n" + sums


def _gpg() -> str:
    found = shutil.which("gpg") or shutil.which("gpg2")
    if not found:
        raise ToolNotFound("gpg is not installed", hint="apt-get install gnupg (needed for --sign)")
    return found


def sign_archives(items: Sequence[tuple[bytes, str, Mapping[str, Any]]], signer: Signer) -> list[str]:
    """Clear-sign one message block per ``(archive bytes, archive name, metadata)``."""
    if not signer.key_file.is_file():
        raise UserError("signing key file not found", path=signer.key_file)
    gpg = _gpg()
    home = Path(tempfile.mkdtemp(prefix="cf-gpg-"))  # short path: gpg-agent's socket lives here
    home.chmod(0o700)
    secrets = [signer.passphrase] if signer.passphrase else []
    base = [gpg, "--batch", "--homedir", str(home), "--no-tty"]
    try:
        proc.run([*base, "--import", signer.key_file], what="gpg --import", timeout=60)
        unlock = ["--pinentry-mode", "loopback", "--passphrase-fd", "0"] if signer.passphrase else []
        signed = []
        for archive, filename, metadata in items:
            body = home / "message.txt"
            body.write_text(message_block(archive, filename, metadata), encoding="utf-8")
            out = home / "message.txt.asc"
            proc.run(
                [*base, "--yes", "--digest-algo", "SHA512", *unlock, "--clearsign", "-o", out, body],
                input_text=(signer.passphrase or "") + "\n" if signer.passphrase else None,
                secrets=secrets,
                what=f"gpg --clearsign ({filename})",
                timeout=120,
            )
            signed.append(out.read_text(encoding="utf-8"))
        return signed
    finally:
        gpgconf = shutil.which("gpgconf")
        if gpgconf:
            proc.run([gpgconf, "--homedir", str(home), "--kill", "all"], check=False, timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def provenance_matches(archive: Path, prov: Path) -> bool:
    """Whether the signed body of ``prov`` lists ``archive`` with its actual SHA-256 (what ``helm verify`` checks)."""
    try:
        text = prov.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    digest = "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest()
    body = text.split("-----BEGIN PGP SIGNATURE-----", 1)[0]
    wanted = re.compile(rf"^\s*{re.escape(archive.name)}:\s*{re.escape(digest)}\s*$", re.MULTILINE)
    return bool(wanted.search(body))
