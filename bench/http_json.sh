#!/usr/bin/env bash
# A small JSON endpoint (GET /healthz → {"status":"ok"}) served by ticketon with ONE I/O thread
# against nginx with ONE worker serving the same bytes, each pinned to core 0 while wrk runs
# pinned to core 1, in the same session. nginx serves them two ways: from a file (`static`,
# which adds Last-Modified/ETag/Accept-Ranges headers and opens the file per request) and from
# its config (`return 200 '...'`, the cheapest thing nginx can do). Prints requests/s and ratios.
#   bench/http_json.sh [seconds=10] [connections=50]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-50}
source bench/lib.sh

nginx_port=$(free_port)
nginx_return_port=$(free_port)
mkdir -p "$work/www"
printf '{"status":"ok"}' > "$work/www/healthz"
start_nginx "
    server {
        listen 127.0.0.1:$nginx_port;
        location = /healthz { root $work/www; default_type application/json; }
    }
    server {
        listen 127.0.0.1:$nginx_return_port;
        location = /healthz { default_type application/json; return 200 '{\"status\":\"ok\"}'; }
    }"
start_ticketon
wait_up "$nginx_port"
wait_up "$nginx_return_port"
for port in "$nginx_port" "$nginx_return_port"; do
    [[ "$(curl -sf "http://127.0.0.1:$port/healthz")" == "$(curl -sf "http://127.0.0.1:$ticketon_port/healthz")" ]] ||
        { echo "nginx on $port and ticketon do not serve the same body"; exit 1; }
done

run_wrk() {  # port → requests/s; any non-2xx answer fails the run (a 403 page is not a result)
    local out
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" "http://127.0.0.1:$1/healthz")
    if grep -q "Non-2xx" <<<"$out"; then echo "port $1 answered non-2xx:" >&2; echo "$out" >&2; exit 1; fi
    awk '/Requests\/sec/ {print $2}' <<<"$out"
}
# Warm up, then measure each server twice, interleaved (the machine is shared and noisy).
for port in "$nginx_port" "$nginx_return_port" "$ticketon_port"; do
    taskset -c 1 wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$port/healthz" >/dev/null
done
n1=$(run_wrk "$nginx_port"); r1=$(run_wrk "$nginx_return_port"); t1=$(run_wrk "$ticketon_port")
n2=$(run_wrk "$nginx_port"); r2=$(run_wrk "$nginx_return_port"); t2=$(run_wrk "$ticketon_port")
python3 - "$n1" "$n2" "$r1" "$r2" "$t1" "$t2" "$seconds" "$connections" <<'PY'
import sys
n1, n2, r1, r2, t1, t2 = map(float, sys.argv[1:7])
static, ret, ticketon = (n1 + n2) / 2, (r1 + r2) / 2, (t1 + t2) / 2
print(f"small JSON endpoint, 1 thread each, wrk -t1 -c{sys.argv[8]} -d{sys.argv[7]}s, 2 rounds")
print(f"  nginx static   {static:10.0f} req/s  (rounds: {n1:.0f}, {n2:.0f})")
print(f"  nginx return   {ret:10.0f} req/s  (rounds: {r1:.0f}, {r2:.0f})")
print(f"  ticketon       {ticketon:10.0f} req/s  (rounds: {t1:.0f}, {t2:.0f})")
print(f"  ratio          {ticketon / static:10.2f} x nginx static, {ticketon / ret:.2f} x nginx return")
PY
