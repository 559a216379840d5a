//! `--witness`: cosigned latest, cosigned earlier only, never cosigned, and a forged line.

use aws_lc_rs::signature::Ed25519KeyPair;
use serde_json::{Value, json};
use warden_ledger::{Checkpoint, CosignatureVerifier, Cosigner, NoteSigner};

use super::{check, parse_keys};

fn pair(seed: u8) -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap_or_else(|e| unreachable!("{e}"))
}

fn stored(log: &NoteSigner, size: u64, witnesses: &[&Cosigner]) -> Value {
    let checkpoint = Checkpoint {
        origin: "log.test".into(),
        size,
        root: [size as u8; 32],
    };
    let note = checkpoint.sign(log).unwrap_or_else(|e| unreachable!("{e}"));
    let lines: Vec<String> = witnesses
        .iter()
        .map(|w| {
            w.cosign(&checkpoint.body(), 1_800_000_000 + size)
                .unwrap_or_else(|e| unreachable!("{e}"))
        })
        .collect();
    json!({"size": size, "note": note, "cosignatures": lines})
}

#[test]
fn named_witnesses_must_have_cosigned_and_their_lines_must_verify() {
    let log = NoteSigner::new("log.test", pair(1)).unwrap_or_else(|e| unreachable!("{e}"));
    let w1 = Cosigner::new("w1.test", pair(2)).unwrap_or_else(|e| unreachable!("{e}"));
    let w2 = Cosigner::new("w2.test", pair(3)).unwrap_or_else(|e| unreachable!("{e}"));
    let keys = parse_keys(&[w1.verifier_key(), w2.verifier_key()]).unwrap_or_else(|e| unreachable!("{e}"));
    assert!(parse_keys(&["nope".into()]).is_err());
    assert!(
        parse_keys(&[log.verifier_key()]).is_err(),
        "a log key is no witness key"
    );

    // w1 cosigned the latest, w2 only an earlier checkpoint (which the latest extends).
    let checkpoints = vec![stored(&log, 3, &[&w1, &w2]), stored(&log, 7, &[&w1])];
    let found = check(&keys, &checkpoints).unwrap_or_else(|e| unreachable!("{e:#}"));
    assert_eq!(found, [("w1.test".to_owned(), 7), ("w2.test".to_owned(), 3)]);

    // A witness that never cosigned fails the check.
    let w3 = Cosigner::new("w3.test", pair(4)).unwrap_or_else(|e| unreachable!("{e}"));
    let only_w3: Vec<CosignatureVerifier> = parse_keys(&[w3.verifier_key()]).unwrap_or_default();
    let error = check(&only_w3, &checkpoints)
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(error.contains("has not cosigned"), "{error}");

    // A line by w1 over another checkpoint, moved onto this one, does not verify.
    let mut forged = checkpoints.clone();
    forged[0]["cosignatures"] = forged[1]["cosignatures"].clone();
    let error = check(&keys, &forged)
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(error.contains("does not verify"), "{error}");
    assert!(check(&keys, &[]).is_err());
}
