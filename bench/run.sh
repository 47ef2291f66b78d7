#!/usr/bin/env bash
# Load benchmark: registrar serve --redis-url against a fresh redis-server,
# both on free loopback ports, driven by bench/loadgen. Prints one Markdown
# table: registration and read at 16 and 64 connections. See README.md.
#
#   bash bench/run.sh                      # 20 s measured after 5 s warm-up
#   DURATION=10s WARMUP=2s bash bench/run.sh
#   POLICY=trusted-hosts bash bench/run.sh  # with a Wasm policy module (Go)
#   POLICY=trusted-hosts POLICY_LANG=rust bash bench/run.sh  # in another language
#
# Environment: DURATION, WARMUP, CONNS ("16 64"), OPS ("register read"),
# LOG_LEVEL (registrar's, default info), KEEP=1 to keep the work directory
# (logs), REDIS_STATS=1 to print Redis's own time per command after each
# load (INFO commandstats, reset before the load: calls and µs per call). POLICY names the policy module the initial access token names:
# policies-examples/$POLICY/$POLICY_LANG/policy.wasm (POLICY_LANG: go, rust,
# c, assemblyscript or wat; default go) is served from a --policy-dir, with
# the tenant configuration bench/$POLICY.yaml when it exists (CONFIG
# overrides it); POLICY_DIR serves another folder of modules instead.
# REGISTRAR_BIN runs that registrar binary instead of building the tree's
# (to compare two builds, alternating runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

DURATION="${DURATION:-20s}"
WARMUP="${WARMUP:-5s}"
CONNS="${CONNS:-16 64}"
OPS="${OPS:-register read}"
LOG_LEVEL="${LOG_LEVEL:-info}"

. bench/lib.sh
require redis-server redis-cli go curl

echo "building..." >&2
if [ -n "${REGISTRAR_BIN:-}" ]; then
  cp "$REGISTRAR_BIN" "$work/registrar"  # a build to compare (A/B runs)
else
  go build -o "$work/registrar" ./cmd/registrar
fi
go build -o "$work/loadgen" ./bench/loadgen

start_redis

addr="127.0.0.1:$(free_port)"
admin_addr="127.0.0.1:$(free_port)"
admin_token=$(new_token)
serve_args=(serve --addr "$addr" --admin-addr "$admin_addr" --redis-url "redis://127.0.0.1:$redis_port" --log-level "$LOG_LEVEL")
if [ -n "${POLICY:-}" ] && [ -z "${POLICY_DIR:-}" ]; then
  POLICY_DIR="$work/policies"
  mkdir -p "$POLICY_DIR"
  cp "policies-examples/$POLICY/${POLICY_LANG:-go}/policy.wasm" "$POLICY_DIR/$POLICY.wasm"
fi
if [ -n "${POLICY:-}" ] && [ -z "${CONFIG:-}" ] && [ -f "bench/$POLICY.yaml" ]; then CONFIG="bench/$POLICY.yaml"; fi
if [ -n "${POLICY_DIR:-}" ]; then serve_args+=(--policy-dir "$POLICY_DIR"); fi
if [ -n "${CONFIG:-}" ]; then serve_args+=(--config "$CONFIG"); fi
REGISTRAR_ADMIN_TOKEN="$admin_token" "$work/registrar" "${serve_args[@]}" >"$work/registrar.out" 2>"$work/registrar.log" &
registrar_pid=$!
pids+=("$registrar_pid")
wait_for "http://$addr/readyz"

# The initial access token, minted through the admin API: no use limit, 1 h.
iat_args=(iat create --admin-url "http://$admin_addr" --tenant default --expires-in PT1H)
if [ -n "${POLICY:-}" ]; then iat_args+=(--policies "$POLICY"); fi
iat=$(REGISTRAR_ADMIN_TOKEN="$admin_token" "$work/registrar" "${iat_args[@]}" |
  sed -n 's/.*"initial_access_token": *"\([^"]*\)".*/\1/p')
[ -n "$iat" ] || { echo "run.sh: minting the initial access token failed" >&2; exit 1; }

# Sanity checks before measuring: a registration succeeds (and shows what
# a policy made of it), one without the token is refused.
body='{"redirect_uris":["https://app.example.com/cb"],"grant_types":["authorization_code","refresh_token"],"contacts":["dev@example.com"]}'
reply=$(curl -sS -w '\n%{http_code}' -X POST "http://$addr/reg" -H "Authorization: Bearer $iat" -H 'Content-Type: application/json' -d "$body")
[ "$(tail -n1 <<<"$reply")" = 201 ] || { echo "run.sh: sanity registration failed: $reply" >&2; exit 1; }
client_name=$(head -n1 <<<"$reply" | sed -n 's/.*"client_name":"\([^"]*\)".*/\1/p')
status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://$addr/reg" -H 'Content-Type: application/json' -d "$body")
[ "$status" = 401 ] || { echo "run.sh: a registration without a token got $status, want 401" >&2; exit 1; }

echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $(nproc) CPUs, policy: ${POLICY:-none}${client_name:+ (client_name \"$client_name\")}, log level $LOG_LEVEL, $DURATION measured after $WARMUP warm-up"
echo
echo "| op | conns | req/s | p50 ms | p99 ms | max ms | non-2xx | errors | CPU% (100 = one core) |"
echo "|---|---|---|---|---|---|---|---|---|"
for op in $OPS; do
  for c in $CONNS; do
    if [ "${REDIS_STATS:-}" = 1 ]; then redis-cli -p "$redis_port" config resetstat >/dev/null; fi
    "$work/loadgen" -issuer "http://$addr" -op "$op" -c "$c" -d "$DURATION" -warmup "$WARMUP" \
      -iat "$iat" -cpu "registrar=$registrar_pid,redis=$redis_pid" -format row
    if [ "${REDIS_STATS:-}" = 1 ]; then
      redis-cli -p "$redis_port" info commandstats | tr -d '\r' |
        sed -n "s/^cmdstat_\([a-z|]*\):calls=\([0-9]*\),usec=\([0-9]*\),usec_per_call=\([0-9.]*\).*/<!-- redis $op c=$c: \1 calls=\2 usec=\3 usec_per_call=\4 -->/p" >&2
    fi
  done
done
echo
echo "keys in Redis after the run: $(redis-cli -p "$redis_port" dbsize)"
