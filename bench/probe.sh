#!/usr/bin/env bash
# Benchmark: `hwcert probe --json` against lspci -vmmnnk, lscpu -J, lsblk -J -O and lshw -json
# on this machine, interleaved, printing medians, peak RSS and ratios.
#   bench/probe.sh [ROUNDS]     (default 30 rounds; installs missing reference tools)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}

need=()
command -v lspci >/dev/null || need+=(pciutils)
command -v lshw >/dev/null || need+=(lshw)
command -v lscpu >/dev/null || need+=(util-linux)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    echo "bench: installing ${need[*]}" >&2
    if command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        "$(command -v dnf || command -v yum)" install -y -q "${need[@]}"
    fi
fi

./dev.sh run --version >/dev/null   # builds target/release/hwcert (and its system packages)
exec python3 bench/probe.py "$rounds"
