#!/bin/sh
# Init container of the bootstrap Job (an image with curl): writes ZONES_FILE, one "<pod> <zone>"
# line per node pod, the zone being the topology.kubernetes.io/zone label of the node the pod runs
# on ("-" when the node has none). Reads the Kubernetes API with the pod's ServiceAccount token
# (get pods in the namespace, get nodes); waits until every pod is scheduled. The token goes to
# curl in a header file, never on its command line. bootstrap.sh uses the file to place replicas.
# Environment: NODES, STATEFULSET, POD_NAMESPACE, ZONES_FILE, WAIT_SECONDS,
#              KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT,
#              SERVICEACCOUNT_DIR (default /var/run/secrets/kubernetes.io/serviceaccount).
set -eu
sa="${SERVICEACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
api="https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"
deadline=$(($(date +%s) + ${WAIT_SECONDS:-600}))
headers="$(mktemp)"
out="$(mktemp)"
trap 'rm -f "$headers" "$out"' EXIT
printf 'Authorization: Bearer %s\nAccept: application/json\n' "$(cat "$sa/token")" > "$headers"

get() { curl -sS --fail --max-time 10 --cacert "$sa/ca.crt" -H "@$headers" "$api$1"; }
# The first value of "key": "value" in a JSON document (compact or pretty-printed).
json_string() { tr ',{}' '\n\n\n' | sed -n "s/^[[:space:]]*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }

i=0
while [ "$i" -lt "$NODES" ]; do
  pod="$STATEFULSET-$i"
  until node="$(get "/api/v1/namespaces/$POD_NAMESPACE/pods/$pod" 2>/dev/null | json_string nodeName)" && [ -n "$node" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "zones: timed out waiting for $pod to be scheduled" >&2
      exit 1
    fi
    echo "zones: waiting for $pod to be scheduled"
    sleep 3
  done
  zone="$(get "/api/v1/nodes/$node" | json_string 'topology\.kubernetes\.io\/zone')"
  echo "zones: $pod on node $node in zone ${zone:--}"
  echo "$pod ${zone:--}" >> "$out"
  i=$((i + 1))
done
cp "$out" "$ZONES_FILE"
