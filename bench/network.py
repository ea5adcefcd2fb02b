#!/usr/bin/env python3
"""bench/network.py [--rounds 5] [--seconds 3] [--hwcert PATH]: hwcert's TCP figure against
iperf3 run by hand, on the same veth pair in the same run (issue 15.5).

Two network namespaces joined by a veth pair (192.0.2.1 — 192.0.2.2, documentation addresses,
traffic nowhere else) are made and removed here; `hwcert peer` serves in one. Each round runs,
in ABAB order, `hwcert run` of network::throughput::va (its send figure, throughput_send) and
`iperf3 -c 192.0.2.2 --bind-dev va -t SECONDS -J` by hand (end.sum_received). The goal: the
median of the per-round ratios hwcert / iperf3 is at least 0.95. Needs root, iperf3, iproute2.
The record goes to bench/runs/<UTC time>-network.json (see bench/runs/README.md).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import common as c

NS_A, NS_B = f"hwcert-b-{os.getpid()}a", f"hwcert-b-{os.getpid()}b"


def sh(*argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def setup():
    for step in [
        ["ip", "netns", "add", NS_A], ["ip", "netns", "add", NS_B],
        ["ip", "link", "add", "va", "netns", NS_A, "type", "veth", "peer", "name", "vb", "netns", NS_B],
        ["ip", "-n", NS_A, "addr", "add", "192.0.2.1/24", "dev", "va"],
        ["ip", "-n", NS_B, "addr", "add", "192.0.2.2/24", "dev", "vb"],
        ["ip", "-n", NS_A, "link", "set", "lo", "up"], ["ip", "-n", NS_B, "link", "set", "lo", "up"],
        ["ip", "-n", NS_A, "link", "set", "va", "up"], ["ip", "-n", NS_B, "link", "set", "vb", "up"],
    ]:
        sh(*step)


def teardown(peer):
    if peer is not None and peer.poll() is None:
        peer.kill()
        peer.wait()
    for ns in (NS_A, NS_B):
        pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
        for p in pids:
            try:
                os.kill(int(p), 9)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", ns, check=False)


def ours(hwcert, profile, out):
    r = subprocess.run(["ip", "netns", "exec", NS_A, hwcert, "run", "--profile", profile, "--out", out,
                        "network::throughput::va", "--exact"], capture_output=True, text=True)
    with open(os.path.join(out, "journal.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            for m in e.get("measurements", []):
                if m["name"] == "throughput_send":
                    return m["value"]
    raise SystemExit(f"hwcert gave no throughput_send: {r.stdout[-800:]}{r.stderr[-800:]}")


def reference(seconds):
    r = sh("ip", "netns", "exec", NS_A, "iperf3", "-c", "192.0.2.2", "-p", "5201", "-J",
           "--bind-dev", "va", "-t", str(seconds), "-P", "1")
    return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e6


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=int, default=3)
    p.add_argument("--hwcert", default=None, help="the hwcert binary (default: cargo build --release)")
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/network.py: needs root (network namespaces)")
    hwcert = a.hwcert
    if hwcert is None:
        target = os.environ.get("CARGO_TARGET_DIR", "target")
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "suite"], check=True)
        hwcert = os.path.join(target, "release", "hwcert")
    rec = {"schema": "hwcert.bench/1", "benchmark": "network", "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "options": vars(a), "machine": c.machine(), "git": c.git(), "rounds": [], "complete": False}
    peer = None
    work = tempfile.mkdtemp(prefix="hwcert-bench-net-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        setup()
        peer = subprocess.Popen(["ip", "netns", "exec", NS_B, hwcert, "peer", "--allow", "192.0.2.1",
                                 "--streams", "1", "--duration", "30m"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        profile = os.path.join(work, "bench.toml")
        with open(profile, "w") as f:
            f.write('extends = "quick"\nnetwork_peer = "192.0.2.2"\nnetwork_interfaces = ["va"]\n'
                    f'[network]\nseconds = {a.seconds}\nthreshold = 1\n')
        for i in range(1, a.rounds + 1):
            ours_first = i % 2 == 1
            vals = {}
            for who in (["ours", "ref"] if ours_first else ["ref", "ours"]):
                if who == "ours":
                    vals["ours"] = ours(hwcert, profile, os.path.join(work, f"run{i}"))
                else:
                    vals["ref"] = reference(a.seconds)
            ratio = vals["ours"] / vals["ref"] if vals["ref"] else None
            rec["rounds"].append({"round": i, "ours_first": ours_first, **vals, "ratio": ratio})
            print(f"round {i}: hwcert {vals['ours']:.0f} Mb/s, iperf3 by hand {vals['ref']:.0f} Mb/s, "
                  f"ratio {ratio:.3f}", flush=True)
        ratios = [r["ratio"] for r in rec["rounds"] if r["ratio"] is not None]
        o = statistics.median(r["ours"] for r in rec["rounds"])
        f = statistics.median(r["ref"] for r in rec["rounds"])
        rec["summary"] = {"ours_median": o, "ref_median": f, "ratio_of_medians": o / f,
                          "median_of_ratios": statistics.median(ratios), "ratio_min": min(ratios),
                          "ratio_max": max(ratios), "direction": "higher is better", "goal": 0.95,
                          "goal_met": statistics.median(ratios) >= 0.95}
        rec["complete"] = True
        s = rec["summary"]
        print(f"TCP send on veth, {a.rounds} ABAB rounds of {a.seconds} s: hwcert median {o:.0f} Mb/s, "
              f"iperf3 by hand {f:.0f} Mb/s; median of ratios {s['median_of_ratios']:.3f} "
              f"(min {s['ratio_min']:.3f}, max {s['ratio_max']:.3f}); goal >= 0.95: "
              f"{'met' if s['goal_met'] else 'NOT met'}")
    finally:
        teardown(peer)
        rec["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs",
                           time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-network.json")
        with open(out, "w") as fh:
            json.dump(rec, fh, indent=1)
        print(f"record: {out}")
    return 0 if rec.get("summary", {}).get("goal_met") else 1


if __name__ == "__main__":
    sys.exit(main())
