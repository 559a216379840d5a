//! Where a ledger is read from: a running Warden's routes, or a data directory's store opened directly
//! (read only: nothing is migrated or written).

use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use warden_ledger::{Hash, MerkleTree};
use warden_server::config::{self, Config, Overrides};
use warden_store::Store;

use crate::client::Client;

/// Entries read per page from a server.
const PAGE: u64 = 1000;
/// Entries read per page from a data directory's store.
const STORE_PAGE: u64 = 50_000;

pub enum Source {
    Server { client: Client, admin: Option<Client> },
    Store { store: Store },
}

impl Source {
    /// The server at `WARDEN_ADDR`; with `admin`, also an admin client for the entries.
    pub fn server(admin: bool) -> anyhow::Result<Self> {
        let admin = if admin { Some(Client::admin_from_env()?) } else { None };
        Ok(Source::Server {
            client: Client::anonymous_from_env()?,
            admin,
        })
    }

    /// The store named by the data directory's configuration.
    pub async fn data_dir(dir: &Path) -> anyhow::Result<Self> {
        let raw = config::load(&dir.join(warden_server::init::CONFIG_FILE))?;
        let config = Config::resolve(raw, Overrides::from_env(), dir)?;
        let store = Store::connect(&config.store_url)
            .await
            .with_context(|| format!("opening the store of {}", dir.display()))?;
        Ok(Source::Store { store })
    }

    pub fn client(&self) -> anyhow::Result<&Client> {
        match self {
            Source::Server { client, .. } => Ok(client),
            Source::Store { .. } => bail!("this needs a running Warden"),
        }
    }

    pub fn client_admin(&self) -> anyhow::Result<&Client> {
        match self {
            Source::Server { admin: Some(admin), .. } => Ok(admin),
            _ => bail!("this needs the admin token (WARDEN_TOKEN) or --leaf-hash"),
        }
    }

    pub async fn verifier_key(&self) -> anyhow::Result<String> {
        match self {
            Source::Server { client, .. } => text(client.get("/v1/ledger/verifier-key").await?),
            Source::Store { store } => Ok(store
                .ledger_keys()
                .await?
                .context("this data directory has no ledger keys yet")?
                .verifier_key),
        }
    }

    pub async fn latest_checkpoint(&self) -> anyhow::Result<String> {
        match self {
            Source::Server { client, .. } => text(client.get("/v1/ledger/checkpoint").await?),
            Source::Store { store } => Ok(store
                .latest_checkpoint()
                .await?
                .context("this data directory has no checkpoint yet")?
                .note),
        }
    }

    /// Every stored checkpoint, smallest first, as the checkpoints route shows them.
    pub async fn checkpoints(&self) -> anyhow::Result<Vec<Value>> {
        let mut all: Vec<Value> = Vec::new();
        loop {
            let after = all.last().and_then(|c| c["size"].as_u64());
            let page: Vec<Value> = match self {
                Source::Server { client, .. } => {
                    let query = after.map_or_else(String::new, |a| format!("&after={a}"));
                    let answer = client.get(&format!("/v1/ledger/checkpoints?limit=1000{query}")).await?;
                    answer.as_array().cloned().unwrap_or_default()
                }
                Source::Store { store } => store
                    .checkpoints(after, 1000)
                    .await?
                    .into_iter()
                    .map(|c| {
                        json!({"size": c.size, "root_hash": STANDARD.encode(c.root_hash), "note": c.note,
                               "anchor": c.anchor, "cosignatures": c.cosignatures})
                    })
                    .collect(),
            };
            if page.is_empty() {
                return Ok(all);
            }
            all.extend(page);
        }
    }

    /// Calls `visit(index, leaf, leaf_hash)` for every entry in index order, as stored.
    pub async fn for_each_entry(
        &self,
        mut visit: impl FnMut(u64, Option<&[u8]>, &Hash) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let admin = match self {
            Source::Store { store } => return for_each_stored_entry(store, visit).await,
            Source::Server { admin, .. } => admin.as_ref().context("reading entries needs the admin token")?,
        };
        let mut start = 0u64;
        loop {
            let page = server_entries(admin, start, start + PAGE).await?;
            let Some(last) = page.last().map(|e| e.0) else {
                return Ok(());
            };
            for (index, leaf, hash) in &page {
                visit(*index, leaf.as_deref(), hash)?;
            }
            start = last + 1;
        }
    }

    /// The tree of every stored leaf hash.
    pub async fn tree(&self) -> anyhow::Result<MerkleTree> {
        let mut tree = MerkleTree::new();
        self.for_each_entry(|_, _, hash| {
            tree.append_leaf_hash(*hash);
            Ok(())
        })
        .await?;
        Ok(tree)
    }
}

async fn server_entries(admin: &Client, start: u64, end: u64) -> anyhow::Result<Vec<(u64, Option<Vec<u8>>, Hash)>> {
    let answer = admin
        .get(&format!("/v1/ledger/entries?start={start}&end={end}"))
        .await?;
    let Some(items) = answer.as_array() else {
        bail!("the entries route did not answer a list");
    };
    items.iter().map(entry_from_json).collect()
}

/// Every entry of a data directory's store, in large pages, the next page read while this one is
/// visited.
async fn for_each_stored_entry(
    store: &Store,
    mut visit: impl FnMut(u64, Option<&[u8]>, &Hash) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let read = |start: u64| {
        let store = store.clone();
        tokio::spawn(async move { store.ledger_entries_bulk(start, start.saturating_add(STORE_PAGE)).await })
    };
    let mut next = read(0);
    loop {
        let page = next.await??;
        let Some(last) = page.last().map(|e| e.index) else {
            return Ok(());
        };
        next = read(last.saturating_add(1));
        for entry in &page {
            visit(entry.index, entry.leaf.as_deref(), &entry.leaf_hash)?;
        }
    }
}

fn text(value: Value) -> anyhow::Result<String> {
    match value {
        Value::String(text) => Ok(text),
        other => bail!("expected text from the server, got {other}"),
    }
}

fn entry_from_json(item: &Value) -> anyhow::Result<(u64, Option<Vec<u8>>, Hash)> {
    let index = item["index"].as_u64().context("an entry without an index")?;
    let leaf = item["leaf"]
        .as_str()
        .map(|b| STANDARD.decode(b))
        .transpose()
        .with_context(|| format!("entry {index}: leaf is not base64"))?;
    let hash = STANDARD
        .decode(item["leaf_hash"].as_str().unwrap_or_default())
        .ok()
        .and_then(|b| <Hash>::try_from(b.as_slice()).ok())
        .with_context(|| format!("entry {index}: leaf_hash is not a base64 32-byte hash"))?;
    Ok((index, leaf, hash))
}
