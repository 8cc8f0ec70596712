#!/usr/bin/env bash
# Losing holds over HTTP: POST /api/v1/events/{id}/holds for a seat another user already holds,
# so every answer is 409 SEAT_UNAVAILABLE — what most of an on-sale's attempts get once the
# seats are gone. Ticketon with ONE I/O thread against ONE nginx worker answering the same
# request with the same 409 bytes (`return 409 '…'`), each pinned to core 0 while wrk runs
# pinned to core 1 with bench/hold_conflict.lua, interleaved, two rounds each.
#
# Ticketon's side does the work of a losing attempt: checks the access token and the account,
# parses the body, asks the in-memory inventory, and answers the problem with the seats that
# are unavailable. The database is not touched. Tokens of 100 users taken in turn.
#
# With `queue` the event's waiting room is on: every user first joins the queue and takes the
# entry token it is admitted with, and every attempt carries it in Queue-Token, so ticketon also
# checks the entry (its signature the first time, then remembered, and its slot every time). A
# losing hold does not use the entry, so it stays valid for the whole run.
#   bench/hold_conflict.sh [seconds=10] [connections=50] [queue]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-50}
queue=${3:-}
[[ -z $queue || $queue == queue ]] || { echo "the third argument is 'queue' or nothing"; exit 1; }
[[ -n $queue ]] && export BENCH_WAITING_ROOM=1
source bench/lib.sh

users=100
seat=A-1-1
start_ticketon
for ((j = 0; j <= users; j++)); do
    curl -sf "$api/auth/signup" -H 'Content-Type: application/json' \
        -d "{\"email\":\"bench$j@example.com\",\"password\":\"bench-user-pw\",\"name\":\"Bench $j\"}" |
        json_get accessToken >>"$work/tokens"
done
# With the waiting room on, each line becomes "<access token> <entry token>".
if [[ -n $queue ]]; then
    while read -r token; do echo "$token $(entry_token "$token" "$big_event")"; done \
        <"$work/tokens" >"$work/tokens+entries"
    mv "$work/tokens+entries" "$work/tokens"
fi
entry_header() {  # "<token> [entry]" → curl's Queue-Token header, when there is an entry
    local entry=${1#* }
    [[ $entry != "$1" ]] && echo "Queue-Token: $entry" || echo "X-No-Queue: 1"
}
# User 0 holds the seat; the others try for it.
owner_line=$(head -1 "$work/tokens")
owner=${owner_line%% *}
tail -n +2 "$work/tokens" >"$work/losers"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $owner" \
    -H "$(entry_header "$owner_line")" \
    -H 'Content-Type: application/json' -d "{\"seats\":[\"$seat\"]}" "$api/events/$big_event/holds")
[[ $status == 201 ]] || { echo "the owner's hold: $status"; exit 1; }
# One losing attempt by hand: its status and body become nginx's answer.
loser_line=$(head -1 "$work/losers")
lost=$(curl -s -H "Authorization: Bearer ${loser_line%% *}" -H "$(entry_header "$loser_line")" \
    -H 'Content-Type: application/json' \
    -d "{\"seats\":[\"$seat\"]}" -w '\n%{http_code}' "$api/events/$big_event/holds")
[[ $(tail -1 <<<"$lost") == 409 ]] || { echo "a losing hold: $lost"; exit 1; }
body=$(sed '$d' <<<"$lost")  # everything but the status line curl added
grep -q SEAT_UNAVAILABLE <<<"$body" || { echo "a losing hold: $body"; exit 1; }
# nginx's `return 409 '…'` takes the body between single quotes, and expands variables in it.
[[ $body != *"'"* && $body != *'$'* && $body != *$'\n'* ]] || { echo "cannot hand nginx this body: $body"; exit 1; }

nginx_port=$(free_port)
start_nginx "
    server {
        listen 127.0.0.1:$nginx_port;
        location = /healthz { return 200; }
        location ~ ^/api/v1/events/[0-9]+/holds\$ {
            default_type application/problem+json;
            return 409 '$body';
        }
    }"
wait_up "$nginx_port"

run_wrk() {  # pid port duration → the script's figures in $work/out-<port>-<n>
    local out=$work/out-$2-$4
    with_cpu "$1" taskset -c 1 wrk -t1 -c"$connections" -d"$3" --timeout 10s \
        -s bench/hold_conflict.lua "http://127.0.0.1:$2" -- "$big_event" "$seat" "$work/losers" >"$out"
    grep -q '^conflicts ' "$out" || { cat "$out"; exit 1; }
    echo "cpu $(<"$work/cpu")" >>"$out"
}
field() { awk -v k="$1" '$1 == k {print $2}' "$2"; }

worker=$(nginx_worker)
run_wrk "$worker" "$nginx_port" 2s 0
run_wrk "$ticketon_pid" "$ticketon_port" 2s 0
for r in 1 2; do
    run_wrk "$worker" "$nginx_port" "${seconds}s" $r
    run_wrk "$ticketon_pid" "$ticketon_port" "${seconds}s" $r
done
problems() {  # port → "none" or the other statuses and socket errors of both rounds
    local out=""
    for r in 1 2; do
        out+=$(awk -v r="$r" '$1 == "failed" {printf " round %s: %s × %s;", r, $2, $3}
            $1 == "socket_errors" && $2 > 0 {printf " round %s: socket errors %s;", r, $2}' "$work/out-$1-$r")
    done
    echo "${out:- none}"
}
args=()
for p in "$nginx_port" "$ticketon_port"; do
    for r in 1 2; do
        f=$work/out-$p-$r
        args+=("$(field conflicts "$f")" "$(field seconds "$f")" "$(field cpu "$f")")
    done
done
audit=$(curl -sf -H "Authorization: Bearer $manager_token" "$api/manager/events/$big_event/audit")
python3 - "$seconds" "$connections" "$queue" "${args[@]}" <<'PY'
import sys
a = list(map(float, sys.argv[4:]))
def server(v):  # two rounds of (conflicts, seconds, cpu %)
    rates = [v[0] / v[1], v[3] / v[4]]
    per_core = (v[0] + v[3]) / (v[1] * v[2] / 100 + v[4] * v[5] / 100)
    return sum(rates) / 2, rates, (v[2], v[5]), per_core
nginx, ticketon = server(a[:6]), server(a[6:])
print(f"losing holds (409 SEAT_UNAVAILABLE){' with entry tokens (waiting room on)' if sys.argv[3] else ''}, "
      f"1 thread each, wrk -t1 -c{sys.argv[2]} -d{sys.argv[1]}s, 2 rounds")
for name, (rate, rates, cpu, per_core) in (("nginx return", nginx), ("ticketon", ticketon)):
    print(f"  {name:14} {rate:10.0f} req/s  (rounds: {rates[0]:.0f}, {rates[1]:.0f}; server busy "
          f"{cpu[0]:.0f}%, {cpu[1]:.0f}% of core 0: {per_core:.0f} per core-second)")
print(f"  ratio          {ticketon[0] / nginx[0]:10.2f} x nginx return; per core-second {ticketon[3] / nginx[3]:.2f} x")
PY
echo "  other answers and errors: nginx$(problems "$nginx_port"), ticketon$(problems "$ticketon_port")"
echo "  ticketon after the run: audit held $(json_get held <<<"$audit"), sold $(json_get sold <<<"$audit"),\
 violations $(json_get violations <<<"$audit")"
