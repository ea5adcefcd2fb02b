#!/usr/bin/env python3
"""hwcert's benchmarks, one entry point:

  bench/run.py list                  the benchmarks
  bench/run.py NAME [options]        run one (NAME --help for its options)

Every benchmark checks its tools first (installing missing reference tools with apt-get, dnf or
yum unless --no-install), builds what it needs (cargo build --release --locked, into
$CARGO_TARGET_DIR or ./target), runs, prints its summary and keeps everything it measured in
bench/runs/<UTC time>-<NAME>.json (see bench/runs/README.md).

Pairs (ours against a reference tool) run in ABAB order: ours first in odd rounds, the reference
first in even ones, each program in a session of its own; ratios are ours / reference, given as
the ratio of the medians and the median of the per-round ratios, each row saying whether lower or
higher is better. The shared machinery (spawning and timing, peak RSS, medians and ratios, tools,
the record) is bench/common.py; the stress back end is bench/stress_compare.py.
"""

import sys

if sys.version_info < (3, 9):
    sys.exit("bench/run.py: needs Python 3.9 or later")

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402

import common as c  # noqa: E402
import stress_compare  # noqa: E402

EPEL = "mbw and stress-ng come from EPOL/EPEL on OpenCloudOS and RHEL-family systems"

# Every command a benchmark may need, with its package under apt-get and under dnf/yum.
TOOLS = {t.cmd: t for t in [
    c.Tool("lspci", "pciutils"),
    c.Tool("lshw", "lshw", version=("-version",)),
    c.Tool("lscpu", "util-linux"),
    c.Tool("lsblk", "util-linux"),
    c.Tool("findmnt", "util-linux"),
    c.Tool("taskset", "util-linux"),
    c.Tool(c.GNU_TIME, "time"),
    c.Tool("cp", "coreutils"),
    c.Tool("sha256sum", "coreutils"),
    c.Tool("find", "findutils"),
    c.Tool("xargs", "findutils"),
    c.Tool("fio", "fio"),
    c.Tool("mbw", "mbw", version=None, note=EPEL),
    c.Tool("stress-ng", "stress-ng", note=EPEL),
]}


def human(n):
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def tree_bytes(path, apparent=True):
    """Bytes in the files under path: their sizes, or (apparent=False) what they take on disk."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            st = os.lstat(os.path.join(root, f))
            total += st.st_size if apparent else st.st_blocks * 512
    return total


def fstype(path):
    return c.output(["findmnt", "-no", "FSTYPE", "-T", path]).strip()


def ms(run):
    return run.wall * 1e3


def mib(run):
    return run.rss_kib / 1024 if run.rss_kib is not None else float("nan")


def step(argv, env=None):
    """A program as a benchmark step: called, it runs the program (under GNU time with rss=True)
    and returns its Run, exiting when it fails."""
    return lambda rss=False: c.run(argv, env=env, rss=rss).check()


def timed(group):
    """Steps (name, step) as steps returning their wall time in ms."""
    return [(name, lambda f=f: ms(f())) for name, f in group]


def rss_rounds(rounds, ours, refs, before=None):
    """Peak RSS (MiB) of each step in ROUNDS rounds of their own, ABAB like the timed ones.
    ours/refs: (name, function(rss) returning a Run)."""
    got = {name: [] for name, _ in ours + refs}

    def under_time(group):
        return [(name, lambda f=f: f(True)) for name, f in group]

    for i, first, values in c.abab(rounds, under_time(ours), under_time(refs), before=before, label=" (peak RSS)"):
        for name, r in values.items():
            got[name].append(mib(r))
    return got


# --- probe ---------------------------------------------------------------------------------------

PROBE_REFS = [("lspci -vmmnnk", ["lspci", "-vmmnnk"]), ("lscpu -J", ["lscpu", "-J"]),
              ("lsblk -J -O", ["lsblk", "-J", "-O"]), ("lshw -json", ["lshw", "-json"])]


def probe(a, rec):
    """hwcert probe --json against lspci, lscpu, lsblk and lshw on this machine."""
    hwcert = ("hwcert probe --json", [c.built("hwcert"), "probe", "--json"])
    progs = [hwcert] + PROBE_REFS

    ours = [(hwcert[0], step(hwcert[1]))]
    refs = [(name, step(argv)) for name, argv in PROBE_REFS]
    for name, f in ours + refs:  # warm the page cache once
        f()
    pairs = c.Pairs()
    raw = []
    times = {name: [] for name, _ in progs}
    for i, first, values in c.abab(a.rounds, timed(ours), timed(refs)):
        raw.append({"round": i, "ours_first": first, "kind": "wall_ms", "values": values})
        for name, v in values.items():
            times[name].append(v)
        for name, _ in PROBE_REFS:
            pairs.add(f"time vs {name}", values[hwcert[0]], values[name], unit="ms", ours_name=hwcert[0],
                      ref_name=name, round=i, ours_first=first, quiet=True)
    rss = rss_rounds(a.rss_rounds, ours, refs)
    for k in range(a.rss_rounds):
        raw.append({"round": k + 1, "ours_first": k % 2 == 0, "kind": "peak_rss_mib",
                    "values": {name: v[k] for name, v in rss.items()}})
        for name, _ in PROBE_REFS:
            pairs.add(f"peak RSS vs {name}", rss[hwcert[0]][k], rss[name][k], unit="MiB", ours_name=hwcert[0],
                      ref_name=name, round=k + 1, ours_first=k % 2 == 0, quiet=True)

    m = rec["machine"]
    print(f"{a.rounds} ABAB rounds (and {a.rss_rounds} for peak RSS, under GNU time) on {m['hostname']} "
          f"({m['nproc']} CPUs), load average at start {c.loadavg()}")
    print(f"{'command':<22}{'median ms':>10}{'p90 ms':>9}{'peak RSS MiB':>14}   (peak RSS: the highest of its rounds)")
    programs = {}
    for name, _ in progs:
        d = c.describe(times[name])
        peak = max(rss[name]) if rss[name] else float("nan")
        programs[name] = {"wall_ms": d, "peak_rss_mib": peak}
        print(f"{name:<22}{d['median']:>10.2f}{d['p90']:>9.2f}{peak:>14.1f}")
    print()
    s = pairs.print_table()
    base = programs[hwcert[0]]["wall_ms"]["median"]
    lspci = programs["lspci -vmmnnk"]["wall_ms"]["median"]
    lshw = programs["lshw -json"]["wall_ms"]["median"]
    peak = programs[hwcert[0]]["peak_rss_mib"]
    goals = {
        "hwcert <= lspci -vmmnnk alone": base <= lspci,
        "hwcert >= 10x faster than lshw -json": lshw / base >= 10,
        "hwcert peak RSS <= 16 MiB": peak <= 16,
    }
    print()
    print(f"goal: hwcert <= lspci -vmmnnk alone: {base:.2f} ms vs {lspci:.2f} ms -> "
          f"{'MET' if goals['hwcert <= lspci -vmmnnk alone'] else 'NOT MET'} (ratio {base / lspci:.2f})")
    print(f"goal: >= 10x faster than lshw -json: {lshw / base:.1f}x -> "
          f"{'MET' if goals['hwcert >= 10x faster than lshw -json'] else 'NOT MET'}")
    print(f"goal: peak RSS <= 16 MiB: {peak:.1f} MiB -> {'MET' if goals['hwcert peak RSS <= 16 MiB'] else 'NOT MET'}")
    rec["rounds"] = raw
    rec["pairs"] = pairs.raw()
    rec["summary"] = {"pairs": s, "programs": programs, "goals": goals}


# --- report --------------------------------------------------------------------------------------

def report(a, rec):
    """hwcert report (unsigned, signed) and verify of a made-up run against cp -r + sha256sum."""
    hwcert = c.built("hwcert")
    make_run = c.built("examples", "make_run")
    work = tempfile.mkdtemp(prefix="hwcert-bench-report.")
    try:
        env = {"XDG_CONFIG_HOME": os.path.join(work, "config")}  # no lab key: unsigned stays unsigned
        w = lambda *p: os.path.join(work, *p)  # noqa: E731
        c.run([make_run, w("run"), "--instances", str(a.instances)], capture=True).check()
        signers = c.run([hwcert, "keygen", "-f", w("key"), "--principal", "bench@example.com"], capture=True,
                        env=env).check().stdout
        with open(w("allowed_signers"), "w") as f:
            f.write(signers)

        ours = [("hwcert report", step([hwcert, "report", w("run"), "-o", w("out")], env)),
                ("hwcert report --key", step([hwcert, "report", w("run"), "-o", w("signed"), "--key", w("key")], env)),
                ("hwcert verify",
                 step([hwcert, "verify", w("signed"), "--allowed-signers", w("allowed_signers")], env))]
        floor = "cp -r logs + sha256sum"
        refs = [(floor, step(["sh", "-c", f"cp -r '{w('run', 'logs')}' '{w('copy')}' && cd '{w('copy')}' && "
                                          "find . -type f -print0 | xargs -0 sha256sum"], env))]

        def before(_):
            for d in ("out", "signed", "copy"):
                shutil.rmtree(w(d), ignore_errors=True)

        pairs = c.Pairs()
        raw = []
        for i, first, values in c.abab(a.rounds, timed(ours), timed(refs), before=before):
            raw.append({"round": i, "ours_first": first, "kind": "wall_ms", "values": values})
            for name, _ in ours:
                pairs.add(f"{name} vs cp+sha256", values[name], values[floor], unit="ms", ours_name=name,
                          ref_name=floor, round=i, ours_first=first, quiet=True)
        rss = rss_rounds(a.rss_rounds, ours, [], before=before) if a.rss_rounds else {}
        for k in range(a.rss_rounds):
            raw.append({"round": k + 1, "ours_first": True, "kind": "peak_rss_mib",
                        "values": {name: v[k] for name, v in rss.items()}})
        sizes = {"logs_disk_bytes": tree_bytes(w("run", "logs"), apparent=False),
                 "report_html_bytes": os.path.getsize(w("signed", "report.html")),
                 "report_json_bytes": os.path.getsize(w("signed", "report.json"))}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"hwcert report of {a.instances} instances ({human(sizes['logs_disk_bytes'])} of logs; report.html "
          f"{human(sizes['report_html_bytes'])}, report.json {human(sizes['report_json_bytes'])}); {a.rounds} ABAB "
          f"rounds, {rec['machine']['nproc']} CPUs, load average at start "
          f"{' '.join(f'{x:.2f}' for x in rec['machine']['loadavg_start'])}")
    s = pairs.print_table()
    if rss:
        print(f"peak RSS (the highest of {a.rss_rounds} run{'s' if a.rss_rounds > 1 else ''} of each, under GNU "
              "time): " + ", ".join(f"{name} {max(v):.1f} MiB" for name, v in rss.items()) + " (lower is better)")
    rec["rounds"] = raw
    rec["pairs"] = pairs.raw()
    rec["summary"] = {"pairs": s, "sizes": sizes, "peak_rss_mib": {name: max(v) for name, v in rss.items()}}


# --- stress --------------------------------------------------------------------------------------

def stress(a, rec):
    """hwcert's stress cases against mbw, stress-ng and fio (bench/stress_compare.py)."""
    a.bin = c.built("examples", "stress")
    pairs = c.Pairs()
    extra = stress_compare.run_all(a, pairs)
    rec["pairs"] = pairs.raw()
    rec["rounds"] = [{"round": r["round"], "ours_first": r["ours_first"], "figure": fig, "ours": r["ours"],
                      "ref": r["ref"]} for fig, p in pairs.raw().items() for r in p["rounds"]]
    rec["summary"] = {"pairs": pairs.summary(), **extra}


# --- hcl -----------------------------------------------------------------------------------------

HCL_GOAL_MS = 5000
HCL_GOAL_ENTRIES = 100000


def fields(line):
    """The numbers of `key=value` words in a line of hcl_store's."""
    return {k: float(v) if "." in v else int(v) for k, v in re.findall(r"\b(\w+)=(-?\d+(?:\.\d+)?)\b", line)}


def hcl(a, rec):
    """Publishing the HCL site from a synthetic store (the timing is the hcl_store example's)."""
    binary = c.built("examples", "hcl_store")
    base = a.dir
    work = tempfile.mkdtemp(prefix="hwcert-bench-hcl.", dir=base)
    db, site = os.path.join(work, "db"), os.path.join(work, "site")
    try:
        g = c.run([binary, "gen", str(a.entries), db], capture=True).check()
        gen = {"wall_ms": ms(g), "message": g.stderr.strip()}

        def publish():
            r = c.run([binary, "publish", db, site], capture=True, rss=True).check()
            line = r.stdout.strip().splitlines()[-1]
            return {**fields(line), "wall_ms": ms(r), "peak_rss_mib": mib(r), "line": line}

        # Each round publishes into a new directory, then over it; the site of the round before is
        # removed first (not timed), as a machine that publishes keeps one site. On ext4, creating
        # files soon after removing many is slower (the allocator passes over recently freed
        # inodes): that is part of the figures on a disk.
        raw = []
        for r in range(1, a.rounds + 1):
            c.log(f"round {r} (load {c.loadavg()})")
            shutil.rmtree(site, ignore_errors=True)
            fresh = publish()
            again = publish()
            # A new report that certifies ten entries again, then the site updated for it.
            c.run([binary, "add", db, str(r)], capture=True).check()
            added = publish()
            raw.append({"round": r, "fresh": fresh, "again": again, "added": added})
            c.log(f"  into a new directory {fresh['ms']} ms, over it {again['ms']} ms, "
                  f"a report added {added['ms']} ms")
        fs = fstype(work)
        store_bytes = tree_bytes(db)
        t = c.run([binary, "publish", db, site], capture=True, env={"HWCERT_SITE_TIMES": "1"}).check()
        where = [l[len("site: "):] for l in t.stderr.splitlines() if l.startswith("site: ")]
        browse = None
        chromium = next((x for x in ("chromium", "chromium-browser", "google-chrome") if shutil.which(x)), None)
        if chromium and not a.no_browser:
            b = c.run([binary, "browse", site], capture=True)
            browse = {"lines": b.stdout.strip().splitlines(), "fields": [fields(l) for l in b.stdout.splitlines()],
                      "error": None if b.code == 0 else b.stderr.strip()}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def series(kind):
        return [x[kind]["ms"] for x in raw]

    first, last = raw[0]["fresh"], raw[-1]["added"]
    summary = {kind: {**c.describe(series(kind)), "peak_rss_mib": max(x[kind]["peak_rss_mib"] for x in raw)}
               for kind in ("fresh", "again", "added")}
    print(f"hwcert HCL site of {first['entries']} entries ({first['systems']} systems, {first['components']} "
          f"components, {first['reports']} reports); store {human(store_bytes)} made in {gen['wall_ms']:.0f} ms")
    print(f"on {fs} under {base}, {rec['machine']['nproc']} CPUs, {a.rounds} rounds (no reference tool: the "
          f"figures are set against the goal; lower is better)")
    print(f"{'publish':30} {'median ms':>10} {'range ms':>14} {'peak RSS MiB':>13}")
    labels = {"fresh": "into a new directory", "again": "over it, nothing changed", "added": "over it, a report added"}
    for kind, label in labels.items():
        x = summary[kind]
        extra = (f"   ({last['written']} pages written, {last['unchanged']} unchanged)" if kind == "added" else "")
        print(f"{label:30} {x['median']:>10.0f} {str(x['min']) + '-' + str(x['max']):>14} "
              f"{x['peak_rss_mib']:>13.1f}{extra}")
    print(f"written: {first['files']} files, {human(first['bytes'])} (reports hard-linked from the store, counted "
          "at full size)")
    print(f"  data/index.js (the search's manifest) {human(first['index_js'])}, its {first['shards']} shards "
          f"{human(first['shard_bytes'])} (largest {human(first['shard_max'])}), index.html "
          f"{human(first['index_html'])}, hcl.json {human(first['hcl_json'])} (never loaded by the search), hcl.csv "
          f"{human(first['hcl_csv'])}")
    goal = None
    if first["entries"] >= HCL_GOAL_ENTRIES:
        goal = {kind: summary[kind]["median"] < HCL_GOAL_MS for kind in ("fresh", "again")}
        print(f"goal: {HCL_GOAL_ENTRIES:,} entries in under {HCL_GOAL_MS} ms — "
              f"{'met' if goal['fresh'] else 'NOT met'} into a new directory (median {summary['fresh']['median']} ms), "
              f"{'met' if goal['again'] else 'NOT met'} over the last site (median {summary['again']['median']} ms)")
    else:
        print(f"goal: {HCL_GOAL_ENTRIES:,} entries in under {HCL_GOAL_MS} ms (this run has fewer; run with "
              f"{HCL_GOAL_ENTRIES})")
    print("where the time goes (one more publish over the last, HWCERT_SITE_TIMES=1):")
    for l in where:
        print(f"  {l}")
    if browse is None:
        print("the index in headless Chromium: not measured ("
              + ("--no-browser" if chromium else "no chromium on PATH: apt-get install chromium") + ")")
    elif browse["error"]:
        print(f"the index in headless Chromium: failed: {browse['error']}")
    else:
        print(f"the index in headless Chromium ({first['entries']} entries; shown_ms is from the event to the table "
              "redrawn, less the 120 ms typing debounce):")
        for l in browse["lines"]:
            print(f"  {l}")
    rec["rounds"] = raw
    rec["summary"] = {"publish_ms": summary, "gen": gen, "site": {k: first[k] for k in (
        "entries", "systems", "components", "reports", "files", "bytes", "index_js", "shards", "shard_bytes",
        "shard_max", "index_html", "hcl_json",
        "hcl_csv")}, "store_bytes": store_bytes, "fs": fs, "dir": base, "goal_ms": HCL_GOAL_MS,
        "goal_met": goal, "where_the_time_goes": where, "browser": browse}


# --- the command line ----------------------------------------------------------------------------

class Bench:
    """A benchmark: its function, the tools it needs (given its options), the cargo build
    arguments, what that build makes (under target/release) and the usage line."""

    def __init__(self, name, run, tools, build, binaries, usage):
        self.name, self.run, self.tools, self.build, self.usage = name, run, tools, build, usage
        self.binaries = binaries


BENCHMARKS = {b.name: b for b in [
    Bench("probe", probe, lambda a: ["lspci", "lshw", "lscpu", "lsblk", c.GNU_TIME],
          ["-p", "suite", "--bin", "hwcert"], [("hwcert",)], "[ROUNDS] [--rounds N] [--rss-rounds N]"),
    Bench("report", report, lambda a: ["cp", "sha256sum", "find", "xargs"] + ([c.GNU_TIME] if a.rss_rounds else []),
          ["-p", "suite", "-p", "reports", "--bin", "hwcert", "--example", "make_run"],
          [("hwcert",), ("examples", "make_run")],
          "[INSTANCES] [ROUNDS] [--instances N] [--rounds N] [--rss-rounds N]"),
    Bench("stress", stress, lambda a: stress_compare.tools(a.sections), ["-p", "cases", "--example", "stress"],
          [("examples", "stress")],
          "[SECONDS] [ROUNDS] [SECTIONS] [--seconds S] [--rounds N] [--sections memory,storage,cpu]"),
    Bench("hcl", hcl, lambda a: ["findmnt", c.GNU_TIME], ["-p", "hcl", "--example", "hcl_store"],
          [("examples", "hcl_store")],
          "[N] [ROUNDS] [--entries N] [--rounds N] [--dir DIR] [--no-browser]"),
]}


def both(p, name, metavar, type, default, help):
    """An option --NAME that may also be given by position (as the old bench/*.sh took it)."""
    p.add_argument(f"pos_{name}", nargs="?", type=type, metavar=metavar, help=f"same as --{name.replace('_', '-')}")
    p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type, default=None,
                   help=f"{help} (default {default})")
    p.set_defaults(**{f"default_{name}": default})


def settle(p, a):
    """Merge the positional and option forms; both given and different is an error."""
    for k in [k for k in vars(a) if k.startswith("pos_")]:
        name = k[4:]
        pos, opt = getattr(a, k), getattr(a, name)
        if pos is not None and opt is not None and pos != opt:
            p.error(f"{name} given twice: {pos} and {opt}")
        setattr(a, name, opt if opt is not None else pos if pos is not None else getattr(a, f"default_{name}"))
        delattr(a, k)
        delattr(a, f"default_{name}")


def positive(v):
    n = int(v)
    if n < 1:
        raise argparse.ArgumentTypeError(f"{v}: must be at least 1")
    return n


def parser():
    top = argparse.ArgumentParser(prog="bench/run.py", description="\n\n".join(__doc__.split("\n\n")[:2]),
                                  formatter_class=argparse.RawDescriptionHelpFormatter,
                                  epilog="Results: bench/runs/<UTC time>-<NAME>.json (see bench/runs/README.md).")
    sub = top.add_subparsers(dest="benchmark", metavar="{list," + ",".join(BENCHMARKS) + "}", required=True)
    sub.add_parser("list", help="list the benchmarks")
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("every benchmark")
    g.add_argument("--no-install", action="store_true", help="fail (naming the packages) instead of installing "
                                                             "missing tools")
    g.add_argument("--no-build", action="store_true", help="use what is built under the target directory")
    g.add_argument("--runs-dir", default=c.RUNS, help="where the result goes (default bench/runs)")

    def add(name, **kw):
        b = BENCHMARKS[name]
        doc = b.run.__doc__
        return sub.add_parser(name, parents=[common], help=doc,
                              description=doc + "\n\n" + textwrap.fill(kw.pop("more"), 79),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add("probe", more="Times `hwcert probe --json` against lspci -vmmnnk, lscpu -J, lsblk -J -O and lshw -json, "
                          "ABAB (ours, then the four; the four, then ours), after one warm-up run of each; peak RSS "
                          "in rounds of its own under GNU time. Goals: hwcert no slower than lspci alone, 10x "
                          "faster than lshw, peak RSS at most 16 MiB.")
    both(p, "rounds", "ROUNDS", positive, 30, "timed rounds")
    p.add_argument("--rss-rounds", type=positive, default=3, help="rounds for peak RSS (default 3)")

    p = add("report", more="A made-up run of INSTANCES instances (each with a 20-line log, one in ten with "
                           "measurements, one in a hundred failing) reported unsigned and signed, and verified, "
                           "against the floor any report pays: copying the logs (cp -r) and hashing them "
                           "(sha256sum). Files under $TMPDIR (/tmp without it), removed afterwards.")
    both(p, "instances", "INSTANCES", positive, 10000, "instances in the made-up run")
    both(p, "rounds", "ROUNDS", positive, 10, "ABAB rounds")
    p.add_argument("--rss-rounds", type=int, default=1, help="runs of each hwcert command for peak RSS, 0 for "
                                                             "none (default 1)")

    p = add("stress", more="Pairs: memory (STREAM copy vs mbw, the 4-kernel rate vs stress-ng --stream), storage "
                           "(sequential and 4 KiB random I/O with O_DIRECT, hwcert's queue-depth sweep peak vs fio's best over depths "
                           "1-64, on a scratch file in /var/tmp), "
                           "cpu (scaling and utilisation vs stress-ng --cpu). Goal: ours >= 0.9 x reference "
                           "(latency <= reference / 0.9) for both ratios. Never writes a raw device.")
    both(p, "seconds", "SECONDS", positive, 10, "seconds per run")
    both(p, "rounds", "ROUNDS", positive, 3, "ABAB rounds of every pair")
    both(p, "sections", "SECTIONS", str, ",".join(stress_compare.SECTIONS), "comma-separated, of: "
         + ", ".join(stress_compare.SECTIONS))
    p.add_argument("--array-mib", type=positive, default=256, help="STREAM array size, each of 3 (default 256)")
    p.add_argument("--file-mib", type=positive, default=1024, help="storage test file size (default 1024)")

    p = add("hcl", more="hcl::site::publish (what `hwcert hwdb publish` runs) from a synthetic store of N "
                        "entries, into a new directory, over that site unchanged and over it after one new report, "
                        "timed by the hcl_store example itself; the goal is 100,000 entries in under 5 s. Then where "
                        "the time goes and, when there is a Chromium, how the index loads and filters.")
    both(p, "entries", "N", positive, HCL_GOAL_ENTRIES, "entries in the synthetic store")
    both(p, "rounds", "ROUNDS", positive, 5, "rounds")
    p.add_argument("--dir", default=os.environ.get("HCL_BENCH_DIR") or tempfile.gettempdir(),
                   help="where the store and sites go (default $HCL_BENCH_DIR, else $TMPDIR, else /tmp)")
    p.add_argument("--no-browser", action="store_true", help="skip the headless Chromium measurements")
    return top


def list_benchmarks():
    for name, b in BENCHMARKS.items():
        print(f"{name:8} {b.run.__doc__}")
        print(f"{'':8} bench/run.py {name} {b.usage}")


def main(argv):
    top = parser()
    a = top.parse_args(argv)
    if a.benchmark == "list":
        list_benchmarks()
        return 0
    settle(top, a)
    if a.benchmark == "stress":
        a.sections = stress_compare.parse_sections(a.sections)
    b = BENCHMARKS[a.benchmark]
    c.check_python_and_cargo(need_cargo=not a.no_build)
    rec = c.Record(b.name, sys.argv, {k: v for k, v in vars(a).items() if k != "benchmark"}, runs_dir=a.runs_dir)
    rec["tools"] = c.ensure_tools([TOOLS[t] for t in b.tools(a)], install=not a.no_install)
    c.cargo_build(b.build, build=not a.no_build)
    for rel in b.binaries:
        c.built(*rel)
    if b.name == "hcl" and not os.path.isdir(a.dir):
        c.die(f"--dir {a.dir}: no such directory")
    try:
        b.run(a, rec)
    except KeyboardInterrupt:
        c.log(f"bench: interrupted; what was measured is in {rec.write(False, 'interrupted')}")
        return 130
    except SystemExit as e:
        c.log(f"bench: failed; what was measured is in {rec.write(False, str(e.code))}")
        raise
    except Exception as e:
        c.log(f"bench: failed; what was measured is in {rec.write(False, repr(e))}")
        raise
    path = rec.write(True)
    rel = os.path.relpath(path)
    print(f"\nresults: {path if rel.startswith('..') else rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
