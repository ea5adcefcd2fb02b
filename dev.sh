#!/usr/bin/env bash
# hwcert's developer entry point: installs what the build needs (where missing), then
#   ./dev.sh run [ARGS…]   builds hwcert (release) and runs it (default: the main job,
#                          `hwcert certify --profile quick`)
#   ./dev.sh test          runs the whole test suite
#   ./dev.sh test aarch64  runs the whole test suite built for aarch64-unknown-linux-gnu: natively
#                          on an aarch64 host, else cross-built and run under qemu-user (Debian)
#   ./dev.sh toolchain     only makes sure a Rust toolchain is there (installs one, see ensure_rust)
#   ./dev.sh rpm [aarch64] builds the RPM (packaging/build-rpm.sh: vendored tarball, offline
#                          rpmbuild, rpmlint, install into a scratch root); aarch64: cross-built
#   ./dev.sh dist          release binaries for x86_64 and aarch64 into dist/, with SHA256SUMS
#   ./dev.sh docs          writes README.md's generated blocks again (options, case needs)
# Works on Debian/Ubuntu (apt-get) and OpenCloudOS/RHEL/CentOS (dnf or yum); without Rust it
# installs the system's toolchain when new enough.
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

# The network traffic tests (issue 15) drive iperf3, ping, tc and ip in network namespaces they
# make. Best effort: where a tool cannot be had, those tests say so and skip.
ensure_traffic_tools() {
    local need=()
    command -v iperf3 >/dev/null || need+=(iperf3)
    command -v ping >/dev/null || need+=(ping)
    command -v tc >/dev/null || need+=(tc)
    [ ${#need[@]} -eq 0 ] && return 0
    echo "dev.sh: installing for the network traffic tests: ${need[*]}" >&2
    if command -v apt-get >/dev/null; then
        local pkgs=()
        for n in "${need[@]}"; do case $n in
            iperf3) pkgs+=(iperf3) ;; ping) pkgs+=(iputils-ping) ;; tc) pkgs+=(iproute2) ;;
        esac; done
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null \
            || echo "dev.sh: could not install ${pkgs[*]}; the traffic tests will skip" >&2
    elif command -v dnf >/dev/null || command -v yum >/dev/null; then
        local pm; pm=$(command -v dnf || command -v yum)
        local pkgs=()
        for n in "${need[@]}"; do case $n in
            iperf3) pkgs+=(iperf3) ;; ping) pkgs+=(iputils) ;; tc) pkgs+=(iproute-tc) ;;
        esac; done
        sudo_if_needed "$pm" install -y -q "${pkgs[@]}" >/dev/null 2>&1 \
            || echo "dev.sh: could not install ${pkgs[*]}; the traffic tests will skip" >&2
    fi
    return 0
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

# The lab fleet test (issue 18: packaging/ansible/tests/fleet.sh) drives ansible-core over sshd
# instances in network namespaces. Best effort: where they cannot be had, that test says so and
# skips.
ensure_fleet_tools() {
    local need=()
    command -v ansible-playbook >/dev/null || need+=(ansible-core)
    command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
    command -v ssh >/dev/null || need+=(openssh-client)
    [ ${#need[@]} -eq 0 ] && return 0
    echo "dev.sh: installing for the lab fleet test: ${need[*]}" >&2
    if command -v apt-get >/dev/null; then
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
            || echo "dev.sh: could not install ${need[*]}; the fleet test will skip" >&2
    elif command -v dnf >/dev/null || command -v yum >/dev/null; then
        local pm; pm=$(command -v dnf || command -v yum)
        local pkgs=()
        for n in "${need[@]}"; do case $n in
            openssh-client) pkgs+=(openssh-clients) ;; *) pkgs+=("$n") ;;
        esac; done
        sudo_if_needed "$pm" install -y -q "${pkgs[@]}" >/dev/null 2>&1 \
            || echo "dev.sh: could not install ${pkgs[*]}; the fleet test will skip" >&2
    fi
    return 0
}

# The aarch64 leg on an x86_64 Debian host: Debian's own rustc/cargo (rustc-web: rustup cannot
# add targets offline) with the aarch64 standard library, the cross linker, the arm64 multiarch
# libc/libudev, and qemu-user to run the test binaries.
AARCH64_PKGS=(rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu
              libc6-dev-arm64-cross libc6:arm64 libudev-dev:arm64 qemu-user-static)
ensure_aarch64_cross() {
    local missing=()
    for p in "${AARCH64_PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "dev.sh: installing the aarch64 cross toolchain: ${missing[*]}" >&2
    sudo_if_needed dpkg --add-architecture arm64
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The suite re-executes itself (workers, self-tests spawn `hwcert`): under qemu-user an aarch64
# process that execs an aarch64 binary needs the kernel to know qemu as that format's
# interpreter (binfmt_misc, as Debian's qemu-user-static declares in /usr/lib/binfmt.d; no
# systemd-binfmt runs on this kind of VM). Registered until the next boot.
ensure_aarch64_binfmt() {
    local dir=/proc/sys/fs/binfmt_misc conf=/usr/lib/binfmt.d/qemu-aarch64.conf
    [ -e "$dir/qemu-aarch64" ] && return 0
    echo "dev.sh: registering qemu-aarch64 with binfmt_misc (until reboot)" >&2
    [ -e "$dir/register" ] || sudo_if_needed mount -t binfmt_misc binfmt_misc "$dir"
    sudo_if_needed sh -c "cat '$conf' > '$dir/register'"
}

# The environment of Debian's cargo building for aarch64 (tests run under qemu-aarch64-static).
# Its own target directory, ${CARGO_TARGET_DIR:-target}/cross: Debian's rustc is another
# compiler than rustup's, and sharing target/ would rebuild the host's build scripts on every
# switch.
aarch64_cross_env() {
    export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64-static
    export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
    export PKG_CONFIG_ALLOW_CROSS=1 PKG_CONFIG_SYSROOT_DIR=/
    export PKG_CONFIG_PATH=/usr/lib/aarch64-linux-gnu/pkgconfig
}

# Release binaries into dist/: hwcert-VERSION-x86_64-linux-gnu (the host build) and
# hwcert-VERSION-aarch64-linux-gnu (cross-built as for the aarch64 test leg, or the host build
# on an aarch64 host), with dist/SHA256SUMS (`cd dist && sha256sum -c SHA256SUMS`).
dist() {
    local host; host=$(uname -m)
    local target=${CARGO_TARGET_DIR:-target}
    ensure_system_packages
    cargo build --release --locked -q -p suite
    local version; version=$("$target/release/hwcert" --version | awk '{ print $2 }')
    rm -rf dist && mkdir dist
    cp "$target/release/hwcert" "dist/hwcert-$version-$host-linux-gnu"
    if [ "$host" = x86_64 ]; then
        if command -v apt-get >/dev/null; then
            ensure_aarch64_cross
            ( aarch64_cross_env
              /usr/bin/cargo build --release --locked -q -p suite --target aarch64-unknown-linux-gnu \
                  --target-dir "$target/cross" )
            cp "$target/cross/aarch64-unknown-linux-gnu/release/hwcert" \
                "dist/hwcert-$version-aarch64-linux-gnu"
        else
            echo "dev.sh: no aarch64 binary: the cross build uses Debian's packages" \
                 "(build it with ./dev.sh dist on an aarch64 host)" >&2
        fi
    fi
    ( cd dist && sha256sum hwcert-* > SHA256SUMS && sha256sum -c --quiet SHA256SUMS )
    echo "dev.sh: dist/:" >&2
    ( cd dist && ls -l hwcert-* && cat SHA256SUMS ) >&2
}

# Runs `cargo test` for aarch64. The runner is qemu-aarch64-static WITHOUT `-L
# /usr/aarch64-linux-gnu`: with -L, qemu takes the dynamic loader from the cross sysroot
# (libc6-arm64-cross) but, where a path is missing under the prefix, falls back to the host's
# /lib/aarch64-linux-gnu, where libc6:arm64 (a newer 2.36 build, needed by libudev:arm64) lives.
# That loader and that libc disagree on the layout of the loader's globals, and every
# pthread_create then loops forever in the stack cache (every test binary hangs at its first
# test). Without -L both come from libc6:arm64.
test_aarch64() {
    local triple=aarch64-unknown-linux-gnu
    if [ "$(uname -m)" = aarch64 ]; then
        exec cargo test --workspace --locked "$@"
    fi
    if ! command -v apt-get >/dev/null; then
        echo "dev.sh: the aarch64 leg cross-builds with Debian's packages; on this system run" \
             "./dev.sh test on an aarch64 host instead" >&2
        exit 1
    fi
    ensure_aarch64_cross
    ensure_aarch64_binfmt
    aarch64_cross_env
    exec /usr/bin/cargo test --workspace --locked --target "$triple" \
        --target-dir "${CARGO_TARGET_DIR:-target}/cross" "$@"
}

# rpmbuild and rpmlint for ./dev.sh rpm (Debian: rpm, rpmlint; OpenCloudOS: rpm-build, rpmlint).
ensure_rpm_tools() {
    command -v rpmbuild >/dev/null && command -v rpmlint >/dev/null && return 0
    echo "dev.sh: installing rpmbuild and rpmlint" >&2
    if command -v apt-get >/dev/null; then
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rpm rpmlint >/dev/null
    elif command -v dnf >/dev/null || command -v yum >/dev/null; then
        sudo_if_needed "$(command -v dnf || command -v yum)" install -y -q rpm-build rpmlint
    else
        echo "dev.sh: please install rpmbuild and rpmlint" >&2; return 1
    fi
}

# The Rust toolchain. Without cargo on PATH (nor in ~/.cargo/bin), install one from the
# system's packages when they are new enough for the workspace's rust-version (Cargo.toml):
# Debian 12 has rustc-web/cargo-web (1.9x) in its security archive, newer Debian/Ubuntu rustc and
# cargo; OpenCloudOS/RHEL have rust and cargo in their base repositories. Otherwise say exactly
# what to install: lab machines often cannot reach rustup's downloads.
RUST_VERSION=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)

# Whether version $1 is at least $2 (dotted numbers; a Debian epoch or revision is ignored).
version_at_least() {
    local v=${1#*:}; v=${v%%[-+~]*}
    [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$2" "$v" | sort -V | head -n1)" = "$2" ]
}

no_toolchain() {
    echo "dev.sh: no cargo found, and $1." >&2
    echo "dev.sh: hwcert needs Rust $RUST_VERSION or newer (rust-version in Cargo.toml). Install one of:" >&2
    echo "dev.sh:   Debian 12:          apt-get install rustc-web cargo-web   (bookworm-security, 1.9x)" >&2
    echo "dev.sh:   Debian 13 / Ubuntu: apt-get install rustc cargo           (when ≥ $RUST_VERSION)" >&2
    echo "dev.sh:   OpenCloudOS / RHEL: dnf install rust cargo                (when ≥ $RUST_VERSION)" >&2
    echo "dev.sh:   anywhere online:    rustup (https://rustup.rs), then open a new shell" >&2
    exit 1
}

# The candidate version apt would install of package $1, empty when it has none.
apt_candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2 }'
}

ensure_rust() {
    command -v cargo >/dev/null && return 0
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
        echo "dev.sh: using rustup's cargo in $HOME/.cargo/bin (not on PATH)" >&2
        return 0
    fi
    if command -v apt-get >/dev/null; then
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
        local pair v seen=""
        for pair in "rustc-web cargo-web" "rustc cargo"; do
            v=$(apt_candidate "${pair%% *}")
            seen="$seen${seen:+, }${pair%% *} ${v:-none}"
            if [ -n "$v" ] && version_at_least "$v" "$RUST_VERSION"; then
                echo "dev.sh: no cargo found: installing $pair $v from the system's packages" >&2
                # shellcheck disable=SC2086
                sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pair >/dev/null
                command -v cargo >/dev/null && return 0
                no_toolchain "apt-get install $pair gave no cargo on PATH"
            fi
        done
        no_toolchain "apt offers no rustc ≥ $RUST_VERSION ($seen; on Debian 12 enable bookworm-security)"
    elif command -v dnf >/dev/null || command -v yum >/dev/null; then
        local pm v; pm=$(command -v dnf || command -v yum)
        v=$("$pm" -q repoquery --latest-limit 1 --qf '%{version}' rust 2>/dev/null | tail -n1)
        if [ -n "$v" ] && version_at_least "$v" "$RUST_VERSION"; then
            echo "dev.sh: no cargo found: installing rust and cargo $v from the system's packages" >&2
            sudo_if_needed "$pm" install -y -q rust cargo
            command -v cargo >/dev/null && return 0
            no_toolchain "$pm install rust cargo gave no cargo on PATH"
        fi
        no_toolchain "the repositories offer rust ${v:-(none)}, older than $RUST_VERSION"
    fi
    no_toolchain "no apt-get, dnf or yum here"
}

cmd=${1:-run}
[ $# -gt 0 ] && shift
ensure_rust
case $cmd in
    toolchain)
        # What the other commands build with (tests of this script use it).
        echo "dev.sh: cargo $(command -v cargo)"
        ;;
    run)
        ensure_system_packages
        # Cargo's own progress: the first build takes several minutes.
        cargo build --release --locked -p suite
        if [ $# -eq 0 ]; then set -- certify --profile quick; fi
        exec ./target/release/hwcert "$@"
        ;;
    test)
        ensure_system_packages
        ensure_browser
        ensure_traffic_tools
        ensure_fleet_tools
        # The fixture tests create thousands of small files: keep them in memory when we can.
        if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
        if [ "${1:-}" = aarch64 ]; then shift; test_aarch64 "$@"; fi
        exec cargo test --workspace --locked "$@"
        ;;
    rpm)
        ensure_system_packages
        ensure_rpm_tools
        if [ "${1:-}" = aarch64 ] && [ "$(uname -m)" != aarch64 ]; then
            ensure_aarch64_cross
            ensure_aarch64_binfmt
            aarch64_cross_env
        fi
        exec packaging/build-rpm.sh "$@"
        ;;
    docs)
        cargo build --locked -q -p suite
        bin=${CARGO_TARGET_DIR:-target}/debug/hwcert
        "$bin" __docs readme README.md > README.md.new && mv README.md.new README.md
        git diff --stat -- README.md
        ;;
    dist)
        dist
        ;;
    *)
        echo "usage: ./dev.sh run [HWCERT ARGS…] | ./dev.sh test [aarch64] [CARGO TEST ARGS…] | ./dev.sh rpm [aarch64] | ./dev.sh dist | ./dev.sh docs | ./dev.sh toolchain" >&2
        exit 2
        ;;
esac
