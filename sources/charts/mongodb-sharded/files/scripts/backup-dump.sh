#!/bin/sh
# Init container of a backup run: mongodump --oplog of the config-server replica set and of every
# shard (from a secondary when there is one) into the spool volume, one gzip archive per replica
# set under <UTC timestamp>/, plus topology.json. The balancer is stopped for the whole dump so no
# chunk migrates between the shard dumps, and restarted whatever happens. The upload container
# then copies the directory to the object store.
# Environment: SCRIPTS_DIR, SPOOL_DIR, RUNTIME_DIR, STOP_BALANCER, TOPOLOGY_FILE, plus what
#              backup-prepare.js reads.
set -eu
umask 077
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$SPOOL_DIR/$stamp"
mkdir -p "$out"

helper() { BACKUP_ACTION="$1" mongosh --nodb --quiet --norc "$SCRIPTS_DIR/backup-prepare.js"; }
# no mongosh telemetry (egress is denied; it would only add timeouts)
mongosh --nodb --quiet --norc --eval 'disableTelemetry()' >/dev/null 2>&1 || true

if [ "$STOP_BALANCER" = "true" ]; then
  helper stop
  trap 'helper start || echo "backup: WARNING: the balancer could not be restarted; run sh.startBalancer()" >&2' EXIT
fi

sets="$(helper configs)"
for rs in $sets; do
  echo "backup: dumping $rs"
  mongodump --config="$RUNTIME_DIR/$rs.yaml" --oplog --gzip --archive="$out/$rs.archive.gz"
done
cp "$TOPOLOGY_FILE" "$out/topology.json"
echo "$stamp" > "$SPOOL_DIR/latest"
echo "backup: dumped $(echo "$sets" | wc -w) replica sets into $stamp"
