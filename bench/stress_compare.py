"""The stress back end of bench/run.py (`bench/run.py stress`, which checks the tools and builds
the `stress` example): hwcert's stress cases beside reference tools configured for the same work,
each pair and the ratio ours / reference. Starting programs, timing, medians, ratios, the pairs'
table and the record are bench/common.py's.

  memory: STREAM copy vs mbw MEMCPY (one pinned mbw per CPU, converted to STREAM's counting),
          STREAM all-kernel rate vs stress-ng --stream
  storage: sequential write/read (1 MiB) and 4 KiB random reads with O_DIRECT, hwcert's peak
          over its queue-depth sweep (1, 2, 4, ... 64, stopping when throughput stops rising) vs
          fio's best over every one of those depths, each fio run as long as one of hwcert's
          steps, with the same block sizes, file size, engine (io_uring) and O_DIRECT, on a
          scratch file in /var/tmp (the real disk's filesystem; removed afterwards)
  cpu:    scaling (all CPUs / one CPU) and CPU utilisation vs stress-ng --cpu

Unit conversions, stated once:
  * hwcert and STREAM count MB = 10^6 bytes; copy moves 2 x 8 bytes per element (read + write),
    scale 2 x 8, add and triad 3 x 8.
  * mbw reports MiB/s of *copied* data: each byte once, MiB = 2^20. STREAM-equivalent MB/s =
    mbw x 2 x 1.048576. mbw is single-threaded: for N CPUs, N mbw run at once, one pinned per
    CPU, each on arrays of 1/N of hwcert's (each hwcert thread owns 1/N of every array), and
    their rates are summed; hwcert's best-of-iterations rate is compared with the sum of each
    mbw's best (and, for the record, of their averages).
  * stress-ng --stream reports "MB read/sec" and "MB write/sec" with MB = 2^20, counting each
    array access as STREAM does; its rate covers all four kernels together, so it is compared
    with hwcert's four rates combined the same way: total bytes / total time =
    10 / (2/copy + 2/scale + 3/add + 3/triad) (per element, in units of 8 bytes).
  * fio's MB/s is 10^6 bytes; its lat_ns (submission to completion) percentiles are compared
    with hwcert's submission-to-reaping latencies, at the depth of hwcert's random-read peak.
  * CPU: a stress-ng bogo-op and an hwcert round are different work, so absolute rates are not
    comparable. Compared are what both must do alike: scaling (rate on all CPUs / rate on one
    CPU) and CPU utilisation (CPU time / wall time / CPUs).

Fairness, stated once:
  * Order: ours runs first in odd rounds, the reference first in even ones (ABAB), so neither
    always gets the machine (or the host of a VM) in the state the other left it in.
  * Sessions: every program the benchmark starts runs in a session of its own. fio's job
    process calls setsid() itself, and with autogroup scheduling (kernel.sched_autogroup_enabled,
    on by default) a session is a scheduling group of its own: on a busy machine fio's job got
    a whole group's share of the CPUs while ours shared the benchmark's session with whatever
    else ran there. Now both are alike.
  * Storage: both files are on the same filesystem (/var/tmp), of the same size, read with
    O_DIRECT (never the page cache), and fully written once at depth 64 before the sweep (ours
    as its first write; fio's first job writes all of fio.dat, which is checked to have no
    unwritten or missing extents: reading holes returns zeros without touching the disk), so
    every measured write overwrites. fio's writes refill their buffers with new data every time
    (--refill_buffers), as every block hwcert writes is its own: with fio's default (a few
    buffers written over and over) this project's virtual disk wrote 2-3x faster (1012-2891 vs
    333-968 MB/s at depths 2 and 16, same file, same minute), which no real data does; that
    figure is kept for the record at fio's best depth. Each fio run lasts one of hwcert's steps
    (sweep_step_seconds, of the same round or, when fio goes first, of the round before).
    The goal compares peaks (hwcert's reported figure, fio's best depth); hwcert's figure at
    fio's best depth and both peak depths are shown for the record.
"""

import json
import os
import re
import shutil
import tempfile

from common import in_order, log, loadavg, output, Proc, run

MiB = 1 << 20
SECTIONS = ("memory", "storage", "cpu")


class Round:
    """The round being run: its number (from 1) and whether ours goes first in it."""

    def __init__(self, a, pairs):
        self.a, self.pairs = a, pairs
        self.i, self.ours_first = 0, True

    def row(self, figure, ours, ref_name, ref, unit, higher_better=True, info=False):
        """One pair of one run. The goal is ours >= 0.9 x reference (latency: ours <= reference / 0.9)."""
        self.pairs.add(figure, ours, ref, unit=unit, ours_name="hwcert", ref_name=ref_name, round=self.i,
                       ours_first=self.ours_first, higher_better=higher_better, info=info)

    def in_order(self, ours, ref):
        return in_order(self.ours_first, ours, ref)


def run_ours(binary, args):
    """Run the stress example; return ({name: value}, cpu seconds, wall seconds)."""
    r = run([binary] + args, capture=True)
    try:
        doc = json.loads(r.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"stress example failed: {' '.join(args)}\n{r.stderr}")
    if doc["verdict"]["status"] != "pass":
        log(f"warning: {' '.join(args)}: {doc['verdict']}\n{r.stderr}")
    return {m["name"]: m["value"] for m in doc["measurements"]}, r.cpu, r.wall


def online_cpus():
    return sorted(os.sched_getaffinity(0))


# --- memory ------------------------------------------------------------------------------------

def mbw_copy(cpus, per_instance_mib, runs):
    """One mbw MEMCPY per CPU at once; (sum of best, sum of average) in MiB/s."""
    procs = [Proc(["taskset", "-c", str(c), "mbw", "-n", str(runs), "-t0", str(per_instance_mib)],
                  capture=True, merge=True) for c in cpus]
    best = avg = 0.0
    for p in procs:
        out = p.wait().check().stdout
        rates = [(l.split()[0], float(re.search(r"Copy: ([\d.]+) MiB/s", l).group(1)))
                 for l in out.splitlines() if "Method: MEMCPY" in l]
        best += max(r for k, r in rates if k != "AVG")
        avg += next(r for k, r in rates if k == "AVG")
    return best, avg


def stressng_stream(n, array_bytes, secs):
    """stress-ng --stream with per-instance arrays of array_bytes/n; summed MiB/s (read+write)."""
    # stress-ng sizes each instance's arrays as 4 x l3-size / instances.
    out = output(["stress-ng", "--stream", str(n), "--stream-l3-size", str(array_bytes // 4),
                  "-t", str(secs), "--metrics-brief"])
    rates = re.findall(r"memory rate: ([\d.]+) MB read/sec, ([\d.]+) MB write/sec.*\(instance (\d+)\)", out)
    if not rates:
        return None, 0, out
    total = sum(float(r) + float(w) for r, w, _ in rates)
    # An instance whose timed part was under 4.5 s prints no rate: scale up by instances seen.
    return total * n / len(rates), len(rates), out


# --- storage -----------------------------------------------------------------------------------

def disk_of(path):
    src = output(["findmnt", "-no", "SOURCE", "-T", path]).strip()
    chain = output(["lsblk", "-nrso", "NAME,TYPE", src]).split("\n")
    disks = [l.split()[0] for l in chain if l.split()[1:] == ["disk"]]
    return disks[-1] if disks else os.path.basename(src)


def fio(filename, rw, bs, depth, size, runtime_ms=None, loops=1, extra=()):
    cmd = ["fio", "--name=ref", f"--filename={filename}", f"--rw={rw}", f"--bs={bs}", f"--loops={loops}",
           f"--iodepth={depth}", "--ioengine=io_uring", "--direct=1", f"--size={size}",
           "--lat_percentiles=1", "--output-format=json", *extra]
    if runtime_ms:
        cmd += ["--time_based", f"--runtime={runtime_ms}ms"]
    job = json.loads(run(cmd, capture=True).check().stdout)["jobs"][0]
    return job["write" if "write" in rw else "read"]


def allocation(path):
    """(bytes allocated, extents flagged unwritten or None without filefrag) of a file."""
    allocated = os.stat(path).st_blocks * 512
    if not shutil.which("filefrag"):
        return allocated, None
    r = run(["filefrag", "-v", path], capture=True)
    return allocated, (sum("unwritten" in l for l in r.stdout.splitlines()) if r.code == 0 else None)


# --- the sections --------------------------------------------------------------------------------

def memory(rnd, secs, cpus):
    a = rnd.a
    n = len(cpus)
    array = a.array_mib * MiB
    # stress-ng is compared with ours' all-CPU run: after it in an ours-first round, before it
    # (and before mbw) otherwise.
    sng_first = None if rnd.ours_first else stressng_stream(n, array, max(secs, 10))
    (m, _, _), (best, avg) = rnd.in_order(
        lambda: run_ours(a.bin, ["memory", str(secs), f"stream_array_bytes={array}", "memory_bytes=256M"]),
        lambda: mbw_copy(cpus, a.array_mib // n, 50))
    rnd.row(f"memory copy {n} CPUs, best", m["copy_mb_s"], f"{n} x mbw MEMCPY, best", best * 2 * 1.048576, "MB/s")
    rnd.row(f"memory copy {n} CPUs vs average", m["copy_mb_s"], f"{n} x mbw MEMCPY, avg", avg * 2 * 1.048576,
            "MB/s", info=True)
    # One CPU: the same per-thread arrays, one thread, one mbw.
    (m1, _, _), (best1, _) = rnd.in_order(
        lambda: run_ours(a.bin, ["memory", str(secs), f"stream_array_bytes={array // n}", "memory_bytes=64M",
                                 f"cpu_list={cpus[0]}"]),
        lambda: mbw_copy(cpus[:1], a.array_mib // n, 50))
    rnd.row("memory copy 1 CPU, best", m1["copy_mb_s"], "1 x mbw MEMCPY, best", best1 * 2 * 1.048576, "MB/s")
    sng, seen, out = sng_first or stressng_stream(n, array, max(secs, 10))
    combined = 10 / (2 / m["copy_mb_s"] + 2 / m["scale_mb_s"] + 3 / m["add_mb_s"] + 3 / m["triad_mb_s"])
    if sng is None:
        log(f"stress-ng --stream printed no rate:\n{out}")
    else:
        rnd.row("memory STREAM 4-kernel rate", combined, "stress-ng --stream x1.048576", sng * 1.048576, "MB/s")


# The depths hwcert's sweep tries by default (storage_max_depth = 64); fio runs every one of them.
DEPTHS = (1, 2, 4, 8, 16, 32, 64)


def best(results, key):
    """(depth, result) of the highest results[depth][key]."""
    d = max(results, key=lambda d: (results[d][key], -d))
    return d, results[d]


def storage(rnd, secs, disk, state):
    a = rnd.a
    work = tempfile.mkdtemp(prefix="hwcert-bench.", dir="/var/tmp")
    try:
        def ours():
            s, _, _ = run_ours(a.bin, ["storage", disk, str(secs), f"storage_file_bytes={a.file_mib}M",
                                       f"storage_dir={work}", "storage_engine=io_uring"])
            state["step_ms"] = max(100, round(s["sweep_step_seconds"] * 1000))
            return s

        def reference():
            f = os.path.join(work, "fio.dat")
            size = f"{a.file_mib}M"
            # As hwcert does first (not a figure): the whole file written once at the largest depth,
            # so every step overwrites, reads written blocks and never holes.
            fio(f, "write", "1M", DEPTHS[-1], size)
            allocated, unwritten = allocation(f)
            if allocated < a.file_mib * MiB or unwritten:
                log(f"  warning: fio.dat has {allocated} bytes allocated of {a.file_mib * MiB}, "
                    f"{unwritten} unwritten extents: fio would read holes, not the disk")
            # Every depth for as long as one step of ours (its first run is always before this one).
            ms = state["step_ms"]
            # New data in every write, as ours (every block its own offset's): fio's default reuses
            # a few buffers, which a virtual disk's host path can make much faster (see below).
            w = {d: fio(f, "write", "1M", d, size, runtime_ms=ms, extra=("--refill_buffers",)) for d in DEPTHS}
            wd, _ = best(w, "bw_bytes")
            w_reused = fio(f, "write", "1M", wd, size, runtime_ms=ms)
            r = {d: fio(f, "read", "1M", d, size, runtime_ms=ms) for d in DEPTHS}
            rr = {d: fio(f, "randread", "4k", d, size, runtime_ms=ms) for d in DEPTHS}
            os.unlink(f)
            return w, r, rr, allocated, unwritten, ms, (wd, w_reused)

        s, (w, r, rr, allocated, unwritten, ms, (wd, w_reused)) = rnd.in_order(ours, reference)
        log(f"  steps of {s['sweep_step_seconds']:.2f} s (ours) and {ms / 1000:.2f} s (fio); "
            f"fio.dat {allocated / MiB:.0f} MiB allocated, {'?' if unwritten is None else unwritten} unwritten extents")
        for phase, title, ours_key, fio_runs, key, unit in (
                ("seq_write", "sequential write 1 MiB", "seq_write_mb_s", w, "bw_bytes", "MB/s"),
                ("seq_read", "sequential read 1 MiB", "seq_read_mb_s", r, "bw_bytes", "MB/s"),
                ("randread", "random read 4 KiB", "randread_4k_iops", rr, "iops", "IOPS")):
            scale = 1e6 if key == "bw_bytes" else 1
            metric = "mb_s" if key == "bw_bytes" else "iops"
            fd, fbest = best(fio_runs, key)
            od = int(s[f"{phase}_peak_qd"])
            curve_ours = {d: s[f"{phase}_qd{d}_{metric}"] for d in DEPTHS if f"{phase}_qd{d}_{metric}" in s}
            log(f"  {title}: ours " + ", ".join(f"qd{d} {v:.0f}" for d, v in curve_ours.items())
                + f" (peak qd{od}); fio " + ", ".join(f"qd{d} {fio_runs[d][key] / scale:.0f}" for d in DEPTHS)
                + f" (best qd{fd})")
            rnd.row(f"{title}, peak over depths", s[ours_key], "fio, best depth", fbest[key] / scale, unit)
            at = curve_ours.get(fd)
            if at is not None:
                rnd.row(f"{title}, at fio's best depth", at, "fio, best depth", fbest[key] / scale, unit, info=True)
            rnd.row(f"{title}, peak depth", od, "fio's best depth", fd, "qd", info=True)
        rnd.row("sequential write 1 MiB, peak over depths vs reused buffers", s["seq_write_mb_s"],
                "fio default buffers, its best depth", w_reused["bw_bytes"] / 1e6, "MB/s", info=True)
        # Latency: ours at its peak random depth against fio at the same depth.
        od = int(s["randread_peak_qd"])
        pct = rr[od]["lat_ns"]["percentile"]
        rnd.row("random read latency p50 at ours' peak depth", s["lat_p50_us"], "fio lat p50, same depth",
                pct["50.000000"] / 1e3, "us", False)
        rnd.row("random read latency p99 at ours' peak depth", s["lat_p99_us"], "fio lat p99, same depth",
                pct["99.000000"] / 1e3, "us", False)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cpu(rnd, secs, cpus):
    a = rnd.a
    n = len(cpus)

    def sng_cpu(k, extra):
        out = output(["stress-ng", "--cpu", str(k), "--cpu-method", "matrixprod", "-t", str(secs),
                      "--metrics"] + extra)
        line = next(l for l in out.splitlines() if re.search(r"metrc:.*\] cpu\s+\d", l))
        f = line.split("] ")[1].split()
        return float(f[5]), float(f[7])  # bogo ops/s (real time), CPU used per instance %

    (c_all, cpu_all, wall_all), (ref_all, ref_busy) = rnd.in_order(
        lambda: run_ours(a.bin, ["cpu", str(secs)]), lambda: sng_cpu(n, []))
    (c_one, _, _), (ref_one, _) = rnd.in_order(
        lambda: run_ours(a.bin, ["cpu", str(secs), f"cpu_list={cpus[0]}"]),
        lambda: sng_cpu(1, ["--taskset", str(cpus[0])]))
    one = c_one[f"cpu{cpus[0]}_ops_per_s"]
    rnd.row(f"cpu scaling {n} CPUs / 1", c_all["total_ops_per_s"] / one, "stress-ng --cpu matrixprod",
            ref_all / ref_one, "x")
    rnd.row("cpu utilisation", 100 * cpu_all / wall_all / n, "stress-ng CPU used per instance", ref_busy, "%")
    return (f"ours {c_all['total_ops_per_s']:.0f} rounds/s ({c_all['fma_gflops']:.1f} GFLOP/s FMA) on {n} CPUs, "
            f"{one:.0f} on cpu{cpus[0]} alone; stress-ng matrixprod {ref_all:.1f} bogo ops/s, {ref_one:.1f} alone")


# --- the benchmark -------------------------------------------------------------------------------

def parse_sections(text):
    sections = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [x for x in sections if x not in SECTIONS]
    if unknown or not sections:
        raise SystemExit(f"--sections {text}: expected some of {', '.join(SECTIONS)}")
    return sections


def tools(sections):
    """The commands the sections need: (command, why)."""
    need = []
    if "memory" in sections:
        need += ["mbw", "stress-ng", "taskset"]
    if "storage" in sections:
        need += ["fio", "findmnt", "lsblk"]
    if "cpu" in sections:
        need += ["stress-ng"]
    return list(dict.fromkeys(need))


def meets(ratio, higher_better):
    return ratio >= 0.9 if higher_better else ratio <= 1 / 0.9


def verdict(x):
    """The goal, ours >= 0.9 x reference (latency <= reference / 0.9), for both ratios."""
    if x["info"]:
        return "for the record"
    ok = meets(x["ratio_of_medians"], x["higher_better"]) and meets(x["median_of_ratios"], x["higher_better"])
    return "ok" if ok else "BELOW GOAL"


def run_all(a, pairs):
    """Every round of the chosen sections (a: bin, seconds, rounds, sections, array_mib,
    file_mib), pairs into PAIRS; prints the table. Returns what else the record keeps."""
    sections, secs = a.sections, a.seconds
    cpus = online_cpus()
    disk = disk_of("/var/tmp") if "storage" in sections else None
    loads = []
    print(f"hwcert stress benchmark: {', '.join(sections)}; {len(cpus)} CPUs, {secs} s per run, {a.rounds} rounds "
          f"(ours and the reference back to back, ours first in odd rounds, the reference in even ones), "
          f"load average at start {loadavg()}", flush=True)
    absolute = []
    storage_state = {}
    rnd = Round(a, pairs)
    for i in range(a.rounds):
        rnd.i, rnd.ours_first = i + 1, i % 2 == 0
        first = "ours" if rnd.ours_first else "the reference"
        for section in sections:
            log(f"round {i + 1}: {section}, {first} first (load {loadavg()})")
            loads.append(loadavg())
            if section == "memory":
                memory(rnd, secs, cpus)
            elif section == "storage":
                storage(rnd, secs, disk, storage_state)
            else:
                absolute.append(cpu(rnd, secs, cpus))
    loads.append(loadavg())

    print()
    pairs.print_table(verdict)
    print("The goal (ours >= 0.9 x reference; latency <= reference / 0.9) must hold for both ratio and paired.")
    print()
    pairs.print_rounds()
    for i, t in enumerate(absolute):
        print(f"absolute cpu, round {i + 1}: {t} (different work: not comparable)")
    if disk:
        print(f"disk: {disk} (scratch files in /var/tmp, removed)")
    print(f"load averages (1, 5, 15 min) at each section: {' | '.join(loads)}")
    return {"cpus": cpus, "disk": disk, "absolute_cpu": absolute, "loadavg_at_sections": loads,
            "goals": {fig: verdict(x) for fig, x in pairs.summary().items()}}
