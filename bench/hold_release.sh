#!/usr/bin/env bash
# Hold + release over HTTP: pairs of POST /api/v1/events/{id}/holds {"seats":["A-r-n"]} (201)
# and DELETE /api/v1/holds/{holdId} (204), Bearer token on both, from ticketon with ONE I/O
# thread against ONE nginx worker answering the same two requests with fixed answers (the 201
# body is one ticketon answered; `return 201 '…'` and `return 204`), each pinned to core 0 while
# wrk runs pinned to core 1 with bench/hold_release.lua. Counts a pair per 201 then 204.
#
# Ticketon's side does the real work: checks the access token and the account per request (both
# remembered after the first time, docs/architecture.md), takes the seat in the in-memory
# inventory, writes a PENDING_PAYMENT order row to SQLite per hold and sets it CANCELLED per
# release, both committed before the answer by the database's writer thread (group commit), so
# the I/O thread is not ticketon's only thread at work; taskset pins the whole process, so they
# all share core 0 with it, as nginx's one worker has core 0. nginx checks nothing. Also prints
# ticketon's CPU time and context switches per pair by thread (I/O, DB writer, checkpointer).
#
# Event: 2,000 seats (bench/lib.sh), holdSeconds 3600. One user per slot (2 × connections
# slots), signed up first with curl; each round (warm-up + 2) uses fresh seats, so a hold left
# behind when wrk stops a round never collides with the next.
#   bench/hold_release.sh [seconds=10] [connections=50]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-50}
source bench/lib.sh

slots=$((2 * connections))
rounds=3  # warm-up + 2 measured
((slots * rounds < 2000)) || { echo "at most $((2000 / rounds / 2 - 1)) connections"; exit 1; }

start_ticketon
for ((j = 0; j < slots; j++)); do
    curl -sf "$api/auth/signup" -H 'Content-Type: application/json' \
        -d "{\"email\":\"bench$j@example.com\",\"password\":\"bench-user-pw\",\"name\":\"Bench $j\"}" |
        json_get accessToken >>"$work/tokens"
done
mapfile -t tokens <"$work/tokens"
seat() { echo "A-$(($1 / 100 + 1))-$(($1 % 100 + 1))"; }
for ((r = 0; r < rounds; r++)); do
    for ((j = 0; j < slots; j++)); do echo "$(seat $((r * slots + j))) ${tokens[j]}"; done >"$work/slots-$r"
done

# One pair by hand: checks the statuses and gives nginx a real 201 body (seat A-20-100 is in no
# round's range).
auth=(-H "Authorization: Bearer ${tokens[0]}")
held=$(curl -sf "${auth[@]}" -H 'Content-Type: application/json' -d '{"seats":["A-20-100"]}' \
    -w '\n%{http_code}' "$api/events/$big_event/holds")
[[ $(tail -1 <<<"$held") == 201 ]] || { echo "hold: $held"; exit 1; }
body=$(head -1 <<<"$held")
hold_id=$(json_get holdId <<<"$body")
status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${auth[@]}" "$api/holds/$hold_id")
[[ $status == 204 ]] || { echo "release: $status"; exit 1; }

nginx_port=$(free_port)
start_nginx "
    server {
        listen 127.0.0.1:$nginx_port;
        add_header X-Request-Id \$http_x_request_id always;
        location = /healthz { return 200; }
        location ~ ^/api/v1/events/[0-9]+/holds\$ {
            default_type application/json;
            return 201 '$body';
        }
        location ^~ /api/v1/holds/ { return 204; }
    }"
wait_up "$nginx_port"

run_wrk() {  # pid port round duration → the script's figures in $work/out-<port>-<round>
    local out=$work/out-$2-$3
    thread_stats "$1" >"$out.threads-before"
    with_cpu "$1" taskset -c 1 wrk -t1 -c"$connections" -d"$4" --timeout 10s \
        -s bench/hold_release.lua "http://127.0.0.1:$2" -- "$big_event" "$work/slots-$3" >"$out"
    grep -q '^pairs ' "$out" || { cat "$out"; exit 1; }
    echo "cpu $(<"$work/cpu")" >>"$out"
    thread_stats "$1" >"$out.threads-after"
}
field() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
rate() { python3 -c "print(round($(field pairs "$1") / $(field seconds "$1")))"; }

worker=$(nginx_worker)
run_wrk "$worker" "$nginx_port" 0 2s
run_wrk "$ticketon_pid" "$ticketon_port" 0 2s
for r in 1 2; do
    run_wrk "$worker" "$nginx_port" $r "${seconds}s"
    run_wrk "$ticketon_pid" "$ticketon_port" $r "${seconds}s"
done
n1=$(rate "$work/out-$nginx_port-1"); t1=$(rate "$work/out-$ticketon_port-1")
n2=$(rate "$work/out-$nginx_port-2"); t2=$(rate "$work/out-$ticketon_port-2")

problems() {  # port → "none" or the failures, starvation and socket errors of both rounds
    local out=""
    for r in 1 2; do
        local f=$work/out-$1-$r
        out+=$(awk -v r="$r" '$1 == "failed" {printf " round %s: %s %s × %s;", r, $2, $3, $4}
            ($1 == "starved" || $1 == "unmatched" || $1 == "socket_errors") && $2 > 0 {
                printf " round %s: %s %s;", r, $1, $2}' "$f")
    done
    echo "${out:- none}"
}
audit=$(curl -sf -H "Authorization: Bearer $manager_token" "$api/manager/events/$big_event/audit")
orders=$(sqlite3 "$work/data/ticketon.db" 'SELECT status, COUNT(*) FROM orders GROUP BY status' 2>/dev/null |
    tr '\n' ' ' || true)

cpus=()
for p in "$nginx_port" "$ticketon_port"; do for r in 1 2; do cpus+=("$(field cpu "$work/out-$p-$r")"); done; done
python3 - "$n1" "$n2" "$t1" "$t2" "$seconds" "$connections" "$slots" "${cpus[@]}" <<'PY'
import sys
n1, n2, t1, t2 = map(float, sys.argv[1:5])
nc1, nc2, tc1, tc2 = map(float, sys.argv[8:12])
nginx, ticketon = (n1 + n2) / 2, (t1 + t2) / 2
# Pairs per second of core 0 the server actually had (all its threads): the machine is shared
# and nginx does not fill its share of it here, so this is the cost per pair, whoever limited.
ncore, tcore = (n1 + n2) / (nc1 + nc2) * 100, (t1 + t2) / (tc1 + tc2) * 100
print(f"hold + release pairs, 1 thread each, wrk -t1 -c{sys.argv[6]} -d{sys.argv[5]}s, "
      f"{sys.argv[7]} slots (seat + user), 2 rounds")
print(f"  nginx return   {nginx:10.0f} pairs/s  (rounds: {n1:.0f}, {n2:.0f}; "
      f"server busy {nc1:.0f}%, {nc2:.0f}% of core 0: {ncore:.0f} pairs per core-second)")
print(f"  ticketon       {ticketon:10.0f} pairs/s  (rounds: {t1:.0f}, {t2:.0f}; "
      f"server busy {tc1:.0f}%, {tc2:.0f}% of core 0: {tcore:.0f} pairs per core-second)")
print(f"  ratio          {ticketon / nginx:10.2f} x nginx return (goal >= 0.4); "
      f"per core-second {tcore / ncore:.2f} x")
PY
echo "  non-2xx and errors: nginx$(problems "$nginx_port"), ticketon$(problems "$ticketon_port")"
echo "  ticketon after the run: audit held $(json_get held <<<"$audit"), sold $(json_get sold <<<"$audit"),\
 violations $(json_get violations <<<"$audit")"
[[ -n $orders ]] && echo "  ticketon orders by status: $orders"
# Where ticketon's CPU went, per thread name, over both measured rounds: the I/O thread is the
# main one ("ticketon", with the idle DB pool threads), then the group-committing writer and the
# checkpointer. Context switches per pair show the writer and the I/O thread waking each other.
pairs=$(($(field pairs "$work/out-$ticketon_port-1") + $(field pairs "$work/out-$ticketon_port-2")))
for r in 1 2; do
    LC_ALL=C join "$work/out-$ticketon_port-$r.threads-before" "$work/out-$ticketon_port-$r.threads-after"
done | LC_ALL=C sort -k1,1 | awk -v pairs="$pairs" -v hz="$(getconf CLK_TCK)" '
    !($1 in c) {names[++count] = $1}
    {c[$1] += $5 - $2; v[$1] += $6 - $3; n[$1] += $7 - $4}
    END {printf "  ticketon per pair, by thread (CPU; context switches voluntary + not):"
         sep = " "
         for (i = 1; i <= count; i++) if (c[k = names[i]] > 0) {
             printf "%s%s %.1f µs, %.2f + %.2f", sep, k, c[k] * 1e6 / hz / pairs, v[k] / pairs, n[k] / pairs
             sep = "; "
         }
         print ""}'
echo "  (ticketon writes an order row to SQLite per hold and updates it per release: the DB"
echo "   writer thread works beside the one I/O thread; nginx answers fixed bytes and checks nothing)"
