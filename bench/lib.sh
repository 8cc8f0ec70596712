# shellcheck shell=bash disable=SC2034  # variables for the scripts that source this
# Shared by bench/http_json.sh, bench/seat_map.sh, bench/hold_release.sh, bench/hold_conflict.sh,
# bench/queue_join.sh, bench/load_scenarios.sh and bench/onsale.sh (sourced, not run). Provides a temp dir
# cleaned on exit, free ports on 127.0.0.1, one nginx worker and one ticketon I/O thread pinned
# to core 0 (wrk goes on core 1), and a bench manager with a 2,000-seat event on sale.
bin=${TICKETON_BENCH_BIN:-build/release/src/ticketon}
[[ -x $bin ]] || { echo "build the release preset first (make bench)"; exit 1; }
# BENCH_NEEDS_WRK=no: a script that uses only the helpers below (bench/onsale.sh).
[[ ${BENCH_NEEDS_WRK:-yes} == no ]] || { command -v wrk && command -v nginx; } >/dev/null ||
    { echo "run scripts/bootstrap --bench"; exit 1; }

work=$(mktemp -d)
chmod 711 "$work"  # nginx's worker (nobody) must reach files below it; mktemp made it 700
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The value of key $1 in the JSON object on stdin (compact JSON for objects and arrays).
json_get() {
    python3 -c 'import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(v if isinstance(v, (str, int)) else json.dumps(v, separators=(",", ":")))' "$1"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {  # port [path]
    for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$1${2:-/healthz}" && return 0; sleep 0.1; done
    echo "nothing answers on 127.0.0.1:$1"; return 1
}

# CPU time (user + system, clock ticks) process $1 used so far, all its threads.
cpu_ticks() {
    local s
    read -r s <"/proc/$1/stat"
    s=${s##*) }
    # Split on purpose: field 3 of stat is $1 now, utime $12, stime $13.
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
# Runs the rest of the arguments, then writes to $work/cpu how much of one core process $1 used
# meanwhile, in percent: whether the server was the bottleneck or wrk (or the machine) was.
with_cpu() {
    local pid=$1 a b t0 t1
    shift
    a=$(cpu_ticks "$pid"); t0=$(date +%s%N)
    "$@"
    b=$(cpu_ticks "$pid"); t1=$(date +%s%N)
    echo $(((b - a) * 100 * 1000000000 / $(getconf CLK_TCK) / (t1 - t0))) >"$work/cpu"
}
nginx_worker() { pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -1; }
# Per thread name of process $1: "name cpu-ticks voluntary-switches involuntary-switches",
# summed over the threads of that name (ticketon names its DB writer and checkpointer threads).
thread_stats() {
    local t name rest
    for t in /proc/"$1"/task/*; do
        name=$(<"$t/comm") rest=$(<"$t/stat")
        name=${name// /_} rest=${rest##*) }
        echo "$name $(awk '{print $12 + $13}' <<<"$rest") $(awk '$1 == "voluntary_ctxt_switches:" {v = $2}
            $1 == "nonvoluntary_ctxt_switches:" {n = $2} END {print v, n}' "$t/status")"
    done | awk '{c[$1] += $2; v[$1] += $3; n[$1] += $4} END {for (k in c) print k, c[k], v[k], n[k]}' |
        LC_ALL=C sort -k1,1
}

# The server settings every run uses: one I/O thread, quiet logs, the cheapest password hashing
# (sign-ups are set-up, not what is measured), no auth rate limit for the set-up's sign-ups.
export TICKETON_SERVER_THREADS=1 TICKETON_LOG_LEVEL=warn TICKETON_AUTH_PASSWORD_COST=min
export TICKETON_RATE_LIMIT_AUTH_PER_MINUTE=1000000 TICKETON_RATE_LIMIT_AUTH_BURST=1000000
export TICKETON_AUTH_ACCESS_TTL_SECONDS=3600

# nginx.conf with one worker and no access log around the server blocks given as $1.
start_nginx() {
    mkdir -p "$work/nginx"
    cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
$1
}
CONF
    taskset -c 0 nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
    pids+=($!)
}

# Starts ticketon (demo seeding on: event 1 reserved, 120 seats; event 2 general admission) on
# $ticketon_port, then as a manager made by `ticketon user create` creates event $big_event:
# one section "A", 20 rows of 100 seats (A-1-1 … A-20-100), on sale, maxPerUser 10,
# holdSeconds 3600; with BENCH_WAITING_ROOM=1 its waiting room is on (admitPerSecond and
# maxActive 100,000, entries for an hour: see entry_token below).
# The entry token of the user with access token $1 for event $2: joins its queue and waits to be
# admitted (the admission ticker runs every 100 ms).
entry_token() {
    local view
    for _ in $(seq 1 50); do
        view=$(curl -sf -X POST "$api/events/$2/queue" -H "Authorization: Bearer $1")
        if [[ $(json_get status <<<"$view") == ADMITTED ]]; then
            json_get entryToken <<<"$view"
            return
        fi
        sleep 0.1
    done
    echo "not admitted: $view" >&2
    return 1
}

start_ticketon() {
    ticketon_port=$(free_port)
    api="http://127.0.0.1:$ticketon_port/api/v1"
    "$bin" user create --data-dir "$work/data" --email bench-manager@example.com \
        --password bench-manager-pw --name "Bench Manager" --role MANAGER >/dev/null
    taskset -c 0 "$bin" serve --listen "127.0.0.1:$ticketon_port" --data-dir "$work/data" \
        >"$work/ticketon.log" 2>&1 &
    ticketon_pid=$!
    pids+=($!)
    wait_up "$ticketon_port"
    wait_up "$ticketon_port" /api/v1/events/1/seats
    manager_token=$(curl -sf "$api/auth/login" -H 'Content-Type: application/json' \
        -d '{"email":"bench-manager@example.com","password":"bench-manager-pw"}' |
        json_get accessToken)
    local event
    event=$(python3 -c 'import datetime, json, os
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
t = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
print(json.dumps({"title": "Bench Arena", "venue": "Bench Hall", "location": "Seoul",
    "category": "CONCERT", "startsAt": t(now + datetime.timedelta(days=30)),
    "salesOpenAt": t(now), "seating": "RESERVED", "grades": [{"name": "R", "price": 99000}],
    "sections": [{"name": "A", "grade": "R",
                  "rows": [{"row": str(r), "seats": 100} for r in range(1, 21)]}],
    "maxPerUser": 10, "holdSeconds": 3600,
    **({"waitingRoom": {"enabled": True, "admitPerSecond": 100000, "maxActive": 100000,
                        "entryTtlSeconds": 3600}} if os.environ.get("BENCH_WAITING_ROOM") else {})}))')
    big_event=$(curl -sf "$api/events" -H "Authorization: Bearer $manager_token" \
        -H 'Content-Type: application/json' -d "$event" | json_get id)
    curl -sf -X PATCH "$api/events/$big_event" -H "Authorization: Bearer $manager_token" \
        -H 'Content-Type: application/json' -d '{"status":"ON_SALE"}' >/dev/null
}
