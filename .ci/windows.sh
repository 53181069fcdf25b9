#!/usr/bin/env bash
# CI stage "windows": the workspace's tests, built for x86_64-pc-windows-gnu and run under
# Wine. Runs on its own too: `bash .ci/windows.sh [extra cargo test args, e.g. -p shared]`.
#
# What it needs, all from Debian's packages (installed here; a missing package fails the
# stage): Debian's Rust toolchain with its std source (see .ci/debian-rust.sh), MinGW-w64
# (the linker, and the compiler for the stand-in DLL below), and Wine 8.
#
# Tests that fail only because Wine is not Windows are listed, with the reason, in
# .ci/wine-skips.txt and skipped here only (by .ci/windows/wine-runner.sh, cargo's runner).
#
# Environment: CI_WINDOWS_TARGET_DIR (default target/ci-windows) holds the build and the
# Wine prefix; CARGO_BUILD_JOBS as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
CI_STAGE=windows
. .ci/debian-rust.sh

target=x86_64-pc-windows-gnu
target_dir=$(realpath -m "${CI_WINDOWS_TARGET_DIR:-target/ci-windows}")
mkdir -p "$target_dir"

started=$SECONDS
# One apt-get run for everything (the packages as bookworm names them).
apt_install "${DEBIAN_RUST_PACKAGES[@]}" gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine64
use_debian_rust
# Debian's wine64 package puts its loader here (/usr/bin/wine comes with the `wine` package).
WINE=/usr/lib/wine/wine64
[ -x "$WINE" ] || ci_fail "no $WINE after installing wine64"
command -v x86_64-w64-mingw32-gcc >/dev/null || ci_fail "no x86_64-w64-mingw32-gcc (gcc-mingw-w64-x86-64)"
ci_log "$("$WINE" --version), $(x86_64-w64-mingw32-gcc --version | head -n 1)"
ci_log "installed in $((SECONDS - started)) s"

# A Wine prefix of this run's own: nothing from ~/.wine, nothing left in it.
export WINEPREFIX="$target_dir/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# One wineserver for the whole stage, kept alive between test executables (by default it
# exits 3 s after its last program, and the next program starts another): one less moving
# part under the start-up failure that .ci/windows/wine-runner.sh retries. Stopped, and the
# prefix's registry saved, when the stage ends.
WINESERVER=/usr/lib/wine/wineserver
[ -x "$WINESERVER" ] || ci_fail "no $WINESERVER after installing wine64"
mkdir -p "$WINEPREFIX"
# A wineserver left over by an earlier, killed run would hold the prefix: stop it first.
"$WINESERVER" -k 2>/dev/null || true
trap '"$WINESERVER" -k 2>/dev/null || true' EXIT
"$WINESERVER" -p </dev/null >"$target_dir/wineserver.log" 2>&1 \
    || ci_fail "cannot start a persistent wineserver: $(tail -n 5 "$target_dir/wineserver.log")"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    ci_log "creating the Wine prefix"
    timeout 300 "$WINE" wineboot --init >"$target_dir/wineboot.log" 2>&1 \
        || ci_fail "wineboot failed: $(tail -n 5 "$target_dir/wineboot.log")"
fi
system32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$system32" ] || ci_fail "the Wine prefix has no system32"

# Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's std calls for random bytes:
# a stand-in that forwards to BCryptGenRandom, built here and put in the prefix's system32.
x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -o "$system32/bcryptprimitives.dll" \
    .ci/windows/bcryptprimitives.c .ci/windows/bcryptprimitives.def -lbcrypt \
    || ci_fail "cannot build the bcryptprimitives.dll stand-in"

export CARGO_TARGET_DIR="$target_dir"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/.ci/windows/wine-runner.sh"
export WINE WINE_SKIPS_FILE="$PWD/.ci/wine-skips.txt"
# Arguments, if any, replace `--workspace` (e.g. `-p shared`, or `-p xtask -- some_test`);
# what follows `--` goes to the test binaries.
[ "$#" -gt 0 ] || set -- --workspace
cargo_args=() test_args=()
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do cargo_args+=("$1"); shift; done
[ "$#" -gt 0 ] && shift && test_args=("$@")
cargo_windows=(cargo test -Zbuild-std --target "$target" "${cargo_args[@]}")

ci_log "building std and the workspace's tests for $target"
build_started=$SECONDS
timeout 1200 "${cargo_windows[@]}" --no-run
ci_log "built in $((SECONDS - build_started)) s"

ci_log "running the tests under Wine (skips: $(grep -c '^[a-z]' "$WINE_SKIPS_FILE") in .ci/wine-skips.txt)"
run_started=$SECONDS
timeout 1200 "${cargo_windows[@]}" --no-fail-fast -- "${test_args[@]}"
ci_log "tests ran in $((SECONDS - run_started)) s; stage took $((SECONDS - started)) s"
