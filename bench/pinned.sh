#!/usr/bin/env bash
# Registrar alone, run as the side-by-side harness runs it with --pin: the
# server on CPU 1; wrk (the harness's scripts) and a fresh redis-server on
# CPU 0; the C trusted-hosts module with bench/trusted-hosts.yaml. No anchor:
# this is for what limits a phase and for A/B runs of two builds, not for
# ratios (bench/README.md, "Registration at 64 connections: where the time
# goes"). One table row per run:
#
#   req/s, p99 and non-2xx (wrk); the server's and Redis's CPU µs per request
#   (/proc/<pid>/stat); each CPU's busy share (/proc/stat); the mean time a
#   request spent inside the server (registrar_http_request_duration_seconds
#   from /metrics) beside the mean a client waited (connections ÷ req/s); and
#   with AOF=yes the append-only file's bytes per request.
#
#   bash bench/pinned.sh                             # register, read, token at 16 and 64 connections
#   OPS=register CONNS=64 AOF=yes bash bench/pinned.sh   # Redis with an append-only file, as the harness's
#   REGISTRAR_BIN=/tmp/a ROUNDS=3 bash bench/pinned.sh   # a given build (alternate two for A/B)
#
# Environment: OPS, CONNS, DURATION (s, default 10), ROUNDS (default 1), AOF
# (no or yes; yes also stops automatic rewrites, so that the file's growth is
# what the requests wrote), REGISTRAR_BIN, REDIS_NICE (a niceness for Redis,
# e.g. -10, so that it need not wait for wrk's time slice on the core they
# share: a diagnostic, not how the harness runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
OPS="${OPS:-register read token}"
CONNS="${CONNS:-16 64}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-1}"
AOF="${AOF:-no}"
SCRIPTS=../shared/bench/oidc-provider

. bench/lib.sh
require redis-server redis-cli go curl wrk taskset python3
[ -f "$SCRIPTS/reg.lua" ] || { echo "pinned.sh: $SCRIPTS is missing (the side-by-side harness's wrk scripts)" >&2; exit 1; }
if [ -n "${REGISTRAR_BIN:-}" ]; then cp "$REGISTRAR_BIN" "$work/registrar"; else go build -o "$work/registrar" ./cmd/registrar; fi
mkdir -p "$work/policies"
cp policies-examples/trusted-hosts/c/policy.wasm "$work/policies/trusted-hosts.wasm"

aof_args=()
if [ "$AOF" = yes ]; then aof_args=(--appendonly yes --auto-aof-rewrite-percentage 0); fi
start_redis -c 0 "${aof_args[@]}"
if [ -n "${REDIS_NICE:-}" ]; then renice -n "$REDIS_NICE" -p "$redis_pid" >/dev/null; fi

addr="127.0.0.1:$(free_port)"
admin_addr="127.0.0.1:$(free_port)"
admin_token=$(new_token)
REGISTRAR_ADMIN_TOKEN="$admin_token" taskset -c 1 "$work/registrar" serve --addr "$addr" --admin-addr "$admin_addr" \
  --redis-url "redis://127.0.0.1:$redis_port" --policy-dir "$work/policies" --config bench/trusted-hosts.yaml \
  >"$work/registrar.out" 2>"$work/registrar.log" &
registrar_pid=$!
pids+=("$registrar_pid")
wait_for "http://$addr/readyz"
iat=$(REGISTRAR_ADMIN_TOKEN="$admin_token" "$work/registrar" iat create --admin-url "http://$admin_addr" \
  --tenant default --expires-in PT1H --policies trusted-hosts | sed -n 's/.*"initial_access_token": *"\([^"]*\)".*/\1/p')
reg_body='{"redirect_uris":["https://app.example.com/cb"],"grant_types":["authorization_code","refresh_token"],"contacts":["dev@example.com"]}'
m2m_body='{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","client_name":"bench m2m"}'
reg=$(curl -fsS -X POST "http://$addr/reg" -H "Authorization: Bearer $iat" -H 'Content-Type: application/json' -d "$reg_body")
m2m=$(curl -fsS -X POST "http://$addr/reg" -H "Authorization: Bearer $iat" -H 'Content-Type: application/json' -d "$m2m_body")
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" <<<"$2"; }
export IAT="$iat" REG_BODY="$reg_body" TOKEN_PATH=/token
RAT=$(field registration_access_token "$reg")
CLIENT_PATH="/reg/$(field client_id "$reg")"
BASIC=$(printf '%s:%s' "$(field client_id "$m2m")" "$(field client_secret "$m2m")" | base64 -w0)
export RAT CLIENT_PATH BASIC
[ -n "$RAT" ] && [ -n "$BASIC" ] || { echo "pinned.sh: the registrations for the bench failed: $reg $m2m" >&2; exit 1; }

# snapshot: the server's and Redis's CPU ticks, /proc/stat's cpu0 and cpu1,
# the server's request time sum and count of every route, the AOF's size.
snapshot() {
  echo "ticks $(awk '{print $14 + $15}' "/proc/$registrar_pid/stat") $(awk '{print $14 + $15}' "/proc/$redis_pid/stat")"
  grep -E '^cpu[01] ' /proc/stat
  curl -fsS "http://$admin_addr/metrics" -H "Authorization: Bearer $admin_token" |
    grep -E '^registrar_http_request_duration_seconds_(sum|count)\{listener="public"' || true
  echo "aof $(redis-cli -p "$redis_port" info persistence | tr -d '\r' | sed -n 's/^aof_current_size://p')"
}

declare -A script=([register]=reg.lua [read]=read.lua [token]=token.lua)
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), AOF $AOF, Redis niceness ${REDIS_NICE:-0}, ${DURATION} s per run"
echo
echo "| op | conns | req/s | p99 ms | non-2xx | server CPU µs/req | Redis CPU µs/req | CPU 0 busy % | CPU 1 busy % | mean ms in server | mean ms at client | AOF bytes/req |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for _ in $(seq "$ROUNDS"); do
  for conns in $CONNS; do
    for op in $OPS; do
      taskset -c 0 wrk -t2 -c"$conns" -d3s -s "$SCRIPTS/${script[$op]}" "http://$addr" >/dev/null
      snapshot >"$work/before"
      out=$(taskset -c 0 wrk -t2 -c"$conns" -d"${DURATION}s" --timeout 10s --latency -s "$SCRIPTS/${script[$op]}" "http://$addr")
      snapshot >"$work/after"
      python3 - "$op" "$conns" "$(getconf CLK_TCK)" "$work/before" "$work/after" "$(sed -n 's/^RESULT //p' <<<"$out")" <<'PY'
import json, re, sys
op, conns, hz, before, after, result = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
r = json.loads(result)
n = max(r["requests"], 1)
route = {"register": ('POST', '/reg"'), "read": ('GET', '/reg/'), "token": ('POST', '/token')}[op]

def parse(path):
    d = {"sum": 0.0, "count": 0.0}
    for line in open(path):
        f = line.split()
        if f[0] == "ticks":
            d["server"], d["redis"] = int(f[1]), int(f[2])
        elif f[0] in ("cpu0", "cpu1"):
            v = [int(x) for x in f[1:]]
            d[f[0]] = (sum(v) - v[3] - v[4], sum(v))
        elif f[0] == "aof":
            d["aof"] = int(f[1]) if len(f) > 1 and f[1] else 0
        elif 'method="%s"' % route[0] in line and 'route="%s' % route[1] in line:
            kind = "sum" if "_sum{" in line else "count"
            d[kind] += float(f[-1])
    return d

a, b = parse(before), parse(after)
busy = lambda c: 100.0 * (b[c][0] - a[c][0]) / max(b[c][1] - a[c][1], 1)
served = b["count"] - a["count"]
in_server = 1000.0 * (b["sum"] - a["sum"]) / served if served else float("nan")
aof = "%.0f" % ((b["aof"] - a["aof"]) / n) if b.get("aof") else "-"
print("| %s | %d | %.0f | %.1f | %d | %.1f | %.1f | %.0f | %.0f | %.2f | %.2f | %s |" % (
    op, conns, r["rps"], r["p99_ms"], r["non_2xx"], (b["server"] - a["server"]) / hz * 1e6 / n,
    (b["redis"] - a["redis"]) / hz * 1e6 / n, busy("cpu0"), busy("cpu1"), in_server, 1000.0 * conns / r["rps"], aof))
PY
    done
  done
done
