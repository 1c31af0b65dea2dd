# Sourced by the other scripts. Defines `cli`: redis-cli (valkey-cli on Valkey images) with the
# password (read from the mounted Secret into REDISCLI_AUTH, never put on argv) and the TLS
# options when TLS is on; `cli_for SECONDS ...` is the same bounded by a timeout.
# Environment: REDIS_PASSWORD_FILE, REDIS_TLS (true/false), REDIS_TLS_DIR.
REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")"
VALKEYCLI_AUTH="$REDISCLI_AUTH"
export REDISCLI_AUTH VALKEYCLI_AUTH
if command -v valkey-cli >/dev/null 2>&1; then
  CLI_BIN=valkey-cli
else
  CLI_BIN=redis-cli
fi
CLI_TLS=""
if [ "${REDIS_TLS:-false}" = "true" ]; then
  CLI_TLS="--tls --cacert $REDIS_TLS_DIR/ca.crt --cert $REDIS_TLS_DIR/tls.crt --key $REDIS_TLS_DIR/tls.key"
fi

cli() {
  # shellcheck disable=SC2086
  "$CLI_BIN" $CLI_TLS "$@"
}

cli_for() {
  seconds="$1"
  shift
  # shellcheck disable=SC2086
  timeout "$seconds" "$CLI_BIN" $CLI_TLS "$@"
}
