//! Warden's own format: `rules: [{name, effect, priority, actions, resources, conditions, obligations,
//! require_capabilities}]`. See docs/policy.md for the full reference.

use serde_saphyr::Spanned;

use super::raw::{RawCondition, RawRule, RawTime};
use super::{Parsed, Sink, line_of, patterns};
use crate::path::Path;
use crate::rule::Format;
use crate::time_window::{TimeOfDay, TimeWindow};
use crate::{Condition, Effect, Pattern, Rule, Test};

/// Deepest condition tree accepted, so a hostile file cannot exhaust the stack when evaluated.
const MAX_CONDITION_DEPTH: usize = 32;

pub(super) fn translate(rules: Vec<Spanned<RawRule>>, sink: &mut Sink<'_>, parsed: &mut Parsed) {
    for spanned in rules {
        let line = line_of(&spanned);
        let raw = spanned.value;
        let name = raw.name.clone();
        if name.is_empty() {
            sink.error(Some(line), None, "a rule needs a name");
            continue;
        }
        let actions = patterns(&raw.actions.into_vec(), sink, line, &name, "actions");
        let resources = match raw.resources {
            Some(resources) => patterns(&resources.into_vec(), sink, line, &name, "resources"),
            None => vec![Pattern::any()],
        };
        if raw.effect == Effect::Deny && !raw.require_capabilities.is_empty() {
            sink.error(
                Some(line),
                Some(&name),
                "`require_capabilities` narrows allow rules only; a deny rule tests `principal.capabilities` \
                 in its conditions",
            );
        }
        let condition = match raw.conditions.map(|c| condition(c, 0)).transpose() {
            Ok(condition) => condition,
            Err(message) => {
                sink.error(Some(line), Some(&name), message);
                None
            }
        };
        parsed.rules.push(Rule {
            name,
            description: raw.description,
            origin: sink.origin(line, Format::Warden),
            effect: raw.effect,
            priority: raw.priority,
            actions,
            resources,
            require_capabilities: raw.require_capabilities,
            condition,
            obligations: raw.obligations,
        });
    }
}

fn condition(raw: RawCondition, depth: usize) -> Result<Condition, String> {
    if depth > MAX_CONDITION_DEPTH {
        return Err(format!("conditions nest deeper than {MAX_CONDITION_DEPTH} levels"));
    }
    let shapes = usize::from(raw.all.is_some())
        + usize::from(raw.any.is_some())
        + usize::from(raw.not.is_some())
        + usize::from(raw.path.is_some() || raw.op.is_some() || raw.value.is_some())
        + usize::from(raw.time.is_some());
    if shapes != 1 {
        return Err("each condition is exactly one of `all`, `any`, `not`, `time` or `{path, op, value}`".to_owned());
    }
    let list = |items: Vec<RawCondition>, name: &str| -> Result<Vec<Condition>, String> {
        if items.is_empty() {
            return Err(format!("`{name}` needs at least one condition"));
        }
        items.into_iter().map(|c| condition(c, depth + 1)).collect()
    };
    if let Some(items) = raw.all {
        return Ok(Condition::All(list(items, "all")?));
    }
    if let Some(items) = raw.any {
        return Ok(Condition::Any(list(items, "any")?));
    }
    if let Some(inner) = raw.not {
        return Ok(Condition::Not(Box::new(condition(*inner, depth + 1)?)));
    }
    if let Some(time) = raw.time {
        return time_window(time).map(Condition::Time);
    }
    let (Some(path), Some(op)) = (raw.path, raw.op) else {
        return Err("a test needs `path` and `op`".to_owned());
    };
    let value = match (op.as_str(), raw.value) {
        (_, Some(value)) => value,
        ("exists", None) => serde_json::Value::Bool(true),
        (_, None) => return Err(format!("`{path}` `{op}` needs a `value`")),
    };
    let parsed_path = Path::parse(&path)?;
    let test = Test::compile(&op, value).map_err(|message| format!("`{path}`: {message}"))?;
    Ok(Condition::Test {
        path: parsed_path,
        test,
    })
}

fn time_window(raw: RawTime) -> Result<TimeWindow, String> {
    let hours = match (raw.start, raw.end) {
        (Some(start), Some(end)) => Some((TimeOfDay::parse(&start)?, TimeOfDay::parse(&end)?)),
        (None, None) => None,
        _ => return Err("a time window needs both `start` and `end`, or neither".to_owned()),
    };
    TimeWindow::new(hours, raw.days.as_deref(), raw.timezone.as_deref())
}
