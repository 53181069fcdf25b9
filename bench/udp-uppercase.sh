#!/usr/bin/env bash
# Benchmarks udp-uppercase against the bare loop, in one session, on loopback only.
# Usage: bench/udp-uppercase.sh [seconds per run, default 5]
# Prints one load-mode summary line per (server, clients) pair. Every run stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
port=${PORT:-12999}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet -p udp-uppercase --bins --examples
cp target/release/server target/release/client target/release/examples/udp_uppercase_bare_loop "$work/"

run() { # label, server command...
    local label=$1; shift
    "$@" >"$work/server.log" 2>&1 &
    local pid=$!
    sleep 0.5
    for clients in 1 16 64; do
        printf '%-22s ' "$label"
        "$work/client" --port "$port" --clients "$clients" --duration "$secs" || true
    done
    # SIGINT, like Ctrl-C, for the servers; the bare loop has no handler and background jobs
    # of a script ignore SIGINT, so it gets SIGTERM.
    kill -INT "$pid"; sleep 1; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true
}

run "bare loop" "$work/udp_uppercase_bare_loop" "$port"
run "server --quiet" "$work/server" --port "$port" --quiet
run "server, log to file" "$work/server" --port "$port"
echo "(log file of the last run: $(wc -l <"$work/server.log") lines)"
