//! The 371OS policy (seed 000): `policies: [{name, description, conditions: {agent_role, time_of_day,
//! day_of_week}, actions, enforcement}]`. Each policy allows its actions on any resource to an agent
//! holding the role, inside the time window; `enforcement` becomes the decision's obligations
//! (`mfa_required`, `session_duration` in seconds, `audit_logging`), which the caller must carry out.

use serde_json::{Map, Value};
use serde_saphyr::Spanned;

use super::raw::{RawEnforcement, RawOsConditions, RawOsPolicy};
use super::{Parsed, Sink, line_of};
use crate::path::Path;
use crate::rule::Format;
use crate::time_window::{TimeOfDay, TimeWindow};
use crate::{Condition, Effect, Pattern, Rule, Test};

pub(super) fn translate(policies: Vec<Spanned<RawOsPolicy>>, sink: &mut Sink<'_>, parsed: &mut Parsed) {
    for spanned in policies {
        let line = line_of(&spanned);
        let raw = spanned.value;
        let condition = raw
            .conditions
            .map(conditions)
            .transpose()
            .unwrap_or_else(|message| {
                sink.error(Some(line), Some(&raw.name), message);
                None
            })
            .flatten();
        // Seed actions are literal names, so they are exact patterns.
        if raw.actions.is_empty() {
            sink.error(Some(line), Some(&raw.name), "`actions` cannot be empty");
        }
        parsed.rules.push(Rule {
            name: raw.name,
            description: raw.description,
            origin: sink.origin(line, Format::Os371),
            effect: raw.effect.unwrap_or(Effect::Allow),
            priority: raw.priority,
            actions: raw.actions.iter().map(|a| Pattern::exact(a)).collect(),
            resources: vec![Pattern::any()],
            require_capabilities: Vec::new(),
            condition,
            obligations: raw.enforcement.map(obligations).unwrap_or_default(),
        });
    }
}

fn conditions(raw: RawOsConditions) -> Result<Option<Condition>, String> {
    let mut all = Vec::new();
    if let Some(roles) = raw.agent_role {
        let roles = roles.into_vec();
        let any = roles
            .into_iter()
            .map(|role| Condition::Test {
                path: Path::PrincipalRoles,
                test: Test::Contains(Value::String(role)),
            })
            .collect();
        all.push(Condition::Any(any));
    }
    let hours = raw
        .time_of_day
        .map(|t| Ok::<_, String>((TimeOfDay::parse(&t.start)?, TimeOfDay::parse(&t.end)?)))
        .transpose()?;
    if hours.is_some() || raw.day_of_week.is_some() {
        let window = TimeWindow::new(hours, raw.day_of_week.as_deref(), raw.timezone.as_deref())?;
        all.push(Condition::Time(window));
    } else if raw.timezone.is_some() {
        return Err("`timezone` needs `time_of_day` or `day_of_week`".to_owned());
    }
    Ok((!all.is_empty()).then_some(Condition::All(all)))
}

fn obligations(raw: RawEnforcement) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(mfa) = raw.mfa_required {
        out.insert("mfa_required".to_owned(), Value::Bool(mfa));
    }
    if let Some(duration) = raw.session_duration {
        out.insert("session_duration".to_owned(), Value::from(duration.get()));
    }
    if let Some(audit) = raw.audit_logging {
        out.insert("audit_logging".to_owned(), Value::Bool(audit));
    }
    out
}
