//! The `add-checkpoint` body against the example of C2SP `tlog-witness.md`, round trips, the witness's
//! decision for every answer the protocol names, and arbitrary bytes that never panic the parser.

use proptest::prelude::*;

use super::{
    AddCheckpoint, MAX_PROOF_LINES, Refusal, Witnessed, check_update, encode_size, parse_cosignature_lines, parse_size,
};
use crate::checkpoint::Checkpoint;
use crate::hash::leaf_hash;
use crate::tree::MerkleTree;

const SPEC_BODY: &str = "old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
";

fn tree(size: u64) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for i in 0..size {
        tree.append_leaf_hash(leaf_hash(&i.to_be_bytes()));
    }
    tree
}

fn checkpoint(tree: &MerkleTree, size: u64) -> Checkpoint {
    Checkpoint {
        origin: "log".into(),
        size,
        root: tree.root_at(size).unwrap_or_else(|e| unreachable!("{e}")),
    }
}

fn request(tree: &MerkleTree, old: u64, new: u64) -> AddCheckpoint {
    let proof = if old == 0 || old == new {
        Vec::new()
    } else {
        tree.consistency_proof(old, new).unwrap_or_else(|e| unreachable!("{e}"))
    };
    AddCheckpoint {
        old_size: old,
        proof,
        note: "log\n".into(),
    }
}

#[test]
fn the_spec_example_parses_and_encodes_back() {
    let request = AddCheckpoint::parse(SPEC_BODY.as_bytes()).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(request.old_size, 20_852_014);
    assert_eq!(request.proof.len(), 4);
    assert!(request.note.starts_with("example.com/behind-the-sofa\n20852163\n"));
    assert_eq!(request.origin(), Some("example.com/behind-the-sofa"));
    assert_eq!(request.encode(), SPEC_BODY);
    let empty = AddCheckpoint {
        old_size: 0,
        proof: Vec::new(),
        note: "o\n1\nAA==\n\n\u{2014} o AAAA\n".into(),
    };
    assert_eq!(empty.encode(), format!("old 0\n\n{}", empty.note));
    assert_eq!(AddCheckpoint::parse(empty.encode().as_bytes()), Ok(empty));
}

#[test]
fn malformed_bodies_are_400() {
    let note = "o\n1\nAA==\n\n\u{2014} o AAAA\n";
    let hash = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
    let too_many = format!("old 5\n{}\n{note}", format!("{hash}\n").repeat(MAX_PROOF_LINES + 1));
    let most = format!("old 5\n{}\n{note}", format!("{hash}\n").repeat(MAX_PROOF_LINES));
    assert!(AddCheckpoint::parse(most.as_bytes()).is_ok());
    for bad in [
        String::new(),
        "old 5\n".to_owned(),
        "old 5\n\n".to_owned(),
        format!("old 5\n{note}"),
        format!("old 05\n\n{note}"),
        format!("old -1\n\n{note}"),
        format!("old +1\n\n{note}"),
        format!("old  1\n\n{note}"),
        format!("old 18446744073709551616\n\n{note}"),
        format!("Old 1\n\n{note}"),
        format!("old 1 \n\n{note}"),
        format!("\nold 1\n\n{note}"),
        format!("old 1\n{}\n\n{note}", &hash[..40]),
        format!("old 1\n{}\n\n{note}", hash.trim_end_matches('=')),
        format!("old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkax=\n\n{note}"),
        format!("old 1\n{hash} \n\n{note}"),
        format!("old 1\n\n{}", note.trim_end()),
        too_many,
    ] {
        let refusal = AddCheckpoint::parse(bad.as_bytes());
        assert!(matches!(refusal, Err(Refusal::Malformed(_))), "{bad:?}: {refusal:?}");
        assert_eq!(refusal.map_err(|r| r.status()), Err(400));
    }
    assert!(AddCheckpoint::parse(&[b'o', b'l', b'd', b' ', 0xff]).is_err());
}

#[test]
fn the_witness_decides_as_the_protocol_says() {
    let tree = tree(20);
    let at = |size| Witnessed {
        size,
        root: tree.root_at(size).unwrap_or_else(|e| unreachable!("{e}")),
    };
    // First contact: old 0, no proof.
    assert_eq!(check_update(&request(&tree, 0, 7), &checkpoint(&tree, 7), None), Ok(()));
    // A proof from 0 is refused.
    let mut with_proof = request(&tree, 0, 7);
    with_proof.proof.push([0; 32]);
    assert_eq!(
        check_update(&with_proof, &checkpoint(&tree, 7), None),
        Err(Refusal::BadProof)
    );
    // Growth with a good proof, for every earlier size.
    for old in 1..20 {
        assert_eq!(
            check_update(&request(&tree, old, 20), &checkpoint(&tree, 20), Some(&at(old))),
            Ok(()),
            "{old} -> 20"
        );
    }
    // The same checkpoint again is cosigned again.
    assert_eq!(
        check_update(&request(&tree, 7, 7), &checkpoint(&tree, 7), Some(&at(7))),
        Ok(())
    );
    // The client's old size is not what the witness cosigned: 409 with the witness's size.
    assert_eq!(
        check_update(&request(&tree, 0, 9), &checkpoint(&tree, 9), Some(&at(7))),
        Err(Refusal::Conflict { latest: 7 })
    );
    assert_eq!(
        check_update(&request(&tree, 5, 9), &checkpoint(&tree, 9), None),
        Err(Refusal::Conflict { latest: 0 })
    );
    // A rollback: the checkpoint is below the old size.
    assert_eq!(
        check_update(&request(&tree, 9, 9), &checkpoint(&tree, 5), Some(&at(9))).map_err(|r| r.status()),
        Err(400)
    );
    // A fork: another tree of the same size as the cosigned one.
    let fork = Checkpoint {
        root: [7; 32],
        ..checkpoint(&tree, 7)
    };
    assert_eq!(
        check_update(&request(&tree, 7, 7), &fork, Some(&at(7))),
        Err(Refusal::Conflict { latest: 7 })
    );
    // A fork that grew: its root is not reached from the cosigned one.
    let grown_fork = Checkpoint {
        root: [7; 32],
        ..checkpoint(&tree, 12)
    };
    let refusal = check_update(&request(&tree, 7, 12), &grown_fork, Some(&at(7)));
    assert_eq!(refusal, Err(Refusal::BadProof));
    assert_eq!(refusal.map_err(|r| r.status()), Err(422));
    // A proof for other sizes, a truncated proof, a proof with a changed hash.
    let mut wrong = request(&tree, 6, 12);
    wrong.old_size = 7;
    assert_eq!(
        check_update(&wrong, &checkpoint(&tree, 12), Some(&at(7))),
        Err(Refusal::BadProof)
    );
    let mut short = request(&tree, 7, 12);
    short.proof.pop();
    assert_eq!(
        check_update(&short, &checkpoint(&tree, 12), Some(&at(7))),
        Err(Refusal::BadProof)
    );
    let mut changed = request(&tree, 7, 12);
    changed.proof[0][0] ^= 1;
    assert_eq!(
        check_update(&changed, &checkpoint(&tree, 12), Some(&at(7))),
        Err(Refusal::BadProof)
    );
    assert_eq!(Refusal::Forbidden.status(), 403);
    assert_eq!(Refusal::UnknownOrigin.status(), 404);
    assert_eq!(Refusal::Conflict { latest: 1 }.status(), 409);
}

#[test]
fn answer_bodies_parse() {
    assert_eq!(encode_size(42), "42\n");
    assert_eq!(parse_size("42\n"), Some(42));
    assert_eq!(parse_size("0\n"), Some(0));
    for bad in ["42", "042\n", "-1\n", "\n", "4 2\n", "42\n\n"] {
        assert_eq!(parse_size(bad), None, "{bad:?}");
    }
    let spec = "\u{2014} witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n\u{2014} witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n";
    assert_eq!(parse_cosignature_lines(spec).map(|l| l.len()), Some(2));
    for bad in ["", "\n", "\u{2014} w AAAA", "- w AAAAAAAA\n", "\u{2014} w AAAAAAAA\n\n"] {
        assert_eq!(parse_cosignature_lines(bad), None, "{bad:?}");
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = AddCheckpoint::parse(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = parse_size(text);
            let _ = parse_cosignature_lines(text);
            let _ = crate::cosignature::parse_signature_line(text);
        }
    }

    #[test]
    fn structured_requests_round_trip(old in any::<u64>(), hashes in proptest::collection::vec(any::<[u8; 32]>(), 0..64),
                                      origin in "[a-z./]{1,20}") {
        let request = AddCheckpoint { old_size: old, proof: hashes, note: format!("{origin}\n1\nAA==\n\n\u{2014} o AAAA\n") };
        let parsed = AddCheckpoint::parse(request.encode().as_bytes());
        if request.proof.len() <= MAX_PROOF_LINES {
            prop_assert_eq!(parsed, Ok(request));
        } else {
            prop_assert!(parsed.is_err());
        }
    }
}
