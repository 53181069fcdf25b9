#!/usr/bin/env bash
# Issue 18's loop check, with the real release binaries: one datagram forged between two
# UDP programs (raw socket: needs root, as CI has) must not start an endless loop. For each
# pair, both programs run, `udp_forge` sends ONE datagram to the first "from" the second,
# and after a second the CPU time both use over the next 1.5 s is read from /proc: an
# endless loop keeps them busy (measured before the fix: 7,700 datagrams/s each way, about
# 30% of a core each); a loop that died leaves them idle. Pairs: every UDP server of the
# workspace, a second copy of itself, lossy-link in front of a server, and the course's own
# Python servers (bench/seed_servers.py) as the peer. Loopback only; every program stops.
#
#   bash .ci/loops.sh                 # build, check, fail on a loop that does not stop
#   LOOPS_BIN=DIR MEASURE_ONLY=1 bash .ci/loops.sh   # measure binaries built elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null; then
    timeout 300 apt-get update -qq >/dev/null && timeout 300 apt-get install -y -qq python3 >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "loops FAILED: $*" >&2; exit 1; }

bin=${LOOPS_BIN:-}
if [ -z "$bin" ]; then
    bin="$work/bin"
    release="${CARGO_TARGET_DIR:-target}/release"
    for package in udp-uppercase module3h-udp-multiclient udp-threaded udp-groupchat; do
        timeout 1200 cargo build --release --quiet -p "$package" --bins
        mkdir -p "$bin/$package"
        cp "$release/server" "$bin/$package/"
    done
    timeout 600 cargo build --release --quiet -p module3h-udp-multiclient --example udp_forge
    timeout 600 cargo build --release --quiet -p lossy-link
    cp "$release/examples/udp_forge" "$release/lossy-link" "$bin/"
fi

# Starts a program in the background, waits for an address in its first lines, and sets
# `started_pid` and `started_port`. The program's output goes to $work/LABEL.out.
start() { # label, program and arguments...
    local label=$1; shift
    "$@" >"$work/$label.out" 2>"$work/$label.err" &
    started_pid=$!
    pids+=("$started_pid")
    started_port=""
    for _ in $(seq 100); do
        started_port=$(grep -Eo '(127\.0\.0\.1|0\.0\.0\.0|\[::\]):[0-9]+' "$work/$label.out" 2>/dev/null | head -n 1 | grep -Eo '[0-9]+$' || true)
        [ -n "$started_port" ] && break
        kill -0 "$started_pid" 2>/dev/null || fail "$label exited early: $(cat "$work/$label.err")"
        sleep 0.1
    done
    [ -n "$started_port" ] || fail "$label printed no address"
}

server() { # label, kind: uppercase|echo|threaded|hub|py-echo|py-upper|py-threaded, extra args...
    local label=$1 kind=$2; shift 2
    case $kind in
        uppercase) start "$label" "$bin/udp-uppercase/server" --port 0 --quiet "$@" ;;
        echo) start "$label" "$bin/module3h-udp-multiclient/server" --port 0 --quiet "$@" ;;
        threaded) start "$label" "$bin/udp-threaded/server" --host 127.0.0.1 --port 0 --quiet "$@" ;;
        hub) start "$label" "$bin/udp-groupchat/server" --port 0 --quiet "$@" ;;
        py-*) start "$label" python3 bench/seed_servers.py "${kind#py-}" ;;
    esac
}

cpu_ticks() { # pid: user + system time, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

stop_all() {
    for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    pids=()
}

failures=0
# One forged datagram to FIRST from SECOND (or one per text in $TEXTS: several loops at
# once, their datagrams taking turns); checks that both are idle after a second.
check_pair() { # label, first-pid, first-port, second-pid, second-port
    local label=$1 pid_a=$2 port_a=$3 pid_b=$4 port_b=$5 text
    for text in ${TEXTS:-ping}; do
        "$bin/udp_forge" "127.0.0.1:$port_b" "127.0.0.1:$port_a" "$text" >/dev/null || fail "cannot forge (root needed)"
    done
    sleep 1
    local a0 b0 a1 b1
    a0=$(cpu_ticks "$pid_a"); b0=$(cpu_ticks "$pid_b")
    sleep 1.5
    a1=$(cpu_ticks "$pid_a"); b1=$(cpu_ticks "$pid_b")
    local busy=$(( (a1 - a0) + (b1 - b0) ))
    # 10 ticks = 0.1 s of CPU in 1.5 s: a live loop uses far more, two idle programs ~0.
    if [ "$busy" -le 10 ]; then
        echo "ok: $label: the loop stopped (CPU in the 1.5 s after: $busy ticks)"
    else
        echo "LOOP: $label: still going after a second (CPU in 1.5 s: $busy ticks)"
        failures=$((failures + 1))
    fi
    stop_all
    for out in "$work"/*.out; do
        local summary; summary=$(grep -E "^(Served|Echoed|Handled|Chat closed|Relay stopped|client -> server)" "$out" | tr '\n' ' ' || true)
        [ -n "$summary" ] && echo "    $(basename "$out" .out): $summary"
    done
    rm -f "$work"/*.out "$work"/*.err
}

pair() { # label, kind-a, kind-b
    server a "$2"; local pa=$started_pid qa=$started_port
    server b "$3"; local pb=$started_pid qb=$started_port
    check_pair "$1" "$pa" "$qa" "$pb" "$qb"
}

pair "uppercase <-> module3h echo" uppercase echo
TEXTS="ping pong pang" pair "uppercase <-> module3h echo, three forged datagrams" uppercase echo
TEXTS="ping pong" pair "module3h echo <-> a second module3h, two forged datagrams" echo echo
pair "uppercase <-> a second uppercase" uppercase uppercase
pair "module3h echo <-> a second module3h" echo echo
pair "udp-threaded <-> module3h echo" threaded echo
pair "udp-threaded <-> a second udp-threaded" threaded threaded
pair "hub <-> module3h echo" hub echo
pair "hub <-> udp-threaded" hub threaded
pair "uppercase <-> the course's Python echo" uppercase py-echo
pair "module3h <-> the course's Python uppercase" echo py-upper
pair "udp-threaded <-> the course's Python echo" threaded py-echo
pair "udp-threaded <-> the course's Python threaded server" threaded py-threaded

# lossy-link in front of a server, forged from a Python echo to the relay.
for behind in uppercase echo; do
    server s "$behind"; ps=$started_pid
    start relay "$bin/lossy-link" --listen 127.0.0.1:0 --to "127.0.0.1:$started_port" --quiet
    pr=$started_pid qr=$started_port
    server p py-echo; pp=$started_pid qp=$started_port
    pids=("$ps" "$pr" "$pp")
    check_pair "lossy-link in front of $behind <-> the course's Python echo" "$pr" "$qr" "$pp" "$qp"
done

# A server on every address answers no datagram forged from its own port on a local
# address (127.0.0.1, another loopback address; IPv4 through a dual-stack socket).
for host in 0.0.0.0 ::; do
    for kind in uppercase echo; do
        server own "$kind" --host "$host"; po=$started_pid qo=$started_port
        for from in 127.0.0.1 127.0.0.2; do
            "$bin/udp_forge" "$from:$qo" "127.0.0.1:$qo" "self" >/dev/null || fail "cannot forge"
        done
        sleep 1
        t0=$(cpu_ticks "$po"); sleep 1.5; t1=$(cpu_ticks "$po")
        if [ $((t1 - t0)) -le 10 ]; then
            echo "ok: $kind --host $host did not answer itself ($((t1 - t0)) ticks in 1.5 s)"
        else
            echo "LOOP: $kind --host $host answers itself ($((t1 - t0)) ticks in 1.5 s)"
            failures=$((failures + 1))
        fi
        stop_all
        grep -E "^(Served|Echoed)" "$work/own.out" | sed 's/^/    /' || true
        rm -f "$work"/*.out "$work"/*.err
    done
done

if [ "$failures" -gt 0 ] && [ -z "${MEASURE_ONLY:-}" ]; then
    fail "$failures loops did not stop"
fi
echo "loops: every forged loop stopped"
