//! Cosignatures against published values — a real Sigsum witness cosignature (sigsum-ts
//! `src/tests/crypto.test.ts`, lsd-cat/sigsum-ts, a cosignature by a test witness of the
//! test.sigsum.org/barreleye log), the payloads and keys of transparency-dev/formats
//! `note/note_cosigv1_test.go` (Apache-2.0) and the example line of C2SP `tlog-cosignature.md` — then
//! round trips and every kind of refusal.

use aws_lc_rs::signature::Ed25519KeyPair;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{
    COSIGNATURE_ALG, Cosignature, CosignatureError, CosignatureVerifier, Cosigner, MAX_TIMESTAMP, cosigned_message,
    format_verifier_key, parse_signature_line,
};
use crate::checkpoint::key_id;

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or_else(|e| unreachable!("hex: {e}")))
        .collect()
}

fn cosigner(name: &str, seed: u8) -> Cosigner {
    let pair = Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap_or_else(|e| unreachable!("seed: {e}"));
    Cosigner::new(name, pair).unwrap_or_else(|e| unreachable!("name: {e}"))
}

fn verifier(text: &str) -> CosignatureVerifier {
    CosignatureVerifier::parse(text).unwrap_or_else(|e| unreachable!("{text}: {e}"))
}

const TEXT: &str = "warden.example/ledger\n42\npaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=\n";

// sigsum-ts: WITNESS_PUBKEY, LOG_PUBKEY's key hash, the tree head (899, TREEHEAD_ROOT_HASH),
// WITNESS_COSIGNATURE and WITNESS_TIMESTAMP.
const SIGSUM_WITNESS: &str = "1c25f8a44c635457e2e391d1efbca7d4c2951a0aef06225a881e46b98962ac6c";
const SIGSUM_ORIGIN: &str = "sigsum.org/v1/tree/4e89cc51651f0d95f3c6127c15e1a42e3ddf7046c5b17b752689c402e773bb4d";
const SIGSUM_ROOT: &str = "22596c882dcdfbfaba693cb69b225c81a8a980e84b3ad5fc1fcd6a256ebdc235";
const SIGSUM_SIGNATURE: &str = "982dfe23af264de276e35567e162139ad2cdbac947b9ff6dc70aee02c3aa798b\
                                3a46dc7d289067107e52d10da057129238e07afc33a1610a2833f5fcc3334401";
const SIGSUM_TIME: u64 = 1_748_943_073;

#[test]
fn a_published_sigsum_cosignature_verifies() {
    let public = hex_bytes(SIGSUM_WITNESS);
    // The cosigned message does not commit to the witness name, so any name checks the signature.
    let name = "witness.test/sigsum";
    let id = key_id(name, COSIGNATURE_ALG, &public);
    let Ok(public) = <[u8; 32]>::try_from(public.as_slice()) else {
        unreachable!("32 bytes")
    };
    let verifier = verifier(&format_verifier_key(name, &id, &public));
    let text = format!("{SIGSUM_ORIGIN}\n899\n{}\n", STANDARD.encode(hex_bytes(SIGSUM_ROOT)));
    let Ok(signature) = <[u8; 64]>::try_from(hex_bytes(SIGSUM_SIGNATURE).as_slice()) else {
        unreachable!("64 bytes")
    };
    let line = |timestamp: u64| {
        let payload = Cosignature {
            key_id: id,
            timestamp,
            signature,
        }
        .payload();
        format!("\u{2014} {name} {}", STANDARD.encode(payload))
    };
    assert_eq!(verifier.verify(&text, &line(SIGSUM_TIME)), Ok(SIGSUM_TIME));
    assert_eq!(
        verifier.verify(&text, &line(SIGSUM_TIME + 1)),
        Err(CosignatureError::Signature)
    );
    let other_size = text.replace("\n899\n", "\n900\n");
    assert_eq!(
        verifier.verify(&other_size, &line(SIGSUM_TIME)),
        Err(CosignatureError::Signature)
    );
}

#[test]
fn published_payloads_and_keys_parse() {
    // transparency-dev/formats TestCosignatureTimestamp: a cosignature payload and its time.
    let payload =
        "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==";
    let decoded = STANDARD.decode(payload).unwrap_or_default();
    assert_eq!(
        Cosignature::from_payload(&decoded).map(|c| c.timestamp),
        Ok(1_727_964_367)
    );
    // ... and an Ed25519 note signature, which is not a cosignature.
    let note_signature = "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY=";
    let decoded = STANDARD.decode(note_signature).unwrap_or_default();
    assert_eq!(Cosignature::from_payload(&decoded), Err(CosignatureError::Line));
    // The example of tlog-cosignature.md: its timestamp is the `time` line of the spec's message.
    let spec_line = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
    let parsed = parse_signature_line(spec_line).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(parsed.name, "witness.example.com/w1");
    let cosignature = Cosignature::from_payload(&parsed.payload).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(cosignature.timestamp, 1_679_315_147);
    assert_eq!(cosignature.payload(), parsed.payload);
    // transparency-dev/formats TestCoSigV1NewVerifier: a native cosignature/v1 key parses and
    // formats back; the wrong number of parts, bad base64, another algorithm and a wrong key id do not.
    let remora = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
    assert_eq!(verifier(remora).verifier_key(), remora);
    assert_eq!(verifier(remora).name(), "remora.n621.de");
    for bad in [
        "bananas.sigstore.dev+12344556",
        "rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!",
        "rekor.sigstore.dev+12345678+AwEB",
        "remora.n621.de+00000000+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
        "remora.n621.dd+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
        // A note (0x01) key is not a cosignature key, even with its own key id.
        "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
        "",
        "+++",
    ] {
        assert_eq!(
            CosignatureVerifier::parse(bad),
            Err(CosignatureError::VerifierKey),
            "{bad:?} accepted"
        );
    }
}

#[test]
fn a_cosignature_round_trips() {
    let witness = cosigner("witness.example/w1", 3);
    let key = witness.verifier_key();
    assert!(key.starts_with("witness.example/w1+"));
    let verifier = verifier(&key);
    assert_eq!(verifier.verifier_key(), key);
    let line = witness
        .cosign(TEXT, 1_700_000_000)
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert!(line.starts_with("\u{2014} witness.example/w1 "));
    assert!(verifier.names(&line));
    assert_eq!(verifier.verify(TEXT, &line), Ok(1_700_000_000));
    // In a note, after the log's own signature and another witness's line.
    let other = cosigner("witness.example/w2", 4).cosign(TEXT, 5).unwrap_or_default();
    let note = format!("{TEXT}\n\u{2014} warden.example/ledger AAAAAAAA\n{other}\n{line}\n");
    assert_eq!(verifier.verify_note(&note), Ok(1_700_000_000));
    let without = format!("{TEXT}\n{other}\n");
    assert_eq!(verifier.verify_note(&without), Err(CosignatureError::Missing));
    // Extension lines are part of what is signed.
    let extended = format!("{TEXT}extension\n");
    let line = witness.cosign(&extended, 9).unwrap_or_default();
    assert_eq!(verifier.verify(&extended, &line), Ok(9));
    assert_eq!(verifier.verify(TEXT, &line), Err(CosignatureError::Signature));
    assert_eq!(cosigned_message(TEXT, 7), format!("cosignature/v1\ntime 7\n{TEXT}"));
}

#[test]
fn wrong_keys_bodies_and_flipped_bits_are_refused() {
    let witness = cosigner("witness.example/w1", 3);
    let verifier = verifier(&witness.verifier_key());
    let line = witness.cosign(TEXT, 1_700_000_000).unwrap_or_default();
    // The same name with another key: another key id, so the line is not this key's.
    let impostor = cosigner("witness.example/w1", 5);
    let theirs = impostor.cosign(TEXT, 1_700_000_000).unwrap_or_default();
    assert_eq!(verifier.verify(TEXT, &theirs), Err(CosignatureError::OtherKey));
    assert!(!verifier.names(&theirs));
    // Their signature under our key id: named as ours, and it does not verify.
    let parsed = parse_signature_line(&theirs).unwrap_or_else(|e| unreachable!("{e}"));
    let mut payload = parsed.payload.clone();
    payload[..4].copy_from_slice(&verifier.key_id());
    let forged = format!("\u{2014} witness.example/w1 {}", STANDARD.encode(&payload));
    assert_eq!(verifier.verify(TEXT, &forged), Err(CosignatureError::Signature));
    // Another name with our key id.
    let renamed = line.replacen("witness.example/w1", "witness.example/w9", 1);
    assert_eq!(verifier.verify(TEXT, &renamed), Err(CosignatureError::OtherKey));
    // Another body.
    let other_root = TEXT.replace("paWl", "paWm");
    assert_eq!(verifier.verify(&other_root, &line), Err(CosignatureError::Signature));
    assert_eq!(
        verifier.verify(&TEXT.replace("42", "43"), &line),
        Err(CosignatureError::Signature)
    );
    // Every bit of the payload matters: key id, timestamp and signature.
    let payload = parse_signature_line(&line)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .payload;
    for byte in 0..payload.len() {
        for bit in 0..8 {
            let mut flipped = payload.clone();
            flipped[byte] ^= 1 << bit;
            let changed = format!("\u{2014} witness.example/w1 {}", STANDARD.encode(&flipped));
            assert!(
                verifier.verify(TEXT, &changed).is_err(),
                "byte {byte} bit {bit} accepted"
            );
        }
    }
}

#[test]
fn malformed_lines_texts_and_names_are_refused() {
    let witness = cosigner("w", 3);
    let verifier = verifier(&witness.verifier_key());
    let line = witness.cosign(TEXT, 1).unwrap_or_default();
    let payload = line.rsplit_once(' ').map(|(_, p)| p).unwrap_or_default();
    for bad in [
        String::new(),
        format!("- w {payload}"),
        format!("\u{2014} w{payload}"),
        format!("\u{2014}  w {payload}"),
        format!("\u{2014} w {payload}="),
        format!("\u{2014} w {}", &payload[..payload.len() - 4]),
        format!("\u{2014} w {payload}AAAA"),
        "\u{2014} w AAAA".to_owned(),
        format!("\u{2014} w {payload}\n"),
    ] {
        assert!(verifier.verify(TEXT, &bad).is_err(), "{bad:?} accepted");
    }
    // A timestamp above 2^63 - 1 is refused when read and when signing.
    let mut cosignature = Cosignature::from_payload(&STANDARD.decode(payload).unwrap_or_default())
        .unwrap_or_else(|e| unreachable!("{e}"));
    cosignature.timestamp = MAX_TIMESTAMP + 1;
    assert_eq!(
        Cosignature::from_payload(&cosignature.payload()),
        Err(CosignatureError::Timestamp)
    );
    assert_eq!(
        witness.cosign(TEXT, MAX_TIMESTAMP + 1),
        Err(CosignatureError::Timestamp)
    );
    assert!(witness.cosign(TEXT, MAX_TIMESTAMP).is_ok());
    for text in [
        "",
        "a\nb\n",
        "a\n1\nroot",
        "a\n1\nroot\n\n",
        "a\n1\n\nroot\n",
        "a\t\n1\nroot\n",
    ] {
        assert_eq!(witness.cosign(text, 1), Err(CosignatureError::Text), "{text:?}");
    }
    assert!(verifier.verify("a\n1\nroot", &line).is_err());
    for name in ["", "a b", "a+b", "a\nb"] {
        let pair = Ed25519KeyPair::from_seed_unchecked(&[1; 32]).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(Cosigner::new(name, pair).is_err(), "{name:?} accepted");
    }
    assert_eq!(verifier.verify_note("no blank line\n"), Err(CosignatureError::Text));
    let many = format!("{TEXT}\n{}", format!("{line}\n").repeat(crate::MAX_SIGNATURES + 1));
    assert_eq!(verifier.verify_note(&many), Err(CosignatureError::Line));
}
