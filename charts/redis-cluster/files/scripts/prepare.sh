#!/bin/sh
# Init container of every node.
#  1. Writes the per-pod configuration into the in-memory runtime volume: the ConfigMap's
#     redis.conf, then the password (requirepass/masterauth) and the addresses this pod announces.
#     The password is also copied to RUNTIME_DIR/password: the password this node was started
#     with, which the probes, preStop and the reloader sidecar use (reloader.sh moves it forward
#     when the Secret is rotated, so the probes never try a password the server does not accept).
#  2. Gives redis_exporter its own ACL user (user EXPORTER_USER, read-only monitoring commands, no
#     key access) with a random password made here, and writes the exporter's password map (JSON,
#     keyed by the address it scrapes): the exporter does not depend on the rotating password.
#  3. Repairs nodes.conf: pod IPs change when pods are rescheduled, so every peer entry that
#     carries a hostname gets that hostname's current IP (the entry of this node gets POD_IP).
#     Without this a cluster whose pods all restarted at once could not find itself again.
# Environment: POD_NAME, POD_NAMESPACE, POD_IP, HEADLESS_SERVICE, CLUSTER_DOMAIN, ANNOUNCE_HOSTNAME,
#              REDIS_PASSWORD_FILE, REDIS_DATA_DIR, RUNTIME_DIR, EXPORTER_ADDR (empty: no exporter),
#              EXPORTER_USER.
set -eu
umask 027
set -f

escape() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

password="$(cat "$REDIS_PASSWORD_FILE")"
printf '%s' "$password" > "$RUNTIME_DIR/password.tmp"
mv "$RUNTIME_DIR/password.tmp" "$RUNTIME_DIR/password"
rm -f "$RUNTIME_DIR/rotation-since"
exporter_password=""
if [ -n "${EXPORTER_ADDR:-}" ]; then
  exporter_password="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
fi
fqdn="$POD_NAME.$HEADLESS_SERVICE.$POD_NAMESPACE.svc.$CLUSTER_DOMAIN"
{
  echo "include ${CONF_DIR:-/opt/redis/conf}/redis.conf"
  printf 'requirepass "%s"\n' "$(escape "$password")"
  printf 'masterauth "%s"\n' "$(escape "$password")"
  echo "cluster-announce-ip $POD_IP"
  if [ "$ANNOUNCE_HOSTNAME" = "true" ]; then
    echo "cluster-announce-hostname $fqdn"
  fi
  if [ -n "$exporter_password" ]; then
    # redis_exporter's documented minimal ACL without +eval (no Lua), and no key patterns: it reads no data.
    echo "user ${EXPORTER_USER:-redis-exporter} on >$exporter_password -@all +@connection +memory -readonly +strlen +config|get +xinfo +pfcount -quit +zcard +type +xlen -readwrite -command +client -wait +scard +llen +hlen +get +slowlog +cluster|info +cluster|slots +cluster|nodes -hello -echo +info +latency +scan -reset -auth -asking"
  fi
} > "$RUNTIME_DIR/redis.conf"

if [ -n "$exporter_password" ]; then
  printf '{"%s": "%s"}\n' "$EXPORTER_ADDR" "$exporter_password" > "$RUNTIME_DIR/exporter-passwords.json"
fi

nodes="$REDIS_DATA_DIR/nodes.conf"
if [ -s "$nodes" ]; then
  tmp="$nodes.chartforge.tmp"
  : > "$tmp"
  while IFS= read -r line || [ -n "$line" ]; do
    # shellcheck disable=SC2086
    set -- $line
    if [ "$#" -lt 3 ] || [ "$1" = "vars" ]; then
      printf '%s\n' "$line" >> "$tmp"
      continue
    fi
    id="$1"
    address="$2"
    flags="$3"
    rest="${line#"$id "}"
    rest="${rest#"$address "}"
    ip=""
    case "$flags" in
      *myself*) ip="$POD_IP" ;;
      *)
        peer="$(printf '%s' "$address" | cut -s -d, -f2)"
        if [ -n "$peer" ]; then
          ip="$(getent hosts "$peer" | awk '{ print $1; exit }')" || ip=""
        fi
        ;;
    esac
    if [ -n "$ip" ]; then
      endpoint="${address%%,*}"
      suffix="${address#"$endpoint"}"
      ports="${endpoint##*:}"
      new="$ip:$ports$suffix"
      if [ "$new" != "$address" ]; then
        echo "nodes.conf: $id $address -> $new"
      fi
      address="$new"
    fi
    printf '%s %s %s\n' "$id" "$address" "$rest" >> "$tmp"
  done < "$nodes"
  mv "$tmp" "$nodes"
fi
