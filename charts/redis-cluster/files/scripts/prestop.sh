#!/bin/sh
# preStop hook: when this node is a primary with a connected replica, ask that replica to take
# over (CLUSTER FAILOVER: the primary pauses writes until the replica has caught up, so no
# acknowledged write is lost) and wait until this node has become a replica, so a rolling update
# does not wait for cluster-node-timeout. The replica is found in CLUSTER NODES (announced
# addresses), not INFO replication (connection addresses, which a mesh proxy would hide).
# Never fails: the pod stops anyway.
. "${SCRIPTS_DIR:-/opt/redis/scripts}/common.sh"
role="$(cli -h localhost -p "$REDIS_PORT" role 2>/dev/null | head -n 1)"
[ "$role" = "master" ] || exit 0
myid="$(cli -h localhost -p "$REDIS_PORT" cluster myid 2>/dev/null | tr -d '\r')"
replica="$(cli -h localhost -p "$REDIS_PORT" cluster nodes 2>/dev/null | tr -d '\r' | awk -v me="$myid" '
  $4 == me && $3 ~ /slave/ && $3 !~ /fail/ && $8 == "connected" { split($2, a, "[,@]"); print a[1]; exit }')"
[ -n "$replica" ] || exit 0
ip="${replica%:*}"
port="${replica##*:}"
echo "preStop: handing over to replica $ip:$port"
cli -h "$ip" -p "$port" cluster failover >/dev/null 2>&1 || exit 0
i=0
while [ "$i" -lt "${FAILOVER_WAIT_SECONDS:-20}" ]; do
  role="$(cli -h localhost -p "$REDIS_PORT" role 2>/dev/null | head -n 1)"
  [ "$role" = "slave" ] && exit 0
  sleep 1
  i=$((i + 1))
done
exit 0
