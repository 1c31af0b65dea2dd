#!/bin/sh
# Probe of a node. `probe.sh liveness` also accepts a node that is still loading its AOF or whose
# primary is down (restarting it would not help); `probe.sh readiness` wants PONG.
. "${SCRIPTS_DIR:-/opt/redis/scripts}/common.sh"
reply="$(cli -h localhost -p "$REDIS_PORT" ping 2>&1 | head -n 1)"
case "$1:$reply" in
  *:PONG) exit 0 ;;
  liveness:*LOADING*|liveness:*MASTERDOWN*) exit 0 ;;
esac
echo "$1 probe: $reply"
exit 1
