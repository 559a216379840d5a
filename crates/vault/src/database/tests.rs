#![allow(clippy::unwrap_used, reason = "tests fail by panicking")]

use std::sync::Mutex;

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use warden_core::SystemEntropy;

use super::*;

fn data(value: serde_json::Value) -> SecretData {
    SecretData::from_value(value).unwrap()
}

fn version(n: u32) -> SecretVersion {
    SecretVersion::new(n).unwrap()
}

#[test]
fn role_names_follow_a_strict_pattern() {
    for good in ["app", "App_2", "_svc", "a", &"r".repeat(63)] {
        assert_eq!(RoleName::new("data.username", good).unwrap().as_str(), good);
    }
    for bad in [
        "",
        "2app",
        "app-role",
        "app role",
        "app\"; DROP ROLE postgres; --",
        "rôle",
        "pg_monitor",
        "PG_x",
        &"r".repeat(64),
    ] {
        let error = RoleName::new("data.username", bad).unwrap_err();
        assert!(error.to_string().starts_with("`data.username` is invalid"), "{error}");
    }
}

#[test]
fn the_login_is_read_from_username_and_group() {
    let login =
        DatabaseLogin::from_data(&data(json!({"username": "app_v3", "password": "x", "group": "app"}))).unwrap();
    assert_eq!(login.username.as_str(), "app_v3");
    assert_eq!(login.group.as_ref().map(RoleName::as_str), Some("app"));

    let missing = DatabaseLogin::from_data(&data(json!({"password": "x"}))).unwrap_err();
    assert!(missing.to_string().contains("data.username"), "{missing}");
    let not_text = DatabaseLogin::from_data(&data(json!({"username": "app", "group": 7}))).unwrap_err();
    assert!(not_text.to_string().contains("data.group"), "{not_text}");
    let hostile = DatabaseLogin::from_data(&data(json!({"username": "x\"y"}))).unwrap_err();
    assert!(hostile.to_string().contains("data.username"), "{hostile}");
}

#[test]
fn versions_are_named_after_the_group_or_the_original_login() {
    let grouped = DatabaseLogin::from_data(&data(json!({"username": "app_v3", "group": "app"}))).unwrap();
    let step = grouped.next(version(4)).unwrap();
    assert_eq!(
        (step.previous.as_str(), step.group.as_str(), step.new_role.as_str()),
        ("app_v3", "app", "app_v4")
    );

    // Without a group the original login role becomes it.
    let plain = DatabaseLogin::from_data(&data(json!({"username": "app"}))).unwrap();
    let step = plain.next(version(2)).unwrap();
    assert_eq!(
        (step.previous.as_str(), step.group.as_str(), step.new_role.as_str()),
        ("app", "app", "app_v2")
    );

    let long = "g".repeat(60);
    let too_long = DatabaseLogin::from_data(&data(json!({"username": "app", "group": long}))).unwrap();
    let error = too_long.next(version(100)).unwrap_err();
    assert!(error.to_string().contains("data.group"), "{error}");

    let same = DatabaseLogin::from_data(&data(json!({"username": "app_v2", "group": "app"}))).unwrap();
    assert!(same.next(version(2)).is_err());
}

#[test]
fn the_new_login_replaces_three_fields_and_keeps_the_rest() {
    let old = data(json!({"username": "app", "password": "old", "host": "db", "port": 5432}));
    let role = RoleName::new("r", "app_v2").unwrap();
    let group = RoleName::new("g", "app").unwrap();
    let new = with_login(&old, &role, "N3w", &group).unwrap().to_value().unwrap();
    assert_eq!(
        new,
        json!({"username": "app_v2", "password": "N3w", "group": "app", "host": "db", "port": 5432})
    );
}

/// Entropy that hands out a fixed byte stream, to see rejection sampling at work.
#[derive(Debug)]
struct Scripted(Mutex<Vec<u8>>);

impl Entropy for Scripted {
    fn fill(&self, buf: &mut [u8]) {
        let mut bytes = self.0.lock().unwrap();
        for b in buf.iter_mut() {
            *b = if bytes.is_empty() { 0 } else { bytes.remove(0) };
        }
    }
}

#[test]
fn passwords_are_alphanumeric_of_the_configured_length() {
    for len in [MIN_PASSWORD_LEN, DEFAULT_PASSWORD_LEN, MAX_PASSWORD_LEN] {
        let password = generate_password(&SystemEntropy, PasswordLength::new(len).unwrap());
        assert_eq!(password.len(), len as usize);
        assert!(
            password.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{}",
            password.as_str()
        );
    }
    let a = generate_password(&SystemEntropy, PasswordLength::default());
    let b = generate_password(&SystemEntropy, PasswordLength::default());
    assert_ne!(a.as_str(), b.as_str());

    assert!(PasswordLength::new(MIN_PASSWORD_LEN - 1).is_err());
    assert!(PasswordLength::new(MAX_PASSWORD_LEN + 1).is_err());
    assert!(f64::from(MIN_PASSWORD_LEN) * 62f64.log2() >= 128.0);
}

#[test]
fn biased_bytes_are_skipped_not_folded() {
    // 248..=255 would favour A..H if folded modulo 62: they are dropped instead.
    let mut script = vec![255, 248, 0, 61, 62, 247];
    script.resize(64, 1);
    let entropy = Scripted(Mutex::new(script));
    let password = generate_password(&entropy, PasswordLength::new(MIN_PASSWORD_LEN).unwrap());
    assert!(password.starts_with("A9A9"), "{}", password.as_str());
}

/// RFC 7677 section 3's exchange (user `user`, password `pencil`, 4096 iterations): a server holding
/// our verifier accepts the client's proof and answers the RFC's server signature.
#[test]
fn the_verifier_passes_the_rfc_7677_exchange() {
    let salt: [u8; 16] = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap().try_into().unwrap();
    let verifier = scram_sha256_verifier("pencil", &salt);
    let (head, keys) = verifier
        .split_once('$')
        .and_then(|(_, rest)| rest.split_once('$'))
        .unwrap();
    assert_eq!(head, "4096:W22ZaJ0SNY7soEsUEjb6gQ==");
    let (stored_key, server_key) = keys.split_once(':').unwrap();
    let (stored_key, server_key) = (
        STANDARD.decode(stored_key).unwrap(),
        STANDARD.decode(server_key).unwrap(),
    );

    let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
        r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
        c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    let client_proof = STANDARD.decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=").unwrap();
    let server_signature = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    // The server's check: H(ClientProof XOR HMAC(StoredKey, AuthMessage)) == StoredKey.
    let client_signature = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &stored_key), auth_message.as_bytes());
    let client_key: Vec<u8> = client_proof
        .iter()
        .zip(client_signature.as_ref())
        .map(|(a, b)| a ^ b)
        .collect();
    assert_eq!(
        digest::digest(&digest::SHA256, &client_key).as_ref(),
        stored_key.as_slice()
    );

    let signature = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &server_key), auth_message.as_bytes());
    assert_eq!(STANDARD.encode(signature.as_ref()), server_signature);
}
