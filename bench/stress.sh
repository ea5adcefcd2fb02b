#!/usr/bin/env bash
# hwcert's stress measurements beside reference tools doing the same work, in one go on this
# machine: each pair and the ratio ours / reference.
#
#   bench/stress.sh [SECONDS] [ROUNDS] [SECTIONS]
#
# 10 s per run and 3 rounds by default, medians and per-round ratios compared; SECTIONS is a
# comma-separated choice of memory, storage and cpu (default all three), e.g.
# `bench/stress.sh 10 9 storage`. Pairs run in ABAB order, each program in a session of its own
# (see bench/stress_compare.py for why).
#
#   memory: STREAM copy vs mbw MEMCPY (one pinned mbw per CPU, converted to STREAM's counting),
#           STREAM all-kernel rate vs stress-ng --stream
#   storage: sequential write/read (1 MiB, depth 4) and 4 KiB random reads (depth 32) with
#           O_DIRECT vs fio with the same block sizes, depths, file size, engine and O_DIRECT, on
#           a scratch file in /var/tmp (the real disk's filesystem; removed afterwards)
#   cpu:    scaling (all CPUs / one CPU) and CPU utilisation vs stress-ng --cpu
#
# Installs fio, mbw and stress-ng where missing (apt-get, dnf or yum). Needs python3.
# Never writes a raw device.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${2:-3}
sections=${3:-memory,storage,cpu}

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else echo "stress.sh: need root to run: $*" >&2; return 1
    fi
}

need=()
tools=()
case ",$sections," in *,memory,*) tools+=(mbw stress-ng) ;; esac
case ",$sections," in *,storage,*) tools+=(fio) ;; esac
case ",$sections," in *,cpu,*) tools+=(stress-ng) ;; esac
for t in "${tools[@]}"; do
    command -v "$t" >/dev/null || case " ${need[*]} " in *" $t "*) ;; *) need+=("$t") ;; esac
done
if [ ${#need[@]} -gt 0 ]; then
    echo "stress.sh: installing ${need[*]}" >&2
    if command -v apt-get >/dev/null; then
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    elif command -v dnf >/dev/null || command -v yum >/dev/null; then
        # mbw and stress-ng come from EPOL/EPEL on OpenCloudOS and RHEL-family systems.
        sudo_if_needed "$(command -v dnf || command -v yum)" install -y -q "${need[@]}"
    else
        echo "stress.sh: please install ${need[*]}" >&2; exit 1
    fi
fi
command -v python3 >/dev/null || { echo "stress.sh: needs python3" >&2; exit 1; }

cargo build --release --locked -q -p cases --example stress
exec python3 bench/stress_compare.py --bin target/release/examples/stress --seconds "$secs" --repeat "$rounds" \
    --sections "$sections"
