#!/usr/bin/env bash
# The one-step scenarios of `ticketon load` (seatmap, hold) against ticketon, each with its
# reference in the same session: wrk against one nginx worker answering the same bytes. Ticketon
# (one I/O thread) and nginx (one worker) pinned to core 0, the client (`ticketon load`, one
# thread, or wrk -t1) to core 1, with the same number of connections. The event is the 2,000-seat
# event of bench/lib.sh; `hold` users hold one of its first 64 available seats and release it,
# over and over, and collide (a 409 is a served answer). Prints each scenario's figures and the
# ratio to nginx. The seat map is also read by wrk from ticketon: the two clients differ (the load
# generator parses nothing of the map, wrk parses nothing either, but they read differently), so
# the server-to-server ratio is wrk's.
#   bench/load_scenarios.sh [seconds=10] [users=50]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
users=${2:-50}
source bench/lib.sh

start_ticketon
mkdir -p "$work/www/api/v1/events/$big_event"
curl -sf -o "$work/www/api/v1/events/$big_event/seats" "$api/events/$big_event/seats"
hold_answer='{"holdId":"hld_0VcRAaxcS9cvcBevLNPIcD","orderId":"ord_0VcRAaxcF0WCIVhjMSlVJ4","eventId":3,"amount":99000,"currency":"KRW","expiresAt":"2026-12-06T18:18:39Z","seats":["A-1-1"]}'
nginx_port=$(free_port)
start_nginx "
    server {
        listen 127.0.0.1:$nginx_port;
        location /api/v1/events/ { root $work/www; types { } default_type application/json; }
        location = /hold { default_type application/json; return 200 '$hold_answer'; }
    }"
wait_up "$nginx_port" "/api/v1/events/$big_event/seats"

load() {  # scenario → the load generator's JSON report
    taskset -c 1 "$bin" load "$1" --target "http://127.0.0.1:$ticketon_port" --event "$big_event" \
        --users "$users" --duration "$seconds" --manager-email bench-manager@example.com \
        --manager-password bench-manager-pw --json "$work/$1.json" >"$work/$1.out" 2>&1 ||
        { cat "$work/$1.out"; exit 1; }
}
wrk_rate() {  # port path → requests/s
    taskset -c 1 wrk -t1 -c"$users" -d"${seconds}s" "http://127.0.0.1:$1$2" |
        awk '/Requests\/sec/ {print $2}'
}
step() {  # file step → "per-second p50 p99"
    python3 - "$1" "$2" <<'PY'
import json, sys
s = {x["name"]: x for x in json.load(open(sys.argv[1]))["steps"]}[sys.argv[2]]
print(f'{s["perSecond"]:.0f} {s["p50Ms"]:.2f} {s["p99Ms"]:.2f}')
PY
}

echo "machine: $(nproc) cores, $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'); ${seconds} s rounds, $users connections"
for round in 1 2; do
    load seatmap
    read -r rate p50 p99 <<<"$(step "$work/seatmap.json" seatmap)"
    ref=$(wrk_rate "$nginx_port" "/api/v1/events/$big_event/seats")
    same=$(wrk_rate "$ticketon_port" "/api/v1/events/$big_event/seats")
    echo "round $round  seatmap: ticketon load $rate/s (p50 $p50 ms, p99 $p99 ms); nginx the same bytes (wrk) $ref/s, ratio $(python3 -c "print(f'{$rate / $ref:.2f}')"); wrk against ticketon $same/s, ratio $(python3 -c "print(f'{$same / $ref:.2f}')")"
    load hold
    read -r hrate hp50 hp99 <<<"$(step "$work/hold.json" hold)"
    read -r rrate _ _ <<<"$(step "$work/hold.json" release)"
    ref=$(wrk_rate "$nginx_port" /hold)
    echo "round $round  hold: ticketon load $hrate holds/s + $rrate releases/s (hold p50 $hp50 ms, p99 $hp99 ms); nginx return of a hold answer (wrk) $ref/s; ratio (holds + releases) $(python3 -c "print(f'{($hrate + $rrate) / $ref:.2f}')")"
done
