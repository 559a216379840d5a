//! Role tables (seeds 001 and 002): `roles: [{name, permissions, inherits?}]`. A permission is an
//! action (`agent:view`, `task:execute`, or a pattern such as `agent:*`) the role may perform on any
//! resource. Each role with permissions becomes one allow rule named `role:<name>` at priority 0 that
//! matches a principal holding the role, directly or through inheritance.

use serde_json::{Map, Value};
use serde_saphyr::Spanned;

use super::raw::RawRole;
use super::{Parsed, Sink, line_of, patterns};
use crate::path::Path;
use crate::roles::Role;
use crate::rule::Format;
use crate::{Condition, Effect, Pattern, Rule, Test};

pub(super) fn translate(roles: Vec<Spanned<RawRole>>, sink: &mut Sink<'_>, parsed: &mut Parsed) {
    for spanned in roles {
        let line = line_of(&spanned);
        let raw = spanned.value;
        let rule_name = format!("role:{}", raw.name);
        if raw.name.is_empty() {
            sink.error(Some(line), None, "a role needs a name");
            continue;
        }
        if !raw.permissions.is_empty() {
            let actions = patterns(&raw.permissions, sink, line, &rule_name, "permissions");
            parsed.rules.push(Rule {
                name: rule_name,
                description: raw.description.clone(),
                origin: sink.origin(line, Format::RoleTable),
                effect: Effect::Allow,
                priority: 0,
                actions,
                resources: vec![Pattern::any()],
                require_capabilities: Vec::new(),
                condition: Some(Condition::Test {
                    path: Path::PrincipalRoles,
                    test: Test::Contains(Value::String(raw.name.clone())),
                }),
                obligations: Map::new(),
            });
        }
        parsed.roles.push((
            Role {
                name: raw.name,
                permissions: raw.permissions,
                inherits: raw.inherits,
            },
            sink.origin(line, Format::RoleTable),
        ));
    }
}
