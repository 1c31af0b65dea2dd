#!/bin/bash
# Disaster-recovery drill, `drill` container (PBM image) of the drill CronJob. The `scratch`
# container of the same pod (drill-scratch.sh) runs an empty scratch copy of the cluster's
# topology on 127.0.0.1 (same replica set names, one member each, on a volume that is deleted
# with the pod). This side:
#   1. waits for the scratch cluster ($SHARED_DIR/ready), starts one pbm-agent per scratch mongod;
#   2. points PBM at this cluster's backups (pbm-drill-config.yaml: read only, PITR off), resyncs
#      and restores the newest completed snapshot, timing it (the measured restore time);
#   3. hands over to drill-scratch.sh for the integrity checks ($SHARED_DIR/restored ->
#      $SHARED_DIR/checked holds "ok" or the failure);
#   4. pushes the dr_drill_* metrics (job="dr-drill"), stops the agents and says the scratch side
#      may tear down ($SHARED_DIR/done). Exit status 0 only when the drill succeeded.
# Environment: SHARED_DIR, PBM_DRILL_CONFIG_FILE, SCRATCH_PORTS (mongod ports, config server
#              first), RECOVERY_OBJECTIVE_SECONDS, WAIT_SECONDS, PUSHGATEWAY_URL, DATABASE.
set -euo pipefail
. "$(dirname "$0")/pbm-lib.sh"

started="$(date +%s)"
agents=()
result="drill did not finish"
duration=0
finish() {
  local success=0 now
  now="$(date +%s)"
  if [ "$result" = "ok" ]; then success=1; fi
  local body="# TYPE dr_drill_last_run_timestamp_seconds gauge
dr_drill_last_run_timestamp_seconds $now
# TYPE dr_drill_success gauge
dr_drill_success $success
# TYPE dr_drill_recovery_objective_seconds gauge
dr_drill_recovery_objective_seconds $RECOVERY_OBJECTIVE_SECONDS
"
  if [ "$success" = 1 ]; then
    body+="# TYPE dr_drill_restore_duration_seconds gauge
dr_drill_restore_duration_seconds $duration
# TYPE dr_drill_last_success_timestamp_seconds gauge
dr_drill_last_success_timestamp_seconds $now
"
  fi
  push_metrics dr-drill "$body" || success=0
  for pid in "${agents[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${agents[@]}"; do wait "$pid" 2>/dev/null || true; done
  touch "$SHARED_DIR/done"
  if [ "$success" = 1 ]; then
    echo "drill: OK, restore took ${duration}s (objective ${RECOVERY_OBJECTIVE_SECONDS}s), $(($(date +%s) - started))s in all"
    exit 0
  fi
  echo "drill: FAILED: $result" >&2
  exit 1
}
trap finish EXIT

wait_file() {  # file, seconds
  local deadline=$(($(date +%s) + $2))
  until [ -e "$1" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
    sleep "${POLL_SECONDS:-5}"
  done
}

if ! wait_file "$SHARED_DIR/ready" "${WAIT_SECONDS:-600}"; then
  result="the scratch cluster did not start"
  exit 1
fi
result="could not start the pbm-agents"
for port in $SCRATCH_PORTS; do
  PBM_MONGODB_URI="mongodb://127.0.0.1:$port/?directConnection=true" pbm-agent > "$SHARED_DIR/agent-$port.log" 2>&1 &
  agents+=("$!")
done
first_port="${SCRATCH_PORTS%% *}"
export PBM_MONGODB_URI="mongodb://127.0.0.1:$first_port/?directConnection=true"
result="pbm config failed"
pbm config --file "$PBM_DRILL_CONFIG_FILE" >/dev/null
if ! name="$(wait_for_snapshot "${WAIT_SECONDS:-600}")"; then
  result="no completed snapshot in the backup storage"
  exit 1
fi
echo "drill: restoring snapshot $name into the scratch cluster"
begin="$(date +%s)"
if ! pbm restore "$name" --wait; then
  result="pbm restore $name failed"
  exit 1
fi
duration=$(($(date +%s) - begin))
echo "drill: restored $name in ${duration}s"
touch "$SHARED_DIR/restored"
if ! wait_file "$SHARED_DIR/checked" "${WAIT_SECONDS:-600}"; then
  result="the integrity checks did not finish"
  exit 1
fi
result="$(cat "$SHARED_DIR/checked")"
