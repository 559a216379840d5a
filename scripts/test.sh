#!/usr/bin/env bash
# Runs every test Warden has, and the house checks: formatting, clippy, cargo-deny.
# Starts PostgreSQL and Redis if they are installed but stopped; says loudly which suites it skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
skipped=()
failed=0

step() { echo; echo "==> $*"; }

# Every crate in Cargo.lock on disk: the architecture test and cargo-deny read `cargo metadata --offline`.
step "cargo fetch"
cargo fetch --quiet || failed=1

# --- services -------------------------------------------------------------------------------
step "services"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start 2>/dev/null || true
    for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  export WARDEN_TEST_POSTGRES_URL=${WARDEN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
  echo "PostgreSQL: $WARDEN_TEST_POSTGRES_URL"
else
  unset WARDEN_TEST_POSTGRES_URL
  skipped+=("PostgreSQL suites (no server at 127.0.0.1:5432; install postgresql to run them)")
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  export WARDEN_TEST_REDIS_URL=${WARDEN_TEST_REDIS_URL:-redis://127.0.0.1:6379}
  echo "Redis: $WARDEN_TEST_REDIS_URL"
else
  unset WARDEN_TEST_REDIS_URL
  skipped+=("Redis rate-limit suites (no server at 127.0.0.1:6379; install redis-server to run them)")
fi
# The vault's database-rotation tests log in with passwords, which `trust` rules never check: one rule
# makes members of the role `warden_password_login` (only those tests' roles) use SCRAM over TCP.
# Without it those tests skip their login checks, loudly.
if [ -n "${WARDEN_TEST_POSTGRES_URL:-}" ]; then
  psql "$WARDEN_TEST_POSTGRES_URL" -qc "DO \$\$ BEGIN CREATE ROLE warden_password_login NOLOGIN;
    EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" >/dev/null 2>&1 || true
  hba=$(psql "$WARDEN_TEST_POSTGRES_URL" -tAc 'SHOW hba_file' 2>/dev/null || true)
  if [ -n "$hba" ] && [ -w "$hba" ] && ! grep -q '+warden_password_login' "$hba"; then
    sed -i '1i host all +warden_password_login 127.0.0.1/32 scram-sha-256' "$hba"
    psql "$WARDEN_TEST_POSTGRES_URL" -qc 'SELECT pg_reload_conf()' >/dev/null || true
    echo "PostgreSQL: members of warden_password_login now log in with SCRAM ($hba)"
  fi
fi

# --- Python peers (independent JWT verification) ---------------------------------------------
step "python test peers"
venv=target/test-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >/dev/null 2>&1 || true
fi
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import jwt, cryptography' 2>/dev/null \
   || "$venv/bin/pip" install --quiet --disable-pip-version-check 'PyJWT[crypto]>=2.8' >/dev/null 2>&1; then
  export WARDEN_TEST_PYTHON="$PWD/$venv/bin/python"
  echo "PyJWT: $("$WARDEN_TEST_PYTHON" -c 'import jwt; print(jwt.__version__)')"
else
  skipped+=("PyJWT interoperability test (could not install PyJWT)")
fi

# --- a local Ethereum chain for ledger anchoring (npm `ganache`) ------------------------------
step "local chain for anchoring"
tools=target/test-tools
if [ ! -x "$tools/node_modules/.bin/ganache" ] && command -v npm >/dev/null 2>&1; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error ganache@7.9.2 >/dev/null 2>&1 || true
fi
if [ -x "$tools/node_modules/.bin/ganache" ]; then
  export WARDEN_TEST_GANACHE="$PWD/$tools/node_modules/.bin/ganache"
  echo "ganache: $WARDEN_TEST_GANACHE"
else
  skipped+=("ledger anchoring on a local chain (npm could not install ganache)")
fi

# --- checks ----------------------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check || failed=1

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings || failed=1

step "tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --failure-output final || failed=1
  cargo test --workspace --doc --quiet || failed=1
else
  cargo test --workspace --no-fail-fast || failed=1
fi

step "cargo deny"
scripts/deny.sh || failed=1

echo
if [ ${#skipped[@]} -gt 0 ]; then
  echo "############################################################"
  for s in "${skipped[@]}"; do echo "SKIPPED: $s"; done
  echo "############################################################"
fi
if [ "$failed" -ne 0 ]; then
  echo "FAILED"
  exit 1
fi
echo "all checks passed"
