#!/usr/bin/env bash
# The sealed chat's cost (issue 20): the hub's load mode with 16 members, plain, sealed
# (every member opens every line), and sealed with --open-only-own (each member opens its
# own lines only: what sealing costs the hub, when all members share this machine),
# interleaved (plain, sealed, own, plain, ...) so that a noisy moment on the shared machine
# does not favour one; then the key derivation's time per client start, with the default
# Argon2id settings. Loopback only; every run stops by itself.
#
#   bench/sealed-chat.sh [seconds per run] [rounds] [members]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5} rounds=${2:-3} members=${3:-16}
release="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet -p udp-groupchat --bins
cp "$release/server" "$release/client" "$work/"
echo "correct horse battery staple" >"$work/group.pass"

"$work/server" --port 0 --quiet --reply-rate 10000000 --max-members-per-ip "$members" --joins-per-minute 100000 >"$work/hub.out" 2>&1 &
for _ in $(seq 50); do grep -q "ready on" "$work/hub.out" && break; sleep 0.1; done
port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/hub.out" | head -n 1 | cut -d: -f2)

for round in $(seq "$rounds"); do
    for mode in plain sealed own; do
        flags=()
        [ "$mode" = sealed ] && flags=(--passphrase-file "$work/group.pass")
        [ "$mode" = own ] && flags=(--passphrase-file "$work/group.pass" --open-only-own)
        # The summary line, and the losses if any (--timeout 1: a line lost by an overflowing
        # socket stalls its member for a second, not three).
        timeout $((secs + 30)) "$work/client" --port "$port" --clients "$members" --duration "$secs" --timeout 1 "${flags[@]}" >"$work/run.out" 2>&1 || true
        lost=$(grep -ho "error: [0-9]* of [0-9]* requests lost" "$work/run.out" || true)
        echo "round $round $mode: $(grep -h "^[0-9]* clients, " "$work/run.out")${lost:+ ($lost)}"
    done
done

echo "key derivation per client start (default --kdf-memory 64 --kdf-passes 3):"
for _ in $(seq 5); do
    ( echo /quit ) | timeout 20 "$work/client" --port "$port" --username "kdf$RANDOM" --passphrase-file "$work/group.pass" 2>&1 | grep -o "key derived in [0-9.]* s" || true
done
