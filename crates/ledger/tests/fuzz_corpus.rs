//! The fuzzers' committed corpora (`fuzz/corpus/checkpoint_parser`, `fuzz/corpus/proof_decoder` and
//! `fuzz/corpus/witness_request`: the
//! seeds and any crash repros) through the same checks as the fuzz targets, on the stable toolchain, so a
//! fixed crash stays fixed without running the fuzzer; the `seed-valid-*` files must still be accepted,
//! so a change to the note format or the proof layout that strands published data shows up here.
//!
//! `cargo test -p warden-ledger --test fuzz_corpus -- --ignored` writes the seeds anew.

use std::path::{Path, PathBuf};

use aws_lc_rs::signature::Ed25519KeyPair;
use warden_ledger::{
    AddCheckpoint, Checkpoint, CosignatureVerifier, Cosigner, Hash, MerkleTree, NoteSigner, decode_proof, leaf_hash,
    verify_consistency, verify_inclusion, verify_note,
};

// The same key as fuzz/fuzz_targets/checkpoint_parser.rs: name `fuzz.example/ledger`, seed [0x42; 32].
const FUZZ_VERIFIER_KEY: &str = "fuzz.example/ledger+239cfca3+ASFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS";

fn signer() -> NoteSigner {
    let Ok(pair) = Ed25519KeyPair::from_seed_unchecked(&[0x42; 32]) else {
        unreachable!("a 32-byte seed makes a key")
    };
    let Ok(signer) = NoteSigner::new("fuzz.example/ledger", pair) else {
        unreachable!("valid name")
    };
    signer
}

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

fn files(target: &str) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(corpus(target)) else {
        unreachable!("{} exists", corpus(target).display())
    };
    let mut out = Vec::new();
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
                out.push((name, bytes));
            }
            // A running fuzzer replaces corpus entries with smaller ones as it goes.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => unreachable!("{} is readable: {e}", path.display()),
        }
    }
    out
}

/// What fuzz/fuzz_targets/checkpoint_parser.rs does with one input; `Some(true)` if it was accepted.
fn check_note(data: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(data).ok()?;
    let checkpoint = Checkpoint::parse_and_verify(text, FUZZ_VERIFIER_KEY);
    let note = verify_note(text, FUZZ_VERIFIER_KEY);
    assert!(
        checkpoint.is_err() || note.is_ok(),
        "a checkpoint was accepted from a note that was not"
    );
    if let (Ok(checkpoint), Ok(body)) = (&checkpoint, note) {
        assert!(
            body.starts_with(&checkpoint.body()),
            "the parsed checkpoint is not the signed text"
        );
    }
    Some(checkpoint.is_ok())
}

/// What fuzz/fuzz_targets/proof_decoder.rs does with one input; `true` if a proof verified.
fn check_proof(data: &[u8]) -> bool {
    let [n, index, size, old, rest @ ..] = data else {
        return false;
    };
    if rest.len() < 32 {
        return false;
    }
    let (leaf, proof) = rest.split_at(32);
    let Ok(leaf): Result<Hash, _> = leaf.try_into() else {
        return false;
    };
    let Ok(proof) = decode_proof(proof) else { return false };
    let tree = MerkleTree::from_leaf_hashes((0..=u64::from(*n % 64)).map(|i| leaf_hash(&i.to_be_bytes())).collect());
    let (index, size, old) = (u64::from(*index), u64::from(*size), u64::from(*old));
    let root = tree.root_at(size).unwrap_or([0; 32]);
    let old_root = tree.root_at(old).unwrap_or([0; 32]);
    let included = verify_inclusion(&leaf, index, size, &proof, &root).is_ok();
    if included && tree.root_at(size).is_ok() {
        assert_eq!(
            tree.leaves().get(index as usize),
            Some(&leaf),
            "a wrong leaf was proven"
        );
    }
    let consistent = verify_consistency(old, size, &old_root, &root, &proof).is_ok();
    included || consistent
}

#[test]
fn the_fuzz_key_is_the_signer_s() {
    assert_eq!(signer().verifier_key(), FUZZ_VERIFIER_KEY);
}

#[test]
fn every_checkpoint_corpus_file_is_checked() {
    let (mut count, mut valid) = (0, 0);
    for (name, bytes) in files("checkpoint_parser") {
        count += 1;
        let accepted = check_note(&bytes);
        if name.starts_with("seed-valid-") {
            assert_eq!(accepted, Some(true), "{name} refused");
            valid += 1;
        }
    }
    assert!(
        count >= 5 && valid >= 2,
        "the corpus lost its seeds: {count} files, {valid} valid"
    );
}

// The same key as fuzz/fuzz_targets/witness_request.rs: name `fuzz.example/witness`, seed [0x43; 32].
const FUZZ_WITNESS_KEY: &str = "fuzz.example/witness+64ec5e3b+BCL8KXeS8Lb/wL/P237bDAqhTgJaNl7A40Lobjgpy3S2";

#[test]
fn the_fuzz_witness_key_is_the_cosigner_s() {
    let Ok(pair) = Ed25519KeyPair::from_seed_unchecked(&[0x43; 32]) else {
        unreachable!("a 32-byte seed makes a key")
    };
    let Ok(cosigner) = Cosigner::new("fuzz.example/witness", pair) else {
        unreachable!("valid name")
    };
    assert_eq!(cosigner.verifier_key(), FUZZ_WITNESS_KEY);
    assert!(CosignatureVerifier::parse(FUZZ_WITNESS_KEY).is_ok());
}

/// What fuzz/fuzz_targets/witness_request.rs checks first: a request that parses encodes back to itself.
#[test]
fn every_witness_request_corpus_file_is_checked() {
    let (mut count, mut valid) = (0, 0);
    for (name, bytes) in files("witness_request") {
        count += 1;
        let parsed = AddCheckpoint::parse(&bytes);
        if let Ok(request) = &parsed {
            assert_eq!(
                request.encode().as_bytes(),
                bytes.as_slice(),
                "{name} does not encode back"
            );
        }
        if name.starts_with("seed-valid-") {
            assert!(parsed.is_ok(), "{name} refused: {parsed:?}");
            valid += 1;
        }
    }
    assert!(
        count >= 3 && valid >= 1,
        "the corpus lost its seeds: {count} files, {valid} valid"
    );
}

#[test]
fn every_proof_corpus_file_is_checked() {
    let (mut count, mut valid) = (0, 0);
    for (name, bytes) in files("proof_decoder") {
        count += 1;
        let verified = check_proof(&bytes);
        if name.starts_with("seed-valid-") {
            assert!(verified, "{name} refused");
            valid += 1;
        }
    }
    assert!(
        count >= 4 && valid >= 2,
        "the corpus lost its seeds: {count} files, {valid} valid"
    );
}

fn proof_seed(n: u8, index: u8, size: u8, old: u8, leaf: Hash, proof: &[Hash]) -> Vec<u8> {
    let mut out = vec![n, index, size, old];
    out.extend_from_slice(&leaf);
    out.extend(proof.iter().flatten());
    out
}

#[test]
#[ignore = "writes fuzz/corpus/{checkpoint_parser,proof_decoder}; run by hand after a deliberate format change"]
fn write_seed_corpus() {
    let signer = signer();
    let checkpoint = Checkpoint {
        origin: "fuzz.example/ledger".to_owned(),
        size: 41,
        root: [0x5a; 32],
    };
    let Ok(note) = checkpoint.sign(&signer) else {
        unreachable!("valid origin")
    };
    let Ok(with_extension) = signer.sign_note(&format!("{}extension line\n", checkpoint.body())) else {
        unreachable!("valid text")
    };
    let cosigned = format!("{note}\u{2014} witness.example AAAAAAECAwQ=\n");
    let notes: [(&str, String); 6] = [
        ("seed-valid-checkpoint", note.clone()),
        ("seed-valid-extension", with_extension),
        ("seed-valid-cosigned", cosigned),
        ("seed-truncated", note[..note.len() - 10].to_owned()),
        ("seed-tampered-size", note.replacen("41", "42", 1)),
        ("seed-no-signature", checkpoint.body()),
    ];
    for (name, text) in notes {
        let path = corpus("checkpoint_parser").join(name);
        assert!(std::fs::write(&path, text).is_ok(), "{} is writable", path.display());
    }
    // The fuzz target's tree for first byte 9: ten leaves.
    let tree = MerkleTree::from_leaf_hashes((0..10u64).map(|i| leaf_hash(&i.to_be_bytes())).collect());
    let (Ok(inclusion), Ok(consistency)) = (tree.inclusion_proof(6, 10), tree.consistency_proof(3, 10)) else {
        unreachable!("within the tree")
    };
    let leaf6 = tree.leaves()[6];
    let mut wrong_leaf = leaf6;
    wrong_leaf[0] ^= 1;
    let proofs: [(&str, Vec<u8>); 5] = [
        ("seed-valid-inclusion", proof_seed(9, 6, 10, 0, leaf6, &inclusion)),
        ("seed-valid-consistency", proof_seed(9, 0, 10, 3, [0; 32], &consistency)),
        ("seed-wrong-leaf", proof_seed(9, 6, 10, 0, wrong_leaf, &inclusion)),
        (
            "seed-ragged",
            proof_seed(9, 6, 10, 0, leaf6, &inclusion)[..100].to_vec(),
        ),
        ("seed-beyond-tree", proof_seed(9, 6, 200, 150, leaf6, &inclusion)),
    ];
    for (name, bytes) in proofs {
        let path = corpus("proof_decoder").join(name);
        assert!(std::fs::write(&path, bytes).is_ok(), "{} is writable", path.display());
    }
}
