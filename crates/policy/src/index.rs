//! The compiled index: which rules can possibly apply to a request, found without looking at the
//! others. Each rule sits in one bucket per action pattern (exact name, literal prefix before a
//! wildcard, or "any") and likewise per resource pattern; a rule whose condition pins the principal
//! (`principal.agent_id` or `principal.name` tested with `eq` or `in` on text, alone or as one member of
//! an `all`) also sits in a bucket per pinned value, every other rule in the "unpinned" bucket.
//!
//! A lookup takes the rules of the principal's buckets and of the action's buckets and keeps those in
//! both (starting from the smaller side); only when that still leaves many does it narrow further by the
//! resource, since judging a handful of rules costs less than the resource's prefix lookups.
//!
//! INVARIANT: the candidates are a superset of the rules that match; the evaluator still checks every
//! pattern and condition, so the index can only save work, never change a decision. A pinned rule can
//! only match when the pin holds: a text `eq`/`in` on the principal's id or name is never missing and
//! never an error (both are always present), so when it is false the whole `all` is false, for allow and
//! deny rules alike.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::{Condition, Path, Pattern, Request, Rule, Test};

/// Candidates at or below this count are judged directly instead of narrowed by the resource.
const NARROW_ENOUGH: usize = 8;

#[derive(Debug, Default, Clone)]
pub(crate) struct Index {
    actions: Buckets,
    resources: Buckets,
    principals: Principals,
}

#[derive(Debug, Default, Clone)]
struct Buckets {
    exact: HashMap<String, Vec<u32>>,
    prefix: HashMap<String, Vec<u32>>,
    /// Lengths (in bytes) of the prefixes in `prefix`, so a lookup tries only those.
    prefix_lengths: BTreeSet<usize>,
    any: Vec<u32>,
}

/// Rules by the principal their condition pins.
#[derive(Debug, Default, Clone)]
struct Principals {
    by_id: HashMap<String, Vec<u32>>,
    by_name: HashMap<String, Vec<u32>>,
    unpinned: Vec<u32>,
}

/// A union of ascending id lists, kept as the lists.
#[derive(Debug, Default)]
struct Union<'a> {
    lists: Vec<&'a [u32]>,
}

impl<'a> Union<'a> {
    fn add(&mut self, ids: &'a [u32]) {
        if !ids.is_empty() {
            self.lists.push(ids);
        }
    }

    /// At least the number of distinct ids.
    fn bound(&self) -> usize {
        self.lists.iter().map(|ids| ids.len()).sum()
    }

    fn contains(&self, id: u32) -> bool {
        self.lists.iter().any(|ids| ids.binary_search(&id).is_ok())
    }

    /// The ids, ascending, each once.
    fn ids(&self) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::with_capacity(self.bound());
        for ids in &self.lists {
            out.extend_from_slice(ids);
        }
        if self.lists.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
        out
    }
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

    /// The rules with a pattern that may match `value`.
    fn lookup(&self, value: &str) -> Union<'_> {
        let mut union = Union::default();
        union.add(&self.any);
        if let Some(ids) = self.exact.get(value) {
            union.add(ids);
        }
        for &len in &self.prefix_lengths {
            if len > value.len() {
                break;
            }
            if let Some(ids) = value.get(..len).and_then(|p| self.prefix.get(p)) {
                union.add(ids);
            }
        }
        union
    }
}

impl Principals {
    fn insert(&mut self, id: u32, condition: Option<&Condition>) {
        match condition.and_then(pin) {
            Some((Pin::Id, values)) => {
                for value in values {
                    push_unique(self.by_id.entry(value.to_owned()).or_default(), id);
                }
            }
            Some((Pin::Name, values)) => {
                for value in values {
                    push_unique(self.by_name.entry(value.to_owned()).or_default(), id);
                }
            }
            None => push_unique(&mut self.unpinned, id),
        }
    }

    /// The rules that may apply to a principal with this id and name.
    fn lookup(&self, agent_id: &str, name: &str) -> Union<'_> {
        let mut union = Union::default();
        union.add(&self.unpinned);
        if let Some(ids) = self.by_id.get(agent_id) {
            union.add(ids);
        }
        if let Some(ids) = self.by_name.get(name) {
            union.add(ids);
        }
        union
    }
}

#[derive(Debug, Clone, Copy)]
enum Pin {
    Id,
    Name,
}

/// The principal ids or names a condition requires, if it requires one of a few: a text `eq` or an
/// `in` of texts on `principal.agent_id` or `principal.name`, alone or anywhere in a tree of `all`s.
fn pin(condition: &Condition) -> Option<(Pin, Vec<&str>)> {
    match condition {
        Condition::All(items) => items.iter().find_map(pin),
        Condition::Test { path, test } => {
            let kind = match path {
                Path::PrincipalId => Pin::Id,
                Path::PrincipalName => Pin::Name,
                _ => return None,
            };
            let values = match test {
                Test::Eq(Value::String(value)) => vec![value.as_str()],
                Test::In(items) if !items.is_empty() => items.iter().map(Value::as_str).collect::<Option<Vec<_>>>()?,
                _ => return None,
            };
            Some((kind, values))
        }
        Condition::Any(_) | Condition::Not(_) | Condition::Time(_) => None,
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
            index.principals.insert(id, rule.condition.as_ref());
        }
        index
    }

    /// Ids (ascending) of the rules that may apply to `request`.
    pub(crate) fn candidates(&self, request: &Request) -> Vec<u32> {
        let principal = &request.principal;
        let by_principal = self.principals.lookup(&principal.agent_id, &principal.name);
        let by_action = self.actions.lookup(&request.action);
        let (smaller, larger) = if by_principal.bound() <= by_action.bound() {
            (by_principal, by_action)
        } else {
            (by_action, by_principal)
        };
        let mut out = smaller.ids();
        out.retain(|&id| larger.contains(id));
        if out.len() > NARROW_ENOUGH {
            let by_resource = self.resources.lookup(&request.resource);
            out.retain(|&id| by_resource.contains(id));
        }
        out
    }
}

#[cfg(test)]
mod tests;
