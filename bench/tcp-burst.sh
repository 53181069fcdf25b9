#!/usr/bin/env bash
# The 10,000-connection burst for module 3g, against the server and the bare
# thread-per-connection example, on loopback only. Every run stops by itself.
#
#   bench/tcp-burst.sh [connections, default 10000] [runs, default 5]
#
# Each run: the load client opens all connections at once (one burst), holds them until
# every one is connected, then each sends one line and waits for its echo. The summary line
# gives the echo latencies; afterwards the server's peak resident memory (VmHWM) is read
# from /proc. Needs a file descriptor limit above the connection count (ulimit -n).
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-10000} runs=${2:-5}
port=${PORT:-12998}
release="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet -p module3g-tcp-multiclient --bins --examples
cp "$release/server" "$release/client" "$release/examples/tcp_multiclient_bare_echo" "$work/"

burst() { # label, server command...
    local label=$1; shift
    "$@" >"$work/server.log" 2>&1 &
    local pid=$!
    for _ in $(seq 50); do [ -s "$work/server.log" ] && break; sleep 0.1; done
    for run in $(seq "$runs"); do
        printf '%-16s run %s  ' "$label" "$run"
        "$work/client" --port "$port" --clients "$connections" --count 1 --timeout 30 || true
        sleep 1 # let the closed connections' threads finish before the next burst
    done
    echo "$label: peak resident memory $(awk '/^VmHWM/ {print $2, $3}' "/proc/$pid/status")"
    kill -INT "$pid"; sleep 2; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true
}

echo "file descriptor limit: $(ulimit -n)"
burst "server --quiet" "$work/server" --port "$port" --quiet --max-per-ip 20000
burst "bare echo" "$work/tcp_multiclient_bare_echo" "$port"
