#!/usr/bin/env bash
# hwcert's developer entry point: installs what the build needs (where missing), then
#   ./dev.sh run [ARGS…]   builds hwcert (release) and runs it (default: the main job,
#                          `hwcert certify --profile quick`)
#   ./dev.sh test          runs the whole test suite
# Works on Debian/Ubuntu (apt-get) and OpenCloudOS/RHEL/CentOS (dnf or yum) with Rust installed.
set -euo pipefail
cd "$(dirname "$0")"

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else echo "dev.sh: need root to run: $*" >&2; return 1
    fi
}

# System packages: libudev headers + pkg-config (udev crate); tar/xz/bzip2 (test fixtures).
ensure_system_packages() {
    local need=()
    command -v pkg-config >/dev/null || need+=(pkg-config)
    if ! pkg-config --exists libudev 2>/dev/null; then need+=(libudev); fi
    command -v xz >/dev/null || need+=(xz)
    command -v bzip2 >/dev/null || need+=(bzip2)
    command -v cc >/dev/null || need+=(cc)
    [ ${#need[@]} -eq 0 ] && return 0
    echo "dev.sh: installing missing system packages for: ${need[*]}" >&2
    if command -v apt-get >/dev/null; then
        local pkgs=()
        for n in "${need[@]}"; do case $n in
            pkg-config) pkgs+=(pkg-config) ;; libudev) pkgs+=(libudev-dev) ;;
            xz) pkgs+=(xz-utils) ;; bzip2) pkgs+=(bzip2) ;; cc) pkgs+=(gcc libc6-dev) ;;
        esac; done
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
    elif command -v dnf >/dev/null || command -v yum >/dev/null; then
        local pm; pm=$(command -v dnf || command -v yum)
        local pkgs=()
        for n in "${need[@]}"; do case $n in
            pkg-config) pkgs+=(pkgconf-pkg-config) ;; libudev) pkgs+=(systemd-devel) ;;
            xz) pkgs+=(xz) ;; bzip2) pkgs+=(bzip2) ;; cc) pkgs+=(gcc) ;;
        esac; done
        sudo_if_needed "$pm" install -y -q "${pkgs[@]}"
    else
        echo "dev.sh: please install: ${need[*]} (no apt-get, dnf or yum here)" >&2
        return 1
    fi
}

# The browser tests (report page, HCL site) drive a headless Chromium: Debian's chromium package.
# Best effort: where no package provides it, those tests say so and skip.
ensure_browser() {
    command -v chromium >/dev/null || command -v chromium-browser >/dev/null && return 0
    echo "dev.sh: installing chromium for the browser tests" >&2
    if command -v apt-get >/dev/null; then
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
            || echo "dev.sh: could not install chromium; the browser tests will skip" >&2
    elif command -v dnf >/dev/null || command -v yum >/dev/null; then
        local pm; pm=$(command -v dnf || command -v yum)
        sudo_if_needed "$pm" install -y -q chromium-headless >/dev/null 2>&1 \
            || sudo_if_needed "$pm" install -y -q chromium >/dev/null 2>&1 \
            || echo "dev.sh: no chromium package here (EPEL has one); the browser tests will skip" >&2
    fi
    return 0
}

if ! command -v cargo >/dev/null; then
    echo "dev.sh: cargo not found: install Rust (https://rustup.rs) first" >&2
    exit 1
fi

cmd=${1:-run}
[ $# -gt 0 ] && shift
case $cmd in
    run)
        ensure_system_packages
        cargo build --release --locked -q -p suite
        if [ $# -eq 0 ]; then set -- certify --profile quick; fi
        exec ./target/release/hwcert "$@"
        ;;
    test)
        ensure_system_packages
        ensure_browser
        # The fixture tests create thousands of small files: keep them in memory when we can.
        if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
        exec cargo test --workspace --locked "$@"
        ;;
    *)
        echo "usage: ./dev.sh run [HWCERT ARGS…] | ./dev.sh test [CARGO TEST ARGS…]" >&2
        exit 2
        ;;
esac
