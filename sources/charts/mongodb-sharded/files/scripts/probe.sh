#!/bin/sh
# Readiness probe of a mongod or mongos: the server answers ping on localhost (ping needs no
# authentication). Environment: MONGO_PORT, MONGO_TLS (true/false), TLS_DIR.
set -eu
if [ "${MONGO_TLS:-false}" = "true" ]; then
  set -- --tls --tlsCAFile "$TLS_DIR/ca.crt"
else
  set --
fi
out="$(mongosh --quiet --norc "$@" --eval 'db.adminCommand({ ping: 1 }).ok' \
  "mongodb://localhost:$MONGO_PORT/?directConnection=true&serverSelectionTimeoutMS=4000" 2>&1)" || true
if [ "$out" = "1" ]; then
  exit 0
fi
echo "ping failed: $out"
exit 1
