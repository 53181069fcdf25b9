#!/usr/bin/env bash
# lossy-link against its earlier self: the udp-uppercase load client straight to the server
# (bare), through lossy-link as it was at an earlier commit (before), and through lossy-link
# as it is now, interleaved (bare, before, now, and again) in one session, on loopback only.
# Every run stops by itself.
#
#   bench/relay-vs-before.sh [seconds per run, default 3] [rounds, default 3] [rev]
#
# rev defaults to c59c3d4, the relay before issue 18 gave it the servers' reply rule. The
# earlier relay is built from a temporary git worktree into target/bench-before.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3} rounds=${2:-3} rev=${3:-c59c3d4}
port=${PORT:-12980}
. bench/before.sh

cargo build --release --quiet -p udp-uppercase --bins -p lossy-link
cp "$release/server" "$release/client" "$release/lossy-link" "$work/"
build_before "$rev" lossy-link lossy-link lossy-link-before

"$work/server" --port "$port" --quiet >"$work/server.log" 2>&1 &
sleep 0.5
relay_run() { # round, label, relay binary
    "$3" --listen "127.0.0.1:$((port + 1))" --to "127.0.0.1:$port" --quiet >"$work/relay.log" 2>&1 &
    local relay=$!
    for _ in $(seq 50); do grep -q "relaying" "$work/relay.log" && break; sleep 0.1; done
    printf 'round %s  %-7s ' "$1" "$2"
    "$work/client" --port "$((port + 1))" --clients 16 --duration "$secs" || true
    kill -INT "$relay"; wait "$relay" || true
    grep -E "^client -> server" "$work/relay.log" | sed 's/^/        /'
}
for round in $(seq "$rounds"); do
    printf 'round %s  %-7s ' "$round" bare
    "$work/client" --port "$port" --clients 16 --duration "$secs" || true
    relay_run "$round" before "$work/lossy-link-before"
    relay_run "$round" now "$work/lossy-link"
done
