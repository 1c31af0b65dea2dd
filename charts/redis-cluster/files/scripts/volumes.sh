#!/bin/sh
# Init container of the bootstrap Job (an image with curl): grows every node's PersistentVolumeClaim
# (data-STATEFULSET-<i>) to SIZE (persistence.size) when it asks for less. The StatefulSet's
# volumeClaimTemplates keep the size of the first install (Kubernetes refuses to change them), so
# this is how a bigger persistence.size reaches the existing volumes; the StorageClass must allow
# expansion. Claims are only grown, never shrunk. A claim that does not exist yet is waited for
# (the StatefulSet creates it with its pod); one the API refuses to grow is reported and left
# alone: the Job goes on, the cluster keeps working at the old size.
# Environment: NODES, STATEFULSET, POD_NAMESPACE, SIZE, WAIT_SECONDS, KUBERNETES_SERVICE_HOST,
#              KUBERNETES_SERVICE_PORT, SERVICEACCOUNT_DIR (default the pod's ServiceAccount).
set -eu
sa="${SERVICEACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
api="https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"
deadline=$(($(date +%s) + ${WAIT_SECONDS:-300}))
headers="$(mktemp)"
body="$(mktemp)"
trap 'rm -f "$headers" "$body"' EXIT
printf 'Authorization: Bearer %s\nAccept: application/json\n' "$(cat "$sa/token")" > "$headers"

request() { curl -sS --max-time 10 --cacert "$sa/ca.crt" -H "@$headers" -o "$body" -w '%{http_code}' "$@"; }
json_string() { tr ',{}' '\n\n\n' | sed -n "s/^[[:space:]]*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }
# A Kubernetes quantity (8Gi, 500M, 1073741824) in bytes.
bytes() {
  echo "$1" | awk '{
    n = $0; sub(/[A-Za-z]+$/, "", n); u = substr($0, length(n) + 1)
    f["Ki"] = 2^10; f["Mi"] = 2^20; f["Gi"] = 2^30; f["Ti"] = 2^40; f["Pi"] = 2^50; f["Ei"] = 2^60
    f["k"] = 1e3; f["M"] = 1e6; f["G"] = 1e9; f["T"] = 1e12; f["P"] = 1e15; f["E"] = 1e18; f[""] = 1
    if (!(u in f)) exit 1
    printf "%.0f\n", n * f[u] }'
}

want="$(bytes "$SIZE")"
i=0
while [ "$i" -lt "$NODES" ]; do
  claim="data-$STATEFULSET-$i"
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
      --data "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"$SIZE\"}}}}" "$api$path")"
    if [ "$code" = "200" ]; then
      echo "volumes: $claim $current -> $SIZE requested"
    else
      echo "volumes: WARNING: $claim not resized ($code): $(tr -s '\n ' '  ' < "$body" | cut -c 1-400)" >&2
    fi
  else
    echo "volumes: $claim asks for $current (persistence.size $SIZE)"
  fi
  i=$((i + 1))
done
