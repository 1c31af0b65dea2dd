#!/bin/sh
# Main container: run redis-server (valkey-server on Valkey images) on the configuration that
# prepare.sh assembled.
set -eu
if command -v valkey-server >/dev/null 2>&1; then
  exec valkey-server "$RUNTIME_DIR/redis.conf"
fi
exec redis-server "$RUNTIME_DIR/redis.conf"
