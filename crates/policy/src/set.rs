//! A loaded policy set: every rule from every file, the role table, the index and the hash. Loading is
//! all or nothing: a set with any error is refused whole, with every error listed.

use std::collections::BTreeMap;

use crate::Rule;
use crate::canonical::{PolicyHash, policy_hash};
use crate::error::{LoadError, PolicyError};
use crate::format::parse_file;
use crate::index::Index;
use crate::roles::{Role, RoleTable};
use crate::rule::Origin;

/// One policy file's text and the name errors should call it by.
#[derive(Debug, Clone, Copy)]
pub struct PolicySource<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

/// An immutable, compiled policy set.
#[derive(Debug, Clone)]
pub struct PolicySet {
    /// INVARIANT: sorted by name, names unique; a rule's index id is its position here.
    pub(crate) rules: Vec<Rule>,
    pub(crate) roles: RoleTable,
    pub(crate) index: Index,
    pub(crate) hash: PolicyHash,
}

impl PolicySet {
    /// The empty set: it denies everything.
    pub fn empty() -> PolicySet {
        PolicySet::assemble(Vec::new(), RoleTable::default())
    }

    /// Parses and compiles every file; rules from all files form one set, whatever their order.
    pub fn load(sources: &[PolicySource<'_>]) -> Result<PolicySet, PolicyError> {
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        let mut roles: Vec<(Role, Origin)> = Vec::new();
        for source in sources {
            let (parsed, file_errors) = parse_file(source.file, source.text);
            rules.extend(parsed.rules);
            roles.extend(parsed.roles);
            errors.extend(file_errors);
        }
        errors.extend(duplicate_names(&rules));
        let role_origins: BTreeMap<String, Origin> = roles.iter().map(|(r, o)| (r.name.clone(), o.clone())).collect();
        let table = match RoleTable::new(roles.into_iter().map(|(role, _)| role).collect()) {
            Ok(table) => table,
            Err(messages) => {
                for message in messages {
                    let origin = role_origins
                        .iter()
                        .find(|(name, _)| message.contains(&format!("`{name}`")));
                    errors.push(LoadError {
                        file: origin.map(|(_, o)| o.file.clone()).unwrap_or_default(),
                        line: origin.and_then(|(_, o)| o.line),
                        rule: None,
                        message,
                    });
                }
                RoleTable::default()
            }
        };
        if !errors.is_empty() {
            return Err(PolicyError { errors });
        }
        Ok(PolicySet::assemble(rules, table))
    }

    /// Convenience for one file.
    pub fn from_yaml(file: &str, text: &str) -> Result<PolicySet, PolicyError> {
        PolicySet::load(&[PolicySource { file, text }])
    }

    fn assemble(mut rules: Vec<Rule>, roles: RoleTable) -> PolicySet {
        rules.sort_by(|a, b| a.name.cmp(&b.name));
        let index = Index::build(&rules);
        let hash = policy_hash(&rules, &roles);
        PolicySet {
            rules,
            roles,
            index,
            hash,
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn roles(&self) -> &RoleTable {
        &self.roles
    }

    /// SHA-256 of the set's canonical form.
    pub fn hash(&self) -> &PolicyHash {
        &self.hash
    }
}

fn duplicate_names(rules: &[Rule]) -> Vec<LoadError> {
    let mut first: BTreeMap<&str, &Origin> = BTreeMap::new();
    let mut errors = Vec::new();
    for rule in rules {
        if let Some(earlier) = first.insert(&rule.name, &rule.origin) {
            errors.push(LoadError {
                file: rule.origin.file.clone(),
                line: rule.origin.line,
                rule: Some(rule.name.clone()),
                message: format!(
                    "the name is already used at {}:{}; rule names must be unique across the set",
                    earlier.file,
                    earlier.line.unwrap_or(0)
                ),
            });
        }
    }
    errors
}
