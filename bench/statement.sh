#!/usr/bin/env bash
# Registration with a software statement against plain registration, end to
# end (issue 18): registrar serve --redis-url against a fresh redis-server,
# one tenant that trusts a directory whose keys it holds (an inline jwks: a
# cached issuer), bench/loadgen registering with and without a statement:
# in mixed runs (every other request with a statement, so both kinds are
# timed in the same seconds: the p50 ratio), and in runs of each kind alone
# (the server's CPU per request of each). Every statement is fresh
# (its own jti and software_id, signed by the load generator before the
# run, so no signing runs beside the server), as a directory issues one per
# registration, and
# the tenant requires a jti (spent in the create script). Prints each run's
# rows and then the medians over the rounds. See README.md.
#
#   bash bench/statement.sh                  # ES256, 1 and 16 connections, 3 rounds of 10 s
#   ALG=PS256 ROUNDS=5 bash bench/statement.sh
#
# Environment: ALG (ES256 or PS256), CONNS ("1 16"), ROUNDS (3), DURATION
# (10s), WARMUP (2s), STATEMENTS (signed ahead for each statement run,
# 40000: enough for 12 s at 3,300 registrations/s; loadgen says when it had
# to sign more during a run), KEEP=1 to keep the work directory (logs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

ALG="${ALG:-ES256}"
CONNS="${CONNS:-1 16}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
STATEMENTS="${STATEMENTS:-40000}"
directory=https://directory.example

. bench/lib.sh
require redis-server redis-cli go curl

echo "building..." >&2
go build -o "$work/registrar" ./cmd/registrar
go build -o "$work/loadgen" ./bench/loadgen

start_redis

addr="127.0.0.1:$(free_port)"
admin_addr="127.0.0.1:$(free_port)"
admin_token=$(new_token)
REGISTRAR_ADMIN_TOKEN="$admin_token" "$work/registrar" serve --addr "$addr" --admin-addr "$admin_addr" \
  --redis-url "redis://127.0.0.1:$redis_port" >"$work/registrar.out" 2>"$work/registrar.log" &
registrar_pid=$!
pids+=("$registrar_pid")
wait_for "http://$addr/readyz"

# The directory's key: the load generator signs with the private half, the
# tenant trusts the public half.
jwks=$("$work/loadgen" -new-statement-key "$work/directory.jwk" -statement-alg "$ALG")
settings="{\"software_statement\": {\"issuers\": [{\"issuer\": \"$directory\", \"jwks\": $jwks}], \"algorithms\": [\"$ALG\"], \"require_jti\": true}}"
status=$(curl -sS -o "$work/put.out" -w '%{http_code}' -X PUT "http://$admin_addr/admin/tenants/vouched" \
  -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' -d "$settings")
[ "$status" = 201 ] || { echo "statement.sh: creating the tenant: $status $(cat "$work/put.out")" >&2; exit 1; }
issuer="http://$addr/tenants/vouched"
wait_for "$issuer/.well-known/openid-configuration"
iat=$(REGISTRAR_ADMIN_TOKEN="$admin_token" "$work/registrar" iat create --admin-url "http://$admin_addr" \
  --tenant vouched --expires-in PT1H | sed -n 's/.*"initial_access_token": *"\([^"]*\)".*/\1/p')
[ -n "$iat" ] || { echo "statement.sh: minting the initial access token failed" >&2; exit 1; }

run() { # conns [plain|statement|mix]
  local extra=()
  case "$2" in
    statement) extra=(-statement-key "$work/directory.jwk" -statement-issuer "$directory" -statements "$STATEMENTS") ;;
    mix) extra=(-statement-key "$work/directory.jwk" -statement-issuer "$directory" -statements "$STATEMENTS" -statement-mix) ;;
  esac
  "$work/loadgen" -issuer "$issuer" -op register -c "$1" -d "$DURATION" -warmup "$WARMUP" -iat "$iat" \
    -cpu "registrar=$registrar_pid,redis=$redis_pid" -format row "${extra[@]}"
}

echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $(nproc) CPUs, $ALG statements, $ROUNDS rounds of $DURATION after $WARMUP warm-up each"
echo
echo "| run | op | conns | req/s | p50 ms | p99 ms | max ms | non-2xx | errors | CPU% (100 = one core) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
: >"$work/rows"
for c in $CONNS; do
  for r in $(seq "$ROUNDS"); do
    # Alternate which goes first, so that neither always follows the other.
    order="mix plain statement"
    if [ $((r % 2)) = 0 ]; then order="mix statement plain"; fi
    for kind in $order; do
      while read -r row; do
        echo "| $kind $row"
        echo "$kind $r $row" >>"$work/rows"
        bad=$(awk -F'|' '{print $8 + $9}' <<<"$row")
        if [ "$bad" != 0 ]; then echo "statement.sh: $bad failed registrations (registrar.log: KEEP=1)" >&2; exit 1; fi
      done < <(run "$c" "$kind")
    done
  done
done

# Medians over the rounds. Mixed runs: the ratio of each round's two p50s,
# timed in the same seconds - the latency a statement adds to one request;
# under saturation (16 connections) both kinds wait in one queue, so there
# it says little. Runs of one kind: their p50s, and the server's CPU per
# request (its CPU% of one core / requests per second) - what a statement
# costs the server, and the p50 of a server busy with one kind.
echo
echo "| conns | mixed: plain p50 ms | statement p50 ms | **ratio** | alone: plain p50 ms | statement p50 ms | **ratio** | plain CPU µs/req | statement CPU µs/req | CPU ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for c in $CONNS; do
  awk -v c="$c" '
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
      return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
    }
    {
      split($0, f, "|"); op = f[2]; gsub(/ /, "", op); conns = f[3] + 0
      if (conns != c) next
      rate = f[4] + 0; p50 = f[5] + 0
      cpu = 0; n = split(f[10], procs, ",")
      for (i = 1; i <= n; i++) if (procs[i] ~ /registrar/) { split(procs[i], kv, " "); cpu = kv[2] }
      if ($1 == "mix" && op == "register:plain") mp[$2] = p50
      if ($1 == "mix" && op == "register:statement") ms[$2] = p50
      if ($1 != "mix") { k = $1; cnt[k]++; lat[k, cnt[k]] = p50; use[k, cnt[k]] = cpu * 10000 / rate }
    }
    END {
      for (r in mp) { nr++; pl[nr] = mp[r]; st[nr] = ms[r]; ra[nr] = ms[r] / mp[r] }
      for (k in cnt) {
        for (i = 1; i <= cnt[k]; i++) { a[i] = lat[k, i]; b[i] = use[k, i] }
        ml[k] = median(a, cnt[k]); mu[k] = median(b, cnt[k])
      }
      printf "| %s | %.3f | %.3f | **%.2f** | %.3f | %.3f | **%.2f** | %.0f | %.0f | %.2f |\n", c,
        median(pl, nr), median(st, nr), median(ra, nr), ml["plain"], ml["statement"], ml["statement"] / ml["plain"],
        mu["plain"], mu["statement"], mu["statement"] / mu["plain"]
    }' "$work/rows"
done
