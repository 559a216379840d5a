use aws_lc_rs::signature::Ed25519KeyPair;
use warden_core::{AuditEvent, AuditOutcome, Timestamp};

use super::{LogVerifier, VerifyError};
use crate::{Checkpoint, Hash, MerkleTree, NoteSigner, leaf_bytes, leaf_hash};

const ORIGIN: &str = "test.example/ledger";

fn signer() -> NoteSigner {
    let Ok(pair) = Ed25519KeyPair::from_seed_unchecked(&[7; 32]) else {
        unreachable!("seed")
    };
    let Ok(signer) = NoteSigner::new(ORIGIN, pair) else {
        unreachable!("name")
    };
    signer
}

fn entries(n: u64) -> Vec<(u64, Vec<u8>, Hash)> {
    (0..n)
        .map(|i| {
            let event = AuditEvent::new(
                Timestamp::from_unix(1000 + i as i64),
                "authz.decision",
                "agent",
                AuditOutcome::Success,
            )
            .detail("n", i);
            let leaf = leaf_bytes(i, &event);
            let hash = leaf_hash(&leaf);
            (i, leaf, hash)
        })
        .collect()
}

fn note_at(entries: &[(u64, Vec<u8>, Hash)], size: usize) -> String {
    let tree = MerkleTree::from_leaf_hashes(entries[..size].iter().map(|e| e.2).collect());
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: size as u64,
        root: tree.root(),
    };
    let Ok(note) = checkpoint.sign(&signer()) else {
        unreachable!("signs")
    };
    note
}

/// Runs the verifier over entries then checkpoints; the first error.
fn verify(entries: &[(u64, Option<Vec<u8>>, Hash)], notes: &[String]) -> Result<u64, VerifyError> {
    let key = signer().verifier_key();
    let mut verifier = LogVerifier::new();
    for (index, leaf, hash) in entries {
        verifier.push(*index, leaf.as_deref(), hash)?;
    }
    for note in notes {
        verifier.check_checkpoint(note, &key, Some(ORIGIN))?;
    }
    Ok(verifier.summary().size)
}

fn stored(entries: &[(u64, Vec<u8>, Hash)]) -> Vec<(u64, Option<Vec<u8>>, Hash)> {
    entries.iter().map(|(i, l, h)| (*i, Some(l.clone()), *h)).collect()
}

#[test]
fn an_intact_log_verifies_against_its_checkpoints() {
    let log = entries(20);
    let notes = [note_at(&log, 5), note_at(&log, 13), note_at(&log, 20)];
    assert_eq!(verify(&stored(&log), &notes), Ok(20));
}

#[test]
fn a_pruned_payload_still_verifies_by_its_hash() {
    let log = entries(8);
    let mut rows = stored(&log);
    rows[3].1 = None;
    assert_eq!(verify(&rows, &[note_at(&log, 8)]), Ok(8));
}

#[test]
fn every_single_byte_change_of_any_leaf_is_caught_at_its_index() {
    let log = entries(6);
    for target in 0..log.len() {
        for position in 0..log[target].1.len() {
            let mut rows = stored(&log);
            if let Some(leaf) = rows[target].1.as_mut() {
                leaf[position] ^= 0x01;
            }
            let result = verify(&rows, &[note_at(&log, 6)]);
            assert!(
                matches!(result, Err(VerifyError::Tampered { index, .. }) if index == target as u64),
                "byte {position} of entry {target}: {result:?}"
            );
        }
    }
}

#[test]
fn a_rewritten_leaf_with_a_recomputed_hash_fails_the_checkpoint() {
    let log = entries(10);
    let mut rows = stored(&log);
    let forged = AuditEvent::new(
        Timestamp::from_unix(1004),
        "authz.decision",
        "agent",
        AuditOutcome::Denied,
    );
    let leaf = leaf_bytes(4, &forged);
    rows[4] = (4, Some(leaf.clone()), leaf_hash(&leaf));
    let result = verify(&rows, &[note_at(&log, 3), note_at(&log, 10)]);
    assert_eq!(result, Err(VerifyError::Rewritten { size: 10, from: 3 }));
}

#[test]
fn deletion_reordering_moving_and_rollback_are_caught() {
    let log = entries(10);
    let notes = [note_at(&log, 10)];
    // A deleted entry.
    let mut rows = stored(&log);
    rows.remove(6);
    assert_eq!(verify(&rows, &notes), Err(VerifyError::Missing(6)));
    // Two entries swapped in the store's order.
    let mut rows = stored(&log);
    rows.swap(2, 3);
    assert_eq!(verify(&rows, &notes), Err(VerifyError::Missing(2)));
    // Two entries swapped with their indices rewritten to fit.
    let mut rows = stored(&log);
    rows.swap(2, 3);
    rows[2].0 = 2;
    rows[3].0 = 3;
    assert_eq!(verify(&rows, &notes), Err(VerifyError::Moved { index: 2, stated: 3 }));
    // The log rolled back to 7 entries after size 10 was published.
    let rows = stored(&log[..7]);
    assert_eq!(
        verify(&rows, &notes),
        Err(VerifyError::RolledBack { size: 10, log_size: 7 })
    );
}

#[test]
fn a_checkpoint_signed_by_another_key_or_origin_is_refused() {
    let log = entries(4);
    let Ok(pair) = Ed25519KeyPair::from_seed_unchecked(&[8; 32]) else {
        unreachable!("seed")
    };
    let Ok(other) = NoteSigner::new(ORIGIN, pair) else {
        unreachable!("name")
    };
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: 4,
        root: MerkleTree::from_leaf_hashes(log.iter().map(|e| e.2).collect()).root(),
    };
    let Ok(note) = checkpoint.sign(&other) else {
        unreachable!("signs")
    };
    assert!(matches!(
        verify(&stored(&log), &[note]),
        Err(VerifyError::Checkpoint(_))
    ));
    let mut tampered = note_at(&log, 4);
    tampered = tampered.replacen("\n4\n", "\n3\n", 1);
    assert!(matches!(
        verify(&stored(&log), &[tampered]),
        Err(VerifyError::Checkpoint(_))
    ));
}
