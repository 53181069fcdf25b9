#!/usr/bin/env bash
# What lossy-link's --capture costs: the udp-uppercase load client through the relay
# without and with --capture, runs interleaved (A/B/A/B) in one session, on loopback only.
# Every run stops by itself.
#
#   bench/capture-cost.sh [seconds per run, default 3] [rounds, default 3]
#
# The capture goes to a temporary folder (or $CAPTURE_DIR, e.g. /dev/shm for memory; each
# file is removed after its run), with --capture-limit 4G so that it never stops early; the
# relay with the capture reports its packets at its stop.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3} rounds=${2:-3}
port=${PORT:-12990}
release="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet -p udp-uppercase --bins
cp "$release/server" "$release/client" "$work/"
cargo build --release --quiet -p lossy-link
cp "$release/lossy-link" "$work/"

"$work/server" --port "$port" --quiet >"$work/server.log" 2>&1 &
for round in $(seq "$rounds"); do
    for capture in no yes; do
        flags=()
        if [ "$capture" = yes ]; then
            flags=(--capture "${CAPTURE_DIR:-$work}/run-$round.pcapng" --capture-limit 4G)
        fi
        "$work/lossy-link" --listen "127.0.0.1:$((port + 1))" --to "127.0.0.1:$port" --quiet \
            "${flags[@]}" >"$work/relay.log" 2>&1 &
        relay=$!
        for _ in $(seq 50); do grep -q "relaying" "$work/relay.log" && break; sleep 0.1; done
        printf 'round %s  capture %-3s  ' "$round" "$capture"
        "$work/client" --port "$((port + 1))" --clients 16 --duration "$secs" || true
        kill -INT "$relay"; wait "$relay" || true
        grep -E "^client -> server|^capture:" "$work/relay.log" | sed 's/^/        /'
        rm -f "${CAPTURE_DIR:-$work}/run-$round.pcapng"
    done
done
