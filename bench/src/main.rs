//! Warden's benchmarks. Figures and the commands that produced them go to BENCHMARKS.md; nothing here
//! is a timed test.
//!
//! - `passport`: passport verification latency, cold (every token new: full EdDSA verification) and
//!   repeated (the verified-token cache), p50/p99 over many runs, in process.
//! - `policy`: Warden's policy engine beside Cedar (`cedar-policy`) on one generated policy set (100 agents;
//!   100 and then 1,000 per-agent rules plus global denies) written in both languages: both must agree on
//!   every request before p50/p99 of single decisions are taken; then the reload time of the largest set.
//! - `authorize`: `POST /v1/authorize` against the real `warden` binary: 32 concurrent agents under a
//!   1,000-rule policy; decisions per second and p50/p99, every answer checked.
//! - `vault`: envelope seal and open of a 1 KiB secret, p50/p99, and the master-key rewrap of 10,000
//!   records, in process (no storage).
//! - `secrets`: `GET /v1/secrets/{name}` against the real `warden` binary: 32 agents reading their
//!   shared 1 KiB secrets (and refused a neighbour's); reads per second and p50/p99, every answer checked.
//! - `rotation`: `POST /v1/vault/rotate-master-key` over 10,000 stored secrets, timed from the client.
//! - `ledger`: the audit ledger's Merkle tree at 10^6 leaves, in process: leaf encoding and hashing,
//!   building the tree, the root, appends, and inclusion and consistency proofs made and verified (p50/p99).
//! - `ledger-store`: the ledger on the embedded store: durable appends with 64 writers (events/s, p50/p99
//!   to the durable acknowledgement), bytes per event at rest, and full verification of 10^6 stored events.
//! - `firewall`: the content firewall's `Scanner::default()` on 2 KiB prompts (ASCII and non-ASCII, cut
//!   from the shared corpora) in the input direction, p50/p99 and MB/s on one core, then per stage
//!   (normalize, injection, DLP, WAF).
//! - `dlp-compare`: Warden's DLP and `Scanner::default()` over a JSONL file of texts, findings in
//!   character offsets and time per text, for `bench/compare/dlp_compare.py` (Presidio, detect-secrets).
//! - `server`: against the real `warden` binary: resident memory holding N agents, and password-login
//!   throughput at the configured argon2id cost.

mod authorize;
mod dlp_compare;
mod firewall;
mod ledger;
mod ledger_store;
mod passport;
mod policy;
mod secrets;
mod server;
mod vault;

use anyhow::bail;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("passport") => passport::run(),
        Some("policy") => policy::run(),
        Some("vault") => vault::run(),
        Some("ledger") => ledger::run(),
        Some("firewall") => firewall::run(),
        Some("dlp-compare") => dlp_compare::run(&args[1..]),
        Some("ledger-store") => {
            ledger_store::run(args.get(1).map_or(Ok(1_000_000), |n| n.parse()).unwrap_or(1_000_000))
        }
        Some("authorize") => {
            let Some(binary) = args.get(1) else {
                bail!("usage: warden-bench authorize PATH/TO/warden [SECONDS]")
            };
            let seconds = args.get(2).map_or(Ok(10), |n| n.parse()).unwrap_or(10);
            authorize::run(binary, seconds)
        }
        Some("secrets") => {
            let Some(binary) = args.get(1) else {
                bail!("usage: warden-bench secrets PATH/TO/warden [SECONDS]")
            };
            let seconds = args.get(2).map_or(Ok(10), |n| n.parse()).unwrap_or(10);
            secrets::run(binary, seconds)
        }
        Some("rotation") => {
            let Some(binary) = args.get(1) else {
                bail!("usage: warden-bench rotation PATH/TO/warden [SECRETS]")
            };
            let count = args.get(2).map_or(Ok(10_000), |n| n.parse()).unwrap_or(10_000);
            secrets::run_rotation(binary, count)
        }
        Some("server") => {
            let Some(binary) = args.get(1) else {
                bail!("usage: warden-bench server PATH/TO/warden [AGENTS]")
            };
            let agents = args.get(2).map_or(Ok(1000), |n| n.parse()).unwrap_or(1000);
            server::run(binary, agents)
        }
        _ => bail!(
            "usage: warden-bench passport | policy | vault | ledger | ledger-store [EVENTS] | firewall | dlp-compare --input FILE --output FILE | authorize PATH/TO/warden [SECONDS] | secrets PATH/TO/warden [SECONDS] | rotation PATH/TO/warden [SECRETS] | server PATH/TO/warden [AGENTS]"
        ),
    }
}

/// The value at quantile `q` of sorted nanosecond samples.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
