#!/usr/bin/env bash
# GET /api/v1/events/{id}/seats from ticketon with ONE I/O thread against ONE nginx worker
# serving the very same body (fetched once from ticketon, saved to a file, served static with
# Content-Type application/json), each pinned to core 0 while wrk runs pinned to core 1.
# Two seat maps: the demo event (120 seats) and a 2,000-seat event made through the API.
# Ticketon answers from its seat map cache (the serialized body of the inventory's current
# version, checked per request); nginx opens and reads the file per request. Then one round of
# ticketon alone with If-None-Match set to the ETag (the 304 path). Prints requests/s and ratios.
#   bench/seat_map.sh [seconds=10] [connections=50]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-50}
source bench/lib.sh

start_ticketon
events=(1 "$big_event")
mkdir -p "$work/www"
for id in "${events[@]}"; do
    mkdir -p "$work/www/api/v1/events/$id"
    curl -sf -D "$work/headers-$id" -o "$work/www/api/v1/events/$id/seats" "$api/events/$id/seats"
    etag[id]=$(awk 'tolower($1) == "etag:" {print $2}' "$work/headers-$id" | tr -d '\r')
    size[id]=$(stat -c %s "$work/www/api/v1/events/$id/seats")
done

nginx_port=$(free_port)
start_nginx "
    server {
        listen 127.0.0.1:$nginx_port;
        location /api/v1/events/ { root $work/www; types { } default_type application/json; }
    }"
wait_up "$nginx_port" /api/v1/events/1/seats
worker=$(nginx_worker)
for id in "${events[@]}"; do  # the same bytes from both
    cmp -s <(curl -sf "http://127.0.0.1:$nginx_port/api/v1/events/$id/seats") \
        <(curl -sf "$api/events/$id/seats") || { echo "event $id: the bodies differ"; exit 1; }
done

run_wrk() {  # pid port path [header] → "requests/s server-CPU-%" (non-2xx/3xx or socket errors abort)
    local out
    out=$(with_cpu "$1" taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" ${4:+-H "$4"} \
        "http://127.0.0.1:$2$3")
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then echo "$out" >&2; exit 1; fi
    echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(<"$work/cpu")"
}
report() {  # label size n1 n2 t1 t2 nginx-cpu1 nginx-cpu2 ticketon-cpu1 ticketon-cpu2
    python3 - "$@" "$seconds" "$connections" <<'PY'
import sys
label, size = sys.argv[1], sys.argv[2]
n1, n2, t1, t2 = map(float, sys.argv[3:7])
nc1, nc2, tc1, tc2 = map(float, sys.argv[7:11])
nginx, ticketon = (n1 + n2) / 2, (t1 + t2) / 2
# Requests per second of core 0 the server actually had: the machine is shared, so a server may
# get less than the whole core; this is its cost per request, whoever was the bottleneck.
ncore, tcore = (n1 + n2) / (nc1 + nc2) * 100, (t1 + t2) / (tc1 + tc2) * 100
print(f"seat map {label} ({size} bytes), 1 thread each, wrk -t1 -c{sys.argv[12]} -d{sys.argv[11]}s, 2 rounds")
print(f"  nginx static   {nginx:10.0f} req/s  (rounds: {n1:.0f}, {n2:.0f}; "
      f"server busy {nc1:.0f}%, {nc2:.0f}% of core 0: {ncore:.0f} req per core-second)")
print(f"  ticketon       {ticketon:10.0f} req/s  (rounds: {t1:.0f}, {t2:.0f}; "
      f"server busy {tc1:.0f}%, {tc2:.0f}% of core 0: {tcore:.0f} req per core-second)")
print(f"  ratio          {ticketon / nginx:10.2f} x nginx static (goal >= 0.8); "
      f"per core-second {tcore / ncore:.2f} x")
PY
}

for id in "${events[@]}"; do
    path=/api/v1/events/$id/seats
    # Warm up, then measure each server twice, interleaved (the machine is shared and noisy).
    for port in "$nginx_port" "$ticketon_port"; do
        taskset -c 1 wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$port$path" >/dev/null
    done
    res=$(run_wrk "$worker" "$nginx_port" "$path"); read -r n1 nc1 <<<"$res"
    res=$(run_wrk "$ticketon_pid" "$ticketon_port" "$path"); read -r t1 tc1 <<<"$res"
    res=$(run_wrk "$worker" "$nginx_port" "$path"); read -r n2 nc2 <<<"$res"
    res=$(run_wrk "$ticketon_pid" "$ticketon_port" "$path"); read -r t2 tc2 <<<"$res"
    label="event $id, 2,000 seats"; [[ $id == 1 ]] && label="event 1, demo, 120 seats"
    report "$label" "${size[$id]}" "$n1" "$n2" "$t1" "$t2" "$nc1" "$nc2" "$tc1" "$tc2"
done

for id in "${events[@]}"; do
    path=/api/v1/events/$id/seats
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: ${etag[$id]}" "$api/events/$id/seats")
    [[ $status == 304 ]] || { echo "If-None-Match ${etag[$id]}: got $status, not 304"; exit 1; }
    res=$(run_wrk "$ticketon_pid" "$ticketon_port" "$path" "If-None-Match: ${etag[$id]}")
    read -r r c <<<"$res"
    printf '  ticketon 304   %10.0f req/s  (event %s, If-None-Match: %s, 1 round; server busy %s%% of core 0)\n' \
        "$r" "$id" "${etag[$id]}" "$c"
done
