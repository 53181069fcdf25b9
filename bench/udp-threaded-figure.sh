#!/usr/bin/env bash
# The figure in udp-threaded's README: requests/s and latency of thread-per-datagram,
# single and pool (64 workers) against --work-ms, 64 load clients, on loopback only. Every
# run stops by itself.
#
#   bench/udp-threaded-figure.sh [seconds per run, default 3]
#
# For each --work-ms the three modes run one after another (interleaved, so a busy moment
# of the shared machine hits all three alike). The measurements go to
# udp-threaded/figure.txt and the figure to udp-threaded/figure.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
port=${PORT:-12996}
release="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet -p udp-threaded --bins --examples
cp "$release/server" "$release/client" "$release/examples/udp_threaded_figure" "$work/"

data=udp-threaded/figure.txt
: >"$data"
for ms in 0 1 2 5 10 20; do
    for mode in thread-per-datagram single pool; do
        "$work/server" --port "$port" --quiet --mode "$mode" --workers 64 --work-ms "$ms" \
            >"$work/server.log" 2>&1 &
        pid=$!
        for _ in $(seq 100); do grep -q "Server started" "$work/server.log" && break; sleep 0.1; done
        grep -q "Server started" "$work/server.log" || { cat "$work/server.log"; exit 1; }
        line=$("$work/client" --host 127.0.0.1 --port "$port" --clients 64 --duration "$secs" \
            --timeout 2 || true)
        kill -INT "$pid"; wait "$pid" || true
        echo "$mode --work-ms $ms: $line"
        rate=$(echo "$line" | grep -o '[0-9]* requests/s' | cut -d' ' -f1)
        p50=$(echo "$line" | grep -o 'p50 [0-9.]*' | cut -d' ' -f2)
        p99=$(echo "$line" | grep -o 'p99 [0-9.]*' | cut -d' ' -f2)
        if [ -n "$rate" ] && [ -n "$p50" ]; then echo "$mode $ms $rate $p50 $p99" >>"$data"; fi
        sleep 0.5 # the previous server's port and threads are gone before the next starts
    done
done
"$work/udp_threaded_figure" udp-threaded/figure.svg <"$data"
echo "wrote $data and udp-threaded/figure.svg"
