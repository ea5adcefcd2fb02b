//! hwcert-resume.service: the oneshot unit that resumes a run on the boot after a case took
//! the machine down. Its text is the packaged one (`packaging/systemd/hwcert-resume.service`,
//! which the RPM installs); a disruptive case installs it into the machine's unit directory
//! before every reboot it asks for — ExecStart pointed at the hwcert that runs, the run
//! directory in `resume.env` of the machine's state directory — and enables it the way
//! `systemctl enable` does (a `multi-user.target.wants/` link), so the next boot needs no
//! D-Bus call to have been made. The case removes all of it when it is done.

use std::path::{Path, PathBuf};

use crate::machine::{Machine, RESUME_UNIT};

/// The packaged unit.
pub const PACKAGED: &str = include_str!("../../packaging/systemd/hwcert-resume.service");
/// The hwcert the packaged unit runs.
pub const PACKAGED_EXE: &str = "/usr/bin/hwcert";
/// The file the packaged unit reads the run directory from.
pub const PACKAGED_ENV: &str = "/var/lib/hwcert/resume.env";
/// Its name in the state directory.
pub const ENV_FILE: &str = "resume.env";
/// The variable that holds the run directory.
pub const ENV_VAR: &str = "HWCERT_RESUME_DIR";
const WANTS: &str = "multi-user.target.wants";

/// A path systemd takes in ExecStart and ConditionPathExists as it is: absolute, no white
/// space, quotes, backslashes, `%` specifiers, `$` or control characters.
fn plain_path(p: &Path, what: &str) -> Result<String, String> {
    let s = p
        .to_str()
        .ok_or_else(|| format!("{what} {} is not UTF-8", p.display()))?;
    let bad = |c: char| c.is_whitespace() || c.is_control() || "\"'\\%$;".contains(c);
    if !s.starts_with('/') || s.chars().any(bad) {
        return Err(format!(
            "{what} {} cannot be written into a systemd unit as it is (it must be absolute, \
             without spaces, quotes, backslashes, %, $ or ;): install hwcert under a plain path",
            hwsys::text::escape_controls(s)
        ));
    }
    Ok(s.to_string())
}

/// The unit as installed: the packaged text with ExecStart running `exe` and the
/// environment file at `env_file`.
pub fn render(exe: &Path, env_file: &Path) -> Result<String, String> {
    let exe = plain_path(exe, "the hwcert executable")?;
    let env = plain_path(env_file, "the resume file")?;
    Ok(PACKAGED
        .replace(
            &format!("ExecStart={PACKAGED_EXE} "),
            &format!("ExecStart={exe} "),
        )
        .replace(PACKAGED_ENV, &env))
}

/// The environment file's line for a run directory (EnvironmentFile quoting).
pub fn env_line(run_dir: &Path) -> Result<String, String> {
    let s = run_dir
        .to_str()
        .ok_or_else(|| format!("the run directory {} is not UTF-8", run_dir.display()))?;
    if !s.starts_with('/') || s.chars().any(char::is_control) {
        return Err(format!(
            "the run directory {} must be an absolute path without control characters",
            hwsys::text::escape_controls(s)
        ));
    }
    let quoted = s.replace('\\', "\\\\").replace('"', "\\\"");
    Ok(format!("{ENV_VAR}=\"{quoted}\"\n"))
}

/// The run directory an environment file names.
pub fn env_run_dir(text: &str) -> Option<PathBuf> {
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{ENV_VAR}=")))?;
    let v = line.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next()?);
        } else {
            out.push(c);
        }
    }
    Some(PathBuf::from(out))
}

/// Install and enable the unit for `run_dir`; what was written, for the log.
pub fn install(m: &dyn Machine, exe: &Path, run_dir: &Path) -> Result<Vec<String>, String> {
    let units = m.unit_dir();
    let state = m.state_dir();
    let env = state.join(ENV_FILE);
    let text = render(exe, &env)?;
    let line = env_line(run_dir)?;
    let io = |p: &Path, e: std::io::Error| format!("cannot write {}: {e}", p.display());
    std::fs::create_dir_all(&state).map_err(|e| io(&state, e))?;
    hwsys::fs::write_atomic(&env, line.as_bytes()).map_err(|e| io(&env, e))?;
    let unit = units.join(RESUME_UNIT);
    std::fs::create_dir_all(&units).map_err(|e| io(&units, e))?;
    hwsys::fs::write_atomic(&unit, text.as_bytes()).map_err(|e| io(&unit, e))?;
    let wants = units.join(WANTS);
    std::fs::create_dir_all(&wants).map_err(|e| io(&wants, e))?;
    let link = wants.join(RESUME_UNIT);
    match std::fs::read_link(&link) {
        Ok(t) if t == unit => {}
        _ => {
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&unit, &link).map_err(|e| io(&link, e))?;
        }
    }
    hwsys::fs::fsync_dir(&wants).map_err(|e| io(&wants, e))?;
    Ok(vec![
        format!("installed {} (ExecStart {})", unit.display(), exe.display()),
        format!("enabled it: {} → {}", link.display(), unit.display()),
        format!(
            "{} names the run directory {}",
            env.display(),
            run_dir.display()
        ),
    ])
}

/// Remove the unit, its link and the environment file — only when the file names `run_dir`
/// (another run may have installed it since). Whether it was removed.
pub fn uninstall(m: &dyn Machine, run_dir: &Path) -> Result<bool, String> {
    let env = m.state_dir().join(ENV_FILE);
    let Ok(text) = std::fs::read_to_string(&env) else {
        return Ok(false);
    };
    if env_run_dir(&text).as_deref() != Some(run_dir) {
        return Ok(false);
    }
    let units = m.unit_dir();
    for p in [
        units.join(WANTS).join(RESUME_UNIT),
        units.join(RESUME_UNIT),
        env.clone(),
    ] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot remove {}: {e}", p.display())),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packaged_unit_is_a_oneshot_after_network_online() {
        for line in [
            "Type=oneshot",
            "After=network-online.target",
            "Wants=network-online.target",
            "WantedBy=multi-user.target",
        ] {
            assert!(PACKAGED.lines().any(|l| l == line), "{line}");
        }
        let r = render(
            Path::new("/opt/hw/bin/hwcert"),
            Path::new("/run/x/resume.env"),
        )
        .expect("renders");
        assert!(r.contains("ExecStart=/opt/hw/bin/hwcert run --resume ${HWCERT_RESUME_DIR}"));
        assert!(r.contains("EnvironmentFile=/run/x/resume.env"));
        assert!(r.contains("ConditionPathExists=/run/x/resume.env"));
        assert!(!r.contains(PACKAGED_ENV));
        for bad in [
            "/opt/my hw/hwcert",
            "relative/hwcert",
            "/opt/100%/hwcert",
            "/a\nb",
        ] {
            assert!(render(Path::new(bad), Path::new("/e")).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_run_directory_round_trips_through_the_environment_file() {
        for d in ["/srv/runs/a", "/srv/runs/with space", "/srv/q\"uote\\d"] {
            let l = env_line(Path::new(d)).expect("line");
            assert_eq!(env_run_dir(&l), Some(PathBuf::from(d)), "{l}");
        }
        assert!(env_line(Path::new("rel")).is_err());
        assert!(env_line(Path::new("/a\nb")).is_err());
        assert_eq!(env_run_dir("garbage"), None);
        assert_eq!(env_run_dir("HWCERT_RESUME_DIR=\"/trunc"), None);
        assert_eq!(env_run_dir(""), None);
    }
}
