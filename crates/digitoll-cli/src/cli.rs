//! Command-line definitions. Doc comments are the help text.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// digitoll: Norway's Digitoll customs APIs through Maskinporten, from onboarding to MRN.
#[derive(Debug, Parser)]
#[command(name = "digitoll", version, propagate_version = true)]
pub(crate) struct Cli {
    /// More log output on stderr (-v, -vv). RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the Maskinporten (and Toll) simulator on a local port.
    Sim(SimArgs),
    /// Generate and inspect keys for Maskinporten clients.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect business certificates (.p12/.pfx or PEM).
    #[command(subcommand)]
    Cert(CertCommand),
    /// Get a Maskinporten access token and show what it contains.
    Token(Box<TokenArgs>),
    /// Road v2 messages: submit, update, delete, and follow them to an MRN.
    #[command(subcommand)]
    Road(Box<RoadCommand>),
    /// Run the whole chain on the built-in simulator: grant, Maskinporten
    /// token, Toll token, transport, master and house, MRNs, the linked tree,
    /// and entry at the border.
    Demo(DemoArgs),
    /// Check Toll messages offline, with Toll's own rules and wording.
    /// Exit code 1 when any file would be rejected.
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Message files (JSON). The kind is detected from the fields unless --kind is given.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// The kind of message, when detection is not wanted.
    #[arg(long, value_enum)]
    pub(crate) kind: Option<KindArg>,
    /// Validate as an update (PUT) rather than a first submission (POST).
    #[arg(long)]
    pub(crate) update: bool,
    /// Check references against Toll's production rules instead of the test
    /// environment's fixtures (TVINN, VOEC and NCTS references are then not checked).
    #[arg(long)]
    pub(crate) production: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    Transport,
    Master,
    House,
    Relation,
    Delete,
}

impl From<KindArg> for digitoll_model::MessageKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Transport => Self::Transport,
            KindArg::Master => Self::MasterConsignment,
            KindArg::House => Self::HouseConsignment,
            KindArg::Relation => Self::Relation,
            KindArg::Delete => Self::Delete,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4100", env = "DIGITOLL_SIM_LISTEN")]
    pub(crate) listen: SocketAddr,
    /// Write the demo client's credentials (demo-client.json, demo-key.pem,
    /// demo-cert-chain.pem) to this folder, for `digitoll token --credentials`.
    #[arg(long, value_name = "DIR", default_value = "sim-demo")]
    pub(crate) demo_dir: PathBuf,
    /// Lifetime of the access tokens the simulator issues, in seconds.
    #[arg(long, default_value_t = 120)]
    pub(crate) token_lifetime: u64,
    /// Behave as Maskinporten PROD instead of TEST (trust the production CA).
    #[arg(long)]
    pub(crate) prod: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make an RSA key pair and the public JWK to upload to a Maskinporten
    /// client in Samarbeidsportalen. The private key is written owner-only (0600).
    Generate(KeysGenerateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeysGenerateArgs {
    /// Key size in bits: 2048, 3072 or 4096.
    #[arg(long, default_value_t = 2048)]
    pub(crate) bits: u32,
    /// Signing algorithm recorded in the JWK.
    #[arg(long, value_enum, default_value_t = AlgArg::Rs256)]
    pub(crate) alg: AlgArg,
    /// Folder to write `<name>.key.pem` (private) and `<name>.jwk.json` (public) into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) out: PathBuf,
    /// Base name of the files.
    #[arg(long, default_value = "maskinporten")]
    pub(crate) name: String,
    /// Overwrite existing files.
    #[arg(long)]
    pub(crate) force: bool,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CertCommand {
    /// Show subject, organisation number, issuer, validity and chain of a
    /// business certificate, and whether it looks like a test or production one.
    Inspect(CertInspectArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CertInspectArgs {
    /// A .p12/.pfx file or a PEM file with one or more certificates.
    pub(crate) file: PathBuf,
    /// Password of a .p12/.pfx file.
    #[arg(long, env = "DIGITOLL_P12_PASSWORD", hide_env_values = true)]
    pub(crate) password: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum AlgArg {
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "RS384")]
    Rs384,
    #[value(name = "RS512")]
    Rs512,
}

impl From<AlgArg> for maskinporten::Algorithm {
    fn from(a: AlgArg) -> Self {
        match a {
            AlgArg::Rs256 => Self::RS256,
            AlgArg::Rs384 => Self::RS384,
            AlgArg::Rs512 => Self::RS512,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvArg {
    /// https://maskinporten.no/
    Prod,
    /// https://test.maskinporten.no/
    Test,
}

/// How to reach Maskinporten and sign grants: a credentials file, or flags.
#[derive(Debug, Args)]
pub(crate) struct IdentityArgs {
    /// A credentials file (JSON with client_id, issuer, key_file and kid, or
    /// certificate_chain_file / p12_file), such as the simulator's demo-client.json.
    #[arg(long, value_name = "FILE", env = "DIGITOLL_CREDENTIALS")]
    pub(crate) credentials: Option<PathBuf>,
    /// Maskinporten environment.
    #[arg(long, value_enum, env = "DIGITOLL_ENV", conflicts_with = "issuer")]
    pub(crate) env: Option<EnvArg>,
    /// A custom Maskinporten issuer, e.g. the simulator's http://127.0.0.1:4100/.
    #[arg(long, env = "DIGITOLL_ISSUER")]
    pub(crate) issuer: Option<String>,
    /// The Maskinporten client id (integration id) from Samarbeidsportalen.
    #[arg(long, env = "DIGITOLL_CLIENT_ID")]
    pub(crate) client_id: Option<String>,
    /// Private key: PEM (PKCS#8, PKCS#1, encrypted PKCS#8) or a private JWK file.
    #[arg(long, value_name = "FILE", conflicts_with = "p12")]
    pub(crate) key: Option<PathBuf>,
    /// The key id registered on the client (kid mode). Defaults to the JWK's kid or thumbprint.
    #[arg(long)]
    pub(crate) kid: Option<String>,
    /// Certificate chain PEM (leaf first) for the key: sends x5c instead of kid.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub(crate) cert_chain: Option<PathBuf>,
    /// Passphrase of an encrypted PKCS#8 key.
    #[arg(long, env = "DIGITOLL_KEY_PASSPHRASE", hide_env_values = true)]
    pub(crate) key_passphrase: Option<String>,
    /// Business certificate (.p12/.pfx): sends the full chain in x5c.
    #[arg(long, value_name = "FILE")]
    pub(crate) p12: Option<PathBuf>,
    /// Password of the .p12/.pfx file.
    #[arg(long, env = "DIGITOLL_P12_PASSWORD", hide_env_values = true)]
    pub(crate) p12_password: Option<String>,
    /// Signing algorithm.
    #[arg(long, value_enum)]
    pub(crate) alg: Option<AlgArg>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(flatten)]
    pub(crate) identity: IdentityArgs,
    /// Scope(s) to ask for; repeat or separate with spaces.
    #[arg(long = "scope", short = 's', required = true, num_args = 1..)]
    pub(crate) scopes: Vec<String>,
    /// Audience restriction (RFC 8707 resource).
    #[arg(long)]
    pub(crate) resource: Option<String>,
    /// Act for this organisation through Altinn delegation (consumer_org).
    #[arg(long)]
    pub(crate) consumer_org: Option<String>,
    /// Print only the access token (for scripts: TOKEN=$(digitoll token --raw …)).
    #[arg(long, conflicts_with = "json")]
    pub(crate) raw: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Where the Toll API is, and who calls it.
#[derive(Debug, Args)]
pub(crate) struct TollArgs {
    #[command(flatten)]
    pub(crate) identity: IdentityArgs,
    /// The Toll API: `prod` (https://api.toll.no), `test` (https://api-test.toll.no)
    /// or a base URL. Default: follows the Maskinporten environment; with a custom
    /// issuer (the simulator), the issuer's server.
    #[arg(long, env = "DIGITOLL_TOLL")]
    pub(crate) toll: Option<String>,
    /// Send even when local validation finds errors (to see Toll's own answer).
    #[arg(long)]
    pub(crate) no_local_validation: bool,
    /// How long to wait for Toll's validation result, in seconds.
    #[arg(long, default_value_t = 60)]
    pub(crate) wait_timeout: u64,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RoadCommand {
    /// Submit a message from a JSON file and wait for its MRN or Toll's errors.
    Submit {
        #[command(flatten)]
        toll: TollArgs,
        /// The message (transport, master or house; detected unless --kind).
        file: PathBuf,
        #[arg(long, value_enum)]
        kind: Option<DocKindArg>,
        /// Print the requestId and return without waiting for the result.
        #[arg(long)]
        no_wait: bool,
    },
    /// Replace a message (PUT) by its MRN and wait for the result.
    Update {
        #[command(flatten)]
        toll: TollArgs,
        mrn: String,
        file: PathBuf,
        #[arg(long, value_enum)]
        kind: Option<DocKindArg>,
    },
    /// Delete a message by its MRN.
    Delete {
        #[command(flatten)]
        toll: TollArgs,
        mrn: String,
        #[arg(long, value_enum)]
        kind: DocKindArg,
    },
    /// Show the validation status of a request id (from `submit --no-wait`).
    Status {
        #[command(flatten)]
        toll: TollArgs,
        request_id: String,
        #[arg(long, value_enum)]
        kind: DocKindArg,
    },
    /// Show a transport (or master, with --kind master) with its linked masters and houses.
    Tree {
        #[command(flatten)]
        toll: TollArgs,
        mrn: String,
        #[arg(long, value_enum, default_value_t = DocKindArg::Transport)]
        kind: DocKindArg,
    },
    /// Show whether a transport has been granted entry at the border.
    Entry {
        #[command(flatten)]
        toll: TollArgs,
        mrn: String,
    },
    /// Check that the credentials reach the road API (Toll's test-auth).
    TestAuth {
        #[command(flatten)]
        toll: TollArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DocKindArg {
    Transport,
    Master,
    House,
}

impl From<DocKindArg> for digitoll_client::DocumentKind {
    fn from(k: DocKindArg) -> Self {
        match k {
            DocKindArg::Transport => Self::Transport,
            DocKindArg::Master => Self::MasterConsignment,
            DocKindArg::House => Self::HouseConsignment,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Print one JSON document with every step instead of progress lines.
    #[arg(long)]
    pub(crate) json: bool,
    /// Simulated Toll processing time per message, in milliseconds.
    #[arg(long, default_value_t = 300)]
    pub(crate) processing_ms: u64,
}
