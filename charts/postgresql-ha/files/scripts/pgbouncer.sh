#!/bin/sh
# PgBouncer that follows its mounted Secrets (the command of postgresql-ha's pgbouncer container).
#
# Writes the userlist (the application user and its password, from the mounted credentials
# Secret) into a memory emptyDir, starts PgBouncer, then every RELOAD_INTERVAL_SECONDS compares
# the content of the mounted credentials, TLS and config directories with what PgBouncer loaded.
# The kubelet replaces a mounted Secret by an atomic swap of the `..data` symlink when
# cert-manager renews the certificate or the credentials change (by hand or an External Secrets
# refresh); on a change the userlist is rewritten and PgBouncer gets SIGHUP, which reloads its
# configuration, auth_file and TLS certificate/key/CA without closing any connection.
set -u

PGBOUNCER_BIN="${PGBOUNCER_BIN:-/usr/bin/pgbouncer}"
CONFIG="${PGBOUNCER_CONFIG:-/etc/pgbouncer/config/pgbouncer.ini}"
CONFIG_DIR="$(dirname "$CONFIG")"
AUTH_FILE="${AUTH_FILE:-/etc/pgbouncer/auth/userlist.txt}"
CREDENTIALS_DIR="${CREDENTIALS_DIR:-/credentials}"
TLS_DIR="${TLS_DIR:-/tls}"
INTERVAL="${RELOAD_INTERVAL_SECONDS:-10}"

log() { echo "pgbouncer.sh: $*" >&2; }

write_userlist() {
  # "user" "password" with double quotes doubled; written aside then renamed: never half a file.
  printf '"%s" "%s"\n' "$APP_USER" "$(sed 's/"/""/g' "$CREDENTIALS_DIR/app-password")" > "$AUTH_FILE.new" &&
    mv -f "$AUTH_FILE.new" "$AUTH_FILE"
}

# Content of the mounted files (not their mtimes: the kubelet's swap changes the link target).
fingerprint() {
  for dir in "$CREDENTIALS_DIR" "$TLS_DIR" "$CONFIG_DIR"; do
    [ -d "$dir" ] && cat "$dir"/* 2>/dev/null
  done | cksum
}

write_userlist || { log "cannot write $AUTH_FILE"; exit 1; }
loaded="$(fingerprint)"
"$PGBOUNCER_BIN" "$CONFIG" &
pid=$!
# The kubelet's SIGTERM (and SIGINT) go to PgBouncer; the loop below ends when it exits.
trap 'kill -TERM "$pid" 2>/dev/null' TERM
trap 'kill -INT "$pid" 2>/dev/null' INT

while kill -0 "$pid" 2>/dev/null; do
  sleep "$INTERVAL" &
  wait $! 2>/dev/null
  current="$(fingerprint)"
  if [ "$current" != "$loaded" ]; then
    if write_userlist; then
      kill -HUP "$pid" 2>/dev/null && log "mounted Secrets or config changed: userlist rewritten, PgBouncer reloaded"
      loaded="$current"
    else
      log "cannot rewrite $AUTH_FILE; keeping the previous one"
    fi
  fi
done
wait "$pid"
