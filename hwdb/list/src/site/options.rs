//! How to publish ([`PublishOptions`]) and what a publish did ([`PublishSummary`]).

use std::path::PathBuf;

/// The title of a site unless told otherwise.
pub const DEFAULT_TITLE: &str = "OpenCloudOS hardware compatibility list";

/// How to publish.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// The site's title (`<h1>` and `<title>` of every page).
    pub title: String,
    /// Threads reading entries and writing pages (0: one per CPU).
    pub threads: usize,
    /// Where the site is served (`https://hcl.example.com/list/`): links that leave the site
    /// (hcl.csv's `page` column) are absolute under it. `None`: relative, as the pages' own.
    /// Checked by [`base_url`].
    pub base_url: Option<String>,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            title: DEFAULT_TITLE.to_string(),
            threads: default_threads(),
            base_url: None,
        }
    }
}

/// A site's base URL checked and made to end with `/`: `http://` or `https://`, a host, an
/// optional path; no query, fragment, user info, whitespace or characters that need quoting
/// in HTML or CSV. The error says what is wrong with it.
pub fn base_url(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("\"{url}\" is not an http:// or https:// URL"))?;
    if let Some(c) = url
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || "\"'<>\\^`{|}".contains(*c))
    {
        return Err(format!(
            "\"{url}\" holds {c:?}, which a URL must not hold unquoted"
        ));
    }
    if url.contains(['?', '#']) {
        return Err(format!(
            "\"{url}\" has a query or a fragment: give the site's base only"
        ));
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.contains('@') {
        return Err(format!(
            "\"{url}\": no user name or password in the site's URL"
        ));
    }
    let name = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(']') {
            h
        } else {
            host
        }
    });
    if name.is_empty() || name.starts_with('.') || name.starts_with(':') {
        return Err(format!("\"{url}\" names no host"));
    }
    let mut u = url.to_string();
    if !u.ends_with('/') {
        u.push('/');
    }
    Ok(u)
}

pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// What [`publish`](fn@crate::site::publish) wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSummary {
    pub systems: usize,
    pub components: usize,
    /// Report directories published under `reports/`.
    pub reports: usize,
    /// Entry files left out, reports the store lacks, and the like: one line each.
    pub warnings: Vec<String>,
    /// The site's directory.
    pub out: PathBuf,
    /// Whether a site published before was updated in place (rather than a new one made).
    pub in_place: bool,
    /// Entry pages written (new or changed), and those left as they were.
    pub pages_written: usize,
    pub pages_unchanged: usize,
    /// Files and directories removed from the site: pages of entries no longer in the
    /// store, reports no longer cited, anything publishing would not have written.
    pub removed: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_end_with_a_slash() {
        for (u, want) in [
            ("https://hcl.example.com", "https://hcl.example.com/"),
            ("https://hcl.example.com/", "https://hcl.example.com/"),
            ("http://127.0.0.1:8080/list", "http://127.0.0.1:8080/list/"),
            ("https://[::1]:8443/a/b/", "https://[::1]:8443/a/b/"),
        ] {
            assert_eq!(base_url(u).as_deref(), Ok(want), "{u}");
        }
        for (u, says) in [
            ("", "not an http"),
            ("hcl.example.com", "not an http"),
            ("ftp://hcl.example.com/", "not an http"),
            ("javascript:alert(1)", "not an http"),
            ("HTTPS://hcl.example.com/", "not an http"),
            ("https://", "no host"),
            ("https:///list", "no host"),
            ("https://:8080/", "no host"),
            ("https://hcl.example.com/?x=1", "query"),
            ("https://hcl.example.com/#top", "fragment"),
            ("https://user:pw@hcl.example.com/", "user name"),
            ("https://hcl.example.com/a b", "holds"),
            ("https://hcl.example.com/\"><script>", "holds"),
            ("https://hcl.example.com/\n", "holds"),
            ("https://hcl.example.com/a,b\r", "holds"),
        ] {
            let e = base_url(u).expect_err(u);
            assert!(e.contains(says), "{u}: {e}");
        }
    }
}
