#!/usr/bin/env bash
# CI stage "wire" (issue 19): what lossy-link and load mode write, checked by real readers.
#
# - tshark (Wireshark's command line) decodes a seeded run's --capture: every packet UDP
#   with good IP and UDP checksums and no expert warnings, the ports and payloads the run
#   sent, and per leg and direction as many packets, and as many "lost" and "duplicate"
#   comments, as the relay's own summary says.
# - xmllint: the --diagram and the load mode's --chart are well-formed XML, and the diagram
#   has an arrow per datagram and a cross per loss, as the summary says.
# - headless Chromium renders one diagram and one chart; the PNGs must not be blank.
#
# Runs on its own too: `bash .ci/wire.sh`. Installs tshark, chromium, libxml2-utils and
# python3 (for reading the PNG) from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
CI_STAGE=wire
. .ci/debian-rust.sh

# tshark's package asks whether non-root users may capture: answer no, without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt_install tshark chromium libxml2-utils python3

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

release="${CARGO_TARGET_DIR:-target}/release"
timeout 1200 cargo build --release --quiet -p udp-uppercase --bins
cp "$release/server" "$release/client" "$work/"
timeout 1200 cargo build --release --quiet -p lossy-link
cp "$release/lossy-link" "$work/"

# Waits until FILE has a line matching TEXT, or fails saying WHAT.
wait_for() { # file, text, what
    for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    ci_fail "$3: $(tail -n 5 "$1")"
}

# Sends SIGINT and waits (at most 5 s) for the process to exit with status 0.
interrupt() { # pid, what
    kill -INT "$1"
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$1" 2>/dev/null && ci_fail "$2 still running 5 s after SIGINT"
    local status=0
    wait "$1" || status=$?
    [ "$status" -eq 0 ] || ci_fail "$2 exited with status $status after SIGINT"
}

# --- A seeded run: server, lossy-link with --capture and --diagram, 30 clients -------------
"$work/server" --port 0 >"$work/server.out" 2>&1 &
pids+=($!); server_pid=$!
wait_for "$work/server.out" "ready to receive" "the udp-uppercase server did not start"
server_port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/server.out" | head -n 1 | cut -d: -f2)

"$work/lossy-link" --listen 127.0.0.1:0 --to "127.0.0.1:$server_port" --loss 25% \
    --duplicate 20% --delay 20ms --jitter 10ms --seed 19 \
    --capture "$work/run.pcapng" --diagram "$work/run.svg" --diagram-max 200 \
    >"$work/relay.out" 2>"$work/relay.err" &
pids+=($!); relay_pid=$!
wait_for "$work/relay.out" "lossy-link relaying" "lossy-link did not start"
relay_port=$(grep -o 'relaying 127\.0\.0\.1:[0-9]*' "$work/relay.out" | cut -d: -f2)

for i in $(seq 0 29); do
    # A lost request or reply is the point of the run: the client's error is expected.
    timeout 10 "$work/client" --port "$relay_port" --timeout 0.3 --message "wire check $i" \
        >>"$work/client.out" 2>&1 || true
done
interrupt "$relay_pid" lossy-link
interrupt "$server_pid" "the udp-uppercase server"
[ ! -s "$work/relay.err" ] || ci_fail "lossy-link wrote to stderr: $(cat "$work/relay.err")"
[ -f "$work/run.pcapng" ] && [ ! -e "$work/run.pcapng.part" ] \
    || ci_fail "the capture was not renamed from .part: $(ls "$work")"

# The relay's own counts, from its summary lines.
summary_field() { # direction-label, field
    grep "^$1: received" "$work/relay.out" | grep -o "$2 [0-9]*" | head -n 1 | cut -d' ' -f2
}
up_received=$(summary_field "client -> server" received)
up_forwarded=$(summary_field "client -> server" forwarded)
up_lost=$(summary_field "client -> server" lost)
up_duplicated=$(summary_field "client -> server" duplicated)
down_received=$(summary_field "server -> client" received)
down_forwarded=$(summary_field "server -> client" forwarded)
down_lost=$(summary_field "server -> client" lost)
down_duplicated=$(summary_field "server -> client" duplicated)
[ "$up_received" -eq 30 ] || ci_fail "the relay received $up_received requests, not 30: $(cat "$work/relay.out")"
[ $((up_lost + down_lost)) -gt 0 ] && [ $((up_duplicated + down_duplicated)) -gt 0 ] \
    || ci_fail "seed 19 should lose and duplicate: $(tail -n 2 "$work/relay.out")"
ci_log "relay: $(grep -- '-> ' "$work/relay.out" | tail -n 2 | tr '\n' ' ')"

# --- tshark reads the capture ---------------------------------------------------------
tshark_fields() {
    timeout 120 tshark -r "$work/run.pcapng" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        -o data.show_as_text:TRUE -T fields -E separator='|' "$@" 2>/dev/null
}
# udp.payload (the payload's bytes in hex), not data.text: Wireshark may decode a random
# port's payload as some protocol registered on it.
tshark_fields -e frame.interface_name -e udp.srcport -e udp.dstport -e udp.checksum.status \
    -e ip.checksum.status -e udp.payload -e frame.comment \
    | awk -F'|' 'BEGIN { OFS = "|" } { gsub(":", "", $6); print }' >"$work/packets.txt"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
packets=$(wc -l <"$work/packets.txt")
[ "$packets" -eq $((up_received + up_forwarded + down_received + down_forwarded)) ] \
    || ci_fail "tshark decoded $packets packets; the summary says $((up_received + up_forwarded + down_received + down_forwarded))"
count() { awk -F'|' "$1" "$work/packets.txt" | wc -l; }
expect() { # what, got, expected
    [ "$2" -eq "$3" ] || ci_fail "$1: tshark counted $2, the relay's summary $3"
    ci_log "ok: $1: $2"
}
expect "client -> relay packets" "$(count "\$1==\"client side\" && \$3==$relay_port")" "$up_received"
expect "relay -> server packets" "$(count "\$1==\"server side\" && \$3==$server_port")" "$up_forwarded"
expect "server -> relay packets" "$(count "\$1==\"server side\" && \$2==$server_port")" "$down_received"
expect "relay -> client packets" "$(count "\$1==\"client side\" && \$2==$relay_port")" "$down_forwarded"
expect "'lost' comments" "$(count '$7 ~ /lost \(--loss\)/')" $((up_lost + down_lost))
expect "'duplicate copy' comments" "$(count '$7 ~ /duplicate copy/')" $((up_duplicated + down_duplicated))
expect "packets with good UDP and IP checksums" "$(count '$4=="1" && $5=="1"')" "$packets"
for i in 0 17 29; do
    grep -q "^client side|[0-9]*|$relay_port|1|1|$(hex "wire check $i")|#[0-9]* client -> server: " "$work/packets.txt" \
        || ci_fail "tshark shows no request 'wire check $i' with its comment"
done
grep -q "|$(hex "WIRE CHECK ")[0-9a-f]*|#[0-9]* server -> client: .*forwarded after" "$work/packets.txt" \
    || ci_fail "tshark shows no forwarded reply"
# Expert info at "warn" level or worse (a bad checksum is an "Errors (1)" table): none.
# Every port of the run is decoded as plain data, as the README tells students to: an
# ephemeral port can be one Wireshark has a protocol registered on (TZSP's 37008 once made
# a chat line a "Malformed Packet"), which says nothing about the headers checked here.
as_data=()
for port in $(awk -F'|' '{ print $2; print $3 }' "$work/packets.txt" | sort -u); do
    as_data+=(-d "udp.port==$port,data")
done
expert=$(timeout 120 tshark -r "$work/run.pcapng" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
    "${as_data[@]}" -q -z expert,warn 2>/dev/null | grep -v '^[[:space:]]*$' || true)
[ -z "$expert" ] || ci_fail "tshark's expert info: $expert"
ci_log "ok: tshark decodes $packets packets, no expert warnings"

# --- The diagram, as XML ----------------------------------------------------------------
xpath() { xmllint --xpath "$1" "$2"; }
xmllint --noout "$work/run.svg" || ci_fail "the diagram is not well-formed XML"
expect "diagram arrows onto the link" "$(xpath 'count(//*[@data-kind="in"])' "$work/run.svg")" \
    $((up_received + down_received))
expect "diagram crosses" "$(xpath 'count(//*[@class="cross"])' "$work/run.svg")" $((up_lost + down_lost))
expect "diagram duplicate arrows" "$(xpath 'count(//*[@data-kind="duplicate"])' "$work/run.svg")" \
    $((up_duplicated + down_duplicated))
expect "diagram arrows leaving the link" \
    "$(xpath 'count(//*[@data-kind="out" or @data-kind="duplicate" or @data-kind="reordered"])' "$work/run.svg")" \
    $((up_forwarded + down_forwarded))

# --- Load mode's chart and CSV ----------------------------------------------------------
"$work/server" --port 0 >"$work/server2.out" 2>&1 &
pids+=($!); server_pid=$!
wait_for "$work/server2.out" "ready to receive" "the udp-uppercase server did not start"
server_port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/server2.out" | head -n 1 | cut -d: -f2)
timeout 60 "$work/client" --port "$server_port" --clients 2 --duration 1 \
    --csv "$work/load.csv" --chart "$work/load.svg" >"$work/load.out" \
    || ci_fail "load mode failed: $(cat "$work/load.out")"
interrupt "$server_pid" "the udp-uppercase server"
xmllint --noout "$work/load.svg" || ci_fail "the chart is not well-formed XML"
requests=$(grep -o '[0-9]* requests,' "$work/load.out" | cut -d' ' -f1)
csv_requests=$(awk -F, 'NR > 1 { sum += $2 } END { print sum }' "$work/load.csv")
expect "requests in the CSV" "$csv_requests" "$requests"

# --- Headless Chromium renders one diagram and one chart ---------------------------------
render() { # svg, png, width, height
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --user-data-dir="$(mktemp -d -p "$work")" \
        --window-size="$3,$4" --screenshot="$2" "file://$1" >/dev/null 2>&1 \
        || ci_fail "chromium could not render $1"
    python3 .ci/png_not_blank.py "$2" || ci_fail "$2 (from $1) is blank"
}
render "$work/run.svg" "$work/run.png" 1200 900
render "$work/load.svg" "$work/load.png" 900 720
ci_log "ok: chromium rendered the diagram and the chart"
