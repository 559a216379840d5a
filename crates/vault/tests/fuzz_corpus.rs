//! The fuzzer's committed corpus (`fuzz/corpus/vault_record`: the seeds and any crash repros) through the
//! record decoder on the stable toolchain, so a fixed crash stays fixed without running the fuzzer; the
//! `seed-valid-*` records must still open under the fuzz key, so a change to the format or the key
//! binding that strands stored records shows up here.
//!
//! `cargo test -p warden-vault --test fuzz_corpus -- --ignored` writes the seeds anew (after a deliberate
//! format change).

use std::path::{Path, PathBuf};

use warden_core::{MasterKey, SystemEntropy};
use warden_vault::{SealedSecret, SecretKind, SecretName, SecretRef, SecretVersion, open, rewrap, seal};

// The same key and address as fuzz/fuzz_targets/vault_record.rs.
const FUZZ_MASTER_KEY: [u8; 32] = [0x42; 32];
const OTHER_MASTER_KEY: [u8; 32] = [0x44; 32];

fn address() -> SecretRef {
    let (Ok(name), Some(version)) = (SecretName::new("fuzz/openai"), SecretVersion::new(1)) else {
        unreachable!("the fuzz address is valid")
    };
    SecretRef {
        name,
        version,
        kind: SecretKind::ApiKey,
    }
}

fn key(bytes: &[u8; 32]) -> MasterKey {
    match MasterKey::from_bytes(bytes) {
        Ok(key) => key,
        Err(e) => unreachable!("32 bytes make a master key: {e}"),
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/vault_record")
}

#[test]
fn every_corpus_file_decodes_canonically_or_is_refused() {
    let Ok(entries) = std::fs::read_dir(corpus()) else {
        unreachable!("{} exists", corpus().display())
    };
    let master = key(&FUZZ_MASTER_KEY);
    let (mut files, mut valid) = (0, 0);
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            // A running fuzzer replaces corpus entries with smaller ones as it goes.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => unreachable!("{} is readable: {e}", path.display()),
        };
        files += 1;
        let decoded = SealedSecret::decode(&bytes);
        if let Ok(record) = &decoded {
            assert_eq!(record.encode(), bytes, "{}: not canonical", path.display());
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("seed-valid-") {
            let opened = decoded.and_then(|record| open(&master, &address(), &record));
            assert!(opened.is_ok(), "{}: {opened:?}", path.display());
            valid += 1;
        }
    }
    assert!(
        files >= 6 && valid >= 4,
        "the corpus lost its seeds: {files} files, {valid} valid"
    );
}

#[test]
#[ignore = "writes fuzz/corpus/vault_record; run by hand after a deliberate format change"]
fn write_seed_corpus() {
    let master = key(&FUZZ_MASTER_KEY);
    let sealed = |plaintext: &[u8]| match seal(&master, &SystemEntropy, &address(), plaintext) {
        Ok(record) => record,
        Err(e) => unreachable!("sealing succeeds: {e}"),
    };
    let one_kib = format!(r#"{{"api_key":"{}"}}"#, "k".repeat(1024 - 14));
    let other = key(&OTHER_MASTER_KEY);
    let Ok(elsewhere) = seal(&other, &SystemEntropy, &address(), br#"{"api_key":"sk-moved"}"#) else {
        unreachable!("sealing succeeds")
    };
    let Ok(rewrapped) = rewrap(&other, &master, &SystemEntropy, &address(), &elsewhere) else {
        unreachable!("rewrapping succeeds")
    };
    let api_key = sealed(br#"{"api_key":"sk-test-0123456789abcdef","org":"acme"}"#).encode();
    let mut truncated = api_key.clone();
    truncated.truncate(api_key.len() - 1);
    let mut bad_magic = api_key.clone();
    bad_magic[0] = b'X';
    let seeds: [(&str, Vec<u8>); 7] = [
        ("seed-valid-empty-object", sealed(b"{}").encode()),
        ("seed-valid-api-key", api_key),
        ("seed-valid-1kib", sealed(one_kib.as_bytes()).encode()),
        ("seed-valid-rewrapped", rewrapped.encode()),
        ("seed-other-key", elsewhere.encode()),
        ("seed-truncated", truncated),
        ("seed-bad-magic", bad_magic),
    ];
    for (name, bytes) in seeds {
        let path = corpus().join(name);
        assert!(std::fs::write(&path, bytes).is_ok(), "{} is writable", path.display());
    }
}
