#!/bin/sh
# Grows existing PersistentVolumeClaims to the size the values ask for (an image with curl; the
# redis-cluster bootstrap Job's `volumes` init container, mongodb-sharded's volumes hook Job).
# A StatefulSet's volumeClaimTemplates keep the size of the first install (Kubernetes refuses to
# change them; the chart renders the live size with `lookup`), so this is how a bigger
# persistence.size reaches the existing volumes; the StorageClass must allow expansion. Claims
# are only grown, never shrunk. A claim that does not exist yet is waited for (the StatefulSet
# creates it with its pod); one the API refuses to grow is reported and left alone: the Job goes
# on, the cluster keeps working at the old size.
# Environment: TARGETS (lines "STATEFULSET REPLICAS SIZE": claims data-STATEFULSET-0..REPLICAS-1
#              grow to SIZE) or else STATEFULSET, NODES, SIZE (one StatefulSet); POD_NAMESPACE,
#              WAIT_SECONDS, KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT, SERVICEACCOUNT_DIR.
set -eu
sa="${SERVICEACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
api="https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"
headers="$(mktemp)"
body="$(mktemp)"
trap 'rm -f "$headers" "$body"' EXIT
token="$(cat "$sa/token")"  # no token: stop here (set -e), every call would be refused
printf 'Authorization: Bearer %s\nAccept: application/json\n' "$token" > "$headers"

request() { curl -sS --max-time 10 --cacert "$sa/ca.crt" -H "@$headers" -o "$body" -w '%{http_code}' "$@"; }

# The first "KEY": "string" / "KEY": number of the JSON on stdin (the API server's field order:
# metadata, spec, then status).
json_string() { tr ',{}' '\n\n\n' | sed -n "s/^[[:space:]]*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }
json_number() { tr ',{}' '\n\n\n' | sed -n "s/^[[:space:]]*\"$1\"[[:space:]]*:[[:space:]]*\\([0-9][0-9]*\\).*/\\1/p" | head -n 1; }
deadline=$(($(date +%s) + ${WAIT_SECONDS:-300}))
# A Kubernetes quantity (8Gi, 500M, 1073741824) in bytes.
bytes() {
  echo "$1" | awk '{
    n = $0; sub(/[A-Za-z]+$/, "", n); u = substr($0, length(n) + 1)
    f["Ki"] = 2^10; f["Mi"] = 2^20; f["Gi"] = 2^30; f["Ti"] = 2^40; f["Pi"] = 2^50; f["Ei"] = 2^60
    f["k"] = 1e3; f["M"] = 1e6; f["G"] = 1e9; f["T"] = 1e12; f["P"] = 1e15; f["E"] = 1e18; f[""] = 1
    if (!(u in f)) exit 1
    printf "%.0f\n", n * f[u] }'
}

# grow STATEFULSET REPLICAS SIZE
grow() {
  want="$(bytes "$3")"
  i=0
  while [ "$i" -lt "$2" ]; do
    claim="data-$1-$i"
    path="/api/v1/namespaces/$POD_NAMESPACE/persistentvolumeclaims/$claim"
    current=""
    until [ "$(request "$api$path" 2>/dev/null)" = "200" ] && current="$(json_string storage < "$body")"; do
      if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "volumes: WARNING: $claim does not exist; not resized" >&2
        break
      fi
      echo "volumes: waiting for $claim"
      sleep 3
    done
    if [ -z "$current" ]; then
      :
    elif [ "$(bytes "$current")" -lt "$want" ]; then
      code="$(request -X PATCH -H 'Content-Type: application/merge-patch+json' \
        --data "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"$3\"}}}}" "$api$path")"
      if [ "$code" = "200" ]; then
        echo "volumes: $claim $current -> $3 requested"
      else
        echo "volumes: WARNING: $claim not resized ($code): $(tr -s '\n ' '  ' < "$body" | cut -c 1-400)" >&2
      fi
    else
      echo "volumes: $claim asks for $current (persistence.size $3)"
    fi
    i=$((i + 1))
  done
}

printf '%s\n' "${TARGETS:-${STATEFULSET:-} ${NODES:-0} ${SIZE:-0}}" | while read -r statefulset replicas size; do
  if [ -n "$statefulset" ]; then grow "$statefulset" "$replicas" "$size"; fi
done
