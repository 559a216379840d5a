//! The data directory: created on first start with a commented configuration, an example policy, the
//! master key and the admin token (both mode 0600); reused as it is on every later start.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use warden_core::{Entropy, MasterKey, random_bytes};
use zeroize::Zeroizing;

pub const CONFIG_FILE: &str = "warden.yaml";
pub const MASTER_KEY_FILE: &str = "master.key";
/// The new master key while a rotation is under way; renamed over `master.key` when it is done.
pub const NEXT_MASTER_KEY_FILE: &str = "master.key.next";
pub const ADMIN_TOKEN_FILE: &str = "admin.token";
pub const POLICY_DIR: &str = "policies";

const DEFAULT_CONFIG: &str = include_str!("init/warden.yaml");
const DEFAULT_POLICY: &str = include_str!("init/default-policy.yaml");

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("cannot prepare `{path}`: {reason}")]
    Io { path: String, reason: String },
    #[error("`{path}` is readable by other users (mode {mode:o}); run `chmod 600 {path}`")]
    Permissions { path: String, mode: u32 },
    #[error("the master key in {source_name} is not valid: {reason}")]
    MasterKey { source_name: String, reason: String },
}

fn io(path: &Path, error: std::io::Error) -> InitError {
    InitError::Io {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

/// What `init` found or made.
#[derive(Debug)]
pub struct Initialized {
    pub data_dir: PathBuf,
    /// The admin token, only when it was created now: it is printed once and never again.
    pub new_admin_token: Option<Zeroizing<String>>,
}

/// Creates whatever is missing in `data_dir`; never overwrites anything that exists.
pub fn init(data_dir: &Path, entropy: &dyn Entropy) -> Result<Initialized, InitError> {
    fs::create_dir_all(data_dir.join(POLICY_DIR)).map_err(|e| io(data_dir, e))?;
    fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700)).map_err(|e| io(data_dir, e))?;
    write_new(&data_dir.join(CONFIG_FILE), DEFAULT_CONFIG.as_bytes(), 0o644)?;
    write_new(
        &data_dir.join(POLICY_DIR).join("default.yaml"),
        DEFAULT_POLICY.as_bytes(),
        0o644,
    )?;
    if matches!(MasterKeySource::from_env(data_dir), MasterKeySource::File(_)) {
        let key = Zeroizing::new(STANDARD.encode(MasterKey::generate(entropy).expose_bytes()) + "\n");
        write_new(&data_dir.join(MASTER_KEY_FILE), key.as_bytes(), 0o600)?;
    }
    let token = Zeroizing::new(format!(
        "wdn_admin_{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>(entropy))
    ));
    let created = write_new(
        &data_dir.join(ADMIN_TOKEN_FILE),
        format!("{}\n", token.as_str()).as_bytes(),
        0o600,
    )?;
    Ok(Initialized {
        data_dir: data_dir.to_path_buf(),
        new_admin_token: created.then_some(token),
    })
}

/// Writes `bytes` to `path` only if it does not exist yet; `true` when it wrote.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<bool, InitError> {
    let file = OpenOptions::new().write(true).create_new(true).mode(mode).open(path);
    let mut file = match file {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io(path, e)),
    };
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io(path, e))?;
    Ok(true)
}

/// Reads a secret file, refusing one that group or others can read.
fn read_private(path: &Path) -> Result<Zeroizing<String>, InitError> {
    let mode = fs::metadata(path).map_err(|e| io(path, e))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(InitError::Permissions {
            path: path.display().to_string(),
            mode,
        });
    }
    fs::read_to_string(path).map(Zeroizing::new).map_err(|e| io(path, e))
}

/// Where the master key comes from, first match wins: `WARDEN_MASTER_KEY` (the key, base64),
/// `WARDEN_MASTER_KEY_COMMAND` (a command whose output is the key, base64: how a KMS or HSM client
/// supplies it), else the data directory's key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    Env,
    Command(String),
    File(PathBuf),
}

impl MasterKeySource {
    pub fn from_env(data_dir: &Path) -> MasterKeySource {
        let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if set("WARDEN_MASTER_KEY").is_some() {
            MasterKeySource::Env
        } else if let Some(command) = set("WARDEN_MASTER_KEY_COMMAND") {
            MasterKeySource::Command(command)
        } else {
            MasterKeySource::File(data_dir.join(MASTER_KEY_FILE))
        }
    }
}

/// The master key from wherever [`MasterKeySource::from_env`] says.
pub fn master_key(data_dir: &Path) -> Result<MasterKey, InitError> {
    master_key_from(&MasterKeySource::from_env(data_dir))
}

/// Longest a master-key command may run.
const MASTER_KEY_COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub fn master_key_from(source: &MasterKeySource) -> Result<MasterKey, InitError> {
    let (source_name, text) = match source {
        MasterKeySource::Env => (
            "WARDEN_MASTER_KEY".to_owned(),
            Zeroizing::new(std::env::var("WARDEN_MASTER_KEY").unwrap_or_default()),
        ),
        MasterKeySource::Command(command) => ("WARDEN_MASTER_KEY_COMMAND".to_owned(), run_key_command(command)?),
        MasterKeySource::File(path) => (path.display().to_string(), read_private(path)?),
    };
    let bytes = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| InitError::MasterKey {
        source_name: source_name.clone(),
        reason: "not base64".into(),
    })?);
    MasterKey::from_bytes(&bytes).map_err(|e| InitError::MasterKey {
        source_name,
        reason: e.to_string(),
    })
}

/// Runs `sh -c command` and returns its standard output; its standard error is not shown (it may
/// echo the key), only its exit status. The output is read while the command runs, so a long one
/// cannot block on a full pipe.
fn run_key_command(command: &str) -> Result<Zeroizing<String>, InitError> {
    use std::io::Read;
    let failed = |reason: String| InitError::MasterKey {
        source_name: "WARDEN_MASTER_KEY_COMMAND".into(),
        reason,
    };
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| failed(format!("cannot run it: {e}")))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| failed("its output cannot be read".into()))?;
    let reader = std::thread::spawn(move || {
        let mut output = Zeroizing::new(Vec::new());
        stdout.read_to_end(&mut output).map(|_| output)
    });
    let deadline = std::time::Instant::now() + MASTER_KEY_COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                return Err(failed(format!(
                    "it did not finish within {} s",
                    MASTER_KEY_COMMAND_TIMEOUT.as_secs()
                )));
            }
        }
    };
    let output = reader
        .join()
        .map_err(|_| failed("reading its output failed".into()))?
        .map_err(|e| failed(format!("cannot read its output: {e}")))?;
    if !status.success() {
        return Err(failed(format!("it exited with {status}")));
    }
    match std::str::from_utf8(&output) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(failed("its output is not text".into())),
    }
}

/// The key of an unfinished master-key rotation, if there is one.
pub fn next_master_key(data_dir: &Path) -> Result<Option<MasterKey>, InitError> {
    let path = data_dir.join(NEXT_MASTER_KEY_FILE);
    if !path.exists() {
        return Ok(None);
    }
    master_key_from(&MasterKeySource::File(path)).map(Some)
}

/// Writes a new master key as `master.key.next` (0600, synced), the first step of a rotation.
pub fn write_next_master_key(data_dir: &Path, key: &MasterKey) -> Result<(), InitError> {
    let path = data_dir.join(NEXT_MASTER_KEY_FILE);
    let text = Zeroizing::new(STANDARD.encode(key.expose_bytes()) + "\n");
    if !write_new(&path, text.as_bytes(), 0o600)? {
        return Err(InitError::Io {
            path: path.display().to_string(),
            reason: "exists already (an unfinished rotation: its key is used instead)".into(),
        });
    }
    sync_dir(data_dir)
}

/// Makes `master.key.next` the master key (an atomic rename), the last step of a rotation.
pub fn promote_next_master_key(data_dir: &Path) -> Result<(), InitError> {
    let next = data_dir.join(NEXT_MASTER_KEY_FILE);
    fs::rename(&next, data_dir.join(MASTER_KEY_FILE)).map_err(|e| io(&next, e))?;
    sync_dir(data_dir)
}

fn sync_dir(dir: &Path) -> Result<(), InitError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, e))
}

/// The admin token from its file.
pub fn admin_token(data_dir: &Path) -> Result<Zeroizing<String>, InitError> {
    let text = read_private(&data_dir.join(ADMIN_TOKEN_FILE))?;
    Ok(Zeroizing::new(text.trim().to_owned()))
}

#[cfg(test)]
mod tests;
