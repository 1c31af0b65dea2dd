#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with only Python: installs what the tests
# need (the package, helm 3 and 4, kubeconform, docker-registry, htpasswd, openssl), then runs
# pytest with the real tools required (a missing tool fails instead of skipping).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash ci/install.sh
export PATH="$here/.tools/bin:$PATH"
export CHARTFORGE_REQUIRE_TOOLS=1
python3 -m chartforge build --check   # generated charts/ and values/ match sources/
python3 -m yamllint --strict charts values   # generated YAML, with the project's .yamllint (templates: helm lints them)
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy
exec python3 -m pytest -q -p no:cacheprovider -n "${PYTEST_WORKERS:-auto}" "$@"
