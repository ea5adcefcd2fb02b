//! How an instance ended: the one status of the journal, the report, the JUnit file and the
//! hardware list.

use serde::{Deserialize, Serialize};

/// How an instance ended. The journal holds the first seven; `not run` is a planned instance
/// the journal never recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Status {
    #[serde(rename = "pass")]
    Pass,
    /// What was expected was not measured.
    #[serde(rename = "fail")]
    Fail,
    /// It did not apply after all, and why.
    #[serde(rename = "skip")]
    Skip,
    /// The check itself could not run.
    #[serde(rename = "error")]
    Error,
    /// The harness killed it at its time limit.
    #[serde(rename = "timeout")]
    Timeout,
    /// It died: a panic, an abort, a signal, the OOM killer.
    #[serde(rename = "crash")]
    Crash,
    /// It was running when the supervisor or the machine went down: it runs again on resume.
    #[serde(rename = "interrupted")]
    Interrupted,
    /// Planned, never journaled.
    #[serde(rename = "not run")]
    NotRun,
}

impl Status {
    /// Every status, in the order reports count them.
    pub const ALL: [Status; 8] = [
        Status::Pass,
        Status::Fail,
        Status::Skip,
        Status::Error,
        Status::Timeout,
        Status::Crash,
        Status::Interrupted,
        Status::NotRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
            Status::Timeout => "timeout",
            Status::Crash => "crash",
            Status::Interrupted => "interrupted",
            Status::NotRun => "not run",
        }
    }

    /// The status named `s` (as written in documents).
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// A blocker ending this way means "not certified".
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Fail | Status::Error | Status::Timeout | Status::Crash
        )
    }

    /// A blocker ending this way leaves the run incomplete: it did not finish.
    pub fn is_unfinished(self) -> bool {
        matches!(self, Status::Interrupted | Status::NotRun)
    }

    /// A journal line with this status is the instance's last word: a resume does not run it
    /// again.
    pub fn is_final(self) -> bool {
        !self.is_unfinished()
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            let j = serde_json::to_string(&s).expect("test");
            assert_eq!(j, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Status>(&j).expect("test"), s);
        }
        assert_eq!(Status::parse("passed"), None);
        assert!(Status::Crash.is_failure() && !Status::Crash.is_unfinished());
        assert!(!Status::Interrupted.is_final() && Status::Skip.is_final());
    }
}
