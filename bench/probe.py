"""Run each command ROUNDS times, interleaved (one of each per round, in rotating order), and
print median wall time, peak RSS and ratios against hwcert. Output goes to /dev/null."""
import os
import resource  # noqa: F401  (wait4 returns its struct)
import statistics
import subprocess
import sys
import time

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
HWCERT = ["./target/release/hwcert", "probe", "--json"]
TOOLS = [
    ("hwcert probe --json", HWCERT),
    ("lspci -vmmnnk", ["lspci", "-vmmnnk"]),
    ("lscpu -J", ["lscpu", "-J"]),
    ("lsblk -J -O", ["lsblk", "-J", "-O"]),
    ("lshw -json", ["lshw", "-json"]),
]


def once(argv):
    devnull = os.open(os.devnull, os.O_WRONLY)
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status, ru = os.wait4(pid, 0)
    dt = time.perf_counter() - t0
    os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed (status {status})")
    return dt, ru.ru_maxrss  # KiB on Linux


def peak_rss_kib(argv):
    """Peak RSS of one run, measured by GNU time (a small fork()ing parent: a child spawned by
    this Python process would inherit Python's own high-water mark across exec)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=True).stderr
    return int(out.strip().splitlines()[-1])


def main():
    times = {name: [] for name, _ in TOOLS}
    rss = {name: 0 for name, _ in TOOLS}
    for name, argv in TOOLS:  # warm the page cache once
        once(argv)
    for r in range(ROUNDS):
        order = TOOLS[r % len(TOOLS):] + TOOLS[:r % len(TOOLS)]
        for name, argv in order:
            dt, _ = once(argv)
            times[name].append(dt)
    for name, argv in TOOLS:
        for _ in range(3):
            rss[name] = max(rss[name], peak_rss_kib(argv))
    base = statistics.median(times[TOOLS[0][0]])
    print(f"{ROUNDS} interleaved rounds on {os.uname().nodename} ({os.cpu_count()} CPUs)")
    print(f"{'command':<22}{'median ms':>10}{'p90 ms':>9}{'peak RSS MiB':>14}{'time / hwcert':>15}")
    for name, _ in TOOLS:
        ts = sorted(times[name])
        med = statistics.median(ts)
        p90 = ts[int(0.9 * (len(ts) - 1))]
        print(f"{name:<22}{med * 1e3:>10.2f}{p90 * 1e3:>9.2f}{rss[name] / 1024:>14.1f}{med / base:>14.2f}x")
    lspci = statistics.median(times["lspci -vmmnnk"])
    lshw = statistics.median(times["lshw -json"])
    peak = rss[TOOLS[0][0]] / 1024
    print()
    print(f"goal: hwcert <= lspci -vmmnnk alone: {base * 1e3:.2f} ms vs {lspci * 1e3:.2f} ms "
          f"-> {'MET' if base <= lspci else 'NOT MET'} (ratio {base / lspci:.2f})")
    print(f"goal: >= 10x faster than lshw -json: {lshw / base:.1f}x -> "
          f"{'MET' if lshw / base >= 10 else 'NOT MET'}")
    print(f"goal: peak RSS <= 16 MiB: {peak:.1f} MiB -> {'MET' if peak <= 16 else 'NOT MET'}")


if __name__ == "__main__":
    main()
