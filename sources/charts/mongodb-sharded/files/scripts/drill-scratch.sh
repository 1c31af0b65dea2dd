#!/bin/sh
# Disaster-recovery drill, `scratch` container (mongo image): an empty copy of the cluster's
# topology on 127.0.0.1 — the config-server replica set and every shard under their real names,
# one member each, no authentication (nothing but this pod can reach 127.0.0.1), WiredTiger cache
# from this container's memory limit — into which the `drill` container (drill.sh) restores the
# newest backup. Then the integrity checks (drill-check.js: every collection passes `validate`,
# the restored cluster is not empty), written to $SHARED_DIR/checked; then teardown (the scratch
# volume is deleted with the pod).
# Environment: SHARED_DIR, SCRATCH_DIR, SCRIPTS_DIR, MEMORY_LIMIT_MB, WAIT_SECONDS, plus what
#              drill-check.js reads.
set -eu
check() { DRILL_ACTION="$1" mongosh --nodb --quiet --norc "$SCRIPTS_DIR/drill-check.js"; }
mongosh --nodb --quiet --norc --eval 'disableTelemetry()' >/dev/null 2>&1 || true

members="$(check plan)"  # lines: role name port
count="$(echo "$members" | wc -l)"
cache="$(awk -v mb="${MEMORY_LIMIT_MB:-1024}" -v n="$count" \
  'BEGIN { gb = (mb - 512) / 2 / n / 1024; if (gb < 0.25) gb = 0.25; printf "%.2f", gb }')"
pids=""
for line in $(echo "$members" | tr ' ' ','); do
  role="${line%%,*}"; rest="${line#*,}"; name="${rest%%,*}"; port="${rest#*,}"
  mkdir -p "$SCRATCH_DIR/$name"
  mongod "--$role" --replSet="$name" --port="$port" --bind_ip=127.0.0.1 --dbpath="$SCRATCH_DIR/$name" \
    --wiredTigerCacheSizeGB="$cache" > "$SCRATCH_DIR/$name.log" 2>&1 &
  pids="$pids $!"
done
teardown() {
  for pid in $pids $router; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
  echo "drill: scratch cluster torn down"
}
router=""
trap 'teardown' EXIT
trap 'exit 143' TERM INT

check initiate
configdb="$(check configdb)"  # here, not inside the background command: set -e sees it fail
mongos --configdb="$configdb" --port=27017 --bind_ip=127.0.0.1 > "$SCRATCH_DIR/mongos.log" 2>&1 &
router=$!
check shards
touch "$SHARED_DIR/ready"
echo "drill: scratch cluster ready ($count replica sets, WiredTiger cache ${cache} GB each)"

# The restore takes as long as it takes: the Job's activeDeadlineSeconds bounds the whole drill.
while [ ! -e "$SHARED_DIR/restored" ] && [ ! -e "$SHARED_DIR/done" ]; do
  sleep "${POLL_SECONDS:-5}"
done
if [ -e "$SHARED_DIR/restored" ]; then
  if out="$(check verify)"; then
    echo ok > "$SHARED_DIR/checked.new"
  else
    printf 'integrity check failed: %s\n' "$(echo "$out" | tail -n 1)" > "$SHARED_DIR/checked.new"
  fi
  echo "$out"
  mv "$SHARED_DIR/checked.new" "$SHARED_DIR/checked"
fi
while [ ! -e "$SHARED_DIR/done" ]; do
  sleep "${POLL_SECONDS:-5}"
done
