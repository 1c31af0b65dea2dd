#!/bin/sh
# Entrypoint of every mongod (config servers, shards) and mongos container:
#  1. copies the keyfile out of the Secret volume with mode 0400 (mongod refuses a group-readable
#     keyfile, and Secret volumes with an fsGroup are group-readable) and, with TLS, joins key and
#     certificate into the PEM file mongod wants, both into the in-memory runtime volume;
#  2. sizes the WiredTiger cache of a mongod from the container's memory limit (MEMORY_LIMIT_MB,
#     from the downward API): WT_CACHE_RATIO of (limit - 1 GiB), at least 0.25 GB — mongod would
#     otherwise size it from the node's memory and be OOM-killed under load;
#  3. runs the server ("$@") as a child, forwarding SIGTERM/SIGINT so it shuts down cleanly;
#  4. on the first config server only (SELF_INIT=true), initiates the config-server replica set in
#     the background: mongos cannot start before that, so waiting for the bootstrap hook would
#     deadlock `helm install --wait` (the hook runs after the wait). bootstrap.js is idempotent;
#  5. watches the mounted Secrets every RELOAD_INTERVAL_SECONDS without restarting the server:
#     when cert-manager renews the certificate (the kubelet swaps the volume's `..data` symlink)
#     it rebuilds the PEM atomically and has the server reload it (reload.js: rotateCertificates);
#     on the first config server, when a password of the auth Secret changes it updates the users
#     everywhere (bootstrap.js, scope "users": updateUser).
# Environment: RUNTIME_DIR, SECRETS_DIR, TLS_DIR, SCRIPTS_DIR, SELF_INIT, POD_NAME,
#              MEMORY_LIMIT_MB, WT_CACHE_RATIO, RELOAD_INTERVAL_SECONDS, plus what bootstrap.js
#              and reload.js read.
set -eu
umask 077
cp "$SECRETS_DIR/mongodb-keyfile" "$RUNTIME_DIR/keyfile"
chmod 0400 "$RUNTIME_DIR/keyfile"

# Key then certificate into a temporary file, renamed over server.pem: mongod never reads half a file.
build_pem() {
  cat "$TLS_DIR/tls.key" "$TLS_DIR/tls.crt" > "$RUNTIME_DIR/server.pem.new"
  chmod 0400 "$RUNTIME_DIR/server.pem.new"
  mv -f "$RUNTIME_DIR/server.pem.new" "$RUNTIME_DIR/server.pem"
}
# What a mounted Secret holds now (the kubelet replaces every file at once through `..data`).
fingerprint() { cat "$@" 2>/dev/null | cksum; }
tls_files() { fingerprint "$TLS_DIR/tls.key" "$TLS_DIR/tls.crt" "$TLS_DIR/ca.crt"; }
password_files() { fingerprint "$SECRETS_DIR"/mongodb-*-password; }

tls=false
if [ -f "$TLS_DIR/tls.crt" ]; then
  tls=true
  build_pem
fi

# mongosh (probes, bootstrap) keeps its settings in $HOME (an emptyDir): switch its telemetry off
# once, so no probe waits on an outbound connection the NetworkPolicies drop.
mongosh --nodb --quiet --norc --eval 'disableTelemetry()' >/dev/null 2>&1 || true

if [ "$1" = "mongod" ] && [ -n "${MEMORY_LIMIT_MB:-}" ]; then
  cache="$(awk -v mb="$MEMORY_LIMIT_MB" -v r="${WT_CACHE_RATIO:-0.5}" \
    'BEGIN { gb = (mb - 1024) * r / 1024; if (gb < 0.25) gb = 0.25; printf "%.2f", gb }')"
  set -- "$@" "--wiredTigerCacheSizeGB=$cache"
  echo "entrypoint: WiredTiger cache ${cache} GB (memory limit ${MEMORY_LIMIT_MB} MiB x ${WT_CACHE_RATIO:-0.5})"
fi

"$@" &
server=$!

first_config_server=false
if [ "${SELF_INIT:-false}" = "true" ] && [ "${POD_NAME##*-}" = "0" ]; then
  first_config_server=true
  BOOTSTRAP_SCOPE=configsvr mongosh --nodb --quiet --norc "$SCRIPTS_DIR/bootstrap.js" &
fi

watch() {
  tls_seen="$(tls_files)"
  passwords_seen="$(password_files)"
  while sleep "${RELOAD_INTERVAL_SECONDS:-30}"; do
    if [ "$tls" = "true" ] && [ "$(tls_files)" != "$tls_seen" ]; then
      now="$(tls_files)"
      build_pem
      if mongosh --nodb --quiet --norc "$SCRIPTS_DIR/reload.js"; then
        tls_seen="$now"
      else
        echo "entrypoint: rotateCertificates failed; retrying" >&2
      fi
    fi
    if [ "$first_config_server" = "true" ] && [ "$(password_files)" != "$passwords_seen" ]; then
      now="$(password_files)"
      if BOOTSTRAP_SCOPE=users mongosh --nodb --quiet --norc "$SCRIPTS_DIR/bootstrap.js"; then
        passwords_seen="$now"
      else
        echo "entrypoint: updating the users failed; retrying" >&2
      fi
    fi
  done
}
watch &
watcher=$!

trap 'kill -TERM "$server" 2>/dev/null || true' TERM INT

status=0
wait "$server" || status=$?
# A trapped signal interrupts `wait`: wait again for the server to finish its shutdown.
while kill -0 "$server" 2>/dev/null; do
  status=0
  wait "$server" || status=$?
done
kill "$watcher" 2>/dev/null || true
exit "$status"
