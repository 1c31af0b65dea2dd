#!/usr/bin/env bash
# The main job on the bundled catalog, from a fresh Debian machine with only Python:
# install everything, build, check the whole matrix, package reproducibly, start a local OCI
# registry and publish to it, then prove the umbrella installs from the registry.
# The registry keeps running afterwards so you can `helm install` from it; stop it with
#   bash ci/registry.sh stop
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash ci/install.sh
export PATH="$here/.tools/bin:$PATH"
step() { printf '\n==> %s\n' "$*" >&2; }

step "chartforge build (sources/ → charts/, values/)"
chartforge build
step "chartforge check (lint × validate × policy, every chart × environment × Kubernetes version)"
chartforge check --junit dist/check-junit.xml
step "chartforge package (reproducible archives + SHA256SUMS)"
chartforge package --out dist
cat dist/SHA256SUMS >&2

step "local OCI registry (Debian docker-registry on 127.0.0.1)"
bash ci/registry.sh status >/dev/null 2>&1 || bash ci/registry.sh start --port "${REGISTRY_PORT:-5000}"
eval "$(bash ci/registry.sh env)"
registry="oci://127.0.0.1:${REGISTRY_PORT}/charts"

step "chartforge publish → $registry (sub-charts first; re-running is a no-op)"
chartforge publish --registry "$registry" --plain-http --dist dist

step "helm install from the registry (helm 4 --dry-run=client: there is no cluster here; helm 3 dry runs still call the API server)"
helm show chart "$registry/spotify-ai-agent" --version "$(sed -n 's/^version: //p' charts/spotify-ai-agent/Chart.yaml)" --plain-http >&2
for env in development staging production; do
  helm4 install spotify-ai-agent "$registry/spotify-ai-agent" \
    --version "$(sed -n 's/^version: //p' charts/spotify-ai-agent/Chart.yaml)" --plain-http \
    -f "values/$env.yaml" --namespace spotify-ai-agent --dry-run=client >/dev/null
  printf '  %-12s helm install --dry-run=client: ok\n' "$env" >&2
done
step "done: charts published to $registry (stop the registry with: bash ci/registry.sh stop)"
