//! junit.xml: one test suite per component, one test case per instance (classname = the
//! component). A fail is a `<failure>` with "expected …; measured …"; an error, timeout, crash
//! or interruption is an `<error>` whose type says which; a skip is `<skipped>` with its
//! reason, and so is an instance that never ran. `<system-out>` holds the log's last lines.
//! A last suite, `verdict`, holds the verdict itself (a `<failure>` with the summary and the
//! reasons unless certified: a recorded machine, a profile that does not certify) and one
//! `<skipped>` case per blocker left out of the plan (excluded, or a requirement not met).

use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};

use crate::render::{log_tail, LOG_TAIL_LINES};
use documents::report::{InstanceResult, Report};
use documents::Error;
use documents::Status;

fn status(r: &InstanceResult) -> TestCaseStatus {
    let message = match (&r.expected, &r.measured, &r.reason) {
        (Some(e), Some(m), _) => Some(format!("expected {e}; measured {m}")),
        (_, _, Some(reason)) => Some(reason.clone()),
        _ => None,
    };
    let failing: Vec<String> = r
        .measurements
        .iter()
        .filter(|m| m.holds() == Some(false))
        .map(|m| {
            format!(
                "{} = {} {} (threshold {})",
                m.name,
                m.finite()
                    .map(crate::svg::fmt_num)
                    .unwrap_or_else(|| "n/a".into()),
                m.unit,
                crate::svg::fmt_threshold(m).unwrap_or_default()
            )
        })
        .collect();
    let mut st = match r.status {
        Status::Pass => return TestCaseStatus::success(),
        Status::Skip | Status::NotRun => {
            let mut s = TestCaseStatus::skipped();
            let why = if r.status == Status::NotRun {
                Some("not run".to_string())
            } else {
                message.clone()
            };
            if let Some(m) = why {
                s.set_message(m);
            }
            s.set_type(r.status.as_str());
            return s;
        }
        Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
        _ => TestCaseStatus::non_success(NonSuccessKind::Error),
    };
    st.set_type(r.status.as_str());
    st.set_message(message.unwrap_or_else(|| r.status.as_str().to_string()));
    if !failing.is_empty() {
        st.set_description(failing.join("\n"));
    }
    st
}

/// junit.xml of a report whose logs are in `dir/logs`.
pub fn junit(r: &Report, dir: &Path) -> Result<String, Error> {
    let mut report = JReport::new(format!("hwcert {}", r.profile.name));
    let mut suites: Vec<TestSuite> = Vec::new();
    for c in &r.verdict.components {
        let mut suite = TestSuite::new(c.component.clone());
        for x in r.results.iter().filter(|x| x.component == c.component) {
            let mut tc = TestCase::new(x.name.clone(), status(x));
            tc.set_classname(x.component.clone());
            if let Some(ms) = x.duration_ms {
                tc.set_time(Duration::from_millis(ms));
            }
            // The log's last lines where they explain something: not for a pass.
            if let Some(tail) = x
                .log
                .as_deref()
                .filter(|_| x.status != Status::Pass)
                .and_then(|l| log_tail(&dir.join(l), LOG_TAIL_LINES))
                .filter(|t| !t.is_empty())
            {
                tc.set_system_out(tail.join("\n"));
            }
            suite.add_test_case(tc);
        }
        suites.push(suite);
    }
    let mut suite = TestSuite::new("verdict");
    let st = if r.verdict.overall == documents::report::Overall::Certified {
        TestCaseStatus::success()
    } else {
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
        st.set_type(r.verdict.overall.as_str());
        st.set_message(r.verdict.summary.clone());
        let why: Vec<String> = r
            .verdict
            .gaps
            .iter()
            .map(|g| match &g.name {
                Some(n) => format!("{n} {}: {}", g.kind.as_str(), g.reason),
                None => g.reason.clone(),
            })
            .collect();
        if !why.is_empty() {
            st.set_description(why.join("\n"));
        }
        st
    };
    let mut tc = TestCase::new("verdict", st);
    tc.set_classname("verdict");
    suite.add_test_case(tc);
    for g in &r.verdict.gaps {
        let Some(n) = &g.name else { continue };
        let mut st = TestCaseStatus::skipped();
        st.set_type(g.kind.as_str());
        st.set_message(g.reason.clone());
        let mut tc = TestCase::new(n.clone(), st);
        tc.set_classname("verdict");
        suite.add_test_case(tc);
    }
    suites.push(suite);
    report.add_test_suites(suites);
    if let Some(ms) = r.run.duration_ms {
        report.set_time(Duration::from_millis(ms));
    }
    report
        .to_string()
        .map_err(|e| Error::msg(format!("cannot write junit.xml: {e}")))
}
