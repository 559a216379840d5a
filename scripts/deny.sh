#!/usr/bin/env bash
# cargo-deny against the RustSec snapshot in ../shared/advisory-db (the live database cannot be fetched
# here). cargo-deny reads it offline if it is a git repository at the path derived from its URL.
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot=../shared/advisory-db
db=target/advisory-dbs/advisory-db-3157b0e258782691
if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "installing cargo-deny (about 3 minutes, once per machine)"
  cargo install --locked cargo-deny >/dev/null
fi
if [ ! -d "$db/.git" ] || [ "$(cat "$db/.snapshot" 2>/dev/null)" != "$(cat "$snapshot/SNAPSHOT.txt")" ]; then
  rm -rf "$db"
  mkdir -p "$db"
  cp -r "$snapshot"/. "$db"/
  cp "$snapshot/SNAPSHOT.txt" "$db/.snapshot"
  (cd "$db" && git init -q && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm snapshot)
fi
cargo fetch --quiet
cargo deny --offline check advisories licenses sources bans
