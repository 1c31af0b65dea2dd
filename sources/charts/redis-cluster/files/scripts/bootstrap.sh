#!/bin/sh
# Bootstrap Job (Helm post-install and post-upgrade hook). Idempotent: run it as often as you like.
#  - No node belongs to a cluster yet (first install): redis-cli --cluster create.
#  - Otherwise nodes that are not in the cluster yet (a scale-up, or a pod whose volume was lost)
#    join as empty primaries; those beyond the wanted number of primaries then replicate the
#    primary with the fewest replicas; entries of replaced nodes are forgotten; the cluster is
#    fixed when `--cluster check` fails, then rebalanced (new primaries get hash slots).
#  - Scaling down is not automatic: move the slots away and `--cluster del-node` first (README).
#  - Zones (ZONES_FILE, "<pod> <zone>" lines written by zones.sh from each pod's node label
#    topology.kubernetes.io/zone): a new replica goes to a primary in another zone, and every run
#    ends by repairing the layout so that no primary shares its zone with all of its replicas
#    (after `--cluster create`, a scale-up, a replaced node or a replica migration): a replica R of
#    such a primary P trades places with a replica S of another primary Q, where S is outside P's
#    zone and Q outside P's zone (CLUSTER REPLICATE on both). Without zones (fewer than two known)
#    this step does nothing.
# Environment: NODES, REPLICAS, STATEFULSET, HEADLESS_SERVICE, POD_NAMESPACE, CLUSTER_DOMAIN,
#              REDIS_PORT, REBALANCE (true/false), WAIT_SECONDS, ZONES_FILE (optional), plus what
#              common.sh reads.
set -eu
. "${SCRIPTS_DIR:-/opt/redis/scripts}/common.sh"

PRIMARIES=$((NODES / (REPLICAS + 1)))
DEADLINE=$(($(date +%s) + ${WAIT_SECONDS:-600}))

log() { echo "bootstrap: $*"; }
host() { echo "$STATEFULSET-$1.$HEADLESS_SERVICE.$POD_NAMESPACE.svc.$CLUSTER_DOMAIN"; }
resolve() { getent hosts "$1" | awk '{ print $1; exit }'; }
field() { cli -h "$1" -p "$REDIS_PORT" cluster info 2>/dev/null | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
nodes_of() { cli -h "$1" -p "$REDIS_PORT" cluster nodes 2>/dev/null | tr -d '\r'; }
left() {
  n=$((DEADLINE - $(date +%s)))
  if [ "$n" -le 0 ]; then
    echo "bootstrap: timed out: $1" >&2
    exit 1
  fi
  echo "$n"
}
# `--cluster check` can exit 0 while printing "[ERR] Nodes don't agree about configuration!"
# (a node that just joined has not learnt every slot yet): both must be clean.
agreed() {
  out="$(cli_for 30 --cluster check "$1" 2>&1)" || return 1
  ! printf '%s\n' "$out" | grep -q '^\[ERR\]'
}
wait_agreed() {
  until agreed "$1"; do
    left "waiting until every node agrees on the configuration" >/dev/null
    sleep 2
  done
}
# Every healthy node knows every node the entry knows: `--cluster check` only compares slots,
# and a rebalance that reaches a node before gossip told it about a new primary fails with
# "ERR Unknown node".
all_known() {
  ids="$(nodes_of "$1" | awk '{ print $1 }' | sort)"
  for peer in $(nodes_of "$1" | awk '$3 !~ /fail/ { split($2, a, ":"); print a[1] }'); do
    [ "$(nodes_of "$peer" | awk '{ print $1 }' | sort)" = "$ids" ] || return 1
  done
}
wait_known() {
  until all_known "$1"; do
    left "waiting until every node knows every other node" >/dev/null
    sleep 1
  done
}

# 1. Every node answers (its DNS name resolves once the pod exists: the headless Service
#    publishes addresses before the pods are ready).
i=0
while [ "$i" -lt "$NODES" ]; do
  h="$(host "$i")"
  until ip="$(resolve "$h")" && [ -n "$ip" ] && [ "$(cli -h "$ip" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; do
    left "waiting for $h" >/dev/null
    log "waiting for $h"
    sleep 3
  done
  i=$((i + 1))
done

# Zone of every node's address ("<ip> <zone>"), from ZONES_FILE.
ZONEMAP="$(mktemp)"
trap 'rm -f "$ZONEMAP"' EXIT
if [ -n "${ZONES_FILE:-}" ] && [ -s "$ZONES_FILE" ]; then
  i=0
  while [ "$i" -lt "$NODES" ]; do
    zone="$(awk -v pod="$STATEFULSET-$i" '$1 == pod { print $2 }' "$ZONES_FILE")"
    if [ -n "$zone" ] && [ "$zone" != "-" ]; then
      echo "$(resolve "$(host "$i")") $zone" >> "$ZONEMAP"
    fi
    i=$((i + 1))
  done
fi
if [ "$(awk '{ print $2 }' "$ZONEMAP" | sort -u | wc -l)" -ge 2 ]; then
  log "zones: $(awk '{ print $2 }' "$ZONEMAP" | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }')"
else
  log "zones: fewer than two known, replicas are placed without them"
  : > "$ZONEMAP"
fi
# CLUSTER NODES of $1 with each line prefixed by the zone of its address ("-" when unknown).
zoned_nodes() {
  nodes_of "$1" | awk -v zones="$ZONEMAP" '
    BEGIN { while ((getline line < zones) > 0) { split(line, f, " "); zone[f[1]] = f[2] } }
    { split($2, a, ":"); z = zone[a[1]]; print (z == "" ? "-" : z), $0 }'
}
# One replica swap that fixes a primary whose replicas all share its zone: "R_ip Q_id S_ip P_id"
# (R, replica of P, goes to Q; S, replica of Q, goes to P); nothing when the layout is fine or
# cannot be fixed by a swap.
zone_swap() {
  zoned_nodes "$1" | awk '
    $4 ~ /fail|handshake|noaddr/ { next }
    { split($3, a, ":"); ip[$2] = a[1]; zone[$2] = $1 }
    $4 ~ /master/ { primary[$2] = 1 }
    $4 ~ /slave/ { of[$2] = $5 }
    END {
      for (r in of) { p = of[r]; n[p]++; if (zone[r] == "-" || zone[p] == "-" || zone[r] != zone[p]) ok[p] = 1 }
      for (p in primary) {
        if (!n[p] || ok[p]) continue
        for (r in of) if (of[r] == p) break
        for (s in of) {
          q = of[s]
          if (q == p || zone[s] == "-" || zone[q] == "-") continue
          if (zone[s] != zone[p] && zone[q] != zone[p]) { print ip[r], q, ip[s], p; exit }
        }
      }
    }'
}
# Every primary with replicas has one outside its zone (zones unknown count as outside).
zones_ok() {
  [ -n "$(zoned_nodes "$1" | awk '
    $4 ~ /fail|handshake|noaddr/ { next }
    { zone[$2] = $1 }
    $4 ~ /master/ { primary[$2] = 1 }
    $4 ~ /slave/ { of[$2] = $5 }
    END {
      for (r in of) { p = of[r]; n[p]++; if (zone[r] == "-" || zone[p] == "-" || zone[r] != zone[p]) ok[p] = 1 }
      for (p in primary) if (n[p] && !ok[p]) bad = bad " " p
      print bad == "" ? "yes" : ""
    }')" ]
}
replicate() {
  until cli -h "$1" -p "$REDIS_PORT" cluster replicate "$2" 2>/dev/null | grep -q OK; do
    left "making $1 a replica of $2" >/dev/null
    sleep 1
  done
}

# 2. Which nodes already belong to the cluster?
members=""
fresh=""
i=0
while [ "$i" -lt "$NODES" ]; do
  ip="$(resolve "$(host "$i")")"
  known="$(field "$ip" cluster_known_nodes)"
  slots="$(field "$ip" cluster_slots_assigned)"
  if [ "${known:-1}" -gt 1 ] || [ "${slots:-0}" -gt 0 ]; then
    members="$members $ip:$REDIS_PORT"
  else
    fresh="$fresh $ip:$REDIS_PORT"
  fi
  i=$((i + 1))
done

if [ -z "$members" ]; then
  log "creating the cluster: $PRIMARIES primaries x $REPLICAS replicas"
  # shellcheck disable=SC2086
  cli_for "$(left "creating the cluster")" --cluster create $fresh --cluster-replicas "$REPLICAS" --cluster-yes
else
  # shellcheck disable=SC2086
  set -- $members
  entry="$1"
  entry_ip="${entry%:*}"

  # a. New nodes join as empty primaries, one at a time: add-node refuses to run while the
  #    nodes still disagree after the previous join (gossip needs a few heartbeats).
  #    add-node checks the cluster before it sends MEET, and that check can still catch the
  #    previous join in flight even after ours passed: retry until the node knows the cluster.
  for node in $fresh; do
    wait_agreed "$entry"
    wait_known "$entry_ip"
    log "adding $node"
    until cli_for "$(left "adding $node")" --cluster add-node "$node" "$entry"; do
      [ "$(field "${node%:*}" cluster_known_nodes)" -gt 1 ] 2>/dev/null && break
      log "add-node $node refused while the cluster converges; retrying"
      sleep 2
      wait_agreed "$entry"
    done
  done
  [ -z "$fresh" ] || wait_agreed "$entry"

  # b. Beyond the wanted number of primaries, new nodes replicate the primary (with slots, or
  #    kept as a new primary) that has the fewest replicas.
  keep=$((PRIMARIES - $(nodes_of "$entry_ip" | awk '$3 ~ /master/ && $3 !~ /fail/ && NF > 8' | wc -l)))
  kept=""
  for node in $fresh; do
    node_ip="${node%:*}"
    node_zone="$(awk -v ip="$node_ip" '$1 == ip { print $2 }' "$ZONEMAP")"
    id="$(cli -h "$node_ip" -p "$REDIS_PORT" cluster myid | tr -d '\r')"
    if [ "$keep" -gt 0 ]; then
      kept="$kept $id"
      keep=$((keep - 1))
      log "$node ($id) stays a primary"
      continue
    fi
    # Fewest replicas first; among those, a primary in another zone than the new node, preferably
    # one that has no replica outside its own zone yet.
    target="$(zoned_nodes "$entry_ip" | awk -v kept="$kept" -v z="${node_zone:--}" '
      BEGIN { split(kept, k, " "); for (i in k) want[k[i]] = 1 }
      { zone[$2] = $1 }
      $4 ~ /slave/ && $4 !~ /fail/ { count[$5]++; if ($1 == "-" || $1 != zone[$5]) away[$5] = 1 }
      $4 ~ /master/ && $4 !~ /fail/ && (NF > 9 || ($2 in want)) { primary[$2] = 1 }
      END {
        best = ""
        for (p in primary) {
          score = 10 * count[p] + ((z != "-" && zone[p] == z) ? 5 : 0) + (p in away ? 1 : 0)
          if (best == "" || score < bestscore || (score == bestscore && p < best)) { best = p; bestscore = score }
        }
        print best
      }')"
    log "$node ($id, zone ${node_zone:--}) replicates $target"
    replicate "$node_ip" "$target"
    until nodes_of "$entry_ip" | awk -v id="$id" '$1 == id && $3 ~ /slave/ { ok = 1 } END { exit !ok }'; do
      left "waiting for $node to show as a replica" >/dev/null
      sleep 1
    done
  done

  # c. Entries of nodes that failed and were replaced (same hostname, new node id, no slots).
  nodes_of "$entry_ip" | awk '
    { split($2, a, ","); name = a[2] }
    $3 ~ /(^|,)fail(,|$)/ && NF <= 8 && name != "" { dead[name] = dead[name] " " $1; next }
    name != "" { alive[name] = 1 }
    END { for (n in dead) if (n in alive) print dead[n] }' | while read -r ids; do
    for id in $ids; do
      log "forgetting replaced node $id"
      cli_for 60 --cluster call "$entry" cluster forget "$id" >/dev/null 2>&1 || true
    done
  done

  # d. Repair, then spread the slots.
  if ! agreed "$entry"; then
    sleep 5
    if ! agreed "$entry"; then
      log "cluster check failed, running --cluster fix"
      cli_for "$(left "fixing the cluster")" --cluster fix "$entry" --cluster-yes
    fi
  fi
  if [ "$REBALANCE" = "true" ]; then
    wait_agreed "$entry"
    wait_known "$entry_ip"
    cli_for "$(left "rebalancing")" --cluster rebalance "$entry" --cluster-use-empty-masters --cluster-yes
  fi
fi

# 3. Zones: no primary shares its zone with all of its replicas (see the header).
first="$(resolve "$(host 0)")"
if [ -s "$ZONEMAP" ] && [ "$REPLICAS" -gt 0 ]; then
  wait_agreed "$first:$REDIS_PORT"
  # Replicas made by `--cluster create` or step b register a little later in node 0's view.
  tries=0
  until [ "$(nodes_of "$first" | awk '$3 ~ /slave/ && $3 !~ /fail/' | wc -l)" -ge $((NODES - PRIMARIES)) ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || break
    sleep 1
  done
  swaps=0
  until zones_ok "$first"; do
    swap="$(zone_swap "$first")"
    if [ -z "$swap" ] || [ "$swaps" -ge "$NODES" ]; then
      log "WARNING: some primary shares its zone with all of its replicas and no replica swap fixes it (too few zones or nodes per zone?)" >&2
      break
    fi
    # shellcheck disable=SC2086
    set -- $swap
    log "zones: replica $1 moves to primary $2, replica $3 to primary $4"
    replicate "$1" "$2"
    replicate "$3" "$4"
    until nodes_of "$first" | awk -v r="$1" -v q="$2" -v s="$3" -v p="$4" '
      { split($2, a, ":") } a[1] == r && $4 == q { n++ } a[1] == s && $4 == p { n++ } END { exit n != 2 }'; do
      left "waiting for the replica swap to show" >/dev/null
      sleep 1
    done
    swaps=$((swaps + 1))
  done
  zones_ok "$first" && log "zones: every primary has a replica in another zone"
fi

# 4. The cluster serves every slot and the nodes agree (gossip needs a moment after changes).
until [ "$(field "$first" cluster_state)" = "ok" ] && agreed "$first:$REDIS_PORT"; do
  left "waiting for cluster_state:ok and a clean --cluster check" >/dev/null
  sleep 2
done
cli_for 30 --cluster check "$first:$REDIS_PORT"

# 5. The wanted topology, as node 0 sees it (replicas register a little after the slots are
#    served). A node that is down only earns a warning: the cluster itself is fine.
want_replicas=$((NODES - PRIMARIES))
tries=0
while :; do
  view="$(nodes_of "$first")"
  have_primaries="$(printf '%s\n' "$view" | awk '$3 ~ /master/ && $3 !~ /fail/ && NF > 8' | wc -l)"
  have_replicas="$(printf '%s\n' "$view" | awk '$3 ~ /slave/ && $3 !~ /fail/' | wc -l)"
  if [ "$have_primaries" -eq "$PRIMARIES" ] && [ "$have_replicas" -eq "$want_replicas" ]; then
    log "cluster ok ($NODES nodes, $PRIMARIES primaries x $REPLICAS replicas)"
    exit 0
  fi
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    log "WARNING: every slot is served but there are $have_primaries primaries with slots and $have_replicas replicas (wanted $PRIMARIES and $want_replicas)" >&2
    exit 0
  fi
  sleep 2
done
