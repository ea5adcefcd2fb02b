//! The integration tests of this crate, in one binary (one link instead of one per file).

mod bmc_cli;
mod certify;
mod cli;
mod compare_cli;
mod dev_sh;
mod docs_cli;
mod escapes;
mod fleet_ansible;
mod hwdb_cli;
mod hwdb_revoke;
mod peer_cli;
mod plan_cli;
mod report_cli;
mod run_cli;
mod run_isolation;
mod run_logcap;
mod run_reboot;
mod run_resume;
mod support;
mod verdict_gaps;
