# Shell functions of the Percona Backup for MongoDB scripts (sourced by bash; the PBM image has
# bash but neither mongosh nor curl).
# Environment: BACKUP_USER, SECRETS_DIR, MONGO_TLS, TLS_DIR, CONFIGSVR_RS, CONFIGSVR_HOSTS,
#              PUSHGATEWAY_URL, DATABASE, S3_CREDENTIALS_DIR.

# Object-store keys (backup.credentials.mode secret): files of the mounted Secret, exported for
# the AWS SDK inside pbm and pbm-agent. Without S3_CREDENTIALS_DIR (workloadIdentity) the SDK's
# default chain finds the web identity token of the pod's ServiceAccount.
load_s3_credentials() {
  if [ -n "${S3_CREDENTIALS_DIR:-}" ]; then
    AWS_ACCESS_KEY_ID="$(cat "$S3_CREDENTIALS_DIR/AWS_ACCESS_KEY_ID")"
    AWS_SECRET_ACCESS_KEY="$(cat "$S3_CREDENTIALS_DIR/AWS_SECRET_ACCESS_KEY")"
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  fi
}
load_s3_credentials

# Percent-encodes every byte (valid in any part of a URI).
urlencode() { printf %s "$1" | od -An -tx1 -v | tr -d ' \n' | sed 's/../%&/g'; }

tls_options() {
  if [ "${MONGO_TLS:-false}" = "true" ]; then printf '&tls=true&tlsCAFile=%s' "$TLS_DIR/ca.crt"; fi
}

# The backup user's connection string to HOSTS (one member: directConnection; several: a replica set).
backup_uri() {
  local hosts="$1" extra="$2" credentials
  credentials="$(urlencode "$BACKUP_USER"):$(urlencode "$(cat "$SECRETS_DIR/mongodb-backup-password")")"
  printf 'mongodb://%s@%s/?authSource=admin%s%s' "$credentials" "$hosts" "$extra" "$(tls_options)"
}

# What the pbm CLI connects to in a sharded cluster: the config-server replica set.
cluster_uri() { backup_uri "$CONFIGSVR_HOSTS" "&replicaSet=$CONFIGSVR_RS"; }

# Points the pbm CLI at the cluster (PBM_MONGODB_URI) and applies the PBM config file $1.
pbm_configure() {
  PBM_MONGODB_URI="$(cluster_uri)"
  export PBM_MONGODB_URI
  pbm config --file "$1" >/dev/null
}

# POSTs Prometheus text (second argument) to the Pushgateway group job=$1, database=$DATABASE;
# a POST replaces only the metrics it names, so a failed run keeps the last success timestamp.
# Plain HTTP through bash's /dev/tcp (the contract's in-cluster URL is http://host:port).
push_metrics() {
  local job="$1" body="$2" url="${PUSHGATEWAY_URL:-}" rest hostport host port base="" status
  if [ -z "$url" ]; then
    return 0
  fi
  rest="${url#http://}"
  rest="${rest%/}"
  hostport="${rest%%/*}"
  if [ "$hostport" != "$rest" ]; then base="/${rest#*/}"; fi
  host="${hostport%:*}"
  port="${hostport##*:}"
  if [ "$host" = "$hostport" ]; then port=80; fi
  if ! exec 3<>"/dev/tcp/$host/$port"; then
    echo "metrics: cannot reach the Pushgateway $url" >&2
    return 1
  fi
  printf 'POST %s/metrics/job/%s/database/%s HTTP/1.0\r\nHost: %s\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %d\r\n\r\n%s' \
    "$base" "$job" "$DATABASE" "$hostport" "${#body}" "$body" >&3
  read -r _ status _ <&3 || status=000
  exec 3<&- 3>&-
  if [ "${status:0:1}" != "2" ]; then
    echo "metrics: the Pushgateway answered $status" >&2
    return 1
  fi
  echo "metrics: pushed job=$job database=$DATABASE to $url"
}

# Name of the newest completed snapshot in `pbm list -o json` output (names are UTC timestamps;
# compact or indented JSON).
latest_snapshot() {
  tr '{}' '\n\n' | grep -E '"status": *"done"' | grep -oE '"name": *"[^"]*"' | cut -d'"' -f4 | sort | tail -n 1
}

# Waits until PBM lists a completed snapshot after a resync of the storage (at most $1 seconds).
wait_for_snapshot() {
  local deadline=$(($(date +%s) + $1)) name
  pbm config --force-resync >/dev/null
  while :; do
    name="$(pbm list -o json 2>/dev/null | latest_snapshot || true)"
    if [ -n "$name" ]; then
      printf '%s\n' "$name"
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      return 1
    fi
    sleep "${POLL_SECONDS:-5}"
  done
}
