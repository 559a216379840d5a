//! The vault's envelope encryption, in process and excluding storage: what a secret read or write pays
//! for cryptography, and how long a master-key rotation of many records takes.
//!
//! - `seal` / `open`: one 1 KiB secret (`data` serialized), a fresh data key and nonces every seal, the
//!   data key unwrapped on every open; p50/p99 of single operations after a warm-up.
//! - `seal + encode` / `decode + open`: the same with the record format the store keeps.
//! - `AES-256-GCM only`: the cipher on the same 1 KiB with a prepared key, for scale.
//! - `rewrap N records`: master-key rotation of N sealed records (10,000 by default), total and per record.

use std::time::Instant;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use serde_json::json;
use warden_core::{MasterKey, SystemEntropy};
use warden_vault::{SealedSecret, SecretData, SecretKind, SecretName, SecretRef, SecretVersion, open, rewrap, seal};

use crate::quantile;

/// Single operations timed, and records rewrapped; `WARDEN_BENCH_SCALE` (a divisor) shrinks both.
fn sizes() -> (usize, usize) {
    let scale = std::env::var("WARDEN_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    (100_000 / scale, 10_000 / scale)
}

fn report(name: &str, mut samples: Vec<u64>) {
    samples.sort_unstable();
    println!(
        "{name:<28} n={:<7} p50={:>7.2} µs  p99={:>7.2} µs  max={:>8.2} µs",
        samples.len(),
        quantile(&samples, 0.50) as f64 / 1000.0,
        quantile(&samples, 0.99) as f64 / 1000.0,
        samples.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
}

/// Times `op` `runs` times after `runs / 10` untimed calls.
fn time(runs: usize, mut op: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Vec<u64>> {
    for _ in 0..runs / 10 {
        op()?;
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        op()?;
        samples.push(started.elapsed().as_nanos() as u64);
    }
    Ok(samples)
}

fn address(i: usize) -> anyhow::Result<SecretRef> {
    let Some(version) = SecretVersion::new(1) else {
        anyhow::bail!("version 1")
    };
    Ok(SecretRef {
        name: SecretName::new(format!("bench/provider-{i}"))?,
        version,
        kind: SecretKind::ApiKey,
    })
}

pub fn run() -> anyhow::Result<()> {
    let (runs, records) = sizes();
    let master = MasterKey::generate(&SystemEntropy);
    // `{"api_key":"…"}` framing is 14 bytes; the value fills the rest of 1 KiB.
    let data = SecretData::from_value(json!({"api_key": "k".repeat(1024 - 14)}))?;
    anyhow::ensure!(data.len() == 1024, "the secret is {} bytes", data.len());
    let plaintext = data.expose_bytes();
    let at = address(0)?;
    let sealed = seal(&master, &SystemEntropy, &at, plaintext)?;
    let encoded = sealed.encode();
    println!("1 KiB secret: record {} bytes", encoded.len());

    report(
        "seal",
        time(runs, || {
            seal(&master, &SystemEntropy, &at, plaintext)?;
            Ok(())
        })?,
    );
    report(
        "open",
        time(runs, || {
            let opened = open(&master, &at, &sealed)?;
            anyhow::ensure!(opened.len() == 1024, "opened {} bytes", opened.len());
            Ok(())
        })?,
    );
    report(
        "seal + encode",
        time(runs, || {
            seal(&master, &SystemEntropy, &at, plaintext)?.encode();
            Ok(())
        })?,
    );
    report(
        "decode + open",
        time(runs, || {
            let record = SealedSecret::decode(&encoded)?;
            open(&master, &at, &record)?;
            Ok(())
        })?,
    );
    report("AES-256-GCM only (1 KiB)", cipher_only(runs, plaintext)?);
    rotation(&master, records, plaintext)
}

/// The cipher alone: a prepared key, no key schedule per call, no wrapping.
fn cipher_only(runs: usize, plaintext: &[u8]) -> anyhow::Result<Vec<u64>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32])?);
    let mut buffer = Vec::with_capacity(plaintext.len() + 16);
    time(runs, || {
        buffer.clear();
        buffer.extend_from_slice(plaintext);
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key([1u8; 12]),
            Aad::from(b"bench"),
            &mut buffer,
        )?;
        Ok(())
    })
}

/// Seals `count` records under one master key, rewraps every one under a new key (timed as a whole,
/// as `POST /v1/vault/rotate-master-key` does it minus the store), then checks a sample opens.
fn rotation(old: &MasterKey, count: usize, plaintext: &[u8]) -> anyhow::Result<()> {
    let new = MasterKey::generate(&SystemEntropy);
    let addresses: Vec<SecretRef> = (0..count).map(address).collect::<anyhow::Result<_>>()?;
    let sealed: Vec<SealedSecret> = addresses
        .iter()
        .map(|at| seal(old, &SystemEntropy, at, plaintext))
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let moved: Vec<SealedSecret> = addresses
        .iter()
        .zip(&sealed)
        .map(|(at, record)| rewrap(old, &new, &SystemEntropy, at, record))
        .collect::<Result<_, _>>()?;
    let elapsed = started.elapsed();
    for i in (0..count).step_by((count / 100).max(1)) {
        anyhow::ensure!(
            open(&new, &addresses[i], &moved[i])?.as_slice() == plaintext,
            "record {i}"
        );
    }
    println!(
        "rewrap {count} records          total={:>8.2} ms  per record={:.2} µs",
        elapsed.as_secs_f64() * 1000.0,
        elapsed.as_secs_f64() * 1e6 / count.max(1) as f64,
    );
    Ok(())
}
