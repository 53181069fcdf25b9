# Sourced by the stages that use Debian's Rust toolchain (.ci/windows.sh, .ci/cross-clippy.sh):
# installs Debian's rustc-web, cargo-web, its std source and clippy (once per machine), and
# puts that toolchain first on PATH for the rest of the stage.
#
# Why Debian's toolchain: CI's rustup has only the host's std and cannot download other
# targets. Debian's rust-web-src ships the std source of exactly the compiler it comes with,
# so `-Zbuild-std` (allowed on a stable compiler by RUSTC_BOOTSTRAP=1) builds std for any
# target LLVM knows: x86_64-pc-windows-gnu (linked by MinGW, run by Wine), and for checking
# only, x86_64-pc-windows-msvc and aarch64-apple-darwin.
#
# A package that cannot be installed is an error: the stage fails, it is never skipped.

# The packages, as Debian bookworm names them (checked with apt-cache policy).
DEBIAN_RUST_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-clippy)

ci_log() { printf '%s: %s\n' "${CI_STAGE:-ci}" "$*"; }
ci_fail() { printf '%s FAILED: %s\n' "${CI_STAGE:-ci}" "$*" >&2; exit 1; }

# Installs the named Debian packages unless every one of them is installed already.
# `apt-get update` runs at most once per CI run (the marker lives in the run's target dir).
apt_install() { # package...
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' \
            || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    ci_log "installing from Debian: ${missing[*]}"
    command -v apt-get >/dev/null || ci_fail "no apt-get on this machine: cannot install ${missing[*]}"
    if [ -z "${CI_APT_UPDATED:-}" ]; then
        timeout 600 apt-get update -qq || ci_fail "apt-get update failed"
        export CI_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null \
        || ci_fail "apt-get install ${missing[*]} failed (is each package still in Debian? apt-cache policy NAME)"
}

# Installs Debian's toolchain and makes it the one this shell uses.
use_debian_rust() {
    apt_install "${DEBIAN_RUST_PACKAGES[@]}"
    # rustup's proxies in ~/.cargo/bin come first on PATH; Debian's cargo, rustc and
    # cargo-clippy are in /usr/bin. RUSTC is set too, so nothing picks rustup's rustc.
    export PATH="/usr/bin:$PATH"
    export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
    unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER
    # -Zbuild-std on a stable compiler.
    export RUSTC_BOOTSTRAP=1
    local sysroot version
    sysroot=$(/usr/bin/rustc --print sysroot)
    version=$(/usr/bin/rustc --version)
    # cargo looks for std's source in <sysroot>/lib/rustlib/src/rust/library; rust-web-src
    # links that to /usr/src/rustc-<version>.
    [ -f "$sysroot/lib/rustlib/src/rust/library/std/Cargo.toml" ] \
        || ci_fail "no std source at $sysroot/lib/rustlib/src/rust/library (rust-web-src)"
    case "$version" in
        "rustc $(dpkg-query -W -f='${Version}' rust-web-src | cut -d+ -f1) "*) ;;
        *) ci_fail "rustc-web ($version) and rust-web-src ($(dpkg-query -W -f='${Version}' rust-web-src)) differ" ;;
    esac
    ci_log "using $version, $(/usr/bin/cargo --version), $(/usr/bin/cargo clippy --version)"
}
