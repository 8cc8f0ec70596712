#!/usr/bin/env bash
# `ticketon load onsale` against the embedded server (SQLite, in-process engines), as
# docs/benchmarks.md records it: a fresh data directory, a manager, the release build.
#
#   bench/onsale.sh OUT_DIR USERS SEATS [more `ticketon load` options…]
#
# Writes OUT_DIR/run.json, OUT_DIR/run.svg, OUT_DIR/run.out (the report), OUT_DIR/server.log and
# OUT_DIR/machine.txt (the server's and the load generator's CPU seconds and peak memory). Exits
# with the load generator's code: 0 when the audit found every invariant holding.
#
# The server runs with bench/lib.sh's settings but every core: the cheapest password hash
# (auth.password_cost = min: a real on-sale's accounts exist before it opens, and Argon2 at the
# interactive cost would make the run measure sign-ups), the auth rate limit lifted (every user
# signs up once), quiet logs.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 3 ]] || { echo "usage: bench/onsale.sh OUT_DIR USERS SEATS [load options…]"; exit 2; }
out=$1 users=$2 seats=$3
shift 3
BENCH_NEEDS_WRK=no source bench/lib.sh
# lib.sh's servers run one I/O thread, pinned; the on-sale server takes every core (the default).
unset TICKETON_SERVER_THREADS
mkdir -p "$out"

port=$(free_port)
"$bin" user create --data-dir "$work/data" --email manager@example.com --password manager-pw-1 \
    --name Manager --role MANAGER >/dev/null
"$bin" serve --data-dir "$work/data" --listen "127.0.0.1:$port" --no-demo >"$out/server.log" 2>&1 &
server=$!
pids+=("$server")
wait_up "$port"

code=0
/usr/bin/time -f '%e %U %S %M' -o "$work/load.time" \
    "$bin" load onsale --target "http://127.0.0.1:$port" --users "$users" --seats "$seats" \
    --manager-email manager@example.com --manager-password manager-pw-1 \
    --json "$out/run.json" --chart "$out/run.svg" "$@" >"$out/run.out" 2>&1 || code=$?
server_rss=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$server/status")
read -r lwall luser lsys lrss <"$work/load.time"
{
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r)"
    echo "server: $(($(cpu_ticks "$server") / $(getconf CLK_TCK))) CPU s, peak RSS $((server_rss / 1024)) MiB"
    echo "load generator: ${lwall} s, $(python3 -c "print(round($luser + $lsys))") CPU s, peak RSS $((lrss / 1024)) MiB"
} >"$out/machine.txt"
cat "$out/run.out" "$out/machine.txt"
exit "$code"
