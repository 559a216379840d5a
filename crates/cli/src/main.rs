//! The `warden` binary: `serve` and `init` run Warden itself; `policy validate|test` work offline on
//! policy files (`policy.rs`); `ledger verify|export --data-dir` read a ledger offline (`ledger.rs`); the other commands, `policy simulate` and `secret` (`secret.rs`) among
//! them, talk to a running Warden over its HTTP API (`WARDEN_ADDR`, `WARDEN_TOKEN`), as Vault's CLI does.
//!
//! Exit status: 0 on success, 1 on any error (usage errors included), and for the commands whose
//! answer is a verdict a code of its own: `authorize` exits 2 on deny, `policy simulate
//! --fail-on-change` exits 3 when a decision would change. `ledger verify` exits 1 on any inconsistency.

mod authorize;
mod client;
mod ledger;
mod policy;
mod scan;
mod secret;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};
use warden_server::config::{LogFormat, Overrides};
use warden_server::serve::{self, StartOptions};

use crate::client::Client;

#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Zero-trust control plane and gateway for AI agents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start Warden (creating the data directory on first start).
    Serve(ServeArgs),
    /// Create the data directory without serving.
    Init(DataDirArg),
    /// Manage agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Log in as an agent and print the token pair.
    Login(LoginArgs),
    /// Get a passport with an access token (`WARDEN_TOKEN`).
    Passport(PassportArgs),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Ask Warden for a decision as the agent of `WARDEN_TOKEN`; exits 0 on allow, 2 on deny.
    Authorize(authorize::AuthorizeArgs),
    /// Policy files: validate and test offline, simulate against a running Warden.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// The vault: store, read, share, rotate and delete secrets.
    #[command(subcommand, after_help = secret::AFTER_HELP)]
    Secret(secret::SecretCommand),
    /// The vault as a whole: statistics, master-key rotation.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// The audit ledger: checkpoints, proofs, offline verification and export.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// The content firewall on a file or standard input: offline with the configured rules, or on the
    /// running Warden with `--server`; exits 0 allow, 3 redact, 2 block.
    Scan(scan::ScanArgs),
    /// Revoke a token.
    Revoke {
        /// The token to revoke.
        token: String,
    },
}

#[derive(Debug, Args)]
struct DataDirArg {
    /// The data directory.
    #[arg(long, env = "WARDEN_DATA_DIR", default_value = "warden-data")]
    data_dir: PathBuf,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    data: DataDirArg,
    /// Address to listen on (overrides `server.listen`).
    #[arg(long)]
    listen: Option<String>,
    /// Configuration file (default: <data dir>/warden.yaml).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Register an agent.
    Create {
        name: String,
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long = "capability")]
        capabilities: Vec<String>,
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        tier: Option<String>,
        /// Read an initial password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List agents.
    List,
    /// Show one agent.
    Get {
        id: String,
    },
    Suspend {
        id: String,
    },
    Quarantine {
        id: String,
    },
    Release {
        id: String,
    },
    Revoke {
        id: String,
    },
    /// Create an API key for an agent (shown once).
    ApiKey {
        id: String,
    },
}

#[derive(Debug, Args)]
struct LoginArgs {
    /// The agent's name; the password is read from standard input.
    #[arg(long, conflicts_with = "api_key_stdin")]
    identity: Option<String>,
    /// Read an API key from standard input instead.
    #[arg(long)]
    api_key_stdin: bool,
}

#[derive(Debug, Args)]
struct PassportArgs {
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Lifetime, such as 300 or "5m".
    #[arg(long)]
    ttl: Option<String>,
    #[arg(long)]
    audience: Option<String>,
}

#[derive(Debug, Subcommand)]
enum VaultCommand {
    /// Counts by type, versions, due rotations, failed decryptions.
    Stats,
    /// Re-wrap every secret's data key, and re-seal every key, under a new master key (key file only).
    RotateMasterKey,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Rotate the signing key now.
    Rotate,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage(&error),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints clap's help, version or usage error. A usage error exits 1 like every other error, not
/// clap's usual 2: `warden authorize` exits 2 for deny, and a typo must never read as a decision.
fn usage(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let done = match cli.command {
        Command::Authorize(args) => return authorize::run(args).await,
        Command::Policy(command) => return policy::run(command).await,
        Command::Ledger(command) => return ledger::run(command).await,
        Command::Scan(args) => return scan::run(args).await,
        Command::Secret(command) => secret::run(command).await,
        Command::Serve(args) => serve_command(args).await,
        Command::Init(args) => {
            let initialized = warden_server::init::init(&args.data_dir, &warden_core::SystemEntropy)?;
            announce(&initialized);
            println!("data directory ready: {}", args.data_dir.display());
            Ok(())
        }
        Command::Agent(command) => agent_command(command).await,
        Command::Login(args) => login_command(args).await,
        Command::Passport(args) => {
            let mut body = json!({});
            if !args.scopes.is_empty() {
                body["scopes"] = json!(args.scopes);
            }
            if let Some(ttl) = args.ttl {
                body["ttl"] = json!(ttl);
            }
            if let Some(audience) = args.audience {
                body["audience"] = json!(audience);
            }
            print(Client::from_env()?.post("/v1/auth/passport", &body).await?)
        }
        Command::Vault(VaultCommand::Stats) => print(Client::admin_from_env()?.get("/v1/vault/stats").await?),
        Command::Vault(VaultCommand::RotateMasterKey) => print(
            Client::admin_from_env()?
                .post("/v1/vault/rotate-master-key", &json!({}))
                .await?,
        ),
        Command::Keys(KeysCommand::Rotate) => {
            print(Client::admin_from_env()?.post("/v1/keys/rotate", &json!({})).await?)
        }
        Command::Revoke { token } => print(
            Client::admin_from_env()?
                .post("/v1/auth/revoke", &json!({ "token": token }))
                .await?,
        ),
    };
    done.map(|()| ExitCode::SUCCESS)
}

fn announce(initialized: &warden_server::init::Initialized) {
    if let Some(token) = &initialized.new_admin_token {
        println!(
            "Warden's admin token (shown once; also in {}/admin.token, mode 0600):",
            initialized.data_dir.display()
        );
        println!("{}", token.as_str());
    }
}

async fn serve_command(args: ServeArgs) -> anyhow::Result<()> {
    let options = StartOptions {
        data_dir: args.data.data_dir,
        config_file: args.config,
        overrides: Overrides {
            listen: args.listen,
            ..Overrides::default()
        },
    };
    let (config, initialized) = serve::prepare(&options)?;
    init_logging(&config.log_level, config.log_format);
    announce(&initialized);
    let (clock, entropy) = serve::system();
    let state = serve::build_state(config, clock, entropy).await?;
    serve::serve(state, serve::shutdown_signal()).await?;
    Ok(())
}

fn init_logging(level: &str, format: LogFormat) {
    let filter = tracing_subscriber_filter(level);
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn tracing_subscriber_filter(level: &str) -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
}

async fn agent_command(command: AgentCommand) -> anyhow::Result<()> {
    let client = Client::admin_from_env()?;
    let status = |id: &str, action: &str| format!("/v1/agents/{}/{action}", client::segment(id));
    let response = match command {
        AgentCommand::Create {
            name,
            roles,
            capabilities,
            scopes,
            tier,
            password_stdin,
        } => {
            let mut body = json!({ "name": name, "roles": roles, "capabilities": capabilities, "scopes": scopes });
            if let Some(tier) = tier {
                body["tier"] = json!(tier);
            }
            if password_stdin {
                body["password"] = json!(read_stdin_line().context("reading the password")?);
            }
            client.post("/v1/agents", &body).await?
        }
        AgentCommand::List => client.get("/v1/agents").await?,
        AgentCommand::Get { id } => client.get(&format!("/v1/agents/{}", client::segment(&id))).await?,
        AgentCommand::Suspend { id } => client.post(&status(&id, "suspend"), &json!({})).await?,
        AgentCommand::Quarantine { id } => client.post(&status(&id, "quarantine"), &json!({})).await?,
        AgentCommand::Release { id } => client.post(&status(&id, "release"), &json!({})).await?,
        AgentCommand::Revoke { id } => client.post(&status(&id, "revoke"), &json!({})).await?,
        AgentCommand::ApiKey { id } => client.post(&status(&id, "api-keys"), &json!({})).await?,
    };
    print(response)
}

async fn login_command(args: LoginArgs) -> anyhow::Result<()> {
    let client = Client::anonymous_from_env()?;
    let body = match (args.identity, args.api_key_stdin) {
        (Some(identity), false) => {
            json!({ "identity": identity, "secret": read_stdin_line().context("reading the password")? })
        }
        (None, true) => json!({ "api_key": read_stdin_line().context("reading the API key")? }),
        _ => anyhow::bail!("give --identity NAME (password on stdin) or --api-key-stdin"),
    };
    print(client.post("/v1/auth/login", &body).await?)
}

fn read_stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!line.is_empty(), "nothing on standard input");
    Ok(line)
}

/// Prints a JSON answer, pretty.
fn print(value: Value) -> anyhow::Result<()> {
    emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))
}

/// Writes `text` to standard output as it is.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        // `warden agent list | head` closes the pipe early; that is not an error.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
