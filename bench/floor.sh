#!/usr/bin/env bash
# The read floor beside Registrar's read, in one run (bench/README.md, "The
# floor"): bench/floor (net/http + one go-redis GET of a 1.2 KB record, nothing
# else) and `registrar serve` (default tenant, an RFC 7592 read with the
# registration access token, audited as by default) take turns on CPU 1, wrk
# on CPU 0 with the side-by-side harness's read script, and each server's CPU
# per request comes from /proc over the run. With ANCHOR=1 the harness's
# anchor, node-oidc-provider with its Redis adapter (../shared/bench/oidc-provider,
# installed with npm into the folder the harness uses), takes its turn too,
# against the same Redis: its read over the floor's is then the most any Go
# server built on net/http and go-redis can be ahead of it on this machine.
#
#   bash bench/floor.sh                    # 2 alternations of 10 s at 16 connections
#   ROUNDS=3 DURATION=10 CONNS=64 bash bench/floor.sh
#   ANCHOR=1 ROUNDS=3 bash bench/floor.sh  # node-oidc-provider in the same rotation
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
ROUNDS="${ROUNDS:-2}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-16}"
ANCHOR_SRC=../shared/bench/oidc-provider
READ_LUA=$ANCHOR_SRC/read.lua

. bench/lib.sh
require redis-server redis-cli go curl wrk taskset
[ -f "$READ_LUA" ] || { echo "floor.sh: $READ_LUA is missing (the side-by-side harness's read script)" >&2; exit 1; }
go build -o "$work/registrar" ./cmd/registrar
go build -o "$work/floor" ./bench/floor
start_redis

floor_addr="127.0.0.1:$(free_port)"
taskset -c 1 "$work/floor" -redis "127.0.0.1:$redis_port" -addr "$floor_addr" 2>"$work/floor.log" &
floor_pid=$!
pids+=("$floor_pid")

addr="127.0.0.1:$(free_port)"
admin_addr="127.0.0.1:$(free_port)"
admin_token=$(new_token)
REGISTRAR_ADMIN_TOKEN="$admin_token" taskset -c 1 "$work/registrar" serve --addr "$addr" --admin-addr "$admin_addr" \
  --redis-url "redis://127.0.0.1:$redis_port" >"$work/registrar.out" 2>"$work/registrar.log" &
registrar_pid=$!
pids+=("$registrar_pid")
wait_for "http://$addr/readyz"
iat=$(REGISTRAR_ADMIN_TOKEN="$admin_token" "$work/registrar" iat create --admin-url "http://$admin_addr" --tenant default --expires-in PT1H |
  sed -n 's/.*"initial_access_token": *"\([^"]*\)".*/\1/p')
reply=$(curl -fsS -X POST "http://$addr/reg" -H "Authorization: Bearer $iat" -H 'Content-Type: application/json' \
  -d '{"redirect_uris":["https://app.example.com/cb"]}')
client_id=$(sed -n 's/.*"client_id":"\([^"]*\)".*/\1/p' <<<"$reply")
rat=$(sed -n 's/.*"registration_access_token":"\([^"]*\)".*/\1/p' <<<"$reply")
[ -n "$client_id" ] && [ -n "$rat" ] || { echo "floor.sh: registration failed: $reply" >&2; exit 1; }

# anchor_up starts node-oidc-provider on CPU 1 as the harness does (Redis
# adapter, the policy mode) and registers a client to read; it sets
# anchor_pid, anchor_base, anchor_rat and anchor_path.
anchor_up() {
  require node npm
  local dir="${TMPDIR:-/tmp}/side-by-side-anchor" port iat reply
  mkdir -p "$dir"
  cp "$ANCHOR_SRC/package.json" "$ANCHOR_SRC/server.js" "$ANCHOR_SRC/redis_adapter.js" "$dir/"
  [ -d "$dir/node_modules" ] || (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  rm -f "$work/anchor-iat.txt"
  port=$(free_port)
  (cd "$dir" && PORT="$port" ADAPTER=redis REDIS_URL="redis://127.0.0.1:$redis_port" MODE=policy \
    IAT_FILE="$work/anchor-iat.txt" exec taskset -c 1 node server.js >"$work/anchor.log" 2>&1) &
  anchor_pid=$!  # the subshell execs taskset, which execs node: one process
  pids+=("$anchor_pid")
  anchor_base="http://127.0.0.1:$port"
  for _ in $(seq 150); do [ -s "$work/anchor-iat.txt" ] && break; sleep 0.1; done
  wait_for "$anchor_base/.well-known/openid-configuration"
  iat=$(cat "$work/anchor-iat.txt")
  reply=$(curl -fsS -X POST "$anchor_base/reg" -H "Authorization: Bearer $iat" -H 'Content-Type: application/json' \
    -d '{"redirect_uris":["https://app.example.com/cb"]}')
  anchor_rat=$(sed -n 's/.*"registration_access_token":"\([^"]*\)".*/\1/p' <<<"$reply")
  anchor_path=$(sed -n 's/.*"registration_client_uri":"http:\/\/[^/]*\([^"]*\)".*/\1/p' <<<"$reply")
  [ -n "$anchor_rat" ] && [ -n "$anchor_path" ] || { echo "floor.sh: the anchor's registration failed: $reply" >&2; exit 1; }
}
if [ "${ANCHOR:-}" = 1 ]; then anchor_up; fi

# The floor answers 401 without a token: wait until it answers at all.
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$floor_addr/")" = 401 ] && break
  sleep 0.1
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# measure NAME PID BASE PATH [RAT]: one wrk run; prints a table row.
measure() {
  local t0 t1 out token="${5:-$rat}"
  RAT="$token" CLIENT_PATH="$4" taskset -c 0 wrk -t2 -c"$CONNS" -d2s -s "$READ_LUA" "$3" >/dev/null
  t0=$(cpu_ticks "$2")
  out=$(RAT="$token" CLIENT_PATH="$4" taskset -c 0 wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$READ_LUA" "$3")
  t1=$(cpu_ticks "$2")
  python3 -c '
import json, sys
name, t0, t1, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = json.loads(sys.argv[5])
print("| %s | %d | %.0f | %.2f | %.2f | %d | %.1f |" % (name, r["requests"], r["rps"], r["p50_ms"], r["p99_ms"],
      r["non_2xx"], (t1 - t0) / hz * 1e6 / max(r["requests"], 1)))' "$1" "$t0" "$t1" "$hz" "$(sed -n 's/^RESULT //p' <<<"$out")"
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $CONNS connections, ${DURATION} s per run"
echo
echo "| server | requests | req/s | p50 ms | p99 ms | non-2xx | CPU µs per read |"
echo "|---|---|---|---|---|---|---|"
for _ in $(seq "$ROUNDS"); do
  measure "bench/floor" "$floor_pid" "http://$floor_addr" "/"
  measure "registrar (audit_reads true)" "$registrar_pid" "http://$addr" "/reg/$client_id"
  if [ "${ANCHOR:-}" = 1 ]; then
    measure "node-oidc-provider" "$anchor_pid" "$anchor_base" "$anchor_path" "$anchor_rat"
  fi
done
