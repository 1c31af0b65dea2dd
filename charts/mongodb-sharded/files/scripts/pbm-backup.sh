#!/bin/bash
# The backup CronJob (PBM image): applies the storage and PITR settings (pbm-config.yaml, from the
# chart's values; credentials come from the environment or the pod's workload identity, never from
# the file), takes a cluster-consistent logical snapshot of every shard and the config servers
# (`pbm backup --wait`; the agents coordinate one cut across shards), deletes snapshots and oplog
# chunks older than RETENTION_DAYS, then pushes backup_last_success_timestamp_seconds.
# With PITR on, the agents upload oplog slices continuously from the first snapshot on.
# Environment: PBM_CONFIG_FILE, COMPRESSION, RETENTION_DAYS, plus what pbm-lib.sh reads.
set -euo pipefail
. "$(dirname "$0")/pbm-lib.sh"

echo "backup: applying $PBM_CONFIG_FILE"
pbm_configure "$PBM_CONFIG_FILE"
echo "backup: taking a logical snapshot"
pbm backup --type=logical --compression="$COMPRESSION" --wait
echo "backup: deleting snapshots and oplog chunks older than $RETENTION_DAYS days"
pbm cleanup --older-than="${RETENTION_DAYS}d" --yes --wait
push_metrics backup "# TYPE backup_last_success_timestamp_seconds gauge
backup_last_success_timestamp_seconds $(date +%s)
"
echo "backup: done"
