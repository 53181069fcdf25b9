#!/usr/bin/env bash
# The sealed chat (issue 20), with the real release binaries on loopback: a sealed exchange
# in broadcast mode, heard by an eavesdropper bound to the chat port (its capture must hold
# no chat text) that also replays every line; a member with the wrong passphrase; then the
# hub, with lossy-link doubling and changing what one member receives. Runs on its own too:
# `bash .ci/sealed.sh`. Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "sealed smoke FAILED: $*" >&2; exit 1; }

release="${CARGO_TARGET_DIR:-target}/release"
timeout 1200 cargo build --release --quiet -p udp-groupchat --bins
cp "$release/server" "$release/client" "$work/"
timeout 1200 cargo build --release --quiet -p lossy-link --bins
cp "$release/lossy-link" "$release/udp-tap" "$work/"

echo "correct horse battery staple" >"$work/group.pass"
echo "a wrong guess" >"$work/wrong.pass"
chmod 600 "$work/group.pass" "$work/wrong.pass"

wait_for() { # file, text (grep -E), what
    for _ in $(seq 100); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    fail "$3: no '$2' in $1: $(cat "$1")"
}

# A member whose input is a fifo, kept open (as a terminal would be) until `quit`; sets
# NAME_pid and NAME_fd.
member() { # name, port, extra flags...
    local name=$1 port=$2; shift 2
    rm -f "$work/$name.in"
    mkfifo "$work/$name.in"
    "$work/client" --port "$port" --username "$name" "$@" <"$work/$name.in" >"$work/$name.out" 2>&1 &
    pids+=($!)
    declare -g "${name}_pid=$!"
    eval "exec {${name}_fd}>\"$work/$name.in\""
    wait_for "$work/$name.out" "Welcome to WhatsUDP Messenger" "$name joining"
}
say() { # name, line
    local fd_var="${1}_fd"
    echo "$2" >&"${!fd_var}"
}
# Types /quit, closes the member's input, and waits (at most 5 s) for it to end with 0.
quit() { # name
    local fd_var="${1}_fd" pid_var="${1}_pid" status=0
    say "$1" "/quit"
    eval "exec ${!fd_var}>&-"
    for _ in $(seq 50); do kill -0 "${!pid_var}" 2>/dev/null || break; sleep 0.1; done
    wait "${!pid_var}" || status=$?
    [ "$status" -eq 0 ] || fail "$1 ended with status $status after /quit: $(cat "$work/$1.out")"
}
# Sends SIGINT (Ctrl-C) and waits at most 1 s; the exit status must be $2.
interrupt() { # pid, expected status, what
    local status=0
    kill -INT "$1"
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.01; done
    kill -0 "$1" 2>/dev/null && fail "$3 still running 1 s after Ctrl-C"
    wait "$1" || status=$?
    [ "$status" -eq "$2" ] || fail "$3 exited with status $status after Ctrl-C (expected $2)"
}

# --- Broadcast mode ---------------------------------------------------------------------
"$work/server" --port 0 --broadcast 127.255.255.255 >"$work/server.out" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_for "$work/server.out" "Server is ready" "the broadcast server starting"
port=$(grep -o '127\.255\.255\.255:[0-9]*' "$work/server.out" | head -n 1 | cut -d: -f2)
[ -n "$port" ] || fail "no port in the broadcast server's ready line"

timeout 30 "$work/udp-tap" --port "$port" --replay --duration 20 --max-datagrams 20 >"$work/tap.out" 2>&1 &
tap_pid=$!
pids+=("$tap_pid")
wait_for "$work/tap.out" "udp-tap listening" "the eavesdropper starting"
member bob "$port" --broadcast --passphrase-file "$work/group.pass"
member carol "$port" --broadcast --passphrase-file "$work/wrong.pass"
member alice "$port" --broadcast --passphrase-file "$work/group.pass"
grep -Eq "^\(sealed chat: key derived in [0-9.]+ s" "$work/alice.out" || fail "no key derivation line: $(cat "$work/alice.out")"
say alice "sealed hello from ci"
wait_for "$work/bob.out" "^alice: sealed hello from ci$" "bob reading alice's sealed line"
wait_for "$work/bob.out" "dropped a replayed line" "bob dropping the eavesdropper's replay"
wait_for "$work/carol.out" "wrong passphrase\?" "carol being told she cannot open lines"
"$work/udp-tap" --port "$port" --forge "alice: I never said this" --duration 1 >/dev/null
wait_for "$work/bob.out" "not sealed" "bob dropping a forged plain line"
for name in alice bob carol; do quit "$name"; done
interrupt "$tap_pid" 130 "udp-tap"
interrupt "$server_pid" 0 "the broadcast server"
grep -q "sealed hello\|never said" "$work/carol.out" && fail "carol, with the wrong passphrase, read: $(cat "$work/carol.out")"
grep -q "never said" "$work/bob.out" && fail "bob showed a forged line: $(cat "$work/bob.out")"
[ "$(grep -c "^alice: sealed hello from ci$" "$work/bob.out")" -eq 1 ] || fail "bob should show the line once: $(cat "$work/bob.out")"
grep -q "^\[[0-9]*\] [0-9]* bytes from .*: RELAY " "$work/tap.out" || fail "the eavesdropper heard no relay: $(cat "$work/tap.out")"
# (The forged line is in clear, of course: it is the forger's own plain text.)
grep -v "never said" "$work/tap.out" | grep -q "sealed hello\|alice" && fail "the eavesdropper's capture holds chat text: $(cat "$work/tap.out")"
echo "ok: broadcast mode, sealed: bob read alice's line once; carol (wrong passphrase) and the eavesdropper read nothing; the replay and the forgery were dropped"
echo "   the eavesdropper heard: $(grep -m1 RELAY "$work/tap.out")"
echo "   carol: $(tail -n 1 "$work/carol.out")"

# --- The hub, with lossy-link doubling and changing what bob receives --------------------
"$work/server" --port 0 >"$work/hub.out" 2>&1 &
hub_pid=$!
pids+=("$hub_pid")
wait_for "$work/hub.out" "Chat hub ready on" "the hub starting"
hub_port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/hub.out" | head -n 1 | cut -d: -f2)
"$work/lossy-link" --listen 127.0.0.1:0 --to "127.0.0.1:$hub_port" --duplicate-down 100% --reply-allowance 65536 --seed 1 --capture "$work/hub.pcapng" >"$work/relay.out" 2>&1 &
relay_pid=$!
pids+=("$relay_pid")
wait_for "$work/relay.out" "lossy-link relaying" "lossy-link starting"
relay_port=$(grep -o 'relaying 127\.0\.0\.1:[0-9]*' "$work/relay.out" | cut -d: -f2)
member bob "$relay_port" --passphrase-file "$work/group.pass"
member alice "$hub_port" --passphrase-file "$work/group.pass"
say alice "sealed through the hub"
wait_for "$work/bob.out" "^alice: sealed through the hub$" "bob reading alice's line through the hub"
wait_for "$work/bob.out" "dropped a replayed line" "bob dropping the link's duplicate"
grep -q "sealed through" "$work/hub.out" && fail "the hub read the sealed line: $(cat "$work/hub.out")"
# Ctrl-C on a sealed member: it leaves politely, exit 130.
interrupt "$alice_pid" 130 "alice's client"
grep -q "^(you left the chat)$" "$work/alice.out" || fail "alice did not say she left: $(cat "$work/alice.out")"
eval "exec ${alice_fd}>&-"
quit bob
interrupt "$relay_pid" 0 "lossy-link"
interrupt "$hub_pid" 0 "the hub"
grep -q "^server -> client: received [0-9]*, forwarded [0-9]*, .* duplicated [1-9]" "$work/relay.out" || fail "lossy-link doubled nothing: $(cat "$work/relay.out")"
[ "$(grep -c "^alice: sealed through the hub$" "$work/bob.out")" -eq 1 ] || fail "bob should show the line once: $(cat "$work/bob.out")"
# What someone on bob's path recorded (lossy-link's pcapng, written whole at Ctrl-C): the
# hub's stamp `alice` is there in clear, the line is not.
[ -s "$work/hub.pcapng" ] || fail "lossy-link wrote no capture: $(cat "$work/relay.out")"
grep -aq "alice" "$work/hub.pcapng" || fail "the capture holds no chat datagram (no 'alice' stamp)"
grep -aq "sealed through" "$work/hub.pcapng" && fail "the capture on bob's path holds the chat text"
echo "ok: hub mode, sealed: the hub relayed a line it could not read; bob, behind a link that doubles everything, showed it once; the capture on his path holds no chat text"
echo "   hub log: $(grep -m1 '^alice: ' "$work/hub.out")"
