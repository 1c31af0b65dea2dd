#!/bin/sh
# Restore Job, after `pbm restore` (an image with curl): restarts every mongos, as PBM requires
# after a restore (the routers cache the routing table and database versions of the data that was
# replaced). Same as `kubectl rollout restart deployment/$DEPLOYMENT`: a patch of the pod template
# annotation kubectl.kubernetes.io/restartedAt; then waits until the rollout is complete (kubectl
# rollout status' test: the controller saw the new generation, every replica is updated and
# available, no old one is left), so the balancer is started against the new routers only.
# The pod's ServiceAccount may get and patch that one Deployment, nothing else.
# Environment: DEPLOYMENT, POD_NAMESPACE, WAIT_SECONDS, KUBERNETES_SERVICE_HOST,
#              KUBERNETES_SERVICE_PORT, SERVICEACCOUNT_DIR (the projected token of this container).
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
path="$api/apis/apps/v1/namespaces/$POD_NAMESPACE/deployments/$DEPLOYMENT"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
code="$(request -X PATCH -H 'Content-Type: application/strategic-merge-patch+json' \
  --data "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"$now\"}}}}}" "$path")"
if [ "$code" != "200" ]; then
  echo "restart-mongos: FAILED: PATCH deployment/$DEPLOYMENT answered $code: $(tr -s '\n ' '  ' < "$body" | cut -c 1-400)" >&2
  exit 1
fi
generation="$(json_number generation < "$body")"
echo "restart-mongos: deployment/$DEPLOYMENT restarted at $now (generation $generation)"
deadline=$(($(date +%s) + ${WAIT_SECONDS:-600}))
while :; do
  if [ "$(request "$path")" = "200" ]; then
    wanted="$(json_number replicas < "$body")"  # spec.replicas: spec comes before status
    tr -d '\n' < "$body" | sed 's/.*"status": *{//' > "$body.status"  # the top-level status
    observed="$(json_number observedGeneration < "$body.status")"
    total="$(json_number replicas < "$body.status")"
    updated="$(json_number updatedReplicas < "$body.status")"
    available="$(json_number availableReplicas < "$body.status")"
    rm -f "$body.status"
    if [ "${observed:-0}" -ge "$generation" ] && [ "${updated:-0}" -ge "${wanted:-1}" ] \
      && [ "${total:-0}" -le "${updated:-0}" ] && [ "${available:-0}" -ge "${updated:-0}" ]; then
      echo "restart-mongos: ${updated:-0}/${wanted:-1} routers restarted and available"
      exit 0
    fi
    echo "restart-mongos: waiting for the rollout (${updated:-0} of ${wanted:-1} updated, ${available:-0} available, ${total:-0} running)"
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "restart-mongos: FAILED: the routers did not restart within ${WAIT_SECONDS:-600}s" >&2
    exit 1
  fi
  sleep "${POLL_SECONDS:-3}"
done
