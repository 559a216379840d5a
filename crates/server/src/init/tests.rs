use std::os::unix::fs::PermissionsExt;

use warden_core::SystemEntropy;

use super::*;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
}

#[test]
fn first_start_creates_everything_and_a_second_reuses_it() {
    let Ok(dir) = tempfile::tempdir() else { unreachable!() };
    let data = dir.path().join("warden-data");
    let Ok(first) = init(&data, &SystemEntropy) else {
        unreachable!("init works in a temp dir")
    };
    let token = first.new_admin_token.map(|t| t.to_string()).unwrap_or_default();
    assert!(token.starts_with("wdn_admin_") && token.len() > 40);
    assert_eq!(mode(&data.join(MASTER_KEY_FILE)), 0o600);
    assert_eq!(mode(&data.join(ADMIN_TOKEN_FILE)), 0o600);
    assert!(data.join(CONFIG_FILE).exists() && data.join(POLICY_DIR).join("default.yaml").exists());
    let key_before = fs::read(data.join(MASTER_KEY_FILE)).unwrap_or_default();

    let Ok(second) = init(&data, &SystemEntropy) else {
        unreachable!()
    };
    assert!(second.new_admin_token.is_none(), "the admin token is printed only once");
    assert_eq!(
        fs::read(data.join(MASTER_KEY_FILE)).unwrap_or_default(),
        key_before,
        "never overwritten"
    );
    assert_eq!(admin_token(&data).map(|t| t.to_string()).ok(), Some(token));
    assert!(master_key(&data).is_ok());
}

#[test]
fn secret_files_readable_by_others_are_refused() {
    let Ok(dir) = tempfile::tempdir() else { unreachable!() };
    assert!(init(dir.path(), &SystemEntropy).is_ok());
    let key = dir.path().join(MASTER_KEY_FILE);
    assert!(fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).is_ok());
    assert!(matches!(master_key(dir.path()), Err(InitError::Permissions { .. })));
}

#[test]
fn a_corrupt_master_key_is_a_clear_error() {
    let Ok(dir) = tempfile::tempdir() else { unreachable!() };
    assert!(init(dir.path(), &SystemEntropy).is_ok());
    assert!(fs::write(dir.path().join(MASTER_KEY_FILE), "not base64!!").is_ok());
    let error = master_key(dir.path()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("not base64"), "{error}");
}

#[test]
fn a_master_key_command_supplies_the_key() {
    let key = STANDARD.encode([7u8; 32]);
    let from_command = master_key_from(&MasterKeySource::Command(format!("printf '%s\\n' {key}")));
    assert_eq!(from_command.map(|k| *k.expose_bytes()).ok(), Some([7u8; 32]));

    let failing = master_key_from(&MasterKeySource::Command("echo oops >&2; exit 3".into()));
    let error = failing.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        error.contains("WARDEN_MASTER_KEY_COMMAND") && error.contains("exit"),
        "{error}"
    );
    assert!(!error.contains("oops"), "the command's stderr is not repeated: {error}");

    // Output beyond a pipe's buffer is read while the command runs (else it would hit the timeout).
    let padded = format!("printf '%s' {key}; head -c 200000 /dev/zero | tr '\\0' ' '");
    assert_eq!(
        master_key_from(&MasterKeySource::Command(padded))
            .map(|k| *k.expose_bytes())
            .ok(),
        Some([7u8; 32])
    );

    let garbage = master_key_from(&MasterKeySource::Command("echo not-a-key".into()));
    assert!(
        garbage
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("not base64")
    );
}
