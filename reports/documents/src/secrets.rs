//! The environment variables that hold secrets. hwcert reads them itself (the signing key's
//! passphrase, read before a run starts) and never hands them to a case: workers, and so the
//! built-in cases and vendor commands they run, start without them, so that a case printing
//! its environment cannot put a secret into the logs and the report.

/// The passphrase of a protected signing key.
pub const PASSPHRASE_ENV: &str = "HWCERT_KEY_PASSPHRASE";

/// Every secret variable: removed from the environment of workers and of what they run.
pub const SECRET_ENV: &[&str] = &[PASSPHRASE_ENV];
