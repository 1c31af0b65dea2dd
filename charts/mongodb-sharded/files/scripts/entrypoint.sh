#!/bin/sh
# Entrypoint of every mongod (config servers, shards) and mongos container:
#  1. copies the keyfile out of the Secret volume with mode 0400 (mongod refuses a group-readable
#     keyfile, and Secret volumes with an fsGroup are group-readable) and, with TLS, joins key and
#     certificate into the PEM file mongod wants, both into the in-memory runtime volume;
#  2. runs the server ("$@") as a child, forwarding SIGTERM/SIGINT so it shuts down cleanly;
#  3. on the first config server only (SELF_INIT=true), initiates the config-server replica set in
#     the background: mongos cannot start before that, so waiting for the bootstrap hook would
#     deadlock `helm install --wait` (the hook runs after the wait). bootstrap.js is idempotent.
# Environment: RUNTIME_DIR, SECRETS_DIR, TLS_DIR, SCRIPTS_DIR, SELF_INIT, POD_NAME, plus what
#              bootstrap.js reads.
set -eu
umask 077
cp "$SECRETS_DIR/mongodb-keyfile" "$RUNTIME_DIR/keyfile"
chmod 0400 "$RUNTIME_DIR/keyfile"
if [ -f "$TLS_DIR/tls.crt" ]; then
  cat "$TLS_DIR/tls.key" "$TLS_DIR/tls.crt" > "$RUNTIME_DIR/server.pem"
  chmod 0400 "$RUNTIME_DIR/server.pem"
fi

# mongosh (probes, bootstrap) keeps its settings in $HOME (an emptyDir): switch its telemetry off
# once, so no probe waits on an outbound connection the NetworkPolicies drop.
mongosh --nodb --quiet --norc --eval 'disableTelemetry()' >/dev/null 2>&1 || true

"$@" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true' TERM INT

if [ "${SELF_INIT:-false}" = "true" ] && [ "${POD_NAME##*-}" = "0" ]; then
  BOOTSTRAP_SCOPE=configsvr mongosh --nodb --quiet --norc "$SCRIPTS_DIR/bootstrap.js" &
fi

status=0
wait "$server" || status=$?
# A trapped signal interrupts `wait`: wait again for the server to finish its shutdown.
while kill -0 "$server" 2>/dev/null; do
  status=0
  wait "$server" || status=$?
done
exit "$status"
