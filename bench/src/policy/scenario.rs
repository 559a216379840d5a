//! The one description both engines are built from: a seeded generator of rules (per-agent rules plus a
//! handful of global denies) and of requests. Nothing here knows either engine's syntax; `render` turns
//! each rule and request into Warden's and Cedar's forms.
//!
//! Every rule has priority 0 in Warden, so "deny wins ties" is exactly Cedar's "forbid overrides
//! permit", and both deny by default.

/// The actions agents ask for.
pub const ACTIONS: &[&str] = &[
    "secret:read",
    "secret:write",
    "secret:delete",
    "db:query",
    "db:write",
    "file:read",
    "file:write",
    "tool:invoke",
    "mcp:call",
    "agent:delete",
];

/// Resource families; each has `TEAMS` teams of `ITEMS` items: `secret:prod/team-2/item-5`.
pub const FAMILIES: &[&str] = &[
    "secret:prod",
    "secret:staging",
    "db:prod",
    "db:analytics",
    "file:reports",
    "file:tmp",
    "mcp:github",
    "tool:search",
];
const TEAMS: usize = 5;
const ITEMS: usize = 8;

pub const AGENTS: usize = 100;

/// Networks a condition may name and the ones requests come from.
const OFFICE: &str = "10.0.0.0/8";
const LAB: &str = "192.168.0.0/16";

/// Deterministic SplitMix64, so every run (and both engines) sees the same set and requests.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick(&mut self, items: &[&'static str]) -> &'static str {
        items.get(self.below(items.len())).copied().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Which resources a rule covers.
#[derive(Debug, Clone)]
pub enum Resources {
    Any,
    Exact(String),
    /// Everything under this prefix (which ends in `/`), at any depth.
    Under(String),
}

/// One test of the request, possibly negated.
#[derive(Debug, Clone, Copy)]
pub struct Cond {
    pub test: Test,
    pub negated: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum Test {
    RiskBelow(i64),
    RiskAbove(i64),
    IpIn(&'static str),
    /// UTC hours `[start, end)`, `start < end`.
    Hours(u8, u8),
}

impl Test {
    /// The context attribute the test reads, if it reads one the request may lack.
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            Test::RiskBelow(_) | Test::RiskAbove(_) => Some("risk_score"),
            Test::IpIn(_) => Some("ip"),
            Test::Hours(..) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub name: String,
    pub effect: Effect,
    /// `Some(i)`: the rule concerns agent `i` only.
    pub agent: Option<usize>,
    /// `None`: every action.
    pub action: Option<&'static str>,
    pub resources: Resources,
    pub condition: Option<Cond>,
}

#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub agent: usize,
    pub action: &'static str,
    pub resource: String,
    pub risk_score: Option<i64>,
    pub ip: Option<String>,
    /// Seconds after the scenario's base instant (within one week).
    pub offset: u32,
}

pub fn agent_id(i: usize) -> String {
    format!("agent-{i:03}")
}

/// The global deny rules every scenario carries.
fn global_denies() -> Vec<RuleSpec> {
    let deny = |name: &str, action, resources, condition| RuleSpec {
        name: name.to_owned(),
        effect: Effect::Deny,
        agent: None,
        action,
        resources,
        condition,
    };
    vec![
        deny(
            "global-deny-prod-secret-delete",
            Some("secret:delete"),
            Resources::Under("secret:prod/".into()),
            None,
        ),
        deny(
            "global-deny-high-risk",
            None,
            Resources::Any,
            Some(Cond {
                test: Test::RiskAbove(80),
                negated: false,
            }),
        ),
        deny(
            "global-deny-prod-secrets-off-network",
            None,
            Resources::Under("secret:prod/".into()),
            Some(Cond {
                test: Test::IpIn(OFFICE),
                negated: true,
            }),
        ),
        deny("global-deny-agent-delete", Some("agent:delete"), Resources::Any, None),
        deny(
            "global-deny-prod-db-writes-at-night",
            Some("db:write"),
            Resources::Under("db:prod/".into()),
            Some(Cond {
                test: Test::Hours(6, 22),
                negated: true,
            }),
        ),
    ]
}

fn random_resources(rng: &mut Rng) -> Resources {
    let family = rng.pick(FAMILIES);
    let team = rng.below(TEAMS);
    match rng.below(10) {
        0..4 => Resources::Exact(format!("{family}/team-{team}/item-{}", rng.below(ITEMS))),
        4..8 => Resources::Under(format!("{family}/team-{team}/")),
        _ => Resources::Under(format!("{family}/")),
    }
}

fn random_condition(rng: &mut Rng) -> Option<Cond> {
    let test = match rng.below(20) {
        0..10 => return None,
        10..14 => Test::RiskBelow(50),
        14..16 => Test::IpIn(OFFICE),
        16..17 => Test::IpIn(LAB),
        _ => Test::Hours(8, 18),
    };
    Some(Cond { test, negated: false })
}

/// `per_agent` rules spread evenly over the agents (one in ten a deny), then the global denies.
pub fn rules(per_agent: usize, rng: &mut Rng) -> Vec<RuleSpec> {
    let mut rules: Vec<RuleSpec> = (0..per_agent)
        .map(|i| RuleSpec {
            name: format!("agent-rule-{i:04}"),
            effect: if rng.percent(10) { Effect::Deny } else { Effect::Allow },
            agent: Some(i % AGENTS),
            action: Some(rng.pick(ACTIONS)),
            resources: random_resources(rng),
            condition: random_condition(rng),
        })
        .collect();
    rules.extend(global_denies());
    rules
}

/// A resource the pattern covers (or any resource, for `Any`).
fn resource_within(resources: &Resources, rng: &mut Rng) -> String {
    match resources {
        Resources::Exact(name) => name.clone(),
        Resources::Under(prefix) if prefix.matches('/').count() >= 2 => format!("{prefix}item-{}", rng.below(ITEMS)),
        Resources::Under(prefix) => format!("{prefix}team-{}/item-{}", rng.below(TEAMS), rng.below(ITEMS)),
        Resources::Any => random_resource(rng),
    }
}

fn random_resource(rng: &mut Rng) -> String {
    format!(
        "{}/team-{}/item-{}",
        rng.pick(FAMILIES),
        rng.below(TEAMS),
        rng.below(ITEMS)
    )
}

/// Requests: six in ten aimed at a random per-agent rule (its agent, action and a resource it covers),
/// the rest entirely random; contexts vary so conditions go both ways, and one in twenty lacks
/// `risk_score` or `ip`.
pub fn requests(rules: &[RuleSpec], count: usize, rng: &mut Rng) -> Vec<RequestSpec> {
    let per_agent: Vec<&RuleSpec> = rules.iter().filter(|r| r.agent.is_some()).collect();
    (0..count)
        .map(|_| {
            let aimed = per_agent.get(rng.below(per_agent.len())).filter(|_| rng.percent(60));
            let (agent, action, resource) = match aimed {
                Some(rule) => (
                    rule.agent.unwrap_or_default(),
                    rule.action.unwrap_or("secret:read"),
                    resource_within(&rule.resources, rng),
                ),
                None => (rng.below(AGENTS), rng.pick(ACTIONS), random_resource(rng)),
            };
            let risk_score = (!rng.percent(5)).then(|| rng.below(101) as i64);
            let ip = (!rng.percent(5)).then(|| match rng.below(20) {
                0..14 => format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254)),
                14..17 => format!("192.168.{}.{}", rng.below(256), 1 + rng.below(254)),
                _ => format!("203.0.113.{}", 1 + rng.below(254)),
            });
            RequestSpec {
                agent,
                action,
                resource,
                risk_score,
                ip,
                offset: rng.below(7 * 86_400) as u32,
            }
        })
        .collect()
}
