use std::path::Path;

use super::super::{Config, Overrides, parse};
use super::*;

fn resolve_with(text: &str, overrides: Overrides) -> Result<RateLimits, ConfigError> {
    Config::resolve(parse("test.yaml", text)?, overrides, Path::new("/data")).map(|c| c.rate_limits)
}

fn resolve(text: &str) -> Result<RateLimits, ConfigError> {
    resolve_with(text, Overrides::default())
}

fn error_of(text: &str) -> String {
    resolve(text).err().map(|e| e.to_string()).unwrap_or_default()
}

fn names(limits: &RateLimits) -> Vec<&str> {
    limits.rules.iter().map(|r| r.name.as_str()).collect()
}

/// The defaults: seed 002's DDoS thresholds per client IP over every route, in memory, fail closed.
fn assert_defaults(limits: &RateLimits) {
    assert!(matches!(limits.backend, Backend::Memory));
    assert_eq!(limits.on_backend_error, OnBackendError::Deny);
    assert!(limits.trusted_proxies.is_empty());
    assert_eq!(names(limits), ["ddos-per-second", "ddos-per-minute"]);
    let [second, minute] = limits.rules.as_slice() else {
        unreachable!()
    };
    assert_eq!(second.limit.to_string(), "1000/second (burst 1000)");
    assert_eq!(minute.limit.to_string(), "10000/minute (burst 10000)");
    for rule in [second, minute] {
        assert_eq!(rule.per, Per::Ip);
        assert_eq!(rule.scope, Scope::Routes(Vec::new()));
        assert_eq!(rule.block, Duration::ZERO);
    }
}

#[test]
fn absent_the_section_is_seed_002s_ddos_ceiling_per_ip() {
    let Ok(limits) = resolve("{}") else { unreachable!() };
    assert_defaults(&limits);
}

#[test]
fn the_generated_file_parses_to_the_default_rate_limits() {
    let limits = resolve(include_str!("../../init/warden.yaml"));
    let Ok(limits) = limits else {
        unreachable!("the shipped warden.yaml must parse: {limits:?}")
    };
    assert_defaults(&limits);
}

#[test]
fn the_documented_rules_parse_when_uncommented() {
    // Drop `rules: []`, uncomment `#rules:` and the `#  ` lines right under it, nothing else.
    let mut in_block = false;
    let mut lines = Vec::new();
    for line in include_str!("../../init/warden.yaml").lines() {
        if line == "  rules: []" {
            continue;
        }
        if line == "  #rules:" {
            in_block = true;
            lines.push("  rules:".to_owned());
            continue;
        }
        in_block = in_block && line.starts_with("  #  ");
        lines.push(if in_block {
            format!("    {}", &line["  #  ".len()..])
        } else {
            line.to_owned()
        });
    }
    let limits = resolve(&lines.join("\n"));
    let Ok(limits) = limits else {
        unreachable!("the documented rules must parse: {limits:?}")
    };
    assert_eq!(
        names(&limits),
        [
            "ddos-per-second",
            "ddos-per-minute",
            "logins-per-ip",
            "decisions-per-agent",
            "secret-reads-per-agent",
            "api-key-logins"
        ]
    );
    let logins = &limits.rules[2];
    assert_eq!(
        (logins.per, logins.limit.to_string()),
        (Per::Ip, "30/minute (burst 10)".to_owned())
    );
    let Scope::Routes(routes) = &logins.scope else {
        unreachable!()
    };
    assert!(routes[0].matches("POST", Some("/v1/auth/login"), "/v1/auth/login"));
    assert!(!routes[0].matches("GET", Some("/v1/auth/login"), "/v1/auth/login"));
    let reads = &limits.rules[4];
    assert_eq!(reads.per, Per::Agent);
    assert!(matches!(&reads.scope, Scope::Actions(a) if a[0].matches("secret:read") && !a[0].matches("secret:write")));
    let keys = &limits.rules[5];
    assert_eq!(
        (keys.scope.clone(), keys.block),
        (Scope::ApiKeyLogins, Duration::from_secs(900))
    );
}

#[test]
fn seed_002s_ddos_config_is_accepted_as_written() {
    let text = "rate_limits:\n  ddos_config:\n    threshold_requests_per_second: 1000\n    \
                threshold_requests_per_minute: 10000\n    challenge_mode: none\n    block_duration_seconds: 3600\n";
    let Ok(limits) = resolve(text) else { unreachable!() };
    assert_eq!(names(&limits), ["ddos-per-second", "ddos-per-minute"]);
    assert!(limits.rules.iter().all(|r| r.block == Duration::from_secs(3600)));
    // The seed's Cloudflare challenge cannot be honoured, and a setting that is not honoured is refused.
    let error = error_of(&text.replace("challenge_mode: none", "challenge_mode: javascript"));
    assert!(error.contains("rate_limits.ddos.challenge_mode"), "{error}");
    assert!(error.contains("javascript"), "{error}");
    // 0 turns a threshold off.
    let Ok(limits) = resolve("rate_limits:\n  ddos: {threshold_requests_per_second: 0}\n") else {
        unreachable!()
    };
    assert_eq!(names(&limits), ["ddos-per-minute"]);
}

#[test]
fn seed_002s_slowapi_limit_is_a_rate() {
    let text = "rate_limits:\n  rules:\n    - {per: ip, routes: [\"POST /api/execute\"], limit: 100/minute}\n";
    let Ok(limits) = resolve(text) else { unreachable!() };
    let rule = &limits.rules[2];
    assert_eq!(rule.name, "rule-1");
    assert_eq!(rule.limit.to_string(), "100/minute (burst 100)");
}

#[test]
fn redis_needs_a_url_and_the_environment_wins() {
    let error = error_of("rate_limits:\n  backend: redis\n");
    assert!(error.contains("rate_limits.redis_url"), "{error}");
    let text = "rate_limits:\n  backend: redis\n  redis_url: redis://:filepw@10.0.0.1:6379\n  \
                on_backend_error: local_and_alert\n";
    let overrides = Overrides {
        redis_url: Some(Secret::new("redis://:envpw@127.0.0.1:6379/2")),
        ..Overrides::default()
    };
    let Ok(limits) = resolve_with(text, overrides) else {
        unreachable!()
    };
    let Backend::Redis(redis) = &limits.backend else {
        unreachable!("backend: redis")
    };
    assert_eq!(redis.url.expose(), "redis://:envpw@127.0.0.1:6379/2");
    assert_eq!(redis.key_prefix, DEFAULT_KEY_PREFIX);
    assert_eq!(redis.timeout, Duration::from_millis(DEFAULT_REDIS_TIMEOUT_MS));
    assert_eq!(limits.on_backend_error, OnBackendError::LocalAndAlert);
    assert!(!format!("{limits:?}").contains("envpw"));
    let error = error_of("rate_limits:\n  backend: redis\n  redis_url: 'http://:hunter2@x'\n");
    assert!(
        error.contains("rate_limits.redis_url") && !error.contains("hunter2"),
        "{error}"
    );
}

#[test]
fn invalid_settings_name_the_field() {
    let rule = |body: &str| format!("rate_limits:\n  rules:\n    - {body}\n");
    let cases = [
        ("rate_limits:\n  backend: etcd\n".to_owned(), "rate_limits.backend"),
        (
            "rate_limits:\n  on_backend_error: shrug\n".to_owned(),
            "rate_limits.on_backend_error",
        ),
        (
            "rate_limits:\n  trusted_proxies: [10.0.0.0/33]\n".to_owned(),
            "rate_limits.trusted_proxies",
        ),
        (
            "rate_limits:\n  ddos: {threshold_requests_per_second: 99999999}\n".to_owned(),
            "threshold_requests_per_second",
        ),
        ("rate_limits:\n  ddos: {treshold: 1}\n".to_owned(), "treshold"),
        (rule("{per: agent, rate: 100/fortnight}"), "rate_limits.rules[0].rate"),
        (rule("{per: agent, rate: 0/minute}"), "rate_limits.rules[0].rate"),
        (
            rule("{per: agent, rate: 1/second, burst: 0}"),
            "rate_limits.rules[0].burst",
        ),
        (rule("{per: user, rate: 1/second}"), "rate_limits.rules[0].per"),
        (
            rule("{per: ip, rate: 1/second, actions: [secret:read]}"),
            "rate_limits.rules[0].per",
        ),
        (
            rule("{per: api_key, rate: 1/second, routes: ['/v1/authorize']}"),
            "rate_limits.rules[0].per",
        ),
        (
            rule("{per: agent, rate: 1/second, routes: ['/a'], actions: [b]}"),
            "rate_limits.rules[0].actions",
        ),
        (
            rule("{per: agent, rate: 1/second, actions: []}"),
            "rate_limits.rules[0].actions",
        ),
        (
            rule("{per: agent, rate: 1/second, routes: ['v1/authorize']}"),
            "rate_limits.rules[0].routes",
        ),
        (
            rule("{per: agent, rate: 1/second, routes: ['/v1/*/x']}"),
            "rate_limits.rules[0].routes",
        ),
        (
            rule("{per: agent, rate: 1/second, routes: ['post /v1/x']}"),
            "rate_limits.rules[0].routes",
        ),
        (
            rule("{per: agent, rate: 1/second, name: 'a b'}"),
            "rate_limits.rules[0].name",
        ),
        (
            rule("{per: agent, rate: 1/second, name: ddos-per-second}"),
            "used twice",
        ),
        (rule("{per: agent, rate: 1/second, rat: 2}"), "rat"),
    ];
    for (text, field) in cases {
        let error = error_of(&text);
        assert!(error.contains(field), "{text:?} gave {error:?}");
    }
}

#[test]
fn route_patterns_match_templates_paths_and_prefixes() {
    let Ok(every) = route("*") else { unreachable!() };
    assert!(every.matches("GET", None, "/healthz"));
    let Ok(secrets) = route("/v1/secrets/*") else {
        unreachable!()
    };
    assert!(secrets.matches("GET", Some("/v1/secrets/{name}"), "/v1/secrets/db"));
    assert!(!secrets.matches("GET", Some("/v1/secrets-expiring"), "/v1/secrets-expiring"));
    let Ok(one) = route("/v1/secrets/{name}") else {
        unreachable!()
    };
    assert!(one.matches("PUT", Some("/v1/secrets/{name}"), "/v1/secrets/db"));
    let Ok(concrete) = route("GET /v1/secrets/db") else {
        unreachable!()
    };
    assert!(concrete.matches("GET", Some("/v1/secrets/{name}"), "/v1/secrets/db"));
    assert!(!concrete.matches("GET", Some("/v1/secrets/{name}"), "/v1/secrets/other"));
    assert_eq!(concrete.to_string(), "GET /v1/secrets/db");
    let Ok(any_secret_action) = action("secret:*") else {
        unreachable!()
    };
    assert!(any_secret_action.matches("secret:rotate") && !any_secret_action.matches("tool:run"));
}
