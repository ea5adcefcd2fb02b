#!/usr/bin/env bash
# Builds hwcert's RPM (run through `./dev.sh rpm [aarch64]`, which installs rpmbuild/rpmlint and
# sets up the aarch64 cross environment):
#   1. the source tarball hwcert-VERSION.tar.gz: the tree's files (git ls-files, uncommitted
#      changes included) with every crate vendored (cargo vendor) and .cargo/config.toml;
#   2. rpmbuild -ba packaging/hwcert.spec, with the network cut off (unshare -n: a network
#      namespace of its own with no route anywhere) and an empty CARGO_HOME, so the build can
#      use nothing but the tarball;
#   3. rpmlint of the spec and the RPMs: any error fails;
#   4. rpm --root SCRATCH --nodeps -i, then SCRATCH/usr/bin/hwcert --version and man -l of its
#      man page.
# Everything goes under ${CARGO_TARGET_DIR:-target}/rpm; the RPMs in RPMS/ARCH/.
# Options: aarch64 (cross-build for aarch64 on another host); --without-check (skip %check).
set -euo pipefail
cd "$(dirname "$0")/.."

arch=$(uname -m) cargo_target="" check=1
for a in "$@"; do
    case $a in
        aarch64) arch=aarch64 ;;
        x86_64) arch=x86_64 ;;
        --without-check) check=0 ;;
        *) echo "build-rpm.sh: unknown argument $a (aarch64, x86_64, --without-check)" >&2; exit 2 ;;
    esac
done
cross=0
if [ "$arch" != "$(uname -m)" ]; then
    cross=1
    cargo_target=$arch-unknown-linux-gnu
fi
t0=$(date +%s)
step() { echo "build-rpm: [$(( $(date +%s) - t0 )) s] $*" >&2; }

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
spec_version=$(sed -n 's/^Version:[[:space:]]*//p' packaging/hwcert.spec)
if [ "$version" != "$spec_version" ]; then
    echo "build-rpm.sh: Cargo.toml says version $version, packaging/hwcert.spec says $spec_version" >&2
    exit 1
fi

target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
top=$target_dir/rpm
name=hwcert-$version
rm -rf "$top/stage" "$top/scratch-$arch" "$top/cargo-home"
mkdir -p "$top"/{SOURCES,SPECS,RPMS,SRPMS,stage,cargo-home}

# 1. The tarball.
step "source tarball $name.tar.gz"
stage=$top/stage/$name
mkdir -p "$stage"
git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf - | tar -xf - -C "$stage"
# cargo vendor reads the registry (or its cache); the build after it does not.
(cd "$stage" && cargo vendor --locked --versioned-dirs -q vendor >/dev/null)
mkdir -p "$stage/.cargo"
cat > "$stage/.cargo/config.toml" <<'TOML'
# Written by packaging/build-rpm.sh: every crate comes from vendor/, never from the network.
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "vendor"

[net]
offline = true
TOML
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$(git log -1 --format=%ct)" \
    -C "$top/stage" -czf "$top/SOURCES/$name.tar.gz" "$name"
cp packaging/hwcert.spec "$top/SPECS/"
step "tarball: $(du -h "$top/SOURCES/$name.tar.gz" | cut -f1), $(ls "$stage/vendor" | wc -l) vendored crates"

# 2. rpmbuild, offline.
defs=(--define "_topdir $top" --define "packager ${RPM_PACKAGER:-hwcert developers <hwcert@opencloudos.org>}")
# rpm's brp-compress (gzip of the man pages) is a /bin/sh script using bash's `read -d`: where
# /bin/sh is not bash (Debian's dash) run it with bash.
if [ "$(readlink -f /bin/sh)" != "$(readlink -f /bin/bash)" ]; then
    defs+=(--define "__brp_compress /bin/bash $(rpm --eval '%{__brp_compress}')")
fi
if [ $check = 0 ]; then defs+=(--without check); fi
# On a host whose packages rpm does not know (Debian), BuildRequires cannot be checked.
if ! rpm -q --whatprovides gcc >/dev/null 2>&1; then
    step "rpm knows no installed packages here (not an RPM system): rpmbuild --nodeps"
    defs+=(--nodeps)
fi
if [ $cross = 1 ]; then
    defs+=(--target "$arch" --define "cargo_target $cargo_target"
           --define "hwcert_runner qemu-$arch-static"
           --define "__strip $arch-linux-gnu-strip" --define "__objdump $arch-linux-gnu-objdump")
    # Debian's cargo with Debian's rustc (RUSTC, from ./dev.sh): it has the aarch64 std.
    export PATH=/usr/bin:$PATH
fi
# A target directory of the RPM's own, kept between runs: the vendored crates' paths differ from
# the registry's, so sharing the developer's target/ would rebuild both in turn.
export CARGO_TARGET_DIR=$top/cargo-$arch
# An empty CARGO_HOME: no registry cache, no git checkouts, nothing but the tarball.
export CARGO_HOME=$top/cargo-home
# rustup's cargo finds its toolchain through RUSTUP_HOME, not CARGO_HOME.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
offline=()
if unshare -n true 2>/dev/null; then
    offline=(unshare -n)
    step "rpmbuild for $arch with the network cut off (unshare -n; $(unshare -n ip -o route 2>/dev/null | wc -l) routes inside)"
else
    step "rpmbuild for $arch (unshare -n is not allowed here: the network stays up, but CARGO_HOME is empty)"
fi
"${offline[@]}" rpmbuild -ba "${defs[@]}" "$top/SPECS/hwcert.spec" > "$top/rpmbuild-$arch.log" 2>&1 || {
    tail -n 60 "$top/rpmbuild-$arch.log" >&2
    echo "build-rpm.sh: rpmbuild failed; the whole log is $top/rpmbuild-$arch.log" >&2
    exit 1
}
grep -E '^(test result:|Executing\(%check\))' "$top/rpmbuild-$arch.log" >&2 || true
rpm_file=$(ls -t "$top/RPMS/$arch/$name"-*."$arch".rpm | head -n 1)
srpm_file=$(ls -t "$top/SRPMS/$name"-*.src.rpm | head -n 1)
step "built $rpm_file"

# 3. rpmlint: errors fail; warnings are printed (and explained in README.md's Install section).
step "rpmlint"
rpmlint -c packaging/rpmlint.toml "$top/SPECS/hwcert.spec" "$srpm_file" "$rpm_file"

# 4. Install into a scratch root and run it from there.
scratch=$top/scratch-$arch
step "rpm --root $scratch --nodeps -i"
mkdir -p "$scratch"
rpm --root "$scratch" --nodeps --ignorearch -i "$rpm_file"
run=()
[ $cross = 1 ] && run=("qemu-$arch-static")
"${run[@]}" "$scratch/usr/bin/hwcert" --version
man -l "$scratch"/usr/share/man/man1/hwcert.1* | head -n 12
mode=$(stat -c %a "$scratch/etc/hwcert/keys")
[ "$mode" = 700 ] || { echo "build-rpm.sh: /etc/hwcert/keys has mode $mode, not 700" >&2; exit 1; }
step "done: $rpm_file ($(du -h "$rpm_file" | cut -f1)), $srpm_file"
