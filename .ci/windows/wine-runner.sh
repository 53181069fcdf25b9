#!/usr/bin/env bash
# Cargo's runner for x86_64-pc-windows-gnu in the Windows stage (.ci/windows.sh): runs one
# test executable under Wine, adding `--skip` for the tests that .ci/wine-skips.txt lists for
# that crate (and `--exact`, so a skip names one test, not every test containing the name).
# Only this stage uses the skip list; on Linux and on real Windows every test runs.
#
# Wine itself sometimes fails to start a program: once in CI, a test executable exited with
# status 1 having printed nothing at all, not even the harness's "running N tests" line, and
# ran fine on every later try. Such a run is retried (twice at most, and said so); a run in
# which the harness started is never retried, so a failing or crashing test still fails.
set -euo pipefail
exe=$1
shift
skips_file=${WINE_SKIPS_FILE:?set by .ci/windows.sh}

# The crate of a unit-test executable: target/.../deps/<crate>-<hash>.exe
crate=$(basename "$exe" .exe)
crate=${crate%-*}

skip_args=()
while read -r name test _; do
    case "$name" in '' | '#'*) continue ;; esac
    [ "${name//-/_}" = "$crate" ] && skip_args+=(--skip "$test")
done <"$skips_file"

if [ "${#skip_args[@]}" -gt 0 ]; then
    echo "wine-runner: $crate: skipping $((${#skip_args[@]} / 2)) Wine-only failure(s) listed in .ci/wine-skips.txt" >&2
    skip_args+=(--exact)
fi

stdout_copy=$(mktemp)
trap 'rm -f "$stdout_copy"' EXIT
for attempt in 1 2 3; do
    # A hung test binary must not hang CI (Wine can deadlock where Windows would not).
    set +e
    timeout "${WINE_TEST_TIMEOUT:-600}" "$WINE" "$exe" "$@" "${skip_args[@]}" | tee "$stdout_copy"
    status=${PIPESTATUS[0]}
    set -e
    # 0 is success, 101 a failed test, 124 a hang that `timeout` ended (never retried);
    # anything else with no output is Wine not starting the program.
    if [ "$status" -eq 0 ] || [ "$status" -eq 101 ] || [ "$status" -eq 124 ] || [ -s "$stdout_copy" ]; then
        exit "$status"
    fi
    echo "wine-runner: $crate: Wine exited with status $status before the program printed anything (attempt $attempt of 3)" >&2
done
echo "wine-runner: $crate: giving up: Wine did not start it in 3 attempts" >&2
exit "$status"
