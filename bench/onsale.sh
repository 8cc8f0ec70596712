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
# The server signs users up with the cheapest password hash (auth.password_cost = min: a real
# on-sale's accounts exist before it opens, and Argon2 at the interactive cost would make the
# run measure sign-ups) and with the auth rate limit lifted (every user signs up once).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 3 ]] || { echo "usage: bench/onsale.sh OUT_DIR USERS SEATS [load options…]"; exit 2; }
out=$1 users=$2 seats=$3
shift 3
bin=${TICKETON_BENCH_BIN:-build/release/src/ticketon}
[[ -x $bin ]] || { echo "build the release preset first (make bench)"; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
server=
cleanup() { [[ -z $server ]] || kill "$server" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" user create --data-dir "$work" --email manager@example.com --password manager-pw-1 \
    --name Manager --role MANAGER >/dev/null
TICKETON_AUTH_PASSWORD_COST=min TICKETON_RATE_LIMIT_AUTH_PER_MINUTE=1000000 \
    TICKETON_RATE_LIMIT_AUTH_BURST=1000000 TICKETON_LOG_LEVEL=warn \
    "$bin" serve --data-dir "$work" --listen "127.0.0.1:$port" --no-demo >"$out/server.log" 2>&1 &
server=$!
for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done

code=0
/usr/bin/time -f '%e %U %S %M' -o "$work/load.time" \
    "$bin" load onsale --target "http://127.0.0.1:$port" --users "$users" --seats "$seats" \
    --manager-email manager@example.com --manager-password manager-pw-1 \
    --json "$out/run.json" --chart "$out/run.svg" "$@" >"$out/run.out" 2>&1 || code=$?
read -r _ _ _ _ _ _ _ _ _ _ _ su ss _ <<<"$(sed 's/.*) //' "/proc/$server/stat")"
hz=$(getconf CLK_TCK)
server_rss=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$server/status")
read -r lwall luser lsys lrss <"$work/load.time"
{
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r)"
    echo "server: $(((su + ss) / hz)) CPU s, peak RSS $((server_rss / 1024)) MiB"
    echo "load generator: ${lwall} s, $(python3 -c "print(round($luser + $lsys))") CPU s, peak RSS $((lrss / 1024)) MiB"
} >"$out/machine.txt"
cat "$out/run.out" "$out/machine.txt"
exit "$code"
