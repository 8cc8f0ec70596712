#!/usr/bin/env bash
# Waiting-room joins over HTTP: POST /api/v1/events/{id}/queue by distinct users (each request
# a new user's first join: a token the server has not seen, the account read, a new seq, the
# journal row committed before the answer — synchronous=FULL, group-committed), from ticketon
# with ONE I/O thread against ONE nginx worker answering `return 200 '<a join answer ticketon
# sent>'`, each pinned to core 0 while wrk runs pinned to core 1 with bench/queue_join.lua.
# Warm-up, then two measured rounds, interleaved, as bench/hold_release.sh.
#
# Users: signing up hundreds of thousands through the API would hash that many passwords, so
# bench/queue_lib.py inserts them into the migrated database before the server starts and mints
# their access tokens with the key the server is given (TICKETON_AUTH_JWT_KEYS). Each round
# (warm-up included) gets users of its own, up to $QUEUE_JOIN_RATE_MAX (default 30000) joins per
# second; a round that runs out of users fails the run rather than count repeat joins. The
# event: general admission, waiting room on, admitPerSecond 1 and maxActive 1, so the line
# barely moves while it grows.
#   bench/queue_join.sh [seconds=10] [connections=50]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-50}
source bench/lib.sh
rate_max=${QUEUE_JOIN_RATE_MAX:-30000}
warmup=2
# The signing key of the minted tokens (and their lifetime), from bench/queue_lib.py.
keys=$(python3 -c 'import sys; sys.path.insert(0, "bench"); import queue_lib
print(queue_lib.SERVER_ENV["TICKETON_AUTH_JWT_KEYS"], queue_lib.TOKEN_TTL_S)')
export TICKETON_AUTH_JWT_KEYS=${keys% *} TICKETON_AUTH_ACCESS_TTL_SECONDS=${keys#* }

# Users for each round: 0 the warm-up, 1 and 2 measured.
per_round=($((warmup * rate_max)) $((seconds * rate_max)) $((seconds * rate_max)))
users=$((per_round[0] + per_round[1] + per_round[2] + 1))
t0=$(date +%s)
python3 bench/queue_lib.py prepare "$work/data" "$users" "$work/tokens" >/dev/null
awk -v a="${per_round[0]}" -v b="${per_round[1]}" -v w="$work" '
    NR == 1 {print > (w "/probe"); next}
    {r = (NR - 2 < a) ? 0 : (NR - 2 < a + b) ? 1 : 2; print > (w "/tokens-" r)}' "$work/tokens"
echo "set-up: $users users inserted and their tokens minted in $(($(date +%s) - t0)) s"

start_ticketon
event=$(python3 bench/queue_lib.py event "$ticketon_port" "$manager_token" 1 1)
# One join by hand: checks the status and gives nginx a real answer.
body=$(curl -sf -X POST -H "Authorization: Bearer $(<"$work/probe")" "$api/events/$event/queue")
[[ $(json_get status <<<"$body") == WAITING ]] || { echo "join: $body"; exit 1; }

nginx_port=$(free_port)
start_nginx "
    server {
        listen 127.0.0.1:$nginx_port;
        location = /healthz { return 200; }
        location ~ ^/api/v1/events/[0-9]+/queue\$ {
            default_type application/json;
            return 200 '$body';
        }
    }"
wait_up "$nginx_port"

run_wrk() {  # pid port round duration → the script's figures in $work/out-<port>-<round>
    local out=$work/out-$2-$3
    thread_stats "$1" >"$out.threads-before"
    with_cpu "$1" taskset -c 1 wrk -t1 -c"$connections" -d"$4" --timeout 10s \
        -s bench/queue_join.lua "http://127.0.0.1:$2" -- "$event" "$work/tokens-$3" >"$out"
    grep -q '^joins ' "$out" || { cat "$out"; exit 1; }
    echo "cpu $(<"$work/cpu")" >>"$out"
    thread_stats "$1" >"$out.threads-after"
}
field() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
rate() { python3 -c "print(round($(field joins "$1") / $(field seconds "$1")))"; }

worker=$(nginx_worker)
run_wrk "$worker" "$nginx_port" 0 "${warmup}s"
run_wrk "$ticketon_pid" "$ticketon_port" 0 "${warmup}s"
for r in 1 2; do
    run_wrk "$worker" "$nginx_port" $r "${seconds}s"
    run_wrk "$ticketon_pid" "$ticketon_port" $r "${seconds}s"
done
for r in 0 1 2; do
    w=$(field wrapped "$work/out-$ticketon_port-$r")
    ((w == 0)) || { echo "round $r ran out of users (more than $rate_max joins/s): set QUEUE_JOIN_RATE_MAX higher"; exit 1; }
done
n1=$(rate "$work/out-$nginx_port-1"); t1=$(rate "$work/out-$ticketon_port-1")
n2=$(rate "$work/out-$nginx_port-2"); t2=$(rate "$work/out-$ticketon_port-2")

problems() {  # port → "none" or the failures and socket errors of both rounds
    local out=""
    for r in 1 2; do
        out+=$(awk -v r="$r" '$1 == "failed" {printf " round %s: %s × %s;", r, $2, $3}
            $1 == "socket_errors" && $2 > 0 {printf " round %s: socket errors %s;", r, $2}' \
            "$work/out-$1-$r")
    done
    echo "${out:- none}"
}
journaled=$(sqlite3 "$work/data/ticketon.db" "SELECT COUNT(*) FROM queue_members WHERE event_id = $event")
answered=0
for r in 0 1 2; do answered=$((answered + $(field joins "$work/out-$ticketon_port-$r"))); done

cpus=()
for p in "$nginx_port" "$ticketon_port"; do for r in 1 2; do cpus+=("$(field cpu "$work/out-$p-$r")"); done; done
python3 - "$n1" "$n2" "$t1" "$t2" "$seconds" "$connections" "${cpus[@]}" <<'PY'
import sys
n1, n2, t1, t2 = map(float, sys.argv[1:5])
nc1, nc2, tc1, tc2 = map(float, sys.argv[7:11])
nginx, ticketon = (n1 + n2) / 2, (t1 + t2) / 2
# Joins per second of core 0 the server actually had (all its threads): its cost per join,
# whoever limited the rate.
ncore, tcore = (n1 + n2) / (nc1 + nc2) * 100, (t1 + t2) / (tc1 + tc2) * 100
print(f"queue joins by distinct users, 1 thread each, wrk -t1 -c{sys.argv[6]} -d{sys.argv[5]}s, "
      f"2 rounds")
print(f"  nginx return   {nginx:10.0f} joins/s  (rounds: {n1:.0f}, {n2:.0f}; "
      f"server busy {nc1:.0f}%, {nc2:.0f}% of core 0: {ncore:.0f} per core-second)")
print(f"  ticketon       {ticketon:10.0f} joins/s  (rounds: {t1:.0f}, {t2:.0f}; "
      f"server busy {tc1:.0f}%, {tc2:.0f}% of core 0: {tcore:.0f} per core-second)")
print(f"  ratio          {ticketon / nginx:10.2f} x nginx return (goal >= 0.5); "
      f"per core-second {tcore / ncore:.2f} x")
PY
for p in "$nginx_port" "$ticketon_port"; do
    echo "  latency p50/p99 ms, $( [[ $p == "$nginx_port" ]] && echo nginx || echo ticketon):" \
        "$(for r in 1 2; do echo -n " round $r $(field latency_p50_ms "$work/out-$p-$r")/$(field latency_p99_ms "$work/out-$p-$r")"; done)"
done
echo "  non-2xx and errors: nginx$(problems "$nginx_port"), ticketon$(problems "$ticketon_port")"
echo "  ticketon: $answered joins answered 200 (warm-up included), $journaled members journaled"
echo "   (a join is journaled before it is answered; wrk's stop cuts some after the commit)"
joins=$(($(field joins "$work/out-$ticketon_port-1") + $(field joins "$work/out-$ticketon_port-2")))
for r in 1 2; do
    LC_ALL=C join "$work/out-$ticketon_port-$r.threads-before" "$work/out-$ticketon_port-$r.threads-after"
done | LC_ALL=C sort -k1,1 | awk -v joins="$joins" -v hz="$(getconf CLK_TCK)" '
    !($1 in c) {names[++count] = $1}
    {c[$1] += $5 - $2; v[$1] += $6 - $3; n[$1] += $7 - $4}
    END {printf "  ticketon per join, by thread (CPU; context switches voluntary + not):"
         sep = " "
         for (i = 1; i <= count; i++) if (c[k = names[i]] > 0) {
             printf "%s%s %.1f µs, %.2f + %.2f", sep, k, c[k] * 1e6 / hz / joins, v[k] / joins, n[k] / joins
             sep = "; "
         }
         print ""}'
