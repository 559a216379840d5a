//! The RFC 6962 reference tree: roots of every prefix of its eight leaves, from
//! `shared/corpora/merkle/rfc6962_reference_roots.json` (transparency-dev/merkle `testonly/constants.go`,
//! Apache-2.0), through the free function, a built tree and a grown tree; and its published proofs
//! through the verifiers. The proofs were checked against two published copies: transparency-dev/merkle
//! `proof/verify_test.go` (inclusion 0/8, 5/8, 2/3, 1/5) and Certificate Transparency's Python
//! `merkle_test.py` (consistency 1→8, 6→8, 2→5).

use serde_json::Value;
use warden_ledger::{MerkleTree, leaf_hash, root_hash, verify_consistency, verify_inclusion};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpora/merkle/rfc6962_reference_roots.json"
);

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or_else(|_| unreachable!("hex: {text}")))
        .collect()
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    let Some(items) = value[key].as_array() else {
        unreachable!("`{key}` is a list")
    };
    items
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn reference_roots() {
    let Ok(text) = std::fs::read_to_string(CORPUS) else {
        unreachable!("{CORPUS} is readable")
    };
    let Ok(corpus) = serde_json::from_str::<Value>(&text) else {
        unreachable!("{CORPUS} is JSON")
    };
    let leaves: Vec<Vec<u8>> = strings(&corpus, "leaf_inputs_hex").iter().map(|h| unhex(h)).collect();
    let roots = strings(&corpus, "root_hash_by_tree_size_hex");
    assert_eq!((leaves.len(), roots.len()), (8, 9));
    let hashes: Vec<_> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let built = MerkleTree::from_leaf_hashes(hashes.clone());
    let mut grown = MerkleTree::new();
    for (size, root) in roots.iter().enumerate() {
        let expected = unhex(root);
        assert_eq!(root_hash(&hashes[..size]).to_vec(), expected, "size {size}");
        assert_eq!(
            built.root_at(size as u64).map(|r| r.to_vec()),
            Ok(expected.clone()),
            "size {size}"
        );
        assert_eq!(grown.root().to_vec(), expected, "grown to size {size}");
        if let Some(leaf) = leaves.get(size) {
            grown.append(leaf);
        }
    }
}

/// Inclusion and consistency proofs over the reference tree, as published with it.
#[test]
fn reference_proofs() {
    let Ok(text) = std::fs::read_to_string(CORPUS) else {
        unreachable!("{CORPUS} is readable")
    };
    let Ok(corpus) = serde_json::from_str::<Value>(&text) else {
        unreachable!("{CORPUS} is JSON")
    };
    let leaves: Vec<Vec<u8>> = strings(&corpus, "leaf_inputs_hex").iter().map(|h| unhex(h)).collect();
    let tree = MerkleTree::from_leaf_hashes(leaves.iter().map(|l| leaf_hash(l)).collect());
    let h = |s: &str| -> [u8; 32] { unhex(s).try_into().unwrap_or_else(|_| unreachable!("32 bytes")) };
    // (index, size, path), as published in transparency-dev/merkle `proof/verify_test.go`.
    let inclusion: [(u64, u64, Vec<[u8; 32]>); 3] = [
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ];
    for (index, size, path) in inclusion {
        assert_eq!(
            tree.inclusion_proof(index, size).as_ref(),
            Ok(&path),
            "inclusion {index} in {size}"
        );
        let (Ok(root), Some(leaf)) = (tree.root_at(size), tree.leaves().get(index as usize)) else {
            unreachable!("within the tree")
        };
        assert_eq!(verify_inclusion(leaf, index, size, &path, &root), Ok(()));
    }
    // (old size, new size, proof), as published in Certificate Transparency's `merkle_test.py`.
    let consistency: [(u64, u64, Vec<[u8; 32]>); 3] = [
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ];
    for (old, new, proof) in consistency {
        assert_eq!(
            tree.consistency_proof(old, new).as_ref(),
            Ok(&proof),
            "consistency {old} → {new}"
        );
        let (Ok(old_root), Ok(new_root)) = (tree.root_at(old), tree.root_at(new)) else {
            unreachable!("within")
        };
        assert_eq!(verify_consistency(old, new, &old_root, &new_root, &proof), Ok(()));
    }
}
