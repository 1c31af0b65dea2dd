#!/bin/sh
# Sidecar "reloader" of every node: applies renewed TLS certificates and a rotated password to the
# running redis-server, without a restart and without dropping a connection. Every RELOAD_INTERVAL
# seconds it looks at the mounted Secret volumes (the kubelet replaces their files by swapping
# the `..data` symlink):
#  - TLS (REDIS_TLS=true): when tls.crt, tls.key or ca.crt changed (or once at start), CONFIG SET
#    tls-cert-file/tls-key-file/tls-ca-cert-file to the same paths: Redis (>= 7.0.1) then loads the
#    files again; new handshakes present the new certificate, open connections keep theirs. A
#    failed reload (a half-written pair) is retried at the next tick.
#  - Password (SECRET_PASSWORD_FILE differs from RUNTIME_DIR/password, the one the node uses):
#     1. ACL SETUSER default >NEW: the node accepts the old and the new password;
#        RUNTIME_DIR/password := NEW (probes, preStop and this script use it from now on).
#     2. Once every node of the cluster accepts NEW: CONFIG SET masterauth NEW (a replica's link
#        to whichever node is its primary keeps authenticating).
#     3. Once every node also uses NEW as masterauth and OVERLAP_SECONDS have passed since
#        step 1 (time for clients to pick up the new Secret): ACL SETUSER default resetpass >NEW,
#        the old password stops working.
#    Passwords go to redis-cli on stdin or in REDISCLI_AUTH, never on a command line.
# Never exits on a Redis error (the server may be loading or restarting). RUNTIME_DIR/reloader.alive
# is touched every tick; `reloader.sh alive` (the probes) fails when it is older than 2 minutes.
# Environment: RUNTIME_DIR, REDIS_PORT, REDIS_TLS, REDIS_TLS_DIR, SECRET_PASSWORD_FILE,
#              RELOAD_INTERVAL (seconds, default 10), OVERLAP_SECONDS (default 3600),
#              REDIS_HOST (default localhost: the node of this pod).
set -u
if [ "${1:-}" = "alive" ]; then
  [ -n "$(find "$RUNTIME_DIR/reloader.alive" -mmin -2 2>/dev/null)" ]
  exit
fi
REDIS_PASSWORD_FILE="$RUNTIME_DIR/password"
. "${SCRIPTS_DIR:-/opt/redis/scripts}/common.sh"
unset REDISCLI_AUTH VALKEYCLI_AUTH

log() { echo "reloader: $*"; }
# `as PASSWORD cli ARGS`: redis-cli authenticated with PASSWORD (environment, not argv).
as() {
  (
    REDISCLI_AUTH="$1"
    VALKEYCLI_AUTH="$1"
    export REDISCLI_AUTH VALKEYCLI_AUTH
    shift
    "$@"
  )
}
# A redis-cli argument quoted for its stdin parser (backslashes and double quotes escaped).
quoted() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }
local_cli() { cli_for 10 -h "${REDIS_HOST:-localhost}" -p "$REDIS_PORT" "$@"; }
# Announced address (ip:port) of every node this node knows that is not failed.
peers() {
  as "$1" local_cli cluster nodes 2>/dev/null | tr -d '\r' |
    awk '$3 !~ /fail|noaddr|handshake/ { split($2, a, "[@,]"); print a[1] }'
}
tls_state() { cat "$REDIS_TLS_DIR/tls.crt" "$REDIS_TLS_DIR/tls.key" "$REDIS_TLS_DIR/ca.crt" 2>/dev/null | cksum; }

reload_tls() {
  state="$(tls_state)"
  [ "$state" != "${tls_applied:-}" ] || return 0
  reply="$(as "$(cat "$REDIS_PASSWORD_FILE")" local_cli config set \
    tls-cert-file "$REDIS_TLS_DIR/tls.crt" tls-key-file "$REDIS_TLS_DIR/tls.key" \
    tls-ca-cert-file "$REDIS_TLS_DIR/ca.crt" 2>&1 | tr -d '\r')"
  if [ "$reply" = "OK" ]; then
    if [ -z "${tls_applied:-}" ]; then
      log "TLS certificate files in use"
    else
      log "TLS certificate reloaded"
    fi
    tls_applied="$state"
  else
    log "TLS reload not applied yet: $reply"
  fi
}

rotate_password() {
  new="$(cat "$SECRET_PASSWORD_FILE")" || return 0
  old="$(cat "$REDIS_PASSWORD_FILE")"
  if [ "$new" != "$old" ]; then
    reply="$(printf 'ACL SETUSER default on %s\n' "$(quoted ">$new")" | as "$old" local_cli 2>&1 | tr -d '\r')"
    if [ "$reply" != "OK" ] && [ "$(as "$new" local_cli ping 2>/dev/null)" = "PONG" ]; then
      reply=OK  # already accepted (this script restarted between its steps)
    fi
    if [ "$reply" != "OK" ]; then
      log "the new password is not accepted yet: $reply"
      return 0
    fi
    printf '%s' "$new" > "$REDIS_PASSWORD_FILE.tmp"
    mv "$REDIS_PASSWORD_FILE.tmp" "$REDIS_PASSWORD_FILE"
    date +%s > "$RUNTIME_DIR/rotation-since"
    log "new password accepted alongside the old one"
  fi
  [ -f "$RUNTIME_DIR/rotation-since" ] || return 0
  nodes="$(peers "$new")"
  [ -n "$nodes" ] || return 0
  for node in $nodes; do
    [ "$(as "$new" cli_for 10 -h "${node%:*}" -p "${node##*:}" ping 2>/dev/null | tr -d '\r')" = "PONG" ] || return 0
  done
  if [ "$(as "$new" local_cli config get masterauth 2>/dev/null | tr -d '\r' | sed -n 2p)" != "$new" ]; then
    reply="$(printf 'CONFIG SET masterauth %s\n' "$(quoted "$new")" | as "$new" local_cli 2>&1 | tr -d '\r')"
    [ "$reply" = "OK" ] || { log "masterauth not switched yet: $reply"; return 0; }
    log "every node accepts the new password; replication now uses it"
  fi
  for node in $nodes; do
    [ "$(as "$new" cli_for 10 -h "${node%:*}" -p "${node##*:}" config get masterauth 2>/dev/null | tr -d '\r' | sed -n 2p)" = "$new" ] || return 0
  done
  since="$(cat "$RUNTIME_DIR/rotation-since")"
  [ $(($(date +%s) - since)) -ge "${OVERLAP_SECONDS:-3600}" ] || return 0
  reply="$(printf 'ACL SETUSER default resetpass %s\n' "$(quoted ">$new")" | as "$new" local_cli 2>&1 | tr -d '\r')"
  if [ "$reply" = "OK" ]; then
    rm -f "$RUNTIME_DIR/rotation-since"
    log "old password removed"
  fi
}

tls_applied=""
while :; do
  touch "$RUNTIME_DIR/reloader.alive"
  if [ "${REDIS_TLS:-false}" = "true" ]; then
    reload_tls
  fi
  rotate_password
  sleep "${RELOAD_INTERVAL:-10}"
done
