//! Signing keys: OpenSSH Ed25519 key pairs, made by `hwcert keygen` or by
//! `ssh-keygen -t ed25519`, and the lab key `hwcert certify` signs with by default.
//!
//! A private key must be readable by its owner only (mode 0600, as ssh-keygen demands).
//! Passphrase-protected keys are read with the passphrase in `HWCERT_KEY_PASSPHRASE`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, HashAlg, LineEnding};
pub use ssh_key::{PrivateKey, PublicKey};

use documents::Error;

/// The SSHSIG namespace of report signatures.
pub const NAMESPACE: &str = "hwcert-report";
/// The lab key's file name in the configuration directory.
pub const LAB_KEY_NAME: &str = "report_ed25519";
/// The environment variable holding the passphrase of a protected key (a secret: see
/// `documents::secrets`).
pub use documents::secrets::PASSPHRASE_ENV;

/// hwcert's configuration directory: `$XDG_CONFIG_HOME/hwcert`, else `~/.config/hwcert`.
pub fn config_dir() -> Result<PathBuf, Error> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
        if x.is_absolute() {
            return Ok(x.join("hwcert"));
        }
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
        .ok_or_else(|| {
            Error::msg(
                "cannot find the configuration directory: neither XDG_CONFIG_HOME nor HOME is set \
                 to an absolute path (give the key with --key)",
            )
        })?;
    Ok(home.join(".config").join("hwcert"))
}

/// Where the lab key lives: `<config dir>/report_ed25519`.
pub fn default_key_path() -> Result<PathBuf, Error> {
    Ok(config_dir()?.join(LAB_KEY_NAME))
}

/// The principal a new key is made for when none is given: `user@host`.
pub fn default_principal() -> String {
    let user = std::env::var("USER")
        .ok()
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|u| principal_ok(u).is_ok())
        .unwrap_or_else(|| "hwcert".into());
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty() && principal_ok(h).is_ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

/// Whether `p` can be a principal in an allowed_signers file as one plain name.
pub fn principal_ok(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err("the principal is empty".into());
    }
    if let Some(c) = p
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '"' | '*' | '?' | '!'))
    {
        return Err(format!(
            "principal {p:?}: {c:?} is not allowed (no spaces, commas, quotes or wildcards)"
        ));
    }
    if p.starts_with('#') {
        return Err(format!("principal {p:?}: cannot start with '#'"));
    }
    Ok(())
}

/// The allowed_signers line that lets `key` sign reports as `principal`.
pub fn allowed_signers_line(principal: &str, key: &PublicKey) -> Result<String, Error> {
    let mut k = key.clone();
    k.set_comment("");
    let enc = k
        .to_openssh()
        .map_err(|e| Error::msg(format!("cannot encode the public key: {e}")))?;
    Ok(format!(
        "{principal} namespaces=\"{NAMESPACE}\" {}",
        enc.trim()
    ))
}

/// The allowed_signers line of a signing key: its comment as the principal (else
/// [`default_principal`]), as `hwcert certify` prints it for a new lab key.
pub fn signer_line(key: &PrivateKey) -> Result<String, Error> {
    let c = key.comment().trim();
    let principal = if c.is_empty() || principal_ok(c).is_err() {
        default_principal()
    } else {
        c.to_string()
    };
    allowed_signers_line(&principal, key.public_key())
}

/// The allowed_signers line of an existing key, from its public key file (`KEY.pub`, or `KEY`
/// itself when it is the public key): the principal given, else the key's comment, else
/// [`default_principal`]. Reads no private key, so no passphrase is asked.
pub fn signer_line_of_file(key: &Path, principal: Option<&str>) -> Result<String, Error> {
    let pubp = if key.extension().is_some_and(|e| e == "pub") {
        key.to_path_buf()
    } else {
        public_path(key)
    };
    let text = fs::read_to_string(&pubp).map_err(|e| Error::io(&pubp, e))?;
    let pk = PublicKey::from_openssh(text.trim()).map_err(|e| {
        Error::msg(format!(
            "{}: not an OpenSSH public key: {e}",
            pubp.display()
        ))
    })?;
    let principal = match principal {
        Some(p) => p.to_string(),
        None => Some(pk.comment().trim())
            .filter(|c| !c.is_empty() && principal_ok(c).is_ok())
            .map(str::to_string)
            .unwrap_or_else(default_principal),
    };
    if let Err(why) = principal_ok(&principal) {
        return Err(Error::msg(format!("principal {principal:?}: {why}")));
    }
    allowed_signers_line(&principal, &pk)
}

/// A key pair just made.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub private: PathBuf,
    pub public: PathBuf,
    pub principal: String,
    /// `SHA256:…`.
    pub fingerprint: String,
    /// The line for an allowed_signers file.
    pub allowed_signers: String,
}

/// `FILE.pub`.
pub fn public_path(private: &Path) -> PathBuf {
    let mut s = private.as_os_str().to_os_string();
    s.push(".pub");
    PathBuf::from(s)
}

/// Make an Ed25519 key pair: `path` (mode 0600) and `path.pub`, for `principal`. Refuses to
/// overwrite either file.
pub fn keygen(path: &Path, principal: &str) -> Result<NewKey, Error> {
    principal_ok(principal).map_err(Error::msg)?;
    let public = public_path(path);
    for p in [path, public.as_path()] {
        if p.symlink_metadata().is_ok() {
            return Err(Error::msg(format!(
                "{}: already exists: not overwriting a key (choose another file with -f, or \
                 remove it first)",
                p.display()
            )));
        }
    }
    let mut key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519)
        .map_err(|e| Error::msg(format!("cannot make a key: {e}")))?;
    key.set_comment(principal);
    let pem = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| Error::msg(format!("cannot encode the key: {e}")))?;
    write_new(path, pem.as_bytes(), 0o600)?;
    let pub_line = key
        .public_key()
        .to_openssh()
        .map_err(|e| Error::msg(format!("cannot encode the public key: {e}")))?;
    if let Err(e) = write_new(&public, format!("{pub_line}\n").as_bytes(), 0o644) {
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(NewKey {
        private: path.to_path_buf(),
        public,
        principal: principal.to_string(),
        fingerprint: key.public_key().fingerprint(HashAlg::Sha256).to_string(),
        allowed_signers: allowed_signers_line(principal, key.public_key())?,
    })
}

/// Create a file that must not exist yet, with `mode`, durably.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    // The umask may have taken bits away, never added them; make the mode exact.
    f.set_permissions(fs::Permissions::from_mode(mode))
        .and_then(|_| f.write_all(bytes))
        .and_then(|_| f.sync_all())
        .map_err(|e| {
            let _ = fs::remove_file(path);
            Error::io(path, e)
        })
}

/// The lab key (`default_key_path()`), made with the default principal if it does not exist
/// yet (the directory too, mode 0700). Returns its path and whether it was just made.
pub fn ensure_lab_key() -> Result<(PathBuf, bool), Error> {
    ensure_key_at(&default_key_path()?)
}

/// The key at `path`, made (with the default principal, its directory mode 0700) if it does
/// not exist yet. Returns its path and whether it was just made.
pub fn ensure_key_at(path: &Path) -> Result<(PathBuf, bool), Error> {
    let path = path.to_path_buf();
    if path.symlink_metadata().is_ok() {
        return Ok((path, false));
    }
    if let Some(dir) = path.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))?;
    }
    keygen(&path, &default_principal())?;
    Ok((path, true))
}

/// The passphrase the binary took out of its environment at startup ([`set_passphrase`]).
static PASSPHRASE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Keep the passphrase that the binary took out of its environment at startup (so that no
/// other process can read it in `/proc/PID/environ`, see [`hwsys::env::take`]):
/// [`load_signing_key`] uses it.
pub fn set_passphrase(p: Option<String>) {
    *PASSPHRASE.lock().unwrap_or_else(|e| e.into_inner()) = p;
}

/// Read a private key to sign with: an OpenSSH Ed25519 key that only its owner can read; a
/// protected key is decrypted with the passphrase given to [`set_passphrase`], else the one
/// in `HWCERT_KEY_PASSPHRASE`.
pub fn load_signing_key(path: &Path) -> Result<PrivateKey, Error> {
    let kept = PASSPHRASE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let pass = kept.or_else(|| std::env::var(PASSPHRASE_ENV).ok());
    load_signing_key_with(path, pass.as_deref())
}

/// [`load_signing_key`] with the passphrase given.
pub fn load_signing_key_with(path: &Path, passphrase: Option<&str>) -> Result<PrivateKey, Error> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::msg(format!(
            "{}: not a file (give an OpenSSH private key)",
            path.display()
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::msg(format!(
            "{}: the private key is readable by others (mode {mode:04o}): run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let t = text.trim_start();
    if t.starts_with("ssh-") || t.starts_with("ecdsa-") {
        return Err(Error::msg(format!(
            "{}: a public key: give the private key (the file without .pub)",
            path.display()
        )));
    }
    let key = PrivateKey::from_openssh(&text).map_err(|e| {
        Error::msg(format!(
            "{}: not an OpenSSH private key ({e}): make one with `hwcert keygen` or \
             `ssh-keygen -t ed25519`",
            path.display()
        ))
    })?;
    let key = if key.is_encrypted() {
        let pass = passphrase.ok_or_else(|| {
            Error::msg(format!(
                "{}: the key is protected by a passphrase: set {PASSPHRASE_ENV}, or use a key \
                 without one (hwcert keygen)",
                path.display()
            ))
        })?;
        key.decrypt(pass.as_bytes()).map_err(|_| {
            Error::msg(format!(
                "{}: cannot decrypt the key with the passphrase in {PASSPHRASE_ENV}",
                path.display()
            ))
        })?
    } else {
        key
    };
    if key.algorithm() != Algorithm::Ed25519 {
        return Err(Error::msg(format!(
            "{}: an {} key: reports are signed with Ed25519 keys only (hwcert keygen, or \
             ssh-keygen -t ed25519)",
            path.display(),
            key.algorithm()
        )));
    }
    Ok(key)
}

/// Sign `msg` (report.json's bytes): the armored SSHSIG that `ssh-keygen -Y sign` writes.
pub fn sign(key: &PrivateKey, msg: &[u8]) -> Result<String, Error> {
    sign_in(key, NAMESPACE, msg)
}

/// Sign `msg` in another SSHSIG `namespace` (the HCL's revocations sign in their own, so that
/// neither kind of signature can stand for the other).
pub fn sign_in(key: &PrivateKey, namespace: &str, msg: &[u8]) -> Result<String, Error> {
    key.sign(namespace, HashAlg::Sha512, msg)
        .and_then(|s| s.to_pem(LineEnding::LF))
        .map_err(|e| Error::msg(format!("cannot sign: {e}")))
}

/// The Ed25519 key whose secret is `seed`, with `comment`: the same key for the same seed.
/// For synthetic stores and tests, whose reports must carry real signatures that verify; a
/// lab's key is made by [`keygen`] from the system's randomness.
pub fn key_from_seed(seed: &[u8; 32], comment: &str) -> PrivateKey {
    let pair = ssh_key::private::Ed25519Keypair::from_seed(seed);
    let mut key = PrivateKey::from(pair);
    key.set_comment(comment);
    key
}

/// A public key's SHA-256 fingerprint, `SHA256:…`, as ssh-keygen prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals() {
        assert!(principal_ok("lab@example.com").is_ok());
        for bad in ["", "a b", "a,b", "a*", "\"a\"", "#a", "a\n"] {
            assert!(principal_ok(bad).is_err(), "{bad:?}");
        }
        assert!(principal_ok(&default_principal()).is_ok());
    }

    #[test]
    fn pub_path() {
        assert_eq!(public_path(Path::new("/x/k")), PathBuf::from("/x/k.pub"));
    }
}
