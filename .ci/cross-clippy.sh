#!/usr/bin/env bash
# CI stage "cross-clippy": `cargo clippy -D warnings` for the targets students' default
# toolchains build, x86_64-pc-windows-msvc and aarch64-apple-darwin, so that code under
# `#[cfg(windows)]` / `#[cfg(target_os = "macos")]` is compiled and linted too. Check only:
# nothing is linked (no MSVC or Apple linker is needed).
# Runs on its own too: `bash .ci/cross-clippy.sh [target...]`.
#
# std for those targets is built from Debian's rust-web-src with -Zbuild-std, and linted by
# Debian's clippy of the same version (see .ci/debian-rust.sh).
#
# Environment: CI_CROSS_TARGET_DIR (default target/ci-cross); CARGO_BUILD_JOBS as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
CI_STAGE=cross-clippy
. .ci/debian-rust.sh

started=$SECONDS
use_debian_rust
export CARGO_TARGET_DIR
CARGO_TARGET_DIR=$(realpath -m "${CI_CROSS_TARGET_DIR:-target/ci-cross}")

targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(x86_64-pc-windows-msvc aarch64-apple-darwin)
for target in "${targets[@]}"; do
    step_started=$SECONDS
    ci_log "cargo clippy --workspace --all-targets -Zbuild-std --target $target -- -D warnings"
    timeout 1200 cargo clippy --workspace --all-targets --locked -Zbuild-std --target "$target" \
        -- -D warnings
    ci_log "$target: clean in $((SECONDS - step_started)) s"
done
ci_log "stage took $((SECONDS - started)) s"
