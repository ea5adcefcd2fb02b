//! Cases across reboots, on a simulated machine (`testing::machine`: a directory with a boot id,
//! a unit directory and an action log; its files a copy of the recorded Kunpeng tree): the real
//! hwcert supervisor and workers journal "rebooting (boot_id X)", install hwcert-resume.service,
//! and each "boot" resumes the run the way the unit does — twenty boots, a boot with a missing
//! disk or a slower link, a boot that never came back, a crash in the middle of the case with a
//! torn journal, a reboot that cannot start. Nothing finished is lost or rerun. This machine is
//! never rebooted: every action only writes the fake machine's action log.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::{hwcert, journal, show, text};
use testing::machine::{FakeMachine, ENV};

const FIRST: &str = "system::os_supported";
const CYCLE: &str = "system::reboot_cycle";

struct Lab {
    _tmp: tempfile::TempDir,
    machine: FakeMachine,
    run: PathBuf,
    profile: PathBuf,
}

fn lab(cycles: u32, extra: &str) -> Lab {
    let tmp = tempfile::tempdir().expect("tmp");
    let machine = FakeMachine::create(
        &tmp.path().join("machine"),
        &testing::fixtures::fixture("aarch64-kunpeng"),
    )
    .expect("fake machine");
    let profile = tmp.path().join("reboot.toml");
    std::fs::write(
        &profile,
        format!(
            "name = \"reboot-test\"\nextends = \"quick\"\n\
             include = [\"{FIRST}\", \"{CYCLE}\"]\n\
             [settings]\n\"reboot.cycles\" = {cycles}\n\
             \"reboot.system_running_timeout\" = \"2s\"\n{extra}"
        ),
    )
    .expect("profile");
    Lab {
        run: tmp.path().join("run"),
        _tmp: tmp,
        machine,
        profile,
    }
}

impl Lab {
    fn cmd(&self) -> Command {
        let mut c = Command::new(hwcert());
        c.env(ENV, self.machine.dir())
            .env_remove("HWCERT_SELFTEST")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null());
        c
    }

    fn start(&self, allow: bool) -> Output {
        let mut c = self.cmd();
        c.arg("run")
            .arg("--profile")
            .arg(&self.profile)
            .arg("--out")
            .arg(&self.run);
        if allow {
            c.arg("--allow-reboot");
        }
        c.output().expect("hwcert run")
    }

    /// What hwcert-resume.service runs on this boot: its ExecStart with the run directory
    /// of its environment file.
    fn boot_and_resume(&self, ago_ms: i64) -> (String, Output) {
        let id = self.machine.boot(1_000, ago_ms).expect("boot");
        let unit = std::fs::read_to_string(self.machine.dir().join("units/hwcert-resume.service"))
            .expect("the resume unit is installed");
        let exec = unit
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .expect("ExecStart");
        assert_eq!(
            exec,
            format!("{} run --resume ${{HWCERT_RESUME_DIR}}", hwcert().display())
        );
        assert!(self
            .machine
            .dir()
            .join("units/multi-user.target.wants/hwcert-resume.service")
            .exists());
        let env = std::fs::read_to_string(self.machine.dir().join("state/resume.env"))
            .expect("resume.env");
        let dir = cases::resume_unit::env_run_dir(&env).expect("names the run");
        assert_eq!(dir, std::fs::canonicalize(&self.run).expect("run dir"));
        let o = self
            .cmd()
            .arg("run")
            .arg("--resume")
            .arg(&dir)
            .output()
            .expect("hwcert run --resume");
        (id, o)
    }

    fn entries(&self, name: &str) -> Vec<Value> {
        journal(&self.run)
            .into_iter()
            .filter(|e| e["name"] == name)
            .collect()
    }
}

fn current_boot(m: &FakeMachine) -> String {
    cases::machine::Machine::boot_id(m).expect("a boot id")
}

/// The run's exit status once every instance is final: the reboot case's own verdict, with
/// that of the first case (system::os_supported fails on a machine that is not OpenCloudOS).
fn final_code(lab: &Lab, cycle_passed: bool) -> Option<i32> {
    let first = lab.entries(FIRST);
    let first_passed = first.iter().all(|e| matches!(status(e), "pass" | "skip"));
    Some(if first_passed && cycle_passed { 0 } else { 1 })
}

fn status(e: &Value) -> &str {
    e["status"].as_str().unwrap_or("")
}
fn reason(e: &Value) -> String {
    e["reason"].as_str().unwrap_or("").to_string()
}
fn measured(e: &Value) -> String {
    e["measured"].as_str().unwrap_or("").to_string()
}

fn assert_rebooting(lab: &Lab, o: &Output, from_boot: &str, cycle: usize, of: usize) {
    assert_eq!(o.status.code(), Some(0), "{}", show(o));
    let last = lab.entries(CYCLE).pop().expect("a journal line");
    assert_eq!(status(&last), "interrupted", "{last}");
    assert_eq!(
        reason(&last),
        format!("rebooting (boot_id {from_boot}): cycle {cycle} of {of}, warm: systemctl reboot")
    );
    assert!(
        text(&o.stderr).contains("the run resumes on the next boot"),
        "{}",
        show(o)
    );
}

#[test]
fn twenty_boots_resume_through_the_unit_and_nothing_finished_reruns() {
    let lab = lab(20, "");
    let first_boot = current_boot(&lab.machine);
    let o = lab.start(true);
    assert_rebooting(&lab, &o, &first_boot, 1, 20);
    assert_eq!(lab.machine.actions(), [format!("reboot from {first_boot}")]);
    let mut boots = vec![first_boot];
    for n in 1..=20 {
        let (id, o) = lab.boot_and_resume(4_000);
        if n < 20 {
            assert_rebooting(&lab, &o, &id, n + 1, 20);
        } else {
            assert_eq!(o.status.code(), final_code(&lab, true), "{}", show(&o));
        }
        boots.push(id);
    }
    let want: Vec<String> = boots[..20]
        .iter()
        .map(|b| format!("reboot from {b}"))
        .collect();
    assert_eq!(
        lab.machine.actions(),
        want,
        "one reboot per cycle, from each boot"
    );
    // Finished once, never rerun; the cycle case journaled 20 reboots, then its verdict.
    assert_eq!(lab.entries(FIRST).len(), 1);
    let cyc = lab.entries(CYCLE);
    assert_eq!(cyc.len(), 21);
    let last = cyc.last().expect("final");
    assert_eq!(status(last), "pass", "{last}");
    let m: Vec<&str> = last["measurements"]
        .as_array()
        .expect("measurements")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    for n in 1..=20 {
        assert!(m.contains(&format!("boot{n}_seconds").as_str()), "{m:?}");
        assert!(
            m.contains(&format!("boot{n}_clock_offset_ms").as_str()),
            "{m:?}"
        );
    }
    // Each boot's time is in one clock: down 1 s, then 4 s of boot (plus the time between
    // runs).
    let b1 = last["measurements"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == "boot1_seconds"))
        .and_then(|m| m["value"].as_f64())
        .expect("boot1_seconds");
    assert!((5.0..120.0).contains(&b1), "{b1}");
    // The unit is gone with the case.
    for p in [
        "units/hwcert-resume.service",
        "units/multi-user.target.wants/hwcert-resume.service",
        "state/resume.env",
    ] {
        assert!(!lab.machine.dir().join(p).exists(), "{p} was left behind");
    }
    // A resume now runs nothing and reboots nothing.
    let o = lab
        .cmd()
        .arg("run")
        .arg("--resume")
        .arg(&lab.run)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), final_code(&lab, true), "{}", show(&o));
    assert_eq!(lab.entries(CYCLE).len(), 21);
    assert_eq!(lab.machine.actions().len(), 20);
}

#[test]
fn a_missing_disk_a_slower_link_and_a_boot_that_never_came_back_fail_the_cycle() {
    let lab = lab(3, "");
    let o = lab.start(true);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // Boot 1 is fine.
    let (id1, o) = lab.boot_and_resume(3_000);
    assert_rebooting(&lab, &o, &id1, 2, 3);
    // Boot 2 comes back without its NVMe disk.
    let root = lab.machine.root();
    for p in ["sys/block/nvme0n1", "sys/class/block/nvme0n1"] {
        let p = root.join(p);
        if p.is_dir() && !p.is_symlink() {
            std::fs::remove_dir_all(&p).expect("rm disk");
        } else if p.exists() || p.is_symlink() {
            std::fs::remove_file(&p).expect("rm disk link");
        }
    }
    let (id2, o) = lab.boot_and_resume(3_000);
    assert_rebooting(&lab, &o, &id2, 3, 3);
    // Boot 3: the link trained at 10 Gb/s instead of 25, a unit failed, and the boot began
    // two hours after the reboot was asked for: that reboot never came back.
    std::fs::write(root.join("sys/class/net/enp125s0f0/speed"), "10000\n").expect("speed");
    lab.machine
        .set_failed_units(&["kdump.service"])
        .expect("failed");
    lab.machine.set_skew_ms(2 * 3600 * 1000).expect("skew");
    let (id3, o) = lab.boot_and_resume(3_000);
    assert_eq!(o.status.code(), Some(1), "a blocker failed\n{}", show(&o));
    let last = lab.entries(CYCLE).pop().expect("final");
    assert_eq!(status(&last), "fail", "{last}");
    let m = measured(&last);
    assert!(m.starts_with("2 of 3 boots with problems"), "{m}");
    assert!(!m.contains(&format!("boot 1 ({id1})")), "{m}");
    assert!(
        m.contains(&format!(
            "boot 2 ({id2}): the inventory changed since the first boot: disk"
        )),
        "{m}"
    );
    assert!(m.contains("is missing (was nvme0n1; 0 of 1 found)"), "{m}");
    assert!(
        m.contains(&format!("boot 3 ({id3}): the boot asked for at")),
        "{m}"
    );
    assert!(m.contains("never came back within 15m"), "{m}");
    assert!(m.contains("failed units: kdump.service"), "{m}");
    assert!(
        m.contains("link enp125s0f0 is up at 10000 Mb/s, was 25000 Mb/s"),
        "{m}"
    );
}

#[test]
fn a_boot_that_never_finishes_starting_is_reported_after_the_profile_limit() {
    let lab = lab(1, "");
    assert_eq!(lab.start(true).status.code(), Some(0));
    // A job other than the resume unit's own keeps the boot "starting".
    lab.machine
        .set_system_state(
            "starting",
            &[
                "hwcert-resume.service",
                "NetworkManager-wait-online.service",
            ],
        )
        .expect("state");
    let t = std::time::Instant::now();
    let (_, o) = lab.boot_and_resume(1_000);
    assert!(t.elapsed().as_secs_f64() >= 2.0, "waited the profile's 2 s");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let m = measured(&lab.entries(CYCLE).pop().expect("final"));
    assert!(
        m.contains("the boot did not finish within 2 s: systemctl is-system-running says starting with jobs queued for hwcert-resume.service, NetworkManager-wait-online.service"),
        "{m}"
    );
    // Only the resume unit's own job left: booted.
    let lab = lab_with_state(&["hwcert-resume.service", "multi-user.target"]);
    let m = lab.entries(CYCLE).pop().expect("final");
    assert_eq!(status(&m), "pass", "{m}");
}

fn lab_with_state(jobs: &[&str]) -> Lab {
    let lab = lab(1, "");
    assert_eq!(lab.start(true).status.code(), Some(0));
    lab.machine
        .set_system_state("starting", jobs)
        .expect("state");
    let (_, o) = lab.boot_and_resume(1_000);
    assert_eq!(o.status.code(), final_code(&lab, true), "{}", show(&o));
    lab
}

#[test]
fn a_crash_in_the_middle_of_the_case_with_a_torn_journal_loses_nothing() {
    let lab = lab(3, "");
    let boot0 = current_boot(&lab.machine);
    assert_eq!(lab.start(true).status.code(), Some(0));
    let (id1, o) = lab.boot_and_resume(3_000);
    assert_rebooting(&lab, &o, &id1, 2, 3);
    // The crash: the case had judged boot 1 and saved its state, the supervisor was writing
    // the "rebooting" line when the machine went down — the line is torn, state.json still
    // says the instance runs on boot id1.
    let jpath = lab.run.join("journal.jsonl");
    let j = std::fs::read(&jpath).expect("journal");
    std::fs::write(&jpath, &j[..j.len() - 40]).expect("tear");
    let state = serde_json::json!({
        "boot_id": id1,
        "supervisor_pid": 999_999,
        "running": [{
            "name": CYCLE,
            "started": "2026-12-03T16:00:00Z",
            "started_unix_ms": 1_796_313_600_000u64,
        }],
    });
    std::fs::write(lab.run.join("state.json"), state.to_string()).expect("state");
    // The machine itself rebooted (a crash, not our request): boot 2.
    let (id2, o) = lab.boot_and_resume(5_000);
    assert_rebooting(&lab, &o, &id2, 3, 3);
    assert!(
        text(&o.stderr).contains("warning"),
        "the torn line is reported\n{}",
        show(&o)
    );
    let cyc = lab.entries(CYCLE);
    let interrupted: Vec<String> = cyc.iter().map(reason).collect();
    assert!(
        interrupted.iter().any(|r| r.starts_with(&format!(
            "the machine rebooted while it ran (boot_id changed from {id1} to {id2})"
        ))),
        "{interrupted:?}"
    );
    let (_, o) = lab.boot_and_resume(3_000);
    assert_eq!(o.status.code(), final_code(&lab, true), "{}", show(&o));
    let last = lab.entries(CYCLE).pop().expect("final");
    assert_eq!(status(&last), "pass", "{last}");
    // Three boots judged — boot 1 before the crash is kept, the crash's boot counts as the
    // second — and the finished case before them ran once.
    let st: Value = serde_json::from_slice(
        &std::fs::read(lab.run.join("casestate/system::reboot_cycle.json")).expect("state"),
    )
    .expect("json");
    let ids: Vec<&str> = st["boots"]
        .as_array()
        .expect("boots")
        .iter()
        .filter_map(|b| b["boot_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(&ids[..2], [id1.as_str(), id2.as_str()]);
    assert_eq!(st["first"]["boot_id"], boot0);
    assert_eq!(lab.entries(FIRST).len(), 1);
}

#[test]
fn without_consent_nothing_reboots_and_a_failed_reboot_is_an_error() {
    // The profile enables it, the command line does not: not planned, and plan --explain
    // says why.
    let lab = lab(3, "");
    let o = lab.start(false);
    assert!(lab.entries(CYCLE).is_empty(), "{}", show(&o));
    assert!(lab.machine.actions().is_empty());
    let plan: Value =
        serde_json::from_slice(&std::fs::read(lab.run.join("plan.json")).expect("plan"))
            .expect("json");
    let np = plan["not_planned"]
        .as_array()
        .expect("not_planned")
        .iter()
        .find(|n| n["case"] == CYCLE)
        .expect("listed");
    assert_eq!(
        np["reason"],
        "takes the machine down (reboot, crash or power cycle): the profile enables it \
         (reboot.cycles = 3) but the command line does not say --allow-reboot"
    );
    let o = lab
        .cmd()
        .args(["plan", "--explain", "--profile", "quick"])
        .output()
        .expect("plan");
    let t = text(&o.stdout);
    let line = t
        .lines()
        .find(|l| l.contains(CYCLE))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(
        line.contains("the profile does not enable it (setting reboot.cycles"),
        "{line}"
    );
    let o = lab
        .cmd()
        .args(["plan", "--explain", "--profile", "standard"])
        .output()
        .expect("plan");
    let t = text(&o.stdout);
    let line = t
        .lines()
        .find(|l| l.contains(CYCLE))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(line.contains("does not say --allow-reboot"), "{line}");
    let o = lab
        .cmd()
        .args([
            "plan",
            "--explain",
            "--profile",
            "standard",
            "--allow-reboot",
        ])
        .output()
        .expect("plan");
    let t = text(&o.stdout);
    assert!(
        !t.lines()
            .any(|l| l.contains(CYCLE) && l.contains("allow-reboot")),
        "{t}"
    );

    // A reboot that cannot start ends the instance with an error and the run goes on.
    let lab = self::lab(3, "");
    std::fs::write(
        lab.machine.dir().join("act-error"),
        "systemctl reboot: Access denied",
    )
    .expect("act-error");
    let o = lab.start(true);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let cyc = lab.entries(CYCLE);
    assert_eq!(cyc.len(), 2, "{cyc:?}");
    assert_eq!(status(&cyc[1]), "error");
    assert!(
        reason(&cyc[1]).ends_with("could not be started: systemctl reboot: Access denied"),
        "{}",
        reason(&cyc[1])
    );
}

#[test]
fn the_resume_unit_passes_systemd_analyze_verify() {
    let Ok(v) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("skipped: systemd-analyze is not installed here, the unit is not verified");
        return;
    };
    assert!(v.status.success());
    let d = tempfile::tempdir().expect("tmp");
    let env = d.path().join("resume.env");
    std::fs::write(&env, "HWCERT_RESUME_DIR=\"/srv/run\"\n").expect("env");
    let unit = d.path().join("hwcert-resume.service");
    let text_ = cases::resume_unit::render(&hwcert(), &env).expect("render");
    std::fs::write(&unit, &text_).expect("unit");
    let verify = |p: &Path| {
        Command::new("systemd-analyze")
            .arg("verify")
            .arg(p)
            .output()
            .expect("systemd-analyze")
    };
    let o = verify(&unit);
    assert!(o.status.success(), "{}", show(&o));
    assert!(text(&o.stderr).trim().is_empty(), "{}", show(&o));
    // The check can fail: a unit whose program is missing does not verify.
    std::fs::write(
        &unit,
        text_.replace(&hwcert().display().to_string(), "/nonexistent/hwcert"),
    )
    .expect("unit");
    assert!(!verify(&unit).status.success());
}

const KDUMP: &str = "system::kdump_crash";

/// A lab whose machine has a crash kernel loaded (or not) and kdump.conf's default target.
fn kdump_lab(loaded: &str) -> Lab {
    let tmp = tempfile::tempdir().expect("tmp");
    let machine = FakeMachine::create(
        &tmp.path().join("machine"),
        &testing::fixtures::fixture("aarch64-kunpeng"),
    )
    .expect("fake machine");
    let root = machine.root();
    std::fs::create_dir_all(root.join("sys/kernel")).expect("dir");
    std::fs::write(root.join("sys/kernel/kexec_crash_loaded"), loaded).expect("loaded");
    std::fs::create_dir_all(root.join("etc")).expect("etc");
    std::fs::write(
        root.join("etc/kdump.conf"),
        "path /var/crash\ncore_collector makedumpfile -l --message-level 7 -d 31\n",
    )
    .expect("kdump.conf");
    std::fs::create_dir_all(root.join("var/crash/127.0.0.1-2026-01-01-00:00:00")).expect("old");
    let profile = tmp.path().join("kdump.toml");
    std::fs::write(
        &profile,
        format!(
            "name = \"kdump-test\"\nextends = \"quick\"\ninclude = [\"{KDUMP}\"]\n\
             [settings]\n\"kdump.enabled\" = true\n"
        ),
    )
    .expect("profile");
    Lab {
        run: tmp.path().join("run"),
        _tmp: tmp,
        machine,
        profile,
    }
}

/// Crash the lab's machine: the run asks for it; then kdump "writes" `files` into a new dump
/// directory (the vmcore's mtime 30 s after the request), and the machine boots again.
fn crash_and_dump(lab: &Lab, files: &[(&str, Vec<u8>)]) -> Output {
    let boot0 = current_boot(&lab.machine);
    let o = lab.start(true);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let last = lab.entries(KDUMP).pop().expect("journaled");
    assert_eq!(status(&last), "interrupted");
    assert!(
        reason(&last).starts_with(&format!("crashing the kernel (boot_id {boot0}): sysrq c")),
        "{last}"
    );
    assert_eq!(lab.machine.actions(), [format!("crash from {boot0}")]);
    let st: Value = serde_json::from_slice(
        &std::fs::read(lab.run.join("casestate/system::kdump_crash.json")).expect("state"),
    )
    .expect("json");
    let asked_s = st["requested_ms"].as_u64().expect("requested_ms") / 1000;
    let dir = lab
        .machine
        .root()
        .join("var/crash/127.0.0.1-2026-12-03-17:00:00");
    if !files.is_empty() {
        std::fs::create_dir_all(&dir).expect("dump dir");
    }
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("dump file");
    }
    if dir.join("vmcore").exists() {
        let st = Command::new("touch")
            .arg("-d")
            .arg(format!("@{}", asked_s + 30))
            .arg(dir.join("vmcore"))
            .status()
            .expect("touch");
        assert!(st.success());
    }
    lab.boot_and_resume(20_000).1
}

const CRASH_DMESG: &str = "[  812.331907] sysrq: Trigger a crash\n\
    [  812.332101] Kernel panic - not syncing: sysrq triggered crash\n\
    [  812.332200] CPU: 3 PID: 4242 Comm: hwcert Kdump: loaded Not tainted 6.6.47-12.oc9.aarch64 #1\n";

fn kdump_verdict(lab: &Lab) -> (String, String, Value) {
    let last = lab.entries(KDUMP).pop().expect("final");
    (status(&last).to_string(), measured(&last), last)
}

#[test]
fn kdump_crash_finds_a_whole_new_vmcore_and_refuses_missing_truncated_or_foreign_ones() {
    // A whole compressed dump whose kernel log holds the sysrq crash.
    let lab = kdump_lab("1\n");
    let dump = testing::vmcore::compressed_dump(64, "6.6.47-12.oc9.aarch64");
    let o = crash_and_dump(
        &lab,
        &[
            ("vmcore", dump.clone()),
            ("vmcore-dmesg.txt", CRASH_DMESG.into()),
        ],
    );
    let (st, m, last) = kdump_verdict(&lab);
    assert_eq!(st, "pass", "{m}\n{}", show(&o));
    let meas = |n: &str| {
        last["measurements"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == n))
            .and_then(|x| x["value"].as_f64())
    };
    assert_eq!(meas("vmcore_bytes"), Some(dump.len() as f64));
    // 30 s after the request, which the touch above set to the whole second.
    let took = meas("dump_seconds").expect("dump_seconds");
    assert!((29.0..=30.0).contains(&took), "{took}");
    assert!(!lab
        .machine
        .dir()
        .join("units/hwcert-resume.service")
        .exists());
    let log = std::fs::read_to_string(lab.run.join("logs/system::kdump_crash.log")).expect("log");
    assert!(log.contains("kdump compressed dump of"), "{log}");
    assert!(log.contains("kernel 6.6.47-12.oc9.aarch64"), "{log}");

    // No new dump (the old directory does not count).
    let lab = kdump_lab("1\n");
    crash_and_dump(&lab, &[]);
    let (st, m, _) = kdump_verdict(&lab);
    assert_eq!(st, "fail");
    assert!(
        m.starts_with("no new dump under /var/crash after the crash"),
        "{m}"
    );

    // A dump cut short by the crash kernel running out of space.
    let lab = kdump_lab("1\n");
    crash_and_dump(
        &lab,
        &[
            ("vmcore", dump[..dump.len() - 150].to_vec()),
            ("vmcore-dmesg.txt", CRASH_DMESG.into()),
        ],
    );
    let (st, m, _) = kdump_verdict(&lab);
    assert_eq!(st, "fail");
    assert!(
        m.contains("/vmcore is not a readable dump: truncated: page 64 of 64"),
        "{m}"
    );

    // makedumpfile said it did not finish.
    let lab = kdump_lab("1\n");
    crash_and_dump(&lab, &[("vmcore-incomplete", dump[..9000].to_vec())]);
    let (_, m, _) = kdump_verdict(&lab);
    assert!(
        m.ends_with("vmcore-incomplete: the dump was not finished"),
        "{m}"
    );

    // A whole dump of some other crash.
    let lab = kdump_lab("1\n");
    crash_and_dump(
        &lab,
        &[
            ("vmcore", testing::vmcore::elf_dump(4096, "6.6.47")),
            (
                "vmcore-dmesg.txt",
                "[ 1.0] BUG: unable to handle page fault\n".into(),
            ),
        ],
    );
    let (_, m, _) = kdump_verdict(&lab);
    assert!(m.contains("does not show the sysrq crash"), "{m}");

    // No crash kernel: nothing is crashed.
    let lab = kdump_lab("0\n");
    let o = lab.start(true);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let (st, m, _) = kdump_verdict(&lab);
    assert_eq!(st, "fail");
    assert!(
        m.starts_with("kexec_crash_loaded = 0: no crash kernel is loaded"),
        "{m}"
    );
    assert!(lab.machine.actions().is_empty());
}

const WATCHDOG: &str = "system::watchdog_reset";

/// A lab whose watchdog0 is `identity` with a 30 s timeout and `timeleft` s left after a pet.
fn watchdog_lab(identity: &str, timeleft: u32, disruptive: bool) -> Lab {
    let tmp = tempfile::tempdir().expect("tmp");
    let machine = FakeMachine::create(
        &tmp.path().join("machine"),
        &testing::fixtures::fixture("aarch64-kunpeng"),
    )
    .expect("fake machine");
    let w = machine.root().join("sys/class/watchdog/watchdog0");
    std::fs::create_dir_all(&w).expect("dir");
    std::fs::write(w.join("identity"), format!("{identity}\n")).expect("identity");
    std::fs::write(w.join("timeout"), "30\n").expect("timeout");
    std::fs::write(w.join("timeleft"), format!("{timeleft}\n")).expect("timeleft");
    std::fs::write(w.join("bootstatus"), "0\n").expect("bootstatus");
    let profile = tmp.path().join("watchdog.toml");
    std::fs::write(
        &profile,
        format!(
            "name = \"watchdog-test\"\nextends = \"quick\"\ninclude = [\"{WATCHDOG}\"]\n\
             [settings]\n\"watchdog.disruptive\" = {disruptive}\n"
        ),
    )
    .expect("profile");
    Lab {
        run: tmp.path().join("run"),
        _tmp: tmp,
        machine,
        profile,
    }
}

fn watchdog_log(lab: &Lab) -> Vec<String> {
    std::fs::read_to_string(lab.machine.dir().join("watchdog.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn watchdog_reset_pets_a_hardware_watchdog_and_never_counts_softdog() {
    // Armed, petted three times, stopped; nothing reboots and no consent is needed.
    let lab = watchdog_lab("SBSA Generic Watchdog", 30, false);
    let o = lab.start(false);
    let last = lab
        .entries(WATCHDOG)
        .pop()
        .unwrap_or_else(|| panic!("{}", show(&o)));
    assert_eq!(status(&last), "pass", "{last}");
    assert_eq!(
        watchdog_log(&lab),
        [
            "open /dev/watchdog0",
            "keepalive",
            "keepalive",
            "keepalive",
            "magic-close"
        ]
    );
    assert!(lab.machine.actions().is_empty());

    // softdog alone is no hardware watchdog: a failure, and it is not even opened.
    let lab = watchdog_lab("Software Watchdog", 30, false);
    lab.start(false);
    let last = lab.entries(WATCHDOG).pop().expect("journaled");
    assert_eq!(status(&last), "fail");
    assert!(
        measured(&last).starts_with("only the software watchdog (softdog)"),
        "{last}"
    );
    assert!(watchdog_log(&lab).is_empty());

    // A pet that does not reset the time left fails — and the watchdog is still stopped.
    let lab = watchdog_lab("iTCO_wdt", 9, false);
    lab.start(false);
    let last = lab.entries(WATCHDOG).pop().expect("journaled");
    assert_eq!(status(&last), "fail", "{last}");
    assert_eq!(measured(&last), "9 s left right after a keepalive");
    assert_eq!(
        watchdog_log(&lab).last().map(String::as_str),
        Some("magic-close")
    );

    // Held by another program: a skip with the reason.
    let lab = watchdog_lab("iTCO_wdt", 30, false);
    std::fs::write(
        lab.machine.dir().join("watchdog-busy"),
        "Device or resource busy",
    )
    .expect("busy");
    lab.start(false);
    let last = lab.entries(WATCHDOG).pop().expect("journaled");
    assert_eq!(status(&last), "skip", "{last}");
    assert!(reason(&last).contains("RuntimeWatchdogSec"), "{last}");
}

#[test]
fn a_disruptive_watchdog_reset_needs_consent_and_bootstatus_tells_the_reset() {
    let lab = watchdog_lab("iTCO_wdt", 30, true);
    lab.start(false);
    assert!(lab.entries(WATCHDOG).is_empty());
    let plan: Value =
        serde_json::from_slice(&std::fs::read(lab.run.join("plan.json")).expect("plan"))
            .expect("json");
    assert!(
        plan["not_planned"]
            .as_array()
            .expect("list")
            .iter()
            .any(|n| n["case"] == WATCHDOG
                && n["reason"]
                    == "the profile makes it take the machine down (watchdog.disruptive = true) \
                    but the command line does not say --allow-reboot"),
        "{plan}"
    );

    for (bootstatus, want) in [("32", "pass"), ("0", "fail")] {
        let lab = watchdog_lab("iTCO_wdt", 30, true);
        let boot0 = current_boot(&lab.machine);
        let o = lab.start(true);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        let last = lab.entries(WATCHDOG).pop().expect("journaled");
        assert_eq!(
            reason(&last),
            format!(
                "letting the watchdog expire (boot_id {boot0}): /dev/watchdog0 (iTCO_wdt) left \
                 to expire after 30 s"
            )
        );
        assert_eq!(
            lab.machine.actions(),
            [format!("watchdog-expire from {boot0}")]
        );
        std::fs::write(
            lab.machine
                .root()
                .join("sys/class/watchdog/watchdog0/bootstatus"),
            bootstatus,
        )
        .expect("bootstatus");
        let (id, o) = lab.boot_and_resume(10_000);
        let last = lab.entries(WATCHDOG).pop().expect("final");
        assert_eq!(status(&last), want, "{last}\n{}", show(&o));
        if want == "fail" {
            assert!(
                measured(&last).starts_with(&format!(
                    "a new boot ({id}), but /sys/class/watchdog/watchdog0/bootstatus is 0x0"
                )),
                "{last}"
            );
        }
        assert!(!lab.machine.dir().join("state/resume.env").exists());
    }
}

#[test]
fn a_cold_cycle_power_cycles_through_the_bmc_only_where_one_is_configured() {
    let lab = lab(1, "\"reboot.cold\" = true\n");
    lab.start(true);
    let last = lab.entries(CYCLE).pop().expect("journaled");
    assert_eq!(status(&last), "skip", "{last}");
    assert!(reason(&last).contains("no ipmi.host in the profile and no local /dev/ipmi0"));
    assert!(lab.machine.actions().is_empty());

    let lab = self::lab(
        1,
        "\"reboot.cold\" = true\n\"ipmi.host\" = \"192.0.2.10\"\n\"ipmi.user\" = \"admin\"\n\
         \"ipmi.password_file\" = \"/etc/hwcert/bmc.pw\"\n",
    );
    let boot0 = current_boot(&lab.machine);
    let o = lab.start(true);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let last = lab.entries(CYCLE).pop().expect("journaled");
    assert_eq!(
        reason(&last),
        format!(
            "power-cycling (boot_id {boot0}): cycle 1 of 1, cold: ipmitool chassis power cycle"
        )
    );
    assert_eq!(lab.machine.actions(), [format!("power-cycle from {boot0}")]);
    let (_, o) = lab.boot_and_resume(2_000);
    assert_eq!(
        status(&lab.entries(CYCLE).pop().expect("final")),
        "pass",
        "{}",
        show(&o)
    );
}

#[test]
fn certify_with_consent_reports_only_once_the_cycles_are_over() {
    let mut lab = lab(2, "");
    let out = lab._tmp.path().join("cert");
    lab.run = out.join("run");
    let key = lab._tmp.path().join("key");
    let kg = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "lab@example.org",
            "-f",
        ])
        .arg(&key)
        .output()
        .expect("ssh-keygen");
    assert!(kg.status.success(), "{}", show(&kg));
    let certify = |args: &[&str]| {
        lab.cmd()
            .arg("certify")
            .args(args)
            .arg("--key")
            .arg(&key)
            .output()
            .expect("hwcert certify")
    };
    let out_s = out.to_str().expect("utf-8");
    let profile = lab.profile.to_str().expect("utf-8");
    // --resume continues a run as it was planned: consent is given at the start only.
    let o = certify(&["--resume", out_s, "--allow-reboot"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));

    let first_boot = current_boot(&lab.machine);
    let o = certify(&["--profile", profile, "-o", out_s, "--allow-reboot"]);
    assert_rebooting(&lab, &o, &first_boot, 1, 2);
    assert!(
        !out.join("report/report.json").exists(),
        "no report of a run that goes on after the boot"
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("no report yet") && err.contains(&format!("hwcert certify --resume {out_s}")),
        "{err}"
    );
    // The second cycle's boot: the unit resumes the run, which reboots again; certify
    // --resume from the same boot would not report either.
    let (id, o) = lab.boot_and_resume(3_000);
    assert_rebooting(&lab, &o, &id, 2, 2);
    // The last boot: the unit finishes the run; certify --resume writes the report.
    let (_, o) = lab.boot_and_resume(3_000);
    assert_eq!(o.status.code(), final_code(&lab, true), "{}", show(&o));
    let o = certify(&["--resume", out_s]);
    assert!(out.join("report/report.json").is_file(), "{}", show(&o));
    let report: Value = serde_json::from_slice(
        &std::fs::read(out.join("report/report.json")).expect("report.json"),
    )
    .expect("json");
    let cycle = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["name"] == CYCLE)
        .expect("the cycle is in the report");
    assert_eq!(cycle["status"], "pass", "{cycle}");
    assert_eq!(lab.machine.actions().len(), 2, "two reboots, no more");

    // Without --allow-reboot certify plans no cycle and reboots nothing.
    let lab = self::lab(2, "");
    let out = lab._tmp.path().join("cert");
    let o = lab
        .cmd()
        .arg("certify")
        .args(["--profile", lab.profile.to_str().expect("utf-8"), "-o"])
        .arg(&out)
        .arg("--key")
        .arg(&key)
        .output()
        .expect("certify");
    assert!(out.join("report/report.json").is_file(), "{}", show(&o));
    assert!(lab.machine.actions().is_empty());
}
