"""Secret heuristics: real secrets are found, references and placeholders are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartforge.manifests import Manifest
from chartforge.policy import run_policy
from chartforge.policy.secrets import is_literal_secret, is_secret_key, scan_text
from chartforge.yamlio import load_yaml


@pytest.mark.parametrize(
    "key",
    ["password", "DB_PASSWORD", "adminPassword", "apiKey", "api_key", "privateKey", "clientSecret", "token",
     "aws_secret_access_key", "jwtSecret", "passphrase", "secretKey"],
)  # fmt: skip
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    ["existingSecret", "passwordKey", "adminPasswordKey", "secretName", "secretRef", "password_file",
     "PASSWORD_FILE", "password_encryption", "tokenPath", "bearerTokenFile", "tokenTTL", "usePasswordFiles",
     "secretKeyRef", "accessKeyId", "username", "maxTokens", "tokenUrl", "passwordLength"],
)  # fmt: skip
def test_reference_keys(key: str) -> None:
    assert not is_secret_key(key)


@pytest.mark.parametrize(
    ("value", "key", "expected"),
    [
        ("hunter2", "password", True),
        ("", "password", False),
        ("  ", "password", False),
        ('""', "password", False),
        ("{{ .Values.auth.password }}", "password", False),
        ("{{instance}}", "legend", False),
        ("[[ password ]]", "password", False),
        ("${DB_PASSWORD}", "password", False),
        ("$(DB_PASSWORD)", "password", False),
        ("$DB_PASSWORD", "password", False),
        ("/run/secrets/password", "password", False),
        ("********", "password", False),
        ("<your-password>", "password", False),
        ("true", "token", False),
        (None, "password", False),
        (True, "password", False),
        (123456, "password", True),
        (3600, "token", False),
        ("my-tls", "tlsSecret", False),
        ("s3cr3tvalue", "jwtSecret", True),
        ("changeme", "password", True),
    ],
)
def test_literal_values(value: object, key: str, expected: bool) -> None:
    assert is_literal_secret(value, key) is expected


def test_scan_text_reports_lines_and_never_the_value() -> None:
    text = "\n".join(
        [
            "# password = commented-out",
            "user = app",
            "password = Sup3rS3cret",
            'token: "{{ .Values.token }}"',
            '"apiKey": "abcd1234efgh",',
            "requirepass foobared",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "aws = AKIAIOSFODNN7EXAMPLE",
            "url = https://user:pa55word@example.com/x",
        ]
    )
    hits = list(scan_text(text))
    assert [line for line, _ in hits] == [3, 5, 6, 7, 9]
    assert all("Sup3rS3cret" not in label and "pa55word" not in label for _, label in hits)


def test_values_findings_carry_the_yaml_line(tmp_path: Path) -> None:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(
        "auth:\n  existingSecret: ''\n  password: hunter2-hunter2\ntls:\n  key: |\n    x\n"
        "    -----BEGIN PRIVATE KEY-----\nusers:\n  - name: ADMIN_TOKEN\n    value: abcdef123456\n"
    )
    found = run_policy(
        [], chart="db", environment="dev", values=load_yaml(values_file), values_path=str(values_file)
    )
    assert [(d.code, d.field, d.line) for d in found] == [
        ("SECRET-IN-VALUES", "auth.password", 3),
        ("SECRET-IN-VALUES", "tls.key", 7),
        ("SECRET-IN-VALUES", "users[0].value", 10),
    ]
    assert all(d.kind == "Values" and d.name == "db" and d.path == str(values_file) for d in found)
    assert all("hunter2" not in d.message and "abcdef" not in d.message for d in found)


def test_secret_objects_are_not_configmaps() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"password": "x1y2z3"},
    }
    assert run_policy([Manifest.of(secret)], chart="c", environment="e") == []
