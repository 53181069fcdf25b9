#!/usr/bin/env bash
# A module's server against its bare loop and against itself at an earlier commit, all
# three interleaved (bare, before, now, and again, each round starting with the next) in one session, on loopback only: what
# a change cost, told apart from the machine's noise. Every run stops by itself.
#
#   bench/server-vs-before.sh udp-uppercase udp_uppercase_bare_loop [secs] [rounds] [rev]
#   CLIENTS="16 64" bench/server-vs-before.sh module3h-udp-multiclient udp_multiclient_bare_echo 2 8
#
# rev defaults to c59c3d4 (before issue 18's reply rule); the earlier server is built from
# a temporary git worktree into target/bench-before. The servers run with --quiet.
set -euo pipefail
cd "$(dirname "$0")/.."
package=$1 bare=$2 secs=${3:-3} rounds=${4:-5} rev=${5:-c59c3d4}
port=${PORT:-12970}
. bench/before.sh

cargo build --release --quiet -p "$package" --bins --examples
cp "$release/server" "$release/client" "$release/examples/$bare" "$work/"
build_before "$rev" "$package" server server-before

run() { # round, label, server command...
    local round=$1 label=$2; shift 2
    "$@" >"$work/server.log" 2>&1 &
    local pid=$!
    for _ in $(seq 50); do [ -s "$work/server.log" ] && break; sleep 0.1; done
    for clients in ${CLIENTS:-16 64}; do
        printf 'round %s  %-7s ' "$round" "$label"
        "$work/client" --port "$port" --clients "$clients" --duration "$secs" || true
    done
    kill -INT "$pid"; sleep 0.5; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true
}
# Each round starts with the next of the three: the same program run first, second or third
# in a round differs by a few percent here, so no program always takes the same place.
for round in $(seq "$rounds"); do
    for turn in 0 1 2; do
        case $(( (round - 1 + turn) % 3 )) in
            0) run "$round" bare "$work/$bare" "$port" ;;
            1) run "$round" before "$work/server-before" --port "$port" --quiet ;;
            2) run "$round" now "$work/server" --port "$port" --quiet ;;
        esac
    done
done
