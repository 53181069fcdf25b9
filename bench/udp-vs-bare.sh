#!/usr/bin/env bash
# Benchmarks a UDP module's server against its bare loop example, in one session, on
# loopback only. Every run stops by itself.
#
#   bench/udp-vs-bare.sh udp-uppercase udp_uppercase_bare_loop [seconds per run, default 5]
#   bench/udp-vs-bare.sh module3h-udp-multiclient udp_multiclient_bare_echo 5
#
# Prints one load-mode summary line per (server, clients) pair: the bare loop, the server
# with --quiet, and the server logging every datagram to a file.
set -euo pipefail
cd "$(dirname "$0")/.."
package=$1 bare=$2 secs=${3:-5}
port=${PORT:-12999}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet -p "$package" --bins --examples
cp target/release/server target/release/client "target/release/examples/$bare" "$work/"

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

run "bare loop" "$work/$bare" "$port"
run "server --quiet" "$work/server" --port "$port" --quiet
run "server, log to file" "$work/server" --port "$port"
echo "(log file of the last run: $(wc -l <"$work/server.log") lines)"
