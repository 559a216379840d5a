//! Who is asking, as far as the network says: the client address, and the budget key made from it.
//!
//! `X-Forwarded-For` is believed only from a configured proxy, and then read from the right: the first
//! address that is not one of the proxies is the client (everything left of it the client wrote
//! itself). An IPv6 client counts by its /64, the block one subscriber usually holds, so rotating
//! through one's own addresses buys no budget.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client address of a request that came in from `peer`.
pub fn client_ip(peer: Option<SocketAddr>, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = canonical(peer?.ip());
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // Unreadable: what lies left of it cannot be trusted either; the last proxy passed stands.
            break;
        };
        client = ip;
        if !trusted(&ip) {
            break;
        }
    }
    Some(client)
}

/// An address as `X-Forwarded-For` writes it: bare, or with a port (`[v6]:port`, `v4:port`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The budget key of a client address: the address itself for IPv4, the /64 for IPv6.
pub fn ip_key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let prefix = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
        // Only a router served without connection info (an embedding, a test) gets here: every such
        // request shares one budget rather than escaping the per-IP rules.
        None => "unknown".to_owned(),
    }
}
