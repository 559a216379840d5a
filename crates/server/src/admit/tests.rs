use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};

use super::gcra::{self, KeyState, Limit, Rate};
use super::*;

fn limit(rate: &str, burst: Option<u64>) -> Limit {
    let Ok(rate) = rate.parse::<Rate>() else {
        unreachable!("`{rate}` parses")
    };
    let Ok(limit) = Limit::new(rate, burst) else {
        unreachable!()
    };
    limit
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// governor (the in-process backend) and the pure model give the same answers, Retry-After included,
/// under one injected clock, through bursts, steady arrivals, idleness and blocks.
#[test]
fn governor_agrees_with_the_pure_model() {
    let cases = [
        (limit("60/minute", Some(3)), Duration::ZERO),
        (limit("100/minute", None), Duration::ZERO),
        (limit("7/second", Some(2)), Duration::ZERO),
        (limit("2/second", None), Duration::from_secs(30)),
    ];
    // A fixed, irregular pattern of gaps between requests, in milliseconds.
    let gaps: Vec<u64> = (0..600u64).map(|i| (i * 7919) % 23 * (1 + i % 5) * 9 % 700).collect();
    for (limit, block) in cases {
        let ticks = Ticks::manual();
        let memory = Memory::new([(limit, block)], ticks.clone());
        let mut model = KeyState::default();
        // The model's clock starts where governor's does, at 0 (the limiter's own start).
        for (i, gap) in gaps.iter().enumerate() {
            ticks.advance(Duration::from_millis(*gap));
            let now = nanos(ticks.elapsed());
            let expected = gcra::admit(&limit, nanos(block), &mut model, now);
            let got = match memory.check(0, "k") {
                Outcome::Allow => Ok(()),
                Outcome::Deny { retry_after } => Err(nanos(retry_after)),
            };
            assert_eq!(got, expected, "{limit} block {block:?}, request {i} at {now} ns");
        }
    }
}

#[test]
fn budgets_are_per_key_and_per_rule() {
    let ticks = Ticks::manual();
    let memory = Memory::new(
        [
            (limit("1/hour", None), Duration::ZERO),
            (limit("2/hour", None), Duration::ZERO),
        ],
        ticks.clone(),
    );
    assert_eq!(memory.check(0, "a"), Outcome::Allow);
    assert_eq!(
        memory.check(0, "a"),
        Outcome::Deny {
            retry_after: Duration::from_secs(3600)
        }
    );
    assert_eq!(memory.check(0, "b"), Outcome::Allow, "another key has its own budget");
    assert_eq!(memory.check(1, "a"), Outcome::Allow, "another rule has its own budget");
    assert_eq!(memory.check(1, "a"), Outcome::Allow);
    assert!(matches!(memory.check(1, "a"), Outcome::Deny { .. }));
}

#[test]
fn keys_whose_budget_is_whole_again_are_forgotten() {
    let ticks = Ticks::manual();
    let memory = Memory::new([(limit("10/second", None), Duration::from_secs(5))], ticks.clone());
    for i in 0..1000 {
        assert_eq!(memory.check(0, &format!("ip-{i}")), Outcome::Allow);
    }
    for _ in 0..11 {
        let _ = memory.check(0, "hammer");
    }
    assert!(memory.keys_held() >= 1001, "{}", memory.keys_held());
    ticks.advance(Duration::from_secs(10));
    memory.sweep_all();
    assert_eq!(
        memory.keys_held(),
        0,
        "nothing in memory is needed to answer correctly any more"
    );
    assert_eq!(memory.check(0, "hammer"), Outcome::Allow, "the block ended");
}

fn headers(xff: &[&str]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for value in xff {
        if let Ok(v) = HeaderValue::from_str(value) {
            map.append("x-forwarded-for", v);
        }
    }
    map
}

fn net(text: &str) -> IpNet {
    let Ok(net) = text.parse() else { unreachable!() };
    net
}

fn ip(text: &str) -> IpAddr {
    let Ok(ip) = text.parse() else { unreachable!() };
    ip
}

fn peer(text: &str) -> Option<SocketAddr> {
    Some(SocketAddr::new(ip(text), 40000))
}

#[test]
fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let proxies = [net("10.0.0.0/8")];
    let spoofed = headers(&["1.1.1.1"]);
    assert_eq!(
        client::client_ip(peer("203.0.113.9"), &spoofed, &proxies),
        Some(ip("203.0.113.9"))
    );
    assert_eq!(
        client::client_ip(peer("203.0.113.9"), &spoofed, &[]),
        Some(ip("203.0.113.9"))
    );
    // Through two proxies: the client wrote the leftmost entry itself; the first untrusted one from the
    // right is the address the outer proxy saw.
    let chain = headers(&["6.6.6.6, 198.51.100.7", "10.1.1.1"]);
    assert_eq!(
        client::client_ip(peer("10.0.0.2"), &chain, &proxies),
        Some(ip("198.51.100.7"))
    );
    // A trusted peer with no header is the client itself; garbage stops the walk at the last proxy.
    assert_eq!(
        client::client_ip(peer("10.0.0.2"), &headers(&[]), &proxies),
        Some(ip("10.0.0.2"))
    );
    let garbage = headers(&["198.51.100.7, not-an-ip, 10.1.1.1"]);
    assert_eq!(
        client::client_ip(peer("10.0.0.2"), &garbage, &proxies),
        Some(ip("10.1.1.1"))
    );
    let ported = headers(&["[2001:db8::1]:443"]);
    assert_eq!(
        client::client_ip(peer("10.0.0.2"), &ported, &proxies),
        Some(ip("2001:db8::1"))
    );
    assert_eq!(client::client_ip(None, &spoofed, &proxies), None);
}

#[test]
fn ipv6_clients_count_by_their_64_and_mapped_v4_as_v4() {
    assert_eq!(client::ip_key(Some(ip("2001:db8:1:2:aaaa::1"))), "2001:db8:1:2::/64");
    assert_eq!(
        client::ip_key(Some(ip("2001:db8:1:2:ffff::9"))),
        client::ip_key(Some(ip("2001:db8:1:2::1")))
    );
    assert_ne!(
        client::ip_key(Some(ip("2001:db8:1:3::1"))),
        client::ip_key(Some(ip("2001:db8:1:2::1")))
    );
    let mapped = client::client_ip(peer("::ffff:192.0.2.1"), &HeaderMap::new(), &[]);
    assert_eq!(client::ip_key(mapped), "192.0.2.1");
    assert_eq!(client::ip_key(None), "unknown");
}
