//! Signed notes against the published vectors (golang.org/x/mod sumdb/note `note_test.go` and
//! `example_test.go`, BSD-3-Clause; the C2SP `signed-note.md` example), and checkpoints through a round
//! trip and every single-byte change.

use aws_lc_rs::signature::Ed25519KeyPair;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{Checkpoint, CheckpointError, MAX_SIGNATURES, NoteSigner, verify_note};

const PETER_SKEY: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const GO_TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str =
    "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

fn pair_from_seed(seed: &[u8]) -> Ed25519KeyPair {
    match Ed25519KeyPair::from_seed_unchecked(seed) {
        Ok(pair) => pair,
        Err(e) => unreachable!("a 32-byte seed makes a key: {e}"),
    }
}

fn signer(name: &str, seed: u8) -> NoteSigner {
    match NoteSigner::new(name, pair_from_seed(&[seed; 32])) {
        Ok(signer) => signer,
        Err(e) => unreachable!("valid name: {e}"),
    }
}

fn checkpoint() -> Checkpoint {
    Checkpoint {
        origin: "warden.example.com/ledger".to_owned(),
        size: 1_000_000,
        root: [0xa5; 32],
    }
}

#[test]
fn signing_reproduces_the_go_vector() {
    let Ok(key) = STANDARD.decode(PETER_SKEY) else {
        unreachable!("valid base64")
    };
    assert_eq!(key[0], 0x01);
    let Ok(signer) = NoteSigner::new("PeterNeumann", pair_from_seed(&key[1..])) else {
        unreachable!("valid name")
    };
    assert_eq!(signer.verifier_key(), PETER_VKEY);
    assert_eq!(signer.sign_note(GO_TEXT), Ok(format!("{GO_TEXT}\n{PETER_SIG}")));
}

#[test]
fn published_notes_verify() {
    assert_eq!(verify_note(&format!("{GO_TEXT}\n{PETER_SIG}"), PETER_VKEY), Ok(GO_TEXT));
    assert_eq!(verify_note(SPEC_NOTE, SPEC_VKEY), Ok("This is an example message.\n"));
    // Two signatures: each key finds its own and skips the other.
    let both = format!("{GO_TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    assert_eq!(verify_note(&both, PETER_VKEY), Ok(GO_TEXT));
    assert_eq!(verify_note(&both, ENOCH_VKEY), Ok(GO_TEXT));
    assert_eq!(
        verify_note(&format!("{GO_TEXT}\n{ENOCH_SIG}"), PETER_VKEY),
        Err(CheckpointError::UnknownKey)
    );
}

#[test]
fn a_checkpoint_round_trips() {
    let signer = signer("warden.example.com/ledger", 7);
    let Ok(note) = checkpoint().sign(&signer) else {
        unreachable!("valid origin")
    };
    assert!(
        note.starts_with(
            "warden.example.com/ledger\n1000000\npaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=\n\n\u{2014} "
        )
    );
    assert_eq!(
        Checkpoint::parse_and_verify(&note, &signer.verifier_key()),
        Ok(checkpoint())
    );
}

#[test]
fn any_changed_byte_or_other_key_is_refused() {
    let signer = signer("warden.example.com/ledger", 7);
    let key = signer.verifier_key();
    let Ok(note) = checkpoint().sign(&signer) else {
        unreachable!("valid origin")
    };
    let bytes = note.as_bytes();
    for i in 0..bytes.len() {
        for delta in [1u8, 0x80] {
            let mut changed = bytes.to_vec();
            changed[i] ^= delta;
            if let Ok(text) = std::str::from_utf8(&changed) {
                assert!(
                    Checkpoint::parse_and_verify(text, &key).is_err(),
                    "byte {i} ^ {delta:#x} accepted"
                );
            }
        }
    }
    assert!(Checkpoint::parse_and_verify(&format!("{note}x"), &key).is_err());
    assert!(Checkpoint::parse_and_verify(&format!("{note}\n"), &key).is_err());
    assert!(Checkpoint::parse_and_verify(&note[..note.len() - 1], &key).is_err());
    // The same name with another key: the key hash differs, so the signature is not ours.
    let impostor = self::signer("warden.example.com/ledger", 8);
    assert_eq!(
        Checkpoint::parse_and_verify(&note, &impostor.verifier_key()),
        Err(CheckpointError::UnknownKey)
    );
    // A forged line that claims our key hash but carries another key's signature.
    let Ok(forged) = checkpoint().sign(&impostor) else {
        unreachable!("valid origin")
    };
    let Some((body, line)) = forged.rsplit_once(' ') else {
        unreachable!("a signature line")
    };
    let Ok(mut blob) = STANDARD.decode(line.trim_end()) else {
        unreachable!("base64")
    };
    blob[..4].copy_from_slice(&signer_hash(&key));
    let forged = format!("{body} {}\n", STANDARD.encode(blob));
    assert_eq!(
        Checkpoint::parse_and_verify(&forged, &key),
        Err(CheckpointError::Signature)
    );
}

fn signer_hash(verifier_key: &str) -> [u8; 4] {
    let hex = verifier_key.split('+').nth(1).unwrap_or_default();
    let mut out = [0u8; 4];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or_default();
    }
    out
}

#[test]
fn bodies_are_parsed_strictly() {
    let signer = signer("log", 9);
    let key = signer.verifier_key();
    let root = STANDARD.encode([1u8; 32]);
    let check = |text: &str| {
        let Ok(note) = signer.sign_note(text) else {
            return Err(CheckpointError::Note);
        };
        Checkpoint::parse_and_verify(&note, &key)
    };
    assert!(check(&format!("log\n0\n{root}\n")).is_ok());
    assert!(check(&format!("log\n18446744073709551615\n{root}\n")).is_ok());
    assert!(check(&format!("log\n5\n{root}\next one\next two\n")).is_ok());
    for bad in [
        format!("log\n18446744073709551616\n{root}\n"),
        format!("log\n05\n{root}\n"),
        format!("log\n+5\n{root}\n"),
        format!("log\n-0\n{root}\n"),
        format!("log\n 5\n{root}\n"),
        format!("log\n\n{root}\n"),
        format!("\n5\n{root}\n"),
        "log\n5\n".to_owned(),
        format!("log\n5\n{}\n", STANDARD.encode([1u8; 31])),
        format!("log\n5\n{}\n", STANDARD.encode([1u8; 33])),
        format!("log\n5\n{}\n", root.trim_end_matches('=')),
        "log\n5\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQF=\n".to_owned(),
        format!("log\n5\n{root}\n\next\n"),
        format!("log\n5\n{root}"),
    ] {
        assert!(check(&bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn malformed_notes_and_keys_are_refused() {
    let signer = signer("log", 9);
    let key = signer.verifier_key();
    for bad_key in [
        "",
        "log",
        "log+00000000+AQ==",
        &key.replacen("log", "lug", 1),
        &format!("{key}+"),
        &key.replacen("+A", "+B", 1),
        "lo g+00000000+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ] {
        assert!(verify_note(SPEC_NOTE, bad_key).is_err(), "{bad_key:?} accepted");
    }
    assert!(NoteSigner::new("has space", pair_from_seed(&[1; 32])).is_err());
    assert!(NoteSigner::new("a+b", pair_from_seed(&[1; 32])).is_err());
    assert!(NoteSigner::new("", pair_from_seed(&[1; 32])).is_err());
    assert!(signer.sign_note("").is_err());
    assert!(signer.sign_note("no newline").is_err());
    assert!(signer.sign_note("blank end\n\n").is_err());
    assert!(signer.sign_note("tab\there\n").is_err());
    let Ok(note) = signer.sign_note("text\n") else {
        unreachable!("valid text")
    };
    let line = note.split_once("\n\n").map(|(_, l)| l).unwrap_or_default();
    let many = format!("text\n\n{}", line.repeat(MAX_SIGNATURES + 1));
    assert_eq!(verify_note(&many, &key), Err(CheckpointError::TooManySignatures));
    assert!(verify_note(&format!("text\n\n{line}{line}"), &key).is_ok());
    assert!(verify_note("text\n\n", &key).is_err());
    assert!(verify_note(&format!("text\n\n{line}\n"), &key).is_err());
    assert!(verify_note(&format!("text\r\n\n{line}"), &key).is_err());
    assert!(verify_note(&format!("te\u{0}xt\n\n{line}"), &key).is_err());
    assert!(verify_note(&format!("text\n\n- {}", &line[4..]), &key).is_err());
    assert!(
        Checkpoint {
            origin: "a\nb".to_owned(),
            size: 1,
            root: [0; 32]
        }
        .sign(&signer)
        .is_err()
    );
    assert!(
        Checkpoint {
            origin: String::new(),
            size: 1,
            root: [0; 32]
        }
        .sign(&signer)
        .is_err()
    );
}
