#!/bin/bash
# The pbm-agent sidecar beside every config server and shard member (Percona Backup for MongoDB):
# it connects to its own mongod only (localhost, as the backup user), takes its part of the
# cluster-consistent snapshots, slices the oplog continuously for point-in-time recovery and runs
# restores; storage and PITR settings live in the cluster (`pbm config`, applied by the backup
# Job). The agent reads its password and object-store keys at start: when the mounted auth Secret
# or the keys change (rotation), this wrapper restarts the agent with the new ones, without
# restarting the pod.
# Environment: MONGO_PORT, RELOAD_INTERVAL_SECONDS, plus what pbm-lib.sh reads.
set -euo pipefail
. "$(dirname "$0")/pbm-lib.sh"

agent=""
trap 'if [ -n "$agent" ]; then kill -TERM "$agent" 2>/dev/null || true; wait "$agent" || true; fi; exit 0' TERM INT
credentials() {
  { cat "$SECRETS_DIR/mongodb-backup-password" "${S3_CREDENTIALS_DIR:-/nonexistent}"/AWS_* 2>/dev/null || true; } | cksum
}
while :; do
  seen="$(credentials)"
  load_s3_credentials
  PBM_MONGODB_URI="$(backup_uri "localhost:$MONGO_PORT" "&directConnection=true")" pbm-agent &
  agent=$!
  echo "$agent" > "${PID_FILE:-/tmp/pbm-agent.pid}"  # the probes check this process
  while kill -0 "$agent" 2>/dev/null && [ "$(credentials)" = "$seen" ]; do
    sleep "${RELOAD_INTERVAL_SECONDS:-30}" &
    wait $! || true
  done
  if ! kill -0 "$agent" 2>/dev/null; then
    status=0
    wait "$agent" || status=$?
    echo "pbm-agent: exited with status $status" >&2
    exit "$status"
  fi
  echo "pbm-agent: the backup password or the object-store keys changed; restarting the agent"
  kill -TERM "$agent"
  wait "$agent" || true
done
