//! The JSON Schema (draft 2020-12) of report.json, `hwcert schema report`. Hand-written in
//! `reports/schema/report.schema.json`; the tests validate real reports against it.

/// The schema's text.
pub const REPORT_SCHEMA: &str = include_str!("../schema/report.schema.json");
