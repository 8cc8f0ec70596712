#!/usr/bin/env bash
# Hold + release pairs per second through the Redis inventory engine (redis_inventory, one
# pipelined connection, many coroutines on one I/O thread) against redis-benchmark running the
# same work as one EVALSHA per pair (the hold script's checks and writes, then the release
# script's, for one seat: `ticketon_redis_holds_bench --pair-script`), 50 clients, no -P. Both
# talk to one redis-server (persistence off) pinned to core 0; the client is pinned to core 1.
# The reference pays one round trip per pair, we pay two (hold, then release): what we win back
# is that one write and one read carry many coroutines' commands.
#
# Then the same for holds alone (`--holds-only`: a general-admission zone, quantity 1, a new hold
# id each time, never released) against redis-benchmark running the engine's own hold script
# with random hold ids: one script per request on both sides, so the difference is pipelining.
#
# Rounds: warm-up, then 2 measured, ours and the reference interleaved. Prints the rates, the
# ratio (goal ≥ 1.5), and redis-server's CPU share during each run (a reference that does not
# keep redis-server busy was held back by its own core, not by the server).
#   bench/redis_holds.sh [seconds=10] [coroutines=200]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
coroutines=${2:-200}
bin=${TICKETON_REDIS_HOLDS_BIN:-build/release/src/inventory/ticketon_redis_holds_bench}
[[ -x $bin ]] || {
    echo "cmake --preset release && cmake --build --preset release --target ticketon_redis_holds_bench"
    exit 1
}

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$work" --daemonize no --loglevel warning >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

cpu_ticks() {
    local s
    read -r s <"/proc/$1/stat"
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
# Runs the rest of the arguments; prints redis-server's CPU share meanwhile, in percent.
redis_cpu() {
    local a b t0 t1
    a=$(cpu_ticks "$redis_pid"); t0=$(date +%s%N)
    "$@" >"$work/out"
    b=$(cpu_ticks "$redis_pid"); t1=$(date +%s%N)
    echo $(((b - a) * 100 * 1000000000 / $(getconf CLK_TCK) / (t1 - t0)))
}

# The reference's event: the same layout as ours (2,000 seats), loaded by our engine once.
"$bin" --pair-script >"$work/pair.lua"
sha=$(redis-cli -p "$port" script load "$(cat "$work/pair.lua")")
keys=("{e:1}:meta" "{e:1}:order" "{e:1}:seats" "{e:1}:zones" "{e:1}:holds" "{e:1}:exp" "{e:1}:users")

ours() {
    local cpu
    cpu=$(redis_cpu taskset -c 1 "$bin" --port "$port" --seconds "$seconds" --coroutines "$coroutines")
    awk -v cpu="$cpu" '/^pairs/ {p=$2} /^seconds/ {s=$2} END {printf "%.0f %s\n", p / s, cpu}' "$work/out"
}
reference() {
    local cpu
    # -n sized to run about `seconds` at 60,000 pairs/s; redis-benchmark reports its own rate.
    cpu=$(redis_cpu taskset -c 1 redis-benchmark -p "$port" -c 50 -n $((seconds * 60000)) -q \
        evalsha "$sha" 7 "${keys[@]}" hb 1 4000000000000 "" 0 1 S-1)
    r=$(tr '\r' '\n' <"$work/out" | grep -oE '[0-9.]+ requests per second' | tail -1 | cut -d' ' -f1)
    printf '%.0f %s\n' "$r" "$cpu"
}

"$bin" --hold-script >"$work/hold.lua"
hold_sha=$(redis-cli -p "$port" script load "$(cat "$work/hold.lua")")
ours_holds() {
    local cpu
    cpu=$(redis_cpu taskset -c 1 "$bin" --port "$port" --holds-only --seconds "$seconds" \
        --coroutines "$coroutines")
    awk -v cpu="$cpu" '/^holds/ {p=$2} /^seconds/ {s=$2} END {printf "%.0f %s\n", p / s, cpu}' "$work/out"
}
reference_holds() {
    local cpu r
    # The same fresh state as ours starts from: the layout loaded again, no holds.
    "$bin" --port "$port" --holds-only --seconds 0 --coroutines 1 >/dev/null 2>&1
    cpu=$(redis_cpu taskset -c 1 redis-benchmark -p "$port" -c 50 -n $((seconds * 60000)) -q \
        -r 1000000000 evalsha "$hold_sha" 7 "${keys[@]}" h__rand_int__ 1 4000000000000 floor 1 0)
    r=$(tr '\r' '\n' <"$work/out" | grep -oE '[0-9.]+ requests per second' | tail -1 | cut -d' ' -f1)
    printf '%.0f %s\n' "$r" "$cpu"
}

for round in warmup 1 2; do
    read -r o ocpu < <(ours)
    read -r r rcpu < <(reference)
    [[ $round == warmup ]] && continue
    echo "round $round: redis_inventory $o pairs/s (redis-server ${ocpu}% CPU), redis-benchmark $r pairs/s (${rcpu}%), ratio $(python3 -c "print(f'{$o/$r:.2f}')")x"
done
redis-cli -p "$port" eval "return redis.call('HGET', KEYS[1], 'held')" 1 "{e:1}:meta" | sed 's/^/held after the pairs: /'
for round in warmup 1 2; do
    read -r o ocpu < <(ours_holds)
    read -r r rcpu < <(reference_holds)
    [[ $round == warmup ]] && continue
    echo "holds round $round: redis_inventory $o holds/s (redis-server ${ocpu}% CPU), redis-benchmark $r holds/s (${rcpu}%), ratio $(python3 -c "print(f'{$o/$r:.2f}')")x"
done
