#!/usr/bin/env bash
# Benchmarks udp-threaded's three modes at --work-ms 0 and 10 next to its bare loop, with
# 64 load clients, on loopback only. Every run stops by itself.
#
#   bench/udp-threaded.sh [seconds per run, default 5] [rounds, default 3]
#
#   WORK_MS=0 MODES="single pool" bench/udp-threaded.sh 2 8   # only those, more rounds
#
# Rounds are interleaved; take the median. Also prints what starting one thread costs on
# this machine (the floor under thread-per-datagram).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5} rounds=${2:-3}
port=${PORT:-12997}
release="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet -p udp-threaded --bins --examples
cp "$release/server" "$release/client" "$release/examples/udp_threaded_bare_loop" \
   "$release/examples/udp_threaded_spawn_cost" "$work/"

run() { # round, label, server command...
    local round=$1 label=$2; shift 2
    "$@" >"$work/server.log" 2>&1 &
    local pid=$!
    for _ in $(seq 50); do [ -s "$work/server.log" ] && break; sleep 0.1; done
    printf 'round %s  %-34s ' "$round" "$label"
    "$work/client" --host 127.0.0.1 --port "$port" --clients 64 --duration "$secs" --timeout 2 || true
    kill -INT "$pid"; sleep 1; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true
}

# The runs of a round, in order; each round starts one further along the list: the same
# program run first or last in a round differs by a few percent here.
runs=("bare")
for ms in ${WORK_MS:-0 10}; do
    for mode in ${MODES:-single thread-per-datagram pool}; do runs+=("$mode $ms"); done
done
for round in $(seq "$rounds"); do
    for turn in $(seq 0 $(( ${#runs[@]} - 1 ))); do
        read -r mode ms <<<"${runs[$(( (round - 1 + turn) % ${#runs[@]} ))]}"
        if [ "$mode" = bare ]; then
            run "$round" "bare loop" "$work/udp_threaded_bare_loop" "$port"
        else
            run "$round" "$mode --work-ms $ms" "$work/server" --port "$port" --quiet \
                --mode "$mode" --workers 64 --work-ms "$ms"
        fi
    done
    "$work/udp_threaded_spawn_cost" 20000
done
