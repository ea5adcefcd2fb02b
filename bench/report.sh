#!/usr/bin/env bash
# Benchmark: `hwcert report` of a run of N instances (default 10,000; every instance with a
# 20-line log, one in ten with measurements, one in a hundred failing), unsigned and signed,
# against the floor any report must pay: copying the logs (cp -r) and hashing them (sha256sum).
# Prints medians of ROUNDS interleaved rounds and the ratios.
#   bench/report.sh [INSTANCES] [ROUNDS]      (defaults 10000 and 10)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
rounds=${2:-10}

cargo build --release --locked -q -p suite -p reports --bin hwcert --example make_run
hwcert=./target/release/hwcert
work=$(mktemp -d "${TMPDIR:-/tmp}/hwcert-bench-report.XXXXXX")
trap 'rm -rf "$work"' EXIT
./target/release/examples/make_run "$work/run" --instances "$n" 2>/dev/null
XDG_CONFIG_HOME="$work/config" "$hwcert" keygen -f "$work/key" --principal bench@example.com \
    >"$work/allowed_signers" 2>/dev/null

ms() { date +%s%N; }
declare -A times
run() {  # name command…
    local name=$1; shift
    local t0 t1
    t0=$(ms)
    "$@" >/dev/null 2>&1 || { echo "bench: $name failed: $*" >&2; exit 1; }
    t1=$(ms)
    times[$name]+="$(( (t1 - t0) / 1000000 )) "
}
names=("hwcert report" "hwcert report --key" "hwcert verify" "cp -r logs + sha256sum")
export XDG_CONFIG_HOME="$work/config"   # no lab key: the unsigned run stays unsigned
for ((r = 0; r < rounds; r++)); do
    rm -rf "$work/out" "$work/signed" "$work/copy"
    run "hwcert report" "$hwcert" report "$work/run" -o "$work/out"
    run "hwcert report --key" "$hwcert" report "$work/run" -o "$work/signed" --key "$work/key"
    run "hwcert verify" "$hwcert" verify "$work/signed" --allowed-signers "$work/allowed_signers"
    run "cp -r logs + sha256sum" sh -c "cp -r '$work/run/logs' '$work/copy' && cd '$work/copy' && find . -type f -print0 | xargs -0 sha256sum"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }
floor=$(echo "${times["cp -r logs + sha256sum"]}" | median)
echo "hwcert report of $n instances ($(du -sh "$work/run/logs" | cut -f1) of logs; report.html $(du -h "$work/signed/report.html" | cut -f1), report.json $(du -h "$work/signed/report.json" | cut -f1)); $rounds rounds, $(nproc) CPUs"
printf '%-26s %10s %12s\n' command "median ms" "/ cp+sha256"
for name in "${names[@]}"; do
    m=$(echo "${times[$name]}" | median)
    printf '%-26s %10s %12s\n' "$name" "$m" "$(awk -v a="$m" -v b="$floor" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')"
done
