#!/usr/bin/env bash
# CI stage "msrv": builds and tests the workspace with the Rust it declares as its minimum
# (`rust-version` in Cargo.toml), so that a student whose toolchain is that old can work.
# Runs on its own too: `bash .ci/msrv.sh`.
#
# CI's rustup cannot download another toolchain. Debian bookworm keeps rustc-web/cargo-web
# 1.85 in its main suite (bookworm-security has a newer one, which `apt-get install` would
# pick), so this stage downloads those exact .debs with `apt-get download` and unpacks them
# with `dpkg -x` into its target dir: the system's own Rust packages are left alone.
# If Debian no longer has the declared version, the stage fails and says which versions it
# has: change `rust-version` to one CI can test.
#
# Environment: CI_MSRV_TARGET_DIR (default target/ci-msrv); CARGO_BUILD_JOBS as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
CI_STAGE=msrv
. .ci/debian-rust.sh

started=$SECONDS
target_dir=$(realpath -m "${CI_MSRV_TARGET_DIR:-target/ci-msrv}")
mkdir -p "$target_dir"

msrv=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -n 1)
[ -n "$msrv" ] || ci_fail "no rust-version in Cargo.toml"
case "$msrv" in *.*.*) ;; *) msrv="$msrv.0" ;; esac
series=$(echo "$msrv" | cut -d. -f1,2) # 1.85: Debian's package libstd-rust-web-1.85

if [ -z "${CI_APT_UPDATED:-}" ]; then
    timeout 600 apt-get update -qq || ci_fail "apt-get update failed"
    export CI_APT_UPDATED=1
fi
version=$(apt-cache madison rustc-web | awk -F'|' '{gsub(/ /, "", $2); print $2}' \
    | grep "^$msrv+" | head -n 1 || true)
if [ -z "$version" ]; then
    ci_fail "Debian has no rustc-web $msrv (rust-version in Cargo.toml); it has: $(apt-cache madison rustc-web | awk -F'|' '{print $2}' | tr -d ' ' | tr '\n' ' ')"
fi
# clippy too: `cargo xtask grade` checks submissions with it, and xtask's tests grade.
packages=(rustc-web cargo-web "libstd-rust-web-$series" libstd-rust-web-dev rust-web-clippy)

root="$target_dir/rust-$msrv"
if [ ! -x "$root/usr/bin/cargo" ]; then
    ci_log "downloading Debian's Rust $version: ${packages[*]}"
    debs="$target_dir/debs"
    rm -rf "$debs" "$root"
    mkdir -p "$debs" "$root"
    # apt's sandbox user cannot write into a root-owned folder; the download is still checked.
    (cd "$debs" && timeout 600 apt-get download -qq "${packages[@]/%/=$version}" 2>&1 \
        | grep -v 'Download is performed unsandboxed' || true)
    for package in "${packages[@]}"; do
        deb=$(ls "$debs/${package}_"*.deb 2>/dev/null | head -n 1)
        [ -n "$deb" ] || ci_fail "apt-get download $package=$version failed"
        dpkg-deb -x "$deb" "$root"
    done
    # What they need from the system (libllvm19, libcurl4, ...), less what was unpacked.
    needed=()
    for deb in "$debs"/*.deb; do
        for dependency in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/^ *libc-dev *$/libc6-dev/' | tr -d ' '); do
            [[ " ${packages[*]} " == *" $dependency "* ]] || needed+=("$dependency")
        done
    done
    mapfile -t needed < <(printf '%s\n' "${needed[@]}" | sort -u)
    apt_install "${needed[@]}"
fi

export PATH="$root/usr/bin:$PATH"
export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export RUSTC="$root/usr/bin/rustc" RUSTDOC="$root/usr/bin/rustdoc"
unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER RUSTC_BOOTSTRAP
export CARGO_TARGET_DIR="$target_dir/target"
have=$("$RUSTC" --version)
case "$have" in "rustc $msrv "*) ;; *) ci_fail "expected rustc $msrv, got: $have" ;; esac
ci_log "using $have, $(cargo --version) (ready in $((SECONDS - started)) s)"

# Warnings are errors, as in the Linux stage: what 1.85's rustc warns about, a student on
# 1.85 sees on every build. (Clippy is the current stable's job, in the Linux stage: an older
# clippy has false positives that newer ones fixed.) `cargo check --all-targets` compiles
# every target; `cargo build --all-targets` would write every module's `server` and
# `client` to one target/debug/ (the collision the DESIGN explains); `cargo test` builds
# only the tests.
export RUSTFLAGS="-D warnings"
step_started=$SECONDS
timeout 1200 cargo check --workspace --all-targets --locked
ci_log "cargo check --all-targets (-D warnings) passed in $((SECONDS - step_started)) s"
step_started=$SECONDS
timeout 1200 cargo test --workspace --locked
ci_log "tests ran in $((SECONDS - step_started)) s; stage took $((SECONDS - started)) s"
