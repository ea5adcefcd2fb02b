//! `hwcert run --resume`: after `kill -9` of the supervisor the running instance is journaled
//! `interrupted` and runs again, finished instances never run twice, a reboot (boot_id) is
//! told apart from a supervisor crash, a run directory in use is refused, a torn journal line
//! is dropped, and bad directories are usage errors.

use crate::support;

use std::time::Duration;

use serde_json::Value;
use support::*;

/// How many attempts the log of `name` holds (one header per start).
fn attempts(dir: &std::path::Path, name: &str) -> usize {
    std::fs::read_to_string(dir.join(format!("logs/{name}.log")))
        .unwrap_or_default()
        .matches(&format!("=== hwcert: {name} started"))
        .count()
}

#[test]
fn resume_after_kill_9_journals_interrupted_and_never_reruns_finished() {
    if !become_subreaper() {
        return;
    }
    let d = tempfile::tempdir().expect("tmp");
    let (mut sup, group, _) = start_with_sleep(d.path(), "pass,cmd_pass,sleep=60,fail");
    let sup_pid = sup.0.id();
    kill9(&mut sup.0);
    assert!(reap_until_gone(group.0, Duration::from_secs(5)));
    assert_eq!(
        names(d.path()),
        ["selftest::pass", "selftest::cmd_pass::st0"]
    );
    // state.json records the run's start in this boot (the kernel log's clock), for the cases
    // that read the kernel log of the run only; a resume keeps it.
    let started = |d: &std::path::Path| -> Value {
        let s: Value = serde_json::from_slice(&std::fs::read(d.join("state.json")).expect("state"))
            .expect("json");
        s["run_started"].clone()
    };
    let first = started(d.path());
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    assert_eq!(first["boot_id"].as_str(), Some(boot.trim()), "{first}");
    assert!(first["monotonic_us"].as_u64().unwrap_or(0) > 0, "{first}");

    // The plan, the filter and the options come from plan.json: no HWCERT_SELFTEST now.
    let o = resume(d.path(), &[("HWCERT_SELFTEST_SLEEP", "0.2")]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "selftest::fail blocks\n{}",
        show(&o)
    );
    let j = journal(d.path());
    let n: Vec<(&str, &str)> = j
        .iter()
        .map(|e| {
            (
                e["name"].as_str().expect("name"),
                e["status"].as_str().expect("status"),
            )
        })
        .collect();
    assert_eq!(
        n,
        [
            ("selftest::pass", "pass"),
            ("selftest::cmd_pass::st0", "pass"),
            ("selftest::sleep", "interrupted"),
            ("selftest::sleep", "pass"),
            ("selftest::fail", "fail"),
        ]
    );
    let r = reason_of(&j[2]);
    assert!(
        r.contains("supervisor") && r.contains(&format!("pid {sup_pid}")),
        "{r}"
    );
    assert_eq!(started(d.path()), first, "the resume keeps the run's start");
    // Finished instances ran once; the interrupted one twice.
    assert_eq!(attempts(d.path(), "selftest::pass"), 1);
    assert_eq!(attempts(d.path(), "selftest::cmd_pass::st0"), 1);
    assert_eq!(attempts(d.path(), "selftest::sleep"), 2);
    let out = text(&o.stdout);
    assert!(out.contains("INTERRUPTED"), "{out}");
    assert!(out.contains("(from the journal)"), "{out}");

    // Resuming a finished run runs nothing and keeps the verdict.
    let before = journal(d.path()).len();
    let o = resume(d.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(journal(d.path()).len(), before);
    assert_eq!(attempts(d.path(), "selftest::pass"), 1);
    assert_eq!(attempts(d.path(), "selftest::sleep"), 2);
}

#[test]
fn reboot_is_told_from_a_supervisor_crash_and_a_busy_dir_is_refused() {
    if !become_subreaper() {
        return;
    }
    let d = tempfile::tempdir().expect("tmp");
    let (mut sup, group, _) = start_with_sleep(d.path(), "sleep=60,pass");

    // While it runs, the directory is locked.
    let o = resume(d.path(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let e = text(&o.stderr);
    assert!(
        e.contains("in use by another hwcert run") && e.contains(&format!("pid {}", sup.0.id())),
        "{e}"
    );
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");

    kill9(&mut sup.0);
    assert!(reap_until_gone(group.0, Duration::from_secs(5)));
    // Pretend the machine rebooted since: another boot id in the state file.
    let p = d.path().join("state.json");
    let mut s: Value = serde_json::from_slice(&std::fs::read(&p).expect("state")).expect("json");
    assert_eq!(s["running"][0]["name"], "selftest::sleep");
    s["boot_id"] = "00000000-0000-0000-0000-000000000000".into();
    std::fs::write(&p, serde_json::to_vec(&s).expect("json")).expect("write");

    let o = resume(d.path(), &[("HWCERT_SELFTEST_SLEEP", "0")]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let j = journal(d.path());
    assert_eq!(j[0]["status"], "interrupted");
    let r = reason_of(&j[0]);
    assert!(r.contains("rebooted") && r.contains("boot_id"), "{r}");
    assert_eq!(j[0]["boot_id"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(status_of(d.path(), "selftest::sleep"), "pass");
    assert_eq!(status_of(d.path(), "selftest::pass"), "pass");
}

#[test]
fn a_torn_last_journal_line_is_dropped_and_that_instance_runs_again() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(d.path(), "pass,skip", &["selftest::"]);
    // selftest::skip is a blocker that was not tested: the run is incomplete (exit 1).
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    // Cut the last line in half, as a power cut during the write would.
    let p = d.path().join("journal.jsonl");
    let t = std::fs::read_to_string(&p).expect("journal");
    let keep = t.trim_end().rfind('\n').expect("two lines") + 1;
    std::fs::write(&p, &t[..keep + 20]).expect("write");
    let o = resume(d.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("incomplete last line"),
        "{}",
        show(&o)
    );
    assert_eq!(names(d.path()), ["selftest::pass", "selftest::skip"]);
}

#[test]
fn bad_resume_directories_are_usage_errors() {
    let d = tempfile::tempdir().expect("tmp");
    let missing = d.path().join("missing");
    let garbage = d.path().join("garbage");
    std::fs::create_dir(&garbage).expect("mkdir");
    std::fs::write(garbage.join("plan.json"), "not json").expect("write");
    for (dir, want) in [
        (missing.as_path(), "no such directory"),
        (d.path(), "not a hwcert run directory"),
        (garbage.as_path(), "plan.json"),
    ] {
        let o = resume(dir, &[]);
        assert_eq!(o.status.code(), Some(2), "{}", show(&o));
        let e = text(&o.stderr);
        assert!(e.starts_with("hwcert: error: ") && e.contains(want), "{e}");
        assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    }
    // A resume takes its filter from plan.json, not from the command line.
    let r = tempfile::tempdir().expect("tmp");
    let o = run_in(r.path(), "pass", &["selftest::"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let o = std::process::Command::new(hwcert())
        .args(["run", "--resume"])
        .arg(r.path())
        .arg("selftest::fail")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    // And a fresh run refuses an existing run directory.
    let o = run_in(r.path(), "pass", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o.stderr).contains("--resume"), "{}", show(&o));
}

#[test]
fn the_plan_records_the_filter_and_options_for_the_resume() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(
        d.path(),
        "pass,fail,skip",
        &["--skip", "fail", "--test-threads=1", "selftest::"],
    );
    // selftest::fail, a blocker, was skipped by the filter: the run is incomplete.
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let plan: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("plan.json")).expect("plan"))
            .expect("json");
    assert_eq!(
        plan["test_args"],
        serde_json::json!(["--test-threads=1", "--skip=fail", "--", "selftest::"])
    );
    // Remove the last result: the resume runs it again under the same filter (so not fail).
    let p = d.path().join("journal.jsonl");
    let t = std::fs::read_to_string(&p).expect("journal");
    let first = t.lines().next().expect("a line");
    std::fs::write(&p, format!("{first}\n")).expect("write");
    let o = resume(d.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(names(d.path()), ["selftest::pass", "selftest::skip"]);
}

#[test]
fn an_interruption_is_journaled_once_even_if_a_resume_dies_too() {
    if !become_subreaper() {
        return;
    }
    let d = tempfile::tempdir().expect("tmp");
    let (mut sup, group, _) = start_with_sleep(d.path(), "sleep=60");
    kill9(&mut sup.0);
    assert!(reap_until_gone(group.0, Duration::from_secs(5)));
    // A resume that journaled the interruption and died before rewriting state.json.
    let state: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("state.json")).expect("state"))
            .expect("json");
    let line = serde_json::json!({
        "name": "selftest::sleep", "status": "interrupted", "reason": "the supervisor died",
        "started": state["running"][0]["started"], "duration_ms": 5, "measurements": [],
        "log": "logs/selftest::sleep.log", "boot_id": state["boot_id"],
    });
    std::fs::write(d.path().join("journal.jsonl"), format!("{line}\n")).expect("write");
    let o = resume(d.path(), &[("HWCERT_SELFTEST_SLEEP", "0")]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let statuses: Vec<String> = journal(d.path())
        .iter()
        .map(|e| e["status"].as_str().expect("status").to_string())
        .collect();
    assert_eq!(statuses, ["interrupted", "pass"]);
}

#[test]
fn a_resume_whose_saved_test_options_are_invalid_fails_clearly() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(d.path(), "pass,skip", &["selftest::"]);
    // selftest::skip is a blocker that was not tested: the run is incomplete (exit 1).
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    // A plan.json saved by an older hwcert that took --test-threads 0 (and then hung).
    let p = d.path().join("plan.json");
    let mut plan: Value = serde_json::from_slice(&std::fs::read(&p).expect("plan")).expect("json");
    plan["test_args"] = serde_json::json!(["--test-threads=0", "--", "selftest::"]);
    std::fs::write(&p, serde_json::to_vec_pretty(&plan).expect("json")).expect("write");
    // Drop a result so that the resume has something to run.
    let j = d.path().join("journal.jsonl");
    let t = std::fs::read_to_string(&j).expect("journal");
    let first = t.lines().next().expect("a line");
    std::fs::write(&j, format!("{first}\n")).expect("write");

    let mut c = std::process::Command::new(hwcert());
    c.arg("run")
        .arg("--resume")
        .arg(d.path())
        .env_remove("HWCERT_SELFTEST")
        .stdin(std::process::Stdio::null());
    let o = output_within(&mut c, Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("plan.json") && err.contains("--test-threads 0"),
        "{}",
        show(&o)
    );
    assert_eq!(names(d.path()).len(), 1, "nothing ran");
}

#[test]
fn journal_lines_of_instances_not_in_the_plan_are_not_counted() {
    let d = tempfile::tempdir().expect("tmp");
    let run = d.path().join("run");
    let o = run_in(&run, "pass,skip", &["selftest::"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    // A line of an instance the plan does not hold (a plan rewritten under the run).
    let j = run.join("journal.jsonl");
    let t = std::fs::read_to_string(&j).expect("journal");
    let mut ghost: Value = serde_json::from_str(t.lines().next().expect("a line")).expect("json");
    ghost["name"] = "selftest::ghost".into();
    std::fs::write(&j, format!("{t}{ghost}\n")).expect("write");

    let o = resume(&run, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("2 of 2 instances already finished"),
        "{}",
        show(&o)
    );

    let config = d.path().join("config");
    let out = d.path().join("report");
    let o = std::process::Command::new(hwcert())
        .arg("report")
        .arg(&run)
        .arg("-o")
        .arg(&out)
        .env("XDG_CONFIG_HOME", &config)
        .env_remove("HWCERT_KEY_PASSPHRASE")
        .output()
        .expect("hwcert report");
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        text(&o.stdout).contains("2 instances: 1 pass"),
        "{}",
        show(&o)
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report"))
            .expect("json");
    let c = &report["counts"];
    assert_eq!(
        (c["total"].as_u64(), c["pass"].as_u64()),
        (Some(2), Some(1)),
        "{c}"
    );
    assert_eq!(c["skip"], 1, "{c}");
    // Still reported, and warned about.
    let results = report["results"].as_array().expect("results");
    assert!(results.iter().any(|r| r["name"] == "selftest::ghost"));
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("selftest::ghost is not in the plan"),
        "{warnings}"
    );
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct SmallFs(std::path::PathBuf);

impl SmallFs {
    /// None (after saying why) where mounting is not permitted.
    fn mount(at: &std::path::Path, size: &str) -> Option<SmallFs> {
        std::fs::create_dir_all(at).expect("mount point");
        let o = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output();
        match o {
            Ok(o) if o.status.success() => Some(SmallFs(at.to_path_buf())),
            Ok(o) => {
                eprintln!("skipped: cannot mount a tmpfs: {}", text(&o.stderr).trim());
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_run_directory_disk_interrupts_the_instance_and_a_resume_runs_it_again() {
    let d = tempfile::tempdir().expect("tmp");
    let Some(fs) = SmallFs::mount(&d.path().join("small"), "2m") else {
        return;
    };
    let run = fs.0.join("run");
    // cmd_fill fills the disk once, then exits 0: its worker cannot write its result.
    let o = run_in(&run, "pass,skip,cmd_fill", &["selftest::"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let e = &latest(&run)["selftest::cmd_fill::st0"];
    assert_eq!(e["status"], "interrupted", "{e}");
    let r = reason_of(e);
    assert!(
        r.contains("could not write its result") && r.contains("results/"),
        "{r}"
    );
    // The journal line fit in its last page; the new state.json did not: the message says so.
    let err = text(&o.stderr);
    assert!(
        err.contains("state.json") && err.contains("No space left on device"),
        "{}",
        show(&o)
    );
    assert!(!err.contains("cannot write the journal"), "{err}");

    // The tester frees the disk and resumes: the instance runs again and passes.
    std::fs::remove_file(run.join("filler")).expect("remove the filler");
    let o = resume(&run, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(status_of(&run, "selftest::cmd_fill::st0"), "pass");
    drop(fs);
}
