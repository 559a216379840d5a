//! Role tables: named sets of permissions with inheritance, checked for cycles at load.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// A role as written: its own permissions and the roles it inherits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub permissions: Vec<String>,
    pub inherits: Vec<String>,
}

/// Every role of a policy set, with each role's inheritance closure computed once.
#[derive(Debug, Clone, Default)]
pub struct RoleTable {
    roles: BTreeMap<String, Role>,
    /// role → itself and every role it inherits, directly or not.
    closure: BTreeMap<String, BTreeSet<String>>,
}

impl RoleTable {
    /// Builds the table, refusing unknown parents and cycles (each error names the roles involved).
    pub fn new(roles: Vec<Role>) -> Result<RoleTable, Vec<String>> {
        let mut errors = Vec::new();
        let mut table = BTreeMap::new();
        for role in roles {
            if table.contains_key(&role.name) {
                errors.push(format!("role `{}` is defined twice", role.name));
            } else {
                table.insert(role.name.clone(), role);
            }
        }
        for role in table.values() {
            for parent in &role.inherits {
                if !table.contains_key(parent) {
                    errors.push(format!(
                        "role `{}` inherits `{parent}`, which is not defined",
                        role.name
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut closure = BTreeMap::new();
        for name in table.keys() {
            let mut seen = BTreeSet::new();
            let mut chain = Vec::new();
            if let Err(cycle) = walk(&table, name, &mut chain, &mut seen) {
                let message = format!("role inheritance has a cycle: {}", cycle.join(" → "));
                if !errors.contains(&message) {
                    errors.push(message);
                }
            }
            closure.insert(name.clone(), seen);
        }
        if errors.is_empty() {
            Ok(RoleTable { roles: table, closure })
        } else {
            Err(errors)
        }
    }

    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    /// The principal's roles plus everything they inherit, sorted; roles the table does not know are
    /// kept as they are.
    pub fn expand(&self, held: &[String]) -> Vec<String> {
        let mut out = BTreeSet::new();
        for role in held {
            match self.closure.get(role) {
                Some(all) => out.extend(all.iter().cloned()),
                None => {
                    out.insert(role.clone());
                }
            }
        }
        out.into_iter().collect()
    }

    pub(crate) fn write_canonical(&self, out: &mut String) {
        for role in self.roles.values() {
            let mut permissions = role.permissions.clone();
            permissions.sort();
            let mut inherits = role.inherits.clone();
            inherits.sort();
            let _ = writeln!(
                out,
                "role {:?} permissions {:?} inherits {:?}",
                role.name, permissions, inherits
            );
        }
    }
}

/// Depth-first walk collecting `name`'s closure into `seen`; the error is the cycle found.
fn walk(
    table: &BTreeMap<String, Role>,
    name: &str,
    chain: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) -> Result<(), Vec<String>> {
    if let Some(at) = chain.iter().position(|n| n == name) {
        let mut cycle = chain[at..].to_vec();
        cycle.push(name.to_owned());
        return Err(cycle);
    }
    if !seen.insert(name.to_owned()) {
        return Ok(());
    }
    chain.push(name.to_owned());
    if let Some(role) = table.get(name) {
        for parent in &role.inherits {
            walk(table, parent, chain, seen)?;
        }
    }
    chain.pop();
    Ok(())
}
