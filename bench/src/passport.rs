//! Passport verification: what `/v1/authorize` pays per request to know who is asking.

use std::time::Instant;

use warden_core::{MasterKey, SystemEntropy, Timestamp};
use warden_identity::keyring::{Keyring, generate_key};
use warden_identity::token::{self, Audience, Claims, Expectations, TokenKind, VerifiedCache};

use crate::quantile;

/// Tokens verified cold and repeats of one cached token; `WARDEN_BENCH_SCALE` (a divisor) shrinks both
/// for runs under valgrind.
fn sizes() -> (usize, usize) {
    let scale = std::env::var("WARDEN_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    (20_000 / scale, 200_000 / scale)
}

fn passport(i: usize, now: Timestamp) -> Claims {
    let mut claims = Claims::new(
        TokenKind::Passport,
        "warden",
        Audience::Many(vec!["warden".into()]),
        "4f2c7a0e-8d1b-4c55-9a51-2f1f5b0d9e77",
        format!("{i:032x}"),
        now,
        300,
    );
    claims.name = Some("research_bot".into());
    claims.agent_id = Some(claims.sub.clone());
    claims.roles = Some(vec!["researcher".into()]);
    claims.capabilities = Some(vec!["web_search".into(), "summarize".into()]);
    claims.scopes = Some(vec!["agent:execute".into(), "context:read".into()]);
    claims.tier = Some("standard".into());
    claims
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

pub fn run() -> anyhow::Result<()> {
    let now = Timestamp::from_unix(1_800_000_000);
    let master = MasterKey::generate(&SystemEntropy);
    let record = generate_key(now, &master, &SystemEntropy)?;
    let Some(keyring) = Keyring::load(&[record], &master, now)? else {
        anyhow::bail!("no keyring")
    };
    let expect = Expectations {
        issuer: "warden".into(),
        audience: "warden".into(),
        leeway: 30,
    };
    let (cold_tokens, repeats) = sizes();
    let tokens: Vec<String> = (0..cold_tokens)
        .map(|i| token::sign(&passport(i, now), &keyring))
        .collect::<Result<_, _>>()?;
    println!("passport size: {} bytes", tokens[0].len());

    // Cold: every token is new to the cache, so each call is a full verification plus the insert.
    let cache = VerifiedCache::new(cold_tokens * 2);
    let mut cold = Vec::with_capacity(cold_tokens);
    for token in &tokens {
        let started = Instant::now();
        let verified = cache.verify(token, TokenKind::Passport, &keyring, &expect, now);
        cold.push(started.elapsed().as_nanos() as u64);
        anyhow::ensure!(verified.is_ok(), "a valid passport failed to verify");
    }
    report("cold (cache miss)", cold);

    // Full verification without the cache, for reference.
    let mut uncached = Vec::with_capacity(cold_tokens);
    for token in &tokens {
        let started = Instant::now();
        let verified = token::verify(token, TokenKind::Passport, &keyring, &expect, now);
        uncached.push(started.elapsed().as_nanos() as u64);
        anyhow::ensure!(verified.is_ok(), "a valid passport failed to verify");
    }
    report("verify (no cache)", uncached);

    // Repeated: the same passport again and again, answered by the cache.
    let mut repeated = Vec::with_capacity(repeats);
    let token = &tokens[0];
    for _ in 0..repeats {
        let started = Instant::now();
        let verified = cache.verify(token, TokenKind::Passport, &keyring, &expect, now);
        repeated.push(started.elapsed().as_nanos() as u64);
        anyhow::ensure!(verified.is_ok(), "a cached passport failed to verify");
    }
    report("repeated (cache hit)", repeated);
    report(
        "ed25519 only, aws-lc-rs",
        signature_only_aws_lc(&tokens, &keyring.current_public_key())?,
    );
    report(
        "ed25519 only, dalek",
        signature_only_dalek(&tokens, &keyring.current_public_key())?,
    );
    Ok(())
}

/// The signature check alone with aws-lc-rs, the alternative to ed25519-dalek that verification
/// does not use (kept to show why).
pub fn signature_only_aws_lc(tokens: &[String], public: &[u8]) -> anyhow::Result<Vec<u64>> {
    use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = UnparsedPublicKey::new(&ED25519, public.to_vec());
    let mut samples = Vec::with_capacity(tokens.len());
    for token in tokens {
        let Some((signed, signature)) = token.rsplit_once('.') else {
            continue;
        };
        let signature = URL_SAFE_NO_PAD.decode(signature)?;
        let started = Instant::now();
        let ok = key.verify(signed.as_bytes(), &signature).is_ok();
        samples.push(started.elapsed().as_nanos() as u64);
        anyhow::ensure!(ok, "signature failed");
    }
    Ok(samples)
}

/// The signature check alone with ed25519-dalek's `verify_strict`, as `token::verify` does it.
pub fn signature_only_dalek(tokens: &[String], public: &[u8; 32]) -> anyhow::Result<Vec<u64>> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = ed25519_dalek::VerifyingKey::from_bytes(public)?;
    let mut samples = Vec::with_capacity(tokens.len());
    for token in tokens {
        let Some((signed, signature)) = token.rsplit_once('.') else {
            continue;
        };
        let bytes: [u8; 64] = URL_SAFE_NO_PAD.decode(signature)?.as_slice().try_into()?;
        let started = Instant::now();
        let ok = key
            .verify_strict(signed.as_bytes(), &ed25519_dalek::Signature::from_bytes(&bytes))
            .is_ok();
        samples.push(started.elapsed().as_nanos() as u64);
        anyhow::ensure!(ok, "signature failed");
    }
    Ok(samples)
}
