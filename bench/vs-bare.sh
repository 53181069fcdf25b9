#!/usr/bin/env bash
# Benchmarks a module's server against its bare loop example, in one session, on loopback
# only. Every run stops by itself.
#
#   bench/vs-bare.sh udp-uppercase udp_uppercase_bare_loop [seconds per run] [rounds]
#   bench/vs-bare.sh module3h-udp-multiclient udp_multiclient_bare_echo 5 3
#   CLIENTS="1 64 512" bench/vs-bare.sh module3g-tcp-multiclient tcp_multiclient_bare_echo 5 3
#
# Each round runs, one after the other, the bare loop, the server with --quiet, and the
# server logging every message to a file, each with 1, 16 and 64 load clients (or the
# numbers in $CLIENTS); rounds are interleaved so that a noisy moment on the machine does
# not favour one server. Take the median over the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
package=$1 bare=$2 secs=${3:-5} rounds=${4:-3}
port=${PORT:-12999}
release="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet -p "$package" --bins --examples
cp "$release/server" "$release/client" "$release/examples/$bare" "$work/"

run() { # round, label, server command...
    local round=$1 label=$2; shift 2
    "$@" >"$work/server.log" 2>&1 &
    local pid=$!
    # Wait for the ready line (every server and bare loop prints one).
    for _ in $(seq 50); do [ -s "$work/server.log" ] && break; sleep 0.1; done
    for clients in ${CLIENTS:-1 16 64}; do
        printf 'round %s  %-20s ' "$round" "$label"
        "$work/client" --port "$port" --clients "$clients" --duration "$secs" || true
    done
    # SIGINT, like Ctrl-C, for the servers; the bare loop has no handler and background jobs
    # of a script ignore SIGINT, so it gets SIGTERM.
    kill -INT "$pid"; sleep 1; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true
}

for round in $(seq "$rounds"); do
    run "$round" "bare loop" "$work/$bare" "$port"
    run "$round" "server --quiet" "$work/server" --port "$port" --quiet
    run "$round" "server, log to file" "$work/server" --port "$port"
    echo "(round $round: the logging server wrote $(wc -l <"$work/server.log") lines)"
done
