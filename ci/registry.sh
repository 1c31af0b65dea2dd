#!/usr/bin/env bash
# A local OCI registry (Debian's docker-registry, CNCF distribution v2) on 127.0.0.1.
#
#   ci/registry.sh start  [--port N] [--dir DIR] [--auth USER:PASS | --auth-env] [--tls]
#   ci/registry.sh stop   [--dir DIR]
#   ci/registry.sh status [--dir DIR]      exit 0 when it answers, 1 otherwise
#   ci/registry.sh env    [--dir DIR]      print REGISTRY_* variables (for `eval`)
#
# --port 0 (or no port) picks a free port. DIR (default .tools/registry, or $REGISTRY_DIR)
# holds config.yml, the storage, the htpasswd file, the TLS material, the log and the state
# file (registry.state: PID, PORT, HOST, URL, OCI, SCHEME, CA, DATA) that `stop` and `status`
# read. Several registries can run at once from different DIRs.
# --auth-env takes the credentials from CHARTFORGE_REGISTRY_USERNAME/_PASSWORD instead of argv.
# --tls makes a self-signed CA and a server certificate for 127.0.0.1 and localhost (SAN);
# clients trust it with `--ca-file DIR/tls/ca.crt`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"

die() { printf 'registry: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'registry: %s\n' "$*" >&2; }

cmd="${1:-}"
[ -n "$cmd" ] || die "usage: $0 start|stop|status|env [--port N] [--dir DIR] [--auth USER:PASS|--auth-env] [--tls]"
shift
port="${REGISTRY_PORT:-0}"
dir="${REGISTRY_DIR:-$here/.tools/registry}"
auth=""
tls=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:-}"; shift 2 ;;
    --port=*) port="${1#*=}"; shift ;;
    --dir) dir="${2:-}"; shift 2 ;;
    --dir=*) dir="${1#*=}"; shift ;;
    --auth) auth="${2:-}"; shift 2 ;;
    --auth=*) auth="${1#*=}"; shift ;;
    --auth-env)
      [ -n "${CHARTFORGE_REGISTRY_USERNAME:-}" ] && [ -n "${CHARTFORGE_REGISTRY_PASSWORD:-}" ] ||
        die "--auth-env needs CHARTFORGE_REGISTRY_USERNAME and CHARTFORGE_REGISTRY_PASSWORD"
      auth="$CHARTFORGE_REGISTRY_USERNAME:$CHARTFORGE_REGISTRY_PASSWORD"; shift ;;
    --tls) tls=1; shift ;;
    *) die "unknown argument: $1" ;;
  esac
done
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
state="$dir/registry.state"

read_state() { # sets PID PORT HOST URL OCI SCHEME CA DATA from the state file
  [ -f "$state" ] || return 1
  # shellcheck disable=SC1090
  . "$state"
}

alive() { [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; }

# Probe /v2/: the registry is up when it answers 200 (open) or 401 (auth required).
probe() { # $1=url $2=ca-file (may be empty)
  "$PY" - "$1" "${2:-}" <<'EOF'
import ssl, sys, urllib.error, urllib.request
url, ca = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=ca) if ca else None
try:
    with urllib.request.urlopen(url + "/v2/", timeout=2, context=ctx) as r:
        code = r.status
except urllib.error.HTTPError as e:
    code = e.code
except Exception:
    sys.exit(1)
sys.exit(0 if code in (200, 401) else 1)
EOF
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Whether 127.0.0.1:$1 can be bound (SO_REUSEADDR, as Go's listener sets it). Checked before the
# launch: otherwise, on a taken port, the probe below could get its answer from whatever already
# listens there (another registry) before our process has failed to bind.
port_free() {
  "$PY" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()' "$1"
}

make_tls() { # self-signed CA + server certificate with SANs for 127.0.0.1 and localhost
  local t="$dir/tls"
  mkdir -p "$t"
  [ -f "$t/server.crt" ] && [ -f "$t/ca.crt" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
    -keyout "$t/ca.key" -out "$t/ca.crt" -subj "/CN=chartforge local registry CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$t/server.key" -out "$t/server.csr" \
    -subj "/CN=127.0.0.1" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$t/server.ext" -out "$t/server.crt" 2>/dev/null
  chmod 600 "$t/ca.key" "$t/server.key"
}

start() {
  command -v docker-registry >/dev/null 2>&1 || die "docker-registry not installed (apt-get install docker-registry)"
  if read_state && alive; then
    log "already running: $URL (pid $PID)"
    cat "$state"
    return 0
  fi
  local auto_port=0
  if [ -z "$port" ] || [ "$port" = 0 ]; then auto_port=1; fi
  local scheme=http ca="" tls_block="" auth_block=""
  if [ "$tls" = 1 ]; then
    command -v openssl >/dev/null 2>&1 || die "openssl not installed"
    make_tls
    scheme=https
    ca="$dir/tls/ca.crt"
    tls_block="  tls:
    certificate: $dir/tls/server.crt
    key: $dir/tls/server.key"
  fi
  if [ -n "$auth" ]; then
    command -v htpasswd >/dev/null 2>&1 || die "htpasswd not installed (apt-get install apache2-utils)"
    local user="${auth%%:*}" pass="${auth#*:}"
    [ -n "$user" ] && [ "$user" != "$auth" ] || die "--auth expects USER:PASS"
    # bcrypt (the only scheme distribution accepts); the password goes through stdin, not argv
    printf '%s\n' "$pass" | htpasswd -Bin "$user" >"$dir/htpasswd" 2>/dev/null
    auth_block="auth:
  htpasswd:
    realm: chartforge-registry
    path: $dir/htpasswd"
  fi
  mkdir -p "$dir/data"
  local try
  for try in 1 2 3; do
    # A port picked here may be taken by someone else before the registry binds it: retry.
    [ "$auto_port" = 1 ] && port="$(free_port)"
    if launch "$scheme" "$ca" "$tls_block" "$auth_block"; then return 0; fi
    [ "$auto_port" = 1 ] || break
    log "port $port was not usable (attempt $try), trying another"
  done
  die "could not start docker-registry (see $dir/registry.log)"
}

launch() { # $1=scheme $2=ca $3=tls_block $4=auth_block; uses $port, $dir
  local scheme="$1" ca="$2" tls_block="$3" auth_block="$4"
  if ! port_free "$port"; then
    echo "listen tcp 127.0.0.1:$port: bind: address already in use" >&2
    return 1
  fi
  cat >"$dir/config.yml" <<EOF
# Written by ci/registry.sh; local test registry, bound to 127.0.0.1 only.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: chartforge-local-registry
$tls_block
$auth_block
EOF
  # setsid: the registry must outlive this script (and the CI step that ran it).
  setsid docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
  local pid=$!
  local url="$scheme://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then # e.g. the port is taken
      tail -n 5 "$dir/registry.log" >&2
      return 1
    fi
    if probe "$url" "$ca" && kill -0 "$pid" 2>/dev/null; then
      cat >"$state" <<EOF
PID=$pid
PORT=$port
HOST=127.0.0.1:$port
SCHEME=$scheme
URL=$url
OCI=oci://127.0.0.1:$port/charts
CA=$ca
DATA=$dir/data
EOF
      log "started $url (pid $pid, data $dir/data${ca:+, CA $ca})"
      cat "$state"
      return 0
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  tail -n 20 "$dir/registry.log" >&2
  die "no answer from $url/v2/ after 10s"
}

stop() {
  if ! read_state; then log "not running (no $state)"; return 0; fi
  if alive; then
    kill "$PID"
    for _ in $(seq 1 50); do alive || break; sleep 0.1; done
    if alive; then kill -9 "$PID" 2>/dev/null || true; fi
    log "stopped pid $PID ($URL)"
  else
    log "not running (stale pid $PID)"
  fi
  rm -f "$state"
}

status() {
  if read_state && alive && probe "$URL" "$CA"; then
    cat "$state"
    return 0
  fi
  log "not running${URL:+ ($URL)}"
  return 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) read_state || die "not running (no $state)"; sed 's/^/REGISTRY_/' "$state" ;;
  *) die "unknown command '$cmd' (start|stop|status|env)" ;;
esac
