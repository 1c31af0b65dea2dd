#!/bin/sh
# mongodb_exporter wrapper: the main process of the `metrics` container of every mongod/mongos.
#
# mongodb_exporter reads its MongoDB password once, at start. This wrapper starts it with the
# password of the mounted Secret file (PASSWORD_FILE, kept out of the wrapper's own environment)
# and, every RELOAD_INTERVAL_SECONDS, compares the file with the one it started with: when the
# kubelet has swapped the Secret's files (a rotated mongodb-metrics-password; the mongod side
# applies it with updateUser), it stops the exporter (SIGTERM) and starts a new one with the new
# password. Only the exporter process restarts: the container, its wrapper and the pod stay.
# If the exporter exits on its own, the wrapper exits with its status and the kubelet restarts
# the container, as it would restart a bare exporter.
#
# POSIX sh. The exporter image ships no shell (FROM scratch), so the pod's `exporter-shell`
# init container copies a static busybox into an emptyDir and the container runs
# `busybox sh exporter.sh`; BUSYBOX then runs cat/cksum/sleep as busybox applets (empty: the
# system's commands).
#
# Usage: exporter.sh [exporter flags...]   (MONGODB_USER and the flags come from the pod spec)
set -u

PASSWORD_FILE=${PASSWORD_FILE:-/opt/mongo/metrics/mongodb-metrics-password}
INTERVAL=${RELOAD_INTERVAL_SECONDS:-30}
EXPORTER=${EXPORTER_BINARY:-/mongodb_exporter}
BB=${BUSYBOX:-}
child=""
sleeper=""
started=""

log() { echo "exporter.sh: $*" >&2; }

fingerprint() { $BB cksum < "$PASSWORD_FILE" 2>/dev/null || echo missing; }

start() {
    started=$(fingerprint)
    MONGODB_PASSWORD=$($BB cat "$PASSWORD_FILE") "$EXPORTER" "$@" &
    child=$!
    log "mongodb_exporter started (pid $child)"
}

stop_child() {
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
        child=""
    fi
}

trap 'stop_child; [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; exit 0' TERM INT

start "$@"
while :; do
    $BB sleep "$INTERVAL" &
    sleeper=$!
    wait "$sleeper" 2>/dev/null
    sleeper=""
    if ! kill -0 "$child" 2>/dev/null; then
        wait "$child"
        status=$?
        log "mongodb_exporter exited ($status)"
        exit "$status"
    fi
    if [ "$(fingerprint)" != "$started" ]; then
        log "the metrics password changed: restarting mongodb_exporter"
        stop_child
        start "$@"
    fi
done
