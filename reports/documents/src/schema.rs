//! The JSON Schemas (draft 2020-12) of hwcert's documents, `hwcert schema report|fleet`.
//! Hand-written in `reports/documents/schema/`; the tests validate real documents against them.

/// The schema of report.json (`hwcert.report/1`).
pub const REPORT_SCHEMA: &str = include_str!("../schema/report.schema.json");

/// The schema of the fleet view (`hwcert.fleet/1`, [`crate::fleet`]).
pub const FLEET_SCHEMA: &str = include_str!("../schema/fleet.schema.json");
