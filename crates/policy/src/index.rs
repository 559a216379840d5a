//! The compiled index: which rules can possibly apply to an action and a resource, found without
//! looking at the others. Each rule sits in one bucket per action pattern (exact name, literal prefix
//! before a wildcard, or "any") and likewise per resource pattern; a lookup unions the buckets the
//! action can fall in, does the same for the resource, and intersects the two.
//!
//! INVARIANT: the candidates are a superset of the rules whose patterns match; the evaluator still
//! checks every pattern, so the index can only save work, never change a decision.

use std::collections::{BTreeSet, HashMap};

use crate::{Pattern, Rule};

#[derive(Debug, Default, Clone)]
pub(crate) struct Index {
    actions: Buckets,
    resources: Buckets,
}

#[derive(Debug, Default, Clone)]
struct Buckets {
    exact: HashMap<String, Vec<u32>>,
    prefix: HashMap<String, Vec<u32>>,
    /// Lengths (in bytes) of the prefixes in `prefix`, so a lookup tries only those.
    prefix_lengths: BTreeSet<usize>,
    any: Vec<u32>,
}

impl Buckets {
    fn insert(&mut self, id: u32, pattern: &Pattern) {
        if pattern.is_exact() {
            push_unique(self.exact.entry(pattern.as_str().to_owned()).or_default(), id);
            return;
        }
        let prefix = pattern.literal_prefix();
        if pattern.is_any() || prefix.is_empty() {
            push_unique(&mut self.any, id);
        } else {
            self.prefix_lengths.insert(prefix.len());
            push_unique(self.prefix.entry(prefix.to_owned()).or_default(), id);
        }
    }

    /// Sorted, deduplicated ids of rules with a pattern that may match `value`.
    fn lookup(&self, value: &str) -> Vec<u32> {
        let mut out = self.any.clone();
        if let Some(ids) = self.exact.get(value) {
            out.extend_from_slice(ids);
        }
        for &len in &self.prefix_lengths {
            if len > value.len() {
                break;
            }
            if let Some(ids) = value.get(..len).and_then(|p| self.prefix.get(p)) {
                out.extend_from_slice(ids);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn push_unique(ids: &mut Vec<u32>, id: u32) {
    if ids.last() != Some(&id) {
        ids.push(id);
    }
}

impl Index {
    /// `rules[i]` gets id `i`.
    pub(crate) fn build(rules: &[Rule]) -> Index {
        let mut index = Index::default();
        for (id, rule) in rules.iter().enumerate() {
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            for pattern in &rule.actions {
                index.actions.insert(id, pattern);
            }
            for pattern in &rule.resources {
                index.resources.insert(id, pattern);
            }
        }
        index
    }

    /// Ids (ascending) of the rules that may apply to `action` on `resource`.
    pub(crate) fn candidates(&self, action: &str, resource: &str) -> Vec<u32> {
        let by_action = self.actions.lookup(action);
        if by_action.is_empty() {
            return by_action;
        }
        let by_resource = self.resources.lookup(resource);
        intersect(&by_action, &by_resource)
    }
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}
