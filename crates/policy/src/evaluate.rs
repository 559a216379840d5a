//! Evaluation: one request against one policy set, by the fixed semantics.
//!
//! 1. A principal that is not active is denied before any rule is read.
//! 2. The index offers the rules that can apply; each is checked (action, resource, capabilities,
//!    condition). A deny rule whose condition lacks an attribute or fails to evaluate matches (fail
//!    closed); an allow rule in that state does not.
//! 3. Among matching rules the highest priority decides; at equal priority deny wins; then the name
//!    decides which rule is reported, so the result never depends on file order.
//! 4. With no matching rule, an unexpired grant for exactly this agent, action and resource allows;
//!    otherwise default deny.
//! 5. An allow stands only if a passport-carrying principal's scopes cover the action.

use serde_json::Map;

use crate::condition::Truth;
use crate::decision::{Basis, Decision, Outcome, TraceStep};
use crate::path::Facts;
use crate::pattern::glob_matches;
use crate::{Effect, Grant, PolicySet, PrincipalStatus, Request, Rule};

impl PolicySet {
    /// Decides `request`. Never fails: every problem ends in a deny that says why.
    pub fn evaluate(&self, request: &Request, grants: &[Grant]) -> Decision {
        self.decide(request, grants, false)
    }

    /// As [`PolicySet::evaluate`], with the trace of every rule considered.
    pub fn explain(&self, request: &Request, grants: &[Grant]) -> Decision {
        self.decide(request, grants, true)
    }

    fn decide(&self, request: &Request, grants: &[Grant], explain: bool) -> Decision {
        let mut decision = Decision {
            decision: Effect::Deny,
            basis: Basis::NoMatch,
            deciding_rule: None,
            matching_rules: Vec::new(),
            missing_attributes: Vec::new(),
            errors: Vec::new(),
            reasons: Vec::new(),
            obligations: Map::new(),
            policy_set_hash: self.hash.clone(),
            trace: Vec::new(),
        };
        let status = request.principal.status;
        if status != PrincipalStatus::Active {
            decision.basis = Basis::Inactive { status };
            decision.reasons.push(format!(
                "agent `{}` is {}; no rule was read",
                request.principal.name,
                status.as_str()
            ));
            return decision;
        }
        let roles = self.roles.expand(&request.principal.roles);
        let facts = Facts { request, roles: &roles };
        let mut matched: Vec<&Rule> = Vec::new();
        for id in self.index.candidates(request) {
            let Some(rule) = usize::try_from(id).ok().and_then(|i| self.rules.get(i)) else {
                decision
                    .errors
                    .push(format!("index names rule {id}, which does not exist"));
                decision.reasons.push("internal index error; denying".to_owned());
                return decision;
            };
            let outcome = judge(rule, &facts);
            match &outcome {
                Outcome::MatchedOnMissing(attribute) => decision.missing_attributes.push(attribute.clone()),
                Outcome::MatchedOnError(error) | Outcome::ConditionError(error) => {
                    decision.errors.push(format!("rule `{}`: {error}", rule.name));
                }
                _ => {}
            }
            if outcome.matched() {
                matched.push(rule);
            }
            if explain {
                decision.trace.push(TraceStep {
                    rule: rule.name.clone(),
                    effect: rule.effect,
                    priority: rule.priority,
                    outcome,
                });
            }
        }
        matched.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then_with(|| (a.effect == Effect::Allow).cmp(&(b.effect == Effect::Allow)))
                .then_with(|| a.name.cmp(&b.name))
        });
        decision.matching_rules = matched.iter().map(|r| r.name.clone()).collect();
        match matched.first() {
            Some(rule) => {
                decision.decision = rule.effect;
                decision.basis = Basis::Rule;
                decision.deciding_rule = Some(rule.name.clone());
                decision.reasons.push(rule_reason(rule, &decision));
                merge_obligations(&mut decision, &matched, rule.effect);
            }
            None => match grants.iter().find(|g| {
                g.covers(
                    &request.principal.agent_id,
                    &request.action,
                    &request.resource,
                    request.now,
                )
            }) {
                Some(grant) => {
                    decision.decision = Effect::Allow;
                    decision.basis = Basis::Grant {
                        grant_id: grant.id.clone(),
                    };
                    decision.reasons.push(format!(
                        "grant `{}` allows `{}` on `{}` until {}",
                        grant.id, grant.action, grant.resource, grant.expires_at
                    ));
                }
                None => decision.reasons.push(format!(
                    "no rule allows `{}` on `{}`: denied by default",
                    request.action, request.resource
                )),
            },
        }
        if decision.decision == Effect::Allow
            && let Some(scopes) = &request.principal.scopes
            && !scopes.iter().any(|scope| glob_matches(scope, &request.action))
        {
            decision.decision = Effect::Deny;
            decision.basis = Basis::OutsideScopes;
            decision.obligations = Map::new();
            decision.reasons.push(format!(
                "action `{}` is outside the passport's scopes [{}]",
                request.action,
                scopes.join(", ")
            ));
        }
        decision
    }
}

/// What one candidate rule makes of the request.
pub(crate) fn judge(rule: &Rule, facts: &Facts<'_>) -> Outcome {
    let (action_ok, resource_ok) = rule.applies_to(&facts.request.action, &facts.request.resource);
    if !action_ok {
        return Outcome::ActionDiffers;
    }
    if !resource_ok {
        return Outcome::ResourceDiffers;
    }
    let held = &facts.request.principal.capabilities;
    if let Some(missing) = rule.require_capabilities.iter().find(|c| !held.contains(c)) {
        return Outcome::MissingCapability(missing.clone());
    }
    let truth = rule.condition.as_ref().map_or(Truth::True, |c| c.evaluate(facts));
    match (rule.effect, truth) {
        (_, Truth::True) => Outcome::Matched,
        (_, Truth::False) => Outcome::ConditionFalse,
        (Effect::Deny, Truth::Missing(attribute)) => Outcome::MatchedOnMissing(attribute),
        (Effect::Deny, Truth::Error(error)) => Outcome::MatchedOnError(error),
        (Effect::Allow, Truth::Missing(attribute)) => Outcome::ConditionMissing(attribute),
        (Effect::Allow, Truth::Error(error)) => Outcome::ConditionError(error),
    }
}

fn rule_reason(rule: &Rule, decision: &Decision) -> String {
    let mut reason = format!(
        "rule `{}` ({}, priority {}) decided",
        rule.name, rule.effect, rule.priority
    );
    if rule.effect == Effect::Deny && !decision.missing_attributes.is_empty() {
        reason.push_str(&format!(
            "; attributes the deny rules needed were missing: {}",
            decision.missing_attributes.join(", ")
        ));
    }
    if let Some(description) = &rule.description {
        reason.push_str(&format!(" — {description}"));
    }
    reason
}

/// Obligations of every matching rule with the decided effect, the higher-precedence rule's value
/// winning where two set the same key.
fn merge_obligations(decision: &mut Decision, matched: &[&Rule], effect: Effect) {
    for rule in matched.iter().filter(|r| r.effect == effect) {
        for (key, value) in &rule.obligations {
            decision.obligations.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
}
