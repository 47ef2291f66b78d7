# bench/lib.sh: what the bench scripts (run.sh, scale.sh, statement.sh) share. Sourced from the
# project root; it makes the work directory $work and the list $pids of
# processes to stop, and stops them (and removes $work unless KEEP=1) on exit.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-}" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# require fails the script unless every program named is on PATH.
require() {
  for p in "$@"; do
    command -v "$p" >/dev/null || { echo "$(basename "$0"): $p is not on PATH" >&2; exit 1; }
  done
}

# free_port prints a loopback port nothing listens on.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

# wait_for URL [tries of 0.1 s, default 300]: until it answers 200.
wait_for() {
  for _ in $(seq "${2:-300}"); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$(basename "$0"): $1 did not answer 200" >&2
  return 1
}

# start_redis: a fresh redis-server without persistence on a free loopback
# port, stopped on exit; sets redis_port and redis_pid once it answers.
# start_redis -c CPU pins it to that CPU (taskset); further arguments go to
# redis-server after the defaults, which they override (--appendonly yes).
start_redis() {
  local pin=()
  if [ "${1:-}" = -c ]; then pin=(taskset -c "$2"); shift 2; fi
  redis_port=$(free_port)
  "${pin[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
    --daemonize no --logfile "$work/redis.log" "$@" &
  redis_pid=$!
  pids+=("$redis_pid")
  for _ in $(seq 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "$(basename "$0"): redis-server did not answer on port $redis_port" >&2
  return 1
}

# new_token prints a random 40-character token (an admin token).
new_token() {
  head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 40
}
