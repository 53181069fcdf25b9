#!/usr/bin/env bash
# The class report in a real browser (issue 21): grades a small class of udp-uppercase
# (complete, left undone, not compiling, a student whose folder name is markup), then
# renders report.html with headless Chromium (Debian's package): no console error, no
# script or network request, the hostile name shown as text, a screenshot that is not blank.
# Runs on its own too: `bash .ci/report.sh` (as root, to install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "report FAILED: $*" >&2; exit 1; }

if ! command -v chromium >/dev/null; then
    timeout 300 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq chromium >/dev/null
fi
chromium --version

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

timeout 600 cargo xtask exercise udp-uppercase --out "$work/starter"
class="$work/class"
mkdir -p "$class"
# Complete: the reference's own files (only the marked bodies are taken from them).
cp -r "$work/starter" "$class/ann"
cp udp-uppercase/src/*.rs "$class/ann/udp-uppercase/src/"
# Left undone: the starter as handed out.
cp -r "$work/starter" "$class/bob"
# Not compiling: the reference with a type error in `ask`.
cp -r "$class/ann" "$class/cat"
sed -i 's/socket.send(message)/socket.send(message * 2)/' "$class/cat/udp-uppercase/src/client.rs"
grep -q 'message \* 2' "$class/cat/udp-uppercase/src/client.rs" || fail "the not-compiling variant was not made"
# A folder name that is markup.
hostile='<img src=x onerror=alert(1)>'
cp -r "$work/starter" "$class/$hostile"

timeout 1200 cargo xtask grade udp-uppercase --submissions "$class" --out "$work/grades" \
    --scratch "$work/scratch" --test-floor 20
report="$work/grades/report.html"
[ -s "$report" ] || fail "no report.html"
# Every figure on the page equals grades.json's (the page read back by the xtask test).
XTASK_REPORT_DIR="$work/grades" timeout 900 cargo test -q -p xtask -- --ignored \
    a_real_batch_report_shows_the_figures_of_its_grades_json

browse() { # output flag, then more flags
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --user-data-dir="$(mktemp -d -p "$work")" \
        --window-size=1200,1800 --enable-logging=stderr --v=0 "$@" "file://$report"
}
browse --screenshot="$work/report.png" 2>"$work/chromium.err" >/dev/null || fail "chromium: $(tail -n 5 "$work/chromium.err")"
browse --dump-dom >"$work/dom.html" 2>>"$work/chromium.err" || fail "chromium --dump-dom: $(tail -n 5 "$work/chromium.err")"

# Chromium logs a page's console messages and failed loads as CONSOLE lines on stderr.
if grep -E "CONSOLE|Uncaught|Failed to load resource|net::ERR_" "$work/chromium.err"; then
    fail "the page logged errors in Chromium"
fi
grep -q "<h1>Class report: udp-uppercase</h1>" "$work/dom.html" || fail "the rendered page has no title"
! grep -q "<script" "$work/dom.html" || fail "the rendered page holds a script"
! grep -q "<img" "$work/dom.html" || fail "a student's folder name became markup"
grep -q "&lt;img src=x onerror=alert(1)&gt;" "$work/dom.html" || fail "the hostile name is not shown as text"
students=$(grep -o 'href="feedback/[^"]*\.md"' "$work/dom.html" | wc -l)
[ "$students" -eq 4 ] || fail "$students feedback links, expected 4"
for student in ann bob cat; do
    grep -q "data-figure=\"student/$student/udp-uppercase/points\"" "$work/dom.html" || fail "no row for $student"
done
# A blank page compresses to a few kilobytes; the rendered report (histogram, tables) is far
# larger. And the PNG's own header says it is 1200 wide.
size=$(stat -c %s "$work/report.png")
[ "$size" -gt 40000 ] || fail "the screenshot is $size bytes: blank?"
width=$(od -An -tu1 -j16 -N4 "$work/report.png" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
[ "$width" -eq 1200 ] || fail "the screenshot is $width pixels wide"
echo "ok: report.html rendered in $(chromium --version): $students students, $size-byte screenshot, no console error"
