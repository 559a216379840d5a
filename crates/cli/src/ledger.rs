//! `warden ledger …`: what an auditor runs. `checkpoint` fetches and checks the latest signed checkpoint,
//! `proof` proves an entry is in the log (or that an older checkpoint is a prefix of the latest),
//! `verify` checks a whole ledger — from a data directory, or from a running Warden's routes, with the
//! witnesses' cosignatures when `--witness` names them — and
//! `export` writes entries with their inclusion proofs as JSON Lines for a SIEM.
//!
//! Every check here is the pure code of `warden-ledger`; the server is never trusted to have checked.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use warden_ledger::{Checkpoint, Hash, LogVerifier, MerkleTree, leaf_hash, verify_consistency, verify_inclusion};

mod source;
mod witness;

use source::Source;

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Print the latest signed checkpoint after checking its signature.
    Checkpoint(CheckpointArgs),
    /// Prove that an entry is in the log, or that a saved checkpoint is a prefix of the latest one.
    Proof(ProofArgs),
    /// Check a whole ledger: every entry, every checkpoint, every anchor; exits 1 naming the first problem.
    Verify(VerifyArgs),
    /// Write entries with their inclusion proofs as JSON Lines (needs the admin token or the data directory).
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct KeyArg {
    /// The verifier key to check checkpoints with (`name+hash+base64`); without it, the server's (or the
    /// data directory's) published key is used, which proves less.
    #[arg(long, env = "WARDEN_LEDGER_KEY")]
    verifier_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    key: KeyArg,
    /// Sign a new checkpoint first (admin).
    #[arg(long)]
    sign: bool,
}

#[derive(Debug, Args)]
pub struct ProofArgs {
    #[command(flatten)]
    key: KeyArg,
    /// The entry to prove (its `ledger_index`).
    #[arg(long, conflicts_with = "since")]
    index: Option<u64>,
    /// The entry's leaf hash (base64) when the entry itself cannot be fetched (no admin token).
    #[arg(long, requires = "index")]
    leaf_hash: Option<String>,
    /// A checkpoint saved earlier (a file): prove the latest checkpoint extends it.
    #[arg(long)]
    since: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    key: KeyArg,
    /// Verify a data directory offline (no server needed) instead of the server at `WARDEN_ADDR`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// From a server: only the public routes (checkpoints, consistency proofs), not the entries.
    #[arg(long, conflicts_with = "data_dir")]
    public: bool,
    /// A checkpoint saved earlier (a file) that the ledger must still extend.
    #[arg(long)]
    since: Option<PathBuf>,
    /// An Ethereum JSON-RPC URL: check that every anchored checkpoint's transaction carries its root.
    #[arg(long)]
    chain_rpc: Option<String>,
    /// A witness's key (`name+keyid+base64`, repeatable): it must have cosigned the latest checkpoint or
    /// one the latest extends, and its cosignatures must verify.
    #[arg(long = "witness", value_name = "VKEY")]
    witnesses: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    key: KeyArg,
    /// Export from a data directory instead of the server at `WARDEN_ADDR`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub async fn run(command: LedgerCommand) -> anyhow::Result<ExitCode> {
    match command {
        LedgerCommand::Checkpoint(args) => checkpoint(args).await,
        LedgerCommand::Proof(args) => proof(args).await,
        LedgerCommand::Verify(args) => verify(args).await,
        LedgerCommand::Export(args) => export(args).await,
    }
}

/// The verifier key to trust: the pinned one, else the source's own (said so on stderr).
async fn trusted_key(key: &KeyArg, source: &Source) -> anyhow::Result<String> {
    if let Some(key) = &key.verifier_key {
        return Ok(key.trim().to_owned());
    }
    eprintln!("note: no --verifier-key given; trusting the key published by the ledger being checked");
    Ok(source.verifier_key().await?.trim().to_owned())
}

async fn checkpoint(args: CheckpointArgs) -> anyhow::Result<ExitCode> {
    let source = Source::server(args.sign)?;
    if args.sign {
        source.client_admin()?.post("/v1/ledger/checkpoint", &json!({})).await?;
    }
    let key = trusted_key(&args.key, &source).await?;
    let note = source.latest_checkpoint().await?;
    let checkpoint = Checkpoint::parse_and_verify(&note, &key).context("the latest checkpoint does not verify")?;
    eprintln!(
        "checkpoint verified: size {}, origin {}",
        checkpoint.size, checkpoint.origin
    );
    print!("{note}");
    Ok(ExitCode::SUCCESS)
}

async fn proof(args: ProofArgs) -> anyhow::Result<ExitCode> {
    // The entry itself is read with the admin token unless its leaf hash was given.
    let source = Source::server(args.index.is_some() && args.leaf_hash.is_none())?;
    let key = trusted_key(&args.key, &source).await?;
    let latest = Checkpoint::parse_and_verify(&source.latest_checkpoint().await?, &key)
        .context("the latest checkpoint does not verify")?;
    if let Some(path) = &args.since {
        let old = read_checkpoint(path, &key)?;
        check_consistency(&source, &old, &latest).await?;
        println!(
            "the checkpoint at size {} extends the one at size {}",
            latest.size, old.size
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(index) = args.index else {
        bail!("give --index (an entry) or --since (a saved checkpoint)");
    };
    let hash = match &args.leaf_hash {
        Some(text) => decode_hash(text).context("--leaf-hash")?,
        None => {
            let entry = source
                .client_admin()?
                .get(&format!("/v1/ledger/entries/{index}"))
                .await?;
            entry_leaf_hash(&entry)?
        }
    };
    let answer = source
        .client()?
        .get(&format!(
            "/v1/ledger/proof/inclusion?index={index}&size={}",
            latest.size
        ))
        .await?;
    let path = decode_proof(&answer["proof"])?;
    verify_inclusion(&hash, index, latest.size, &path, &latest.root)
        .with_context(|| format!("entry {index} is NOT proven to be in the log at size {}", latest.size))?;
    println!(
        "entry {index} is in the log at size {} (root {})",
        latest.size,
        STANDARD.encode(latest.root)
    );
    Ok(ExitCode::SUCCESS)
}

async fn check_consistency(source: &Source, old: &Checkpoint, new: &Checkpoint) -> anyhow::Result<()> {
    if old.origin != new.origin {
        bail!(
            "the checkpoints are for different logs (`{}`, `{}`)",
            old.origin,
            new.origin
        );
    }
    if old.size > new.size {
        bail!(
            "the log was rolled back: size {} was published before, now {}",
            old.size,
            new.size
        );
    }
    let answer = source
        .client()?
        .get(&format!(
            "/v1/ledger/proof/consistency?first={}&second={}",
            old.size, new.size
        ))
        .await?;
    let path = decode_proof(&answer["proof"])?;
    verify_consistency(old.size, new.size, &old.root, &new.root, &path).with_context(|| {
        format!(
            "the log was REWRITTEN: size {} is not an extension of size {}",
            new.size, old.size
        )
    })?;
    Ok(())
}

fn read_checkpoint(path: &PathBuf, key: &str) -> anyhow::Result<Checkpoint> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Checkpoint::parse_and_verify(&text, key).with_context(|| format!("{} does not verify", path.display()))
}

async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let source = match &args.data_dir {
        Some(dir) => Source::data_dir(dir).await?,
        None => Source::server(!args.public)?,
    };
    let key = trusted_key(&args.key, &source).await?;
    let witnesses = witness::parse_keys(&args.witnesses)?;
    let checkpoints = source.checkpoints().await?;
    let outcome = if args.public {
        verify_public(&source, &checkpoints, &key).await
    } else {
        verify_entries(&source, &checkpoints, &key).await
    };
    if let Err(error) = outcome {
        eprintln!("LEDGER VERIFICATION FAILED: {error:#}");
        return Ok(ExitCode::FAILURE);
    }
    let latest = checkpoints
        .last()
        .map(|c| c["note"].as_str().unwrap_or_default().to_owned());
    if let (Some(path), Some(note)) = (&args.since, &latest) {
        let old = read_checkpoint(path, &key)?;
        let new = Checkpoint::parse_and_verify(note, &key)?;
        if let Err(error) = check_consistency_local(&source, &old, &new).await {
            eprintln!("LEDGER VERIFICATION FAILED: {error:#}");
            return Ok(ExitCode::FAILURE);
        }
        println!("the ledger still extends the saved checkpoint at size {}", old.size);
    }
    if let Some(rpc) = &args.chain_rpc
        && let Err(error) = verify_anchors(rpc, &checkpoints).await
    {
        eprintln!("LEDGER VERIFICATION FAILED: {error:#}");
        return Ok(ExitCode::FAILURE);
    }
    if !witnesses.is_empty() {
        match witness::check(&witnesses, &checkpoints) {
            Ok(found) => {
                let latest = checkpoints.last().and_then(|c| c["size"].as_u64()).unwrap_or_default();
                for (name, size) in found {
                    println!("witness {name} cosigned the checkpoint at size {size} (latest {latest})");
                }
            }
            Err(error) => {
                eprintln!("LEDGER VERIFICATION FAILED: {error:#}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// With entries at hand the saved checkpoint is checked against the rebuilt tree; otherwise by proof.
async fn check_consistency_local(source: &Source, old: &Checkpoint, new: &Checkpoint) -> anyhow::Result<()> {
    match source {
        Source::Server { .. } => check_consistency(source, old, new).await,
        Source::Store { .. } => {
            let tree = source.tree().await?;
            if old.size > tree.size() {
                bail!(
                    "the log was rolled back: size {} was published before, now {}",
                    old.size,
                    tree.size()
                );
            }
            if tree.root_at(old.size)? != old.root {
                bail!("the log was REWRITTEN below size {}", old.size);
            }
            Ok(())
        }
    }
}

/// Every entry in order, then every checkpoint, through [`LogVerifier`].
async fn verify_entries(source: &Source, checkpoints: &[Value], key: &str) -> anyhow::Result<()> {
    let mut verifier = LogVerifier::new();
    source
        .for_each_entry(|index, leaf, hash| verifier.push(index, leaf, hash).map_err(anyhow::Error::from))
        .await?;
    for checkpoint in checkpoints {
        let note = checkpoint["note"].as_str().unwrap_or_default();
        verifier.check_checkpoint(note, key, None)?;
    }
    let summary = verifier.summary();
    println!(
        "ledger verified: {} entries ({} with payloads dropped by retention), {} checkpoints, root {}",
        summary.size,
        summary.pruned,
        summary.checkpoints,
        STANDARD.encode(summary.root)
    );
    Ok(())
}

/// Only public routes: every checkpoint's signature, and a consistency proof between each and the next.
async fn verify_public(source: &Source, checkpoints: &[Value], key: &str) -> anyhow::Result<()> {
    let mut previous: Option<Checkpoint> = None;
    for value in checkpoints {
        let note = value["note"].as_str().unwrap_or_default();
        let checkpoint = Checkpoint::parse_and_verify(note, key)
            .with_context(|| format!("the checkpoint at size {} does not verify", value["size"]))?;
        if let Some(old) = &previous {
            check_consistency(source, old, &checkpoint).await?;
        }
        previous = Some(checkpoint);
    }
    println!(
        "{} checkpoints verified, each consistent with the next (entries not read: use the admin token for those)",
        checkpoints.len()
    );
    Ok(())
}

/// Each anchored checkpoint's transaction exists on the chain and carries its size and root.
async fn verify_anchors(rpc: &str, checkpoints: &[Value]) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let mut anchored = 0;
    for checkpoint in checkpoints {
        let Some(anchor) = checkpoint.get("anchor").filter(|a| !a.is_null()) else {
            continue;
        };
        let size = checkpoint["size"].as_u64().unwrap_or_default();
        let tx_hash = anchor["tx_hash"].as_str().unwrap_or_default();
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionByHash", "params": [tx_hash]});
        let answer: Value = http.post(rpc).json(&body).send().await?.json().await?;
        let transaction = &answer["result"];
        if transaction.is_null() {
            bail!("the anchor of checkpoint {size} (transaction {tx_hash}) is not on the chain");
        }
        let root = decode_hash(checkpoint["root_hash"].as_str().unwrap_or_default())?;
        let expected = warden_server::ledger::anchor_data(size, &root);
        let input = transaction["input"].as_str().unwrap_or_default().to_ascii_lowercase();
        if input != expected {
            bail!("the anchor transaction {tx_hash} does not carry checkpoint {size}'s root");
        }
        anchored += 1;
    }
    println!("{anchored} anchors found on the chain, each carrying its checkpoint's root");
    Ok(())
}

async fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let source = match &args.data_dir {
        Some(dir) => Source::data_dir(dir).await?,
        None => Source::server(true)?,
    };
    let key = trusted_key(&args.key, &source).await?;
    let checkpoints = source.checkpoints().await?;
    let Some(note) = checkpoints.last().and_then(|c| c["note"].as_str()) else {
        bail!("the ledger has no checkpoint yet: sign one first (`warden ledger checkpoint --sign`)");
    };
    let checkpoint = Checkpoint::parse_and_verify(note, &key).context("the latest checkpoint does not verify")?;
    // Rebuild the tree from the entries and check it against the checkpoint before proving anything.
    let mut verifier = LogVerifier::new();
    source
        .for_each_entry(|index, leaf, hash| verifier.push(index, leaf, hash).map_err(anyhow::Error::from))
        .await?;
    verifier.check_checkpoint(note, &key, None)?;
    let tree: &MerkleTree = verifier.tree();
    let mut out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut written = 0u64;
    let mut failure = None;
    source
        .for_each_entry(|index, leaf, hash| {
            if index >= checkpoint.size || failure.is_some() {
                return Ok(());
            }
            let proof = tree.inclusion_proof(index, checkpoint.size)?;
            let event = match leaf {
                Some(bytes) => serde_json::from_slice::<Value>(bytes)?,
                None => Value::Null,
            };
            let line = json!({
                "index": index,
                "leaf_hash": STANDARD.encode(hash),
                "event": event,
                "proof": {"size": checkpoint.size, "root": STANDARD.encode(checkpoint.root),
                          "path": proof.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>()},
            });
            if let Err(error) = writeln!(out, "{line}") {
                failure = Some(error);
            }
            written += 1;
            Ok(())
        })
        .await?;
    if let Some(error) = failure {
        return Err(error).context("writing the export");
    }
    out.flush().context("writing the export")?;
    eprintln!(
        "{written} entries exported with inclusion proofs against the checkpoint at size {}",
        checkpoint.size
    );
    Ok(ExitCode::SUCCESS)
}

fn decode_hash(text: &str) -> anyhow::Result<Hash> {
    let bytes = STANDARD.decode(text.trim()).context("not base64")?;
    <Hash>::try_from(bytes.as_slice()).map_err(|_| anyhow::anyhow!("not a 32-byte hash"))
}

fn decode_proof(value: &Value) -> anyhow::Result<Vec<Hash>> {
    let Some(items) = value.as_array() else {
        bail!("the server's proof is not a list");
    };
    items
        .iter()
        .map(|item| decode_hash(item.as_str().unwrap_or_default()))
        .collect()
}

/// The leaf hash of a fetched entry, recomputed from its leaf bytes when it has them.
fn entry_leaf_hash(entry: &Value) -> anyhow::Result<Hash> {
    let stated = decode_hash(entry["leaf_hash"].as_str().unwrap_or_default())?;
    if let Some(leaf) = entry["leaf"].as_str() {
        let bytes = STANDARD.decode(leaf).context("the entry's leaf is not base64")?;
        if leaf_hash(&bytes) != stated {
            bail!("the entry's leaf bytes do not hash to its stated leaf hash");
        }
    }
    Ok(stated)
}
