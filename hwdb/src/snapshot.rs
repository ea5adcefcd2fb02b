//! Snapshots: a tar.gz of exactly the files a probe reads.
