# Sourced by the bench/*-vs-before.sh scripts: a work folder that is removed at exit, and a
# program built as it was at an earlier commit (from a temporary git worktree, into
# target/bench-before or $BEFORE_TARGET_DIR).
release="${CARGO_TARGET_DIR:-target}/release"
before_target="${BEFORE_TARGET_DIR:-target/bench-before}"
work=$(mktemp -d)
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    git worktree remove --force "$work/before-src" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Builds PACKAGE's binary BIN at REV and copies it to $work/AS.
build_before() { # rev, package, bin, as
    [ -d "$work/before-src" ] || git worktree add --quiet --detach "$work/before-src" "$1"
    (cd "$work/before-src" && CARGO_TARGET_DIR="$OLDPWD/$before_target" \
        cargo build --release --quiet -p "$2" --bins)
    cp "$before_target/release/$3" "$work/$4"
}
