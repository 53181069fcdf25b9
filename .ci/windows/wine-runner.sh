#!/usr/bin/env bash
# Cargo's runner for x86_64-pc-windows-gnu in the Windows stage (.ci/windows.sh): runs one
# test executable under Wine, adding `--skip` for the tests that .ci/wine-skips.txt lists for
# that crate (and `--exact`, so a skip names one test, not every test containing the name).
# Only this stage uses the skip list; on Linux and on real Windows every test runs.
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
# A hung test binary must not hang CI (Wine can deadlock where Windows would not).
exec timeout "${WINE_TEST_TIMEOUT:-600}" "$WINE" "$exe" "$@" "${skip_args[@]}"
