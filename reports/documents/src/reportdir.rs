//! The report directory as `hwcert report` writes it: report.json (the truth, signed),
//! its signature, the renderings and the logs report.json hashes.

/// The report document (`hwcert.report/1`): the bytes that are signed.
pub const REPORT_JSON: &str = "report.json";
/// Its OpenSSH SSHSIG signature (Ed25519, namespace `hwcert-report`).
pub const REPORT_SIG: &str = "report.json.sig";
/// One self-contained page rendered from report.json.
pub const REPORT_HTML: &str = "report.html";
/// A summary to paste into a ticket.
pub const REPORT_MD: &str = "report.md";
/// One testcase per instance, for CI systems.
pub const JUNIT_XML: &str = "junit.xml";
/// The signer's allowed_signers line, beside a signed report (not covered by the signature: a
/// verifier must take it from a source it trusts, or compare its key with one it knows).
pub const ALLOWED_SIGNERS: &str = "allowed_signers";
