"""What every benchmark shares, each in one place: starting and timing a program (wall clock, CPU
time and peak RSS from wait4), medians and ratios, the ABAB order of pairs and their table,
checking and installing tools, building with cargo, and writing a run's results to bench/runs/.

Used by bench/run.py (the one entry point) and bench/stress_compare.py (the stress back end).
Python 3 standard library only.
"""

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
RUNS = os.path.join(BENCH, "runs")
GNU_TIME = "/usr/bin/time"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    raise SystemExit(f"bench: {msg}")


# --- starting, timing, peak RSS ------------------------------------------------------------------
#
# Every program a benchmark starts runs in a session of its own (posix_spawn with setsid): with
# autogroup scheduling (kernel.sched_autogroup_enabled, on by default) a session is a scheduling
# group, and a reference tool that calls setsid() itself (fio's job does) would otherwise get a
# whole group's share of the CPUs while ours shared the benchmark's. Its output goes to /dev/null
# or to temporary files (never pipes: no reader to keep up with), its input is /dev/null.
#
# wait4 gives the child's own wall-independent figures: CPU time (user + system) and ru_maxrss.
# But a child spawned by this Python process starts from Python's memory (fork copies it,
# vfork/posix_spawn shares it) and Linux carries that high-water mark across exec into the
# child's ru_maxrss: a small program would show Python's peak. So peak RSS is taken from the
# wait4 of GNU time (`/usr/bin/time -f %M`), a small parent whose fork copies almost nothing; it
# costs about a millisecond per run, so runs that measure RSS are not the ones whose wall time
# is compared when that millisecond matters (bench/run.py probe and report time other rounds).


class Run:
    """One finished program: argv, exit code, wall seconds, CPU seconds (user + system, from
    wait4), peak RSS in KiB (only when started with rss=True, else None), captured output."""

    def __init__(self, argv, code, wall, cpu, rss_kib, stdout, stderr):
        self.argv, self.code, self.wall, self.cpu, self.rss_kib = argv, code, wall, cpu, rss_kib
        self.stdout, self.stderr = stdout, stderr

    def check(self):
        """This run, or exit with its command, status and (captured) output."""
        if self.code != 0:
            out = "\n".join(x for x in (self.stdout, self.stderr) if x)
            die(f"{' '.join(self.argv)} failed (exit status {self.code})" + (f":\n{out}" if out else ""))
        return self


class Proc:
    """A started program; wait() gives its Run."""

    def __init__(self, argv, capture=False, merge=False, env=None, rss=False):
        self.argv = list(argv)
        self.rss_file = None
        run_argv = self.argv
        if rss:
            if not os.access(GNU_TIME, os.X_OK):
                die(f"{GNU_TIME} (GNU time) is needed for peak RSS: install the 'time' package")
            fd, self.rss_file = tempfile.mkstemp(prefix="hwcert-bench-rss.")
            os.close(fd)
            run_argv = [GNU_TIME, "-f", "%M", "-o", self.rss_file, "--"] + self.argv
        devnull = os.open(os.devnull, os.O_RDWR)
        self.out = tempfile.TemporaryFile() if capture else None
        self.err = None if not capture else (self.out if merge else tempfile.TemporaryFile())
        fa = [(os.POSIX_SPAWN_DUP2, devnull, 0),
              (os.POSIX_SPAWN_DUP2, self.out.fileno() if capture else devnull, 1),
              (os.POSIX_SPAWN_DUP2, self.err.fileno() if capture else devnull, 2)]
        e = dict(os.environ)
        e.update(env or {})
        self.t0 = time.perf_counter()
        try:
            self.pid = os.posix_spawnp(run_argv[0], run_argv, e, file_actions=fa, setsid=True)
        except FileNotFoundError:
            die(f"{run_argv[0]}: not found")
        finally:
            os.close(devnull)

    def wait(self):
        _, status, ru = os.wait4(self.pid, 0)
        wall = time.perf_counter() - self.t0
        code = os.waitstatus_to_exitcode(status)
        rss = None
        if self.rss_file:
            with open(self.rss_file) as f:  # "Command exited with non-zero status N" may come first
                lines = f.read().split()
            os.unlink(self.rss_file)
            rss = int(lines[-1]) if lines and lines[-1].isdigit() else None

        def text(f):
            if f is None:
                return None
            f.seek(0)
            s = f.read().decode(errors="replace")
            f.close()
            return s

        out = text(self.out)
        err = out if self.err is self.out else text(self.err)
        return Run(self.argv, code, wall, ru.ru_utime + ru.ru_stime, rss, out, err)


def run(argv, **kw):
    """Start a program, wait for it, return its Run (see Proc for the options)."""
    return Proc(argv, **kw).wait()


def output(argv, **kw):
    """stdout and stderr together of a program that must succeed."""
    return run(argv, capture=True, merge=True, **kw).check().stdout


# --- medians and ratios --------------------------------------------------------------------------

def median(v):
    v = sorted(v)
    k = len(v)
    if not k:
        return float("nan")
    return v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2


def describe(v):
    """n, median, min, max and p90 of some numbers."""
    s = sorted(v)
    if not s:
        return {"n": 0}
    return {"n": len(s), "median": median(s), "min": s[0], "max": s[-1], "p90": s[int(0.9 * (len(s) - 1))]}


def ratio(a, b):
    return a / b if b else float("nan")


def direction(higher_better):
    return "higher is better" if higher_better else "lower is better"


class Pairs:
    """Figures compared ours / reference, one pair per round: for each figure, ours and the
    reference's values, the round and whether ours ran first in it."""

    def __init__(self):
        self.figures = {}

    def add(self, figure, ours, ref, *, unit, ours_name, ref_name, round, ours_first, higher_better=False,
            info=False, quiet=False):
        p = self.figures.setdefault(figure, {"unit": unit, "ours_name": ours_name, "ref_name": ref_name,
                                             "higher_better": higher_better, "info": info, "rounds": []})
        p["rounds"].append({"round": round, "ours_first": ours_first, "ours": ours, "ref": ref})
        if not quiet:
            log(f"  {figure}: ours {fmt(ours)} {unit}, {ref_name} {fmt(ref)} {unit}, ratio {ratio(ours, ref):.3f}")

    def summary(self):
        """For each figure: medians of ours and of the reference, the ratio of the medians, the
        median of the per-round ratios and their range (all ours / reference)."""
        out = {}
        for fig, p in self.figures.items():
            ours = [r["ours"] for r in p["rounds"]]
            ref = [r["ref"] for r in p["rounds"]]
            each = [o / r for o, r in zip(ours, ref) if r]
            out[fig] = {"unit": p["unit"], "ours_name": p["ours_name"], "ref_name": p["ref_name"],
                        "direction": direction(p["higher_better"]), "higher_better": p["higher_better"],
                        "info": p["info"], "rounds": len(ours),
                        "ours_median": median(ours), "ref_median": median(ref),
                        "ratio_of_medians": ratio(median(ours), median(ref)),
                        "median_of_ratios": median(each) if each else float("nan"),
                        "ratio_min": min(each) if each else None, "ratio_max": max(each) if each else None}
        return out

    def raw(self):
        return self.figures

    def print_table(self, verdict=None):
        """The comparison table; verdict(summary of a figure) may add a word to each row."""
        s = self.summary()
        if not s:
            return s
        w = max(30, *(len(f) for f in s))
        print(f"{'figure':{w}} {'ours':>10} {'reference':>10} {'unit':5} {'ratio':>6} {'paired':>6} "
              f"{'(range)':>11}  reference")
        for fig, x in s.items():
            rng = f"{x['ratio_min']:.2f}-{x['ratio_max']:.2f}" if x["ratio_min"] is not None else ""
            note = [x["direction"]]
            v = verdict(x) if verdict else None
            if v:
                note.insert(0, v)
            print(f"{fig:{w}} {fmt(x['ours_median']):>10} {fmt(x['ref_median']):>10} {x['unit']:5} "
                  f"{x['ratio_of_medians']:6.3f} {x['median_of_ratios']:6.3f} {rng:>11}  {x['ref_name']}  "
                  f"[{'; '.join(note)}]")
        print()
        print("ours and reference: medians of the rounds; ratio = median ours / median reference; paired = "
              "median of the per-round ratios (ours / reference of the same round); range = the per-round "
              "ratios; each row says whether a lower or a higher value is better.")
        return s

    def print_rounds(self):
        print("per round (* = ours ran first): ours / reference = ratio")
        for fig, p in self.figures.items():
            print(f"  {fig} ({p['unit']}):")
            for r in p["rounds"]:
                print(f"    {r['round']}{'*' if r['ours_first'] else ' '} {fmt(r['ours'])} / {fmt(r['ref'])} = "
                      f"{ratio(r['ours'], r['ref']):.2f}")


def fmt(v):
    if v is None or v != v:
        return "-"
    return f"{v:.2f}" if abs(v) < 100 else f"{v:.1f}"


def in_order(ours_first, ours, ref):
    """Call ours() and ref() in this round's order; return (ours' result, the reference's)."""
    if ours_first:
        o = ours()
        return o, ref()
    r = ref()
    return ours(), r


def abab(rounds, ours, refs, before=None, label=""):
    """Run ROUNDS rounds of the steps ours and refs (lists of (name, function returning a
    number)): ours first in odd rounds (1, 3, ...), the references first in even ones, each group
    in its own order. before(round) runs first in each round, untimed. Yields (round, ours_first,
    {name: value})."""
    for i in range(1, rounds + 1):
        first = i % 2 == 1
        if before:
            before(i)
        log(f"round {i}{label}: {'ours' if first else 'the reference'} first (load {loadavg()})")
        values = {}
        for name, fn in (ours + refs if first else refs + ours):
            values[name] = fn()
        yield i, first, values


# --- tools ---------------------------------------------------------------------------------------

class Tool:
    """A command a benchmark needs, the package that has it under apt-get and under dnf/yum, and
    how to ask it its version (None: it cannot say)."""

    def __init__(self, cmd, apt, rpm=None, version=("--version",), note=None):
        self.cmd, self.apt, self.rpm, self.version, self.note = cmd, apt, rpm or apt, version, note

    def path(self):
        if os.path.isabs(self.cmd):
            return self.cmd if os.access(self.cmd, os.X_OK) else None
        return shutil.which(self.cmd)


def as_root(argv):
    if os.geteuid() == 0:
        return argv
    if shutil.which("sudo"):
        return ["sudo"] + argv
    return None


def package_manager():
    for pm in ("apt-get", "dnf", "yum"):
        if shutil.which(pm):
            return pm
    return None


def ensure_tools(tools, install=True):
    """Every tool on PATH, installing the missing ones' packages (apt-get, dnf or yum, with sudo
    when not root) unless install is False; else exit naming the packages. Returns {command:
    {path, version}} for the record."""
    missing = [t for t in tools if not t.path()]
    if missing:
        pm = package_manager()
        pkgs = sorted({t.apt if pm == "apt-get" else t.rpm for t in missing})
        what = ", ".join(f"{t.cmd} ({t.apt if pm == 'apt-get' else t.rpm})" for t in missing)
        notes = "".join(f"\n  {t.note}" for t in missing if t.note)
        if not install:
            die(f"missing {what}: install {' '.join(pkgs)} (or run without --no-install){notes}")
        if pm is None:
            die(f"missing {what}: no apt-get, dnf or yum here: please install {' '.join(pkgs)}{notes}")
        log(f"bench: installing {' '.join(pkgs)} with {pm}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if pm == "apt-get":
            steps = [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq"] + pkgs]
        else:
            steps = [[pm, "install", "-y", "-q"] + pkgs]
        for i, step in enumerate(steps):
            argv = as_root(step)
            if argv is None:
                die(f"missing {what}: need root (or sudo) to run {' '.join(step)}")
            p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL)
            if p.returncode != 0 and i == len(steps) - 1:
                die(f"{' '.join(step)} failed: please install {' '.join(pkgs)}{notes}")
        still = [t for t in missing if not t.path()]
        if still:
            die(f"still missing after installing: {', '.join(t.cmd for t in still)}{notes}")
    found = {}
    for t in tools:
        version = None
        if t.version:
            try:
                p = subprocess.run([t.path(), *t.version], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True, timeout=10)
                version = next((l.strip() for l in p.stdout.splitlines() if l.strip()), None)
            except (OSError, subprocess.TimeoutExpired):
                pass
        found[t.cmd] = {"path": t.path(), "version": version}
    return found


def check_python_and_cargo(need_cargo=True):
    if sys.version_info < (3, 9):
        die(f"needs Python 3.9 or later (this is {platform.python_version()})")
    if need_cargo and not shutil.which("cargo"):
        die("cargo not found: install Rust (https://rustup.rs) first")


# --- building ------------------------------------------------------------------------------------

def target_dir():
    """Cargo's target directory: $CARGO_TARGET_DIR (relative to where bench/run.py was started)
    or the repository's target/."""
    t = os.environ.get("CARGO_TARGET_DIR")
    return os.path.abspath(t) if t else os.path.join(REPO, "target")


def cargo_build(args, build=True):
    """cargo build --release --locked -q ARGS in the repository, into target_dir()."""
    if not build:
        return
    argv = ["cargo", "build", "--release", "--locked", "-q"] + args
    log(f"bench: {' '.join(argv)} (target {target_dir()})")
    p = subprocess.run(argv, cwd=REPO, env=dict(os.environ, CARGO_TARGET_DIR=target_dir()))
    if p.returncode != 0:
        die(f"{' '.join(argv)} failed (./dev.sh installs the system packages the build needs: libudev "
            "headers and pkg-config)")


def built(*rel):
    """The path of something cargo built, under target_dir()/release; exit when it is not there."""
    path = os.path.join(target_dir(), "release", *rel)
    if not os.access(path, os.X_OK):
        die(f"{path} is not built (run without --no-build)")
    return path


# --- the record of a run -------------------------------------------------------------------------

def loadavg():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine():
    """What the figures depend on, as far as a file says it cheaply."""
    cpuinfo = _read("/proc/cpuinfo")
    model = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines()
                  if l.split(":")[0].strip() in ("model name", "Model")), None)
    mem = next((int(l.split()[1]) for l in _read("/proc/meminfo").splitlines() if l.startswith("MemTotal:")), None)
    osr = dict(l.split("=", 1) for l in _read("/etc/os-release").splitlines() if "=" in l)
    u = os.uname()
    return {"hostname": u.nodename, "nproc": len(os.sched_getaffinity(0)), "cpus": os.cpu_count(),
            "cpu_model": model, "mem_total_kib": mem, "kernel": u.release, "kernel_version": u.version,
            "arch": u.machine, "os": osr.get("PRETTY_NAME", "").strip('"') or None,
            "loadavg_start": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version()}


def git():
    def g(*args):
        p = subprocess.run(["git", "-C", REPO, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return p.stdout.strip() if p.returncode == 0 else None

    status = g("status", "--porcelain")
    return {"commit": g("rev-parse", "HEAD"), "branch": g("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(status) if status is not None else None}


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


class Record:
    """The JSON document of one benchmark run, written to RUNS/<UTC time>-<name>.json: the machine,
    the commit, the command line and options, the tools, every round's raw numbers and the
    summary. Written when the run ends, also when it fails or is interrupted ("complete": false)."""

    def __init__(self, name, argv, options, runs_dir=RUNS):
        self.started = utc_now()
        self.runs_dir = runs_dir
        stem = os.path.join(runs_dir, f"{self.started:%Y%m%dT%H%M%SZ}-{name}")
        self.path, n = stem + ".json", 1
        while os.path.exists(self.path):  # another run of the same name in the same second
            n += 1
            self.path = f"{stem}-{n}.json"
        self.doc = {"schema": "hwcert.bench/1", "benchmark": name, "complete": False,
                    "started": self.started.isoformat(timespec="seconds"), "finished": None,
                    "command": argv, "cwd": os.getcwd(), "options": options, "machine": machine(), "git": git(),
                    "target_dir": target_dir(), "tools": {}, "rounds": {}, "summary": {}}

    def __setitem__(self, key, value):
        self.doc[key] = value

    def __getitem__(self, key):
        return self.doc[key]

    def write(self, complete, error=None):
        self.doc["complete"] = complete
        self.doc["finished"] = utc_now().isoformat(timespec="seconds")
        self.doc["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        if error:
            self.doc["error"] = error
        os.makedirs(self.runs_dir, exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(_clean(self.doc), f, indent=1, allow_nan=False)
            f.write("\n")
        os.rename(tmp, self.path)
        return self.path


def _clean(x):
    """x with NaN and infinities (JSON has none) as null."""
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x
