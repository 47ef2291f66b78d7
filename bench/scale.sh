#!/usr/bin/env bash
# Scale curves (bench/README.md, "Tenants and clients at scale"): against a fresh redis-server and one
# `registrar serve` on loopback ports, with a policy folder of ten modules
# of policies-examples (the committed policy.wasm files, which
# policies-examples/build.sh rebuilds byte for byte, as .ci/run checks):
#
#  1. memory per compiled module: serve's RSS with no module, with each
#     module alone, and with all ten;
#  2. tenants: at each count of TENANTS (loaded by bench/scale/main.go
#     through redisstore, each tenant naming one of the ten modules), the
#     serve restarted (it reads every tenant at start: "start s" is the
#     time until the last one is served), its idle CPU over
#     IDLE and its RSS at the end of it, then the latency of PUT
#     /admin/tenants/{t} for PUTS new tenants and register/read p50/p99
#     (bench/loadgen) on tenant t0;
#  3. clients: with CLIENTS stored in t0, register/read p50/p99 again.
#
#   bash bench/scale.sh                    # the full run: about 10 minutes
#   TENANTS="1 1000" CLIENTS="10000" DURATION=5s bash bench/scale.sh   # quick
#
# Environment: TENANTS ("1 1000 10000 100000"), CLIENTS ("10000 100000
# 1000000"), DURATION (10s per load, after WARMUP 3s), CONNS (16), IDLE
# (20s), PUTS (100), REGISTRAR_BIN (a registrar binary to measure instead
# of this tree's: a "before"), SKIP_MODULES=1, PIN=1 (serve on CPU 1,
# redis-server and the load generator on CPU 0, as the side-by-side
# harness's --pin: steadier latencies on 2 cores), KEEP=1 (keep the work
# directory with the logs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
TENANTS="${TENANTS-1 1000 10000 100000}"
CLIENTS="${CLIENTS-10000 100000 1000000}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
CONNS="${CONNS:-16}"
IDLE="${IDLE:-20s}"
PUTS="${PUTS:-100}"

. bench/lib.sh
require redis-server redis-cli go curl

echo "building..." >&2
bin="${REGISTRAR_BIN:-$work/registrar}"
[ -n "${REGISTRAR_BIN:-}" ] || go build -o "$bin" ./cmd/registrar
go build -o "$work/registrar-cli" ./cmd/registrar
go build -o "$work/scale" ./bench/scale
go build -o "$work/loadgen" ./bench/loadgen

start_redis
# PIN=1: serve on CPU 1, everything else on CPU 0.
pin_serve=() pin_load=()
if [ "${PIN:-}" = 1 ]; then
  require taskset
  pin_serve=(taskset -c 1) pin_load=(taskset -c 0)
  taskset -cp 0 "$redis_pid" >/dev/null
fi
redis_url="redis://127.0.0.1:$redis_port"
admin_token=$(new_token)
export REGISTRAR_ADMIN_TOKEN="$admin_token"

# modules DIR NAME...: a policy folder with those modules of the ten.
modules() {
  local dir=$1; shift
  mkdir -p "$dir"
  while read -r name lang; do
    for want in "$@"; do
      if [ "$want" = "$name" ]; then cp "policies-examples/$name/$lang/policy.wasm" "$dir/$name.wasm"; fi
    done
  done < <("$work/scale" modules)
}

# serve DIR: starts registrar serve with that policy folder; sets addr,
# admin_addr, serve_pid. The heap floor is off (GC_HEAP_FLOOR overrides):
# the memory per tenant and per module is measured at Go's own heap goal,
# which the floor's fixed headroom would hide below 64 MiB.
serve() {
  addr="127.0.0.1:$(free_port)"
  admin_addr="127.0.0.1:$(free_port)"
  "${pin_serve[@]}" "$bin" serve --addr "$addr" --admin-addr "$admin_addr" --redis-url "$redis_url" \
    --policy-dir "$1" --log-level warn --gc-heap-floor "${GC_HEAP_FLOOR:-0}" >>"$work/registrar.out" 2>>"$work/registrar.log" &
  serve_pid=$!
  pids+=("$serve_pid")
  wait_for "http://$addr/readyz" 600
}
stop() { kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; }
rss() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }

echo "machine: $(nproc) CPUs ($(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/^Mem:/{print $2}') GiB," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'); $(go version | cut -d' ' -f3)"
all=$("$work/scale" modules | cut -d' ' -f1 | tr '\n' ' ')

if [ "${SKIP_MODULES:-}" != 1 ]; then
  echo
  echo "## Memory per compiled module (serve RSS 5 s after ready, no tenants)"
  echo
  echo "| modules | wasm bytes | RSS MiB | over none, MiB |"
  echo "|---|---|---|---|"
  modules "$work/none"
  serve "$work/none"; sleep 5; base=$(rss "$serve_pid"); stop
  printf '| none | 0 | %.1f | |\n' "$(bc -l <<<"$base/1024")"
  for m in $all; do
    modules "$work/m-$m" "$m"
    serve "$work/m-$m"; sleep 5; r=$(rss "$serve_pid"); stop
    printf '| %s | %d | %.1f | %.1f |\n' "$m" "$(stat -c %s "$work/m-$m/$m.wasm")" "$(bc -l <<<"$r/1024")" "$(bc -l <<<"($r-$base)/1024")"
  done
  modules "$work/all" $all
  serve "$work/all"; sleep 5; r=$(rss "$serve_pid"); stop
  printf '| all ten | %d | %.1f | %.1f |\n' "$(cat "$work"/all/*.wasm | wc -c)" "$(bc -l <<<"$r/1024")" "$(bc -l <<<"($r-$base)/1024")"
fi

modules "$work/policies" $all
serve "$work/policies"
loaded=0
row() { # op issuer iat: "req/s | p50 ms | p99 ms | failed" of one loadgen run
  "${pin_load[@]}" "$work/loadgen" -issuer "$2" -op "$1" -c "$CONNS" -d "$DURATION" -warmup "$WARMUP" -iat "$3" -format row |
    awk -F'|' '{gsub(/ /, ""); printf "%s | %s | %s | %d", $4, $5, $6, $8 + $9}'
}
echo
echo "## Tenants (register and read: tenant t0, $CONNS connections, $DURATION after $WARMUP)"
echo
echo "| tenants | PUT p50 ms | PUT p99 ms | PUT mean ms | start s | idle RSS MiB | idle CPU % over $IDLE | register req/s | p50 ms | p99 ms | failed | read req/s | p50 ms | p99 ms | failed |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
iat=""
for n in $TENANTS; do
  "$work/scale" tenants -redis "$redis_url" -from "$loaded" -to "$n" 2>>"$work/load.log"
  loaded=$n
  # A fresh process, which reads the n tenants at start: its RSS is that of
  # n idle tenants, not of the loads run before.
  stop
  t0=$(date +%s.%N)
  serve "$work/policies"
  wait_for "http://$addr/tenants/t$((n - 1))/.well-known/openid-configuration" 3000
  start_s=$(bc -l <<<"$(date +%s.%N) - $t0")
  if [ -z "$iat" ]; then
    iat=$("$work/registrar-cli" iat create --admin-url "http://$admin_addr" --tenant t0 --expires-in PT2H --policies trusted-hosts |
      sed -n 's/.*"initial_access_token": *"\([^"]*\)".*/\1/p')
    [ -n "$iat" ] || { echo "scale.sh: minting the initial access token failed" >&2; exit 1; }
  fi
  sleep 5
  proc=$("$work/scale" proc -pid "$serve_pid" -for "$IDLE")
  put=$("$work/scale" put -admin "http://$admin_addr" -from $((1000000 + n)) -n "$PUTS")
  reg=$(row register "http://$addr/tenants/t0" "$iat")
  read=$(row read "http://$addr/tenants/t0" "$iat")
  p50=$(sed -n 's/.*p50_ms=\([^ ]*\).*/\1/p' <<<"$put"); p99=$(sed -n 's/.*p99_ms=\([^ ]*\).*/\1/p' <<<"$put"); mean=$(sed -n 's/.*mean_ms=\([^ ]*\).*/\1/p' <<<"$put")
  kib=$(sed -n 's/.*rss_kib=\([0-9]*\).*/\1/p' <<<"$proc"); cpu=$(sed -n 's/.*cpu_pct=\([^ ]*\).*/\1/p' <<<"$proc")
  printf '| %s | %s | %s | %s | %.1f | %.1f | %s | %s | %s |\n' "$n" "$p50" "$p99" "$mean" "$start_s" "$(bc -l <<<"$kib/1024")" "$cpu" "$reg" "$read"
done

echo
echo "## Clients stored in tenant t0 (with $loaded tenants)"
echo
echo "| clients | register req/s | p50 ms | p99 ms | failed | read req/s | p50 ms | p99 ms | failed |"
echo "|---|---|---|---|---|---|---|---|---|"
have=0
for m in $CLIENTS; do
  "$work/scale" clients -redis "$redis_url" -tenant t0 -from "$have" -to "$m" 2>>"$work/load.log"
  have=$m
  printf '| %s | %s | %s |\n' "$m" "$(row register "http://$addr/tenants/t0" "$iat")" "$(row read "http://$addr/tenants/t0" "$iat")"
done
echo
if [ -f "$work/load.log" ]; then echo "loader rates:"; sed 's/^/    /' "$work/load.log"; fi
echo "keys in Redis: $(redis-cli -p "$redis_port" dbsize), used_memory $(redis-cli -p "$redis_port" info memory | tr -d '\r' | sed -n 's/^used_memory_human://p')"
