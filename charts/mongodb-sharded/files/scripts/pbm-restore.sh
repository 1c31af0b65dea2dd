#!/bin/bash
# Restore hook Job of a NEW release (restore.enabled; Helm post-install, after the bootstrap Job):
# points PBM at the source cluster's backups (pbm-restore-config.yaml: restore.fromPrefix, PITR
# off), resyncs, restores a snapshot (RESTORE_BACKUP_NAME) or the cluster as it was at
# RESTORE_TARGET_TIME (snapshot + oplog replay, point-in-time) or else the newest snapshot, with
# the replica sets renamed from the source release's (REPLSET_REMAPPING), then applies this
# release's own settings again so its backups and oplog slices go to its own prefix. The Job then
# restarts every mongos (restart-mongos.sh) and starts the balancer again (balancer.js).
# Environment: PBM_CONFIG_FILE, PBM_RESTORE_CONFIG_FILE, RESTORE_BACKUP_NAME,
#              RESTORE_TARGET_TIME, REPLSET_REMAPPING, WAIT_SECONDS, plus what pbm-lib.sh reads.
set -euo pipefail
. "$(dirname "$0")/pbm-lib.sh"

echo "restore: reading the source's backups ($PBM_RESTORE_CONFIG_FILE)"
pbm_configure "$PBM_RESTORE_CONFIG_FILE"
if ! latest="$(wait_for_snapshot "${WAIT_SECONDS:-600}")"; then
  echo "restore: FAILED: no completed snapshot in the source's storage" >&2
  exit 1
fi
args=(--wait)
if [ -n "${REPLSET_REMAPPING:-}" ]; then args+=("--replset-remapping=$REPLSET_REMAPPING"); fi
if [ -n "${RESTORE_TARGET_TIME:-}" ]; then
  echo "restore: point in time $RESTORE_TARGET_TIME"
  pbm restore --time="$RESTORE_TARGET_TIME" "${args[@]}"
else
  name="${RESTORE_BACKUP_NAME:-$latest}"
  echo "restore: snapshot $name"
  pbm restore "$name" "${args[@]}"
fi
echo "restore: back to this release's own storage settings ($PBM_CONFIG_FILE)"
pbm config --file "$PBM_CONFIG_FILE" >/dev/null
echo "restore: done (the Job's next containers restart the routers and start the balancer)"
