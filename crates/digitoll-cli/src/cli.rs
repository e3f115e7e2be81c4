//! Command-line definitions. Doc comments are the help text.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use digitoll_client::DocumentKind;
use digitoll_model::{MessageKind, TransportMode};

/// digitoll: Norway's Digitoll customs APIs through Maskinporten, from onboarding to MRN.
#[derive(Debug, Parser)]
#[command(name = "digitoll", version, propagate_version = true)]
pub(crate) struct Cli {
    /// More log output on stderr (-v, -vv). RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// A contract profile (TOML): endpoint paths, rule severities and texts,
    /// simulator behaviour, to correct our reading of Toll's contract. Read
    /// by the commands that talk to Toll or validate, and by `sim`.
    /// `digitoll profile default` prints the built-in one. For `serve` it is
    /// the instance's profile for every tenant; a tenant's own profile
    /// (`digitoll tenants set-validation --contract-profile`) overrides its
    /// `[rules]` rule by rule.
    #[arg(long, value_name = "FILE", global = true, env = "DIGITOLL_PROFILE")]
    pub(crate) profile: Option<PathBuf>,
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
    /// Air messages (same commands as `road`; scope toll:movement/air).
    #[command(subcommand)]
    Air(Box<RoadCommand>),
    /// Rail messages (same commands as `road`; scope toll:movement/rail).
    #[command(subcommand)]
    Rail(Box<RoadCommand>),
    /// Maritime messages (same commands as `road`; scope toll:movement/maritime).
    #[command(subcommand)]
    Maritime(Box<RoadCommand>),
    /// Present goods at the border (presentation API, scope toll:movement/entry).
    Present(Box<PresentArgs>),
    /// Routing signals: where goods go after arrival (to entry or to control).
    #[command(subcommand)]
    Routing(Box<RoutingCommand>),
    /// Arrival of an unmanned crossing, and entry status.
    #[command(subcommand)]
    Arrival(Box<ArrivalCommand>),
    /// Upload supporting documents (invoices, waybills) to a declaration.
    #[command(subcommand)]
    Documents(Box<DocumentsCommand>),
    /// Run the whole chain on the built-in simulator: grant, Maskinporten
    /// token, Toll token, transport, master and house, MRNs, the linked tree,
    /// and entry at the border.
    Demo(DemoArgs),
    /// Every local validation rule with its effective severity (after
    /// `--profile`) and its source.
    Rules(RulesArgs),
    /// Contract profiles: print the built-in one, check a file.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Check Toll messages offline, with Toll's own rules and wording.
    /// Exit code 1 when any file would be rejected.
    Validate(ValidateArgs),
    /// Run the multi-tenant gateway: REST API under /v1, outbox workers,
    /// webhooks and Prometheus metrics, until Ctrl-C or SIGTERM.
    Serve(Box<ServeArgs>),
    /// Manage the gateway's tenants (customer organisations and their keys).
    #[command(subcommand)]
    Tenants(Box<TenantsCommand>),
    /// Manage the gateway's API keys (tenant keys and admin keys).
    #[command(name = "api-keys", subcommand)]
    ApiKeys(Box<ApiKeysCommand>),
    /// Check a Maskinporten + Toll setup step by step (configuration, key,
    /// certificate, clock, metadata, a token per scope, Toll exchange, API
    /// access), each with a fix. Exit 0 all good, 1 warnings, 2 failures.
    Doctor(Box<crate::cmd::doctor::DoctorArgs>),
    /// A guide from "we need Digitoll" to a working credentials file: scopes
    /// for your transport modes, the steps in Altinn, Samarbeidsportalen and
    /// Toll, the key pair, then the doctor. `--non-interactive` for scripts.
    Onboard(Box<crate::cmd::onboard::OnboardArgs>),
    /// Maskinporten clients through Digdir's self-service API (admin client).
    #[command(subcommand)]
    Clients(Box<crate::cmd::clients::ClientsCommand>),
    /// Load-test a gateway over loopback HTTP (a running one, or one started
    /// in this process with the simulator) and print a JSON report:
    /// requests per second, latency percentiles, time to MRN, memory.
    Bench(Box<crate::cmd::bench::BenchArgs>),
    /// Our model's OpenAPI documents, and their differences with Toll's
    /// (`spec diff --url|--file --api road`).
    #[command(subcommand)]
    Spec(Box<crate::cmd::spec::SpecCommand>),
    /// Where do Toll and our simulator differ? Runs a safe scripted scenario
    /// with your TEST credentials (tokens, probes, test-auth, transport,
    /// master and house to MRN, update, entry, routing, presentation, upload,
    /// deletes), runs it again on the built-in simulator, and compares every
    /// answer. Writes a transcript (secrets redacted) and suggests a profile.
    /// Exit 0 all matched, 1 differences, 2 could not run.
    Conformance(Box<crate::cmd::conformance::ConformanceArgs>),
}

#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCommand {
    /// Print the built-in profile as TOML, with every endpoint template as
    /// a comment.
    Default,
    /// Check a profile file; exit 2 with `file:line:column: message` when
    /// it cannot be used.
    Check {
        /// The profile (TOML).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Message files (JSON). The kind is detected from the fields unless --kind is given.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// The kind of message, when detection is not wanted.
    #[arg(long, value_enum)]
    pub(crate) kind: Option<KindArg>,
    /// Transport mode whose rules apply. Default: from a transport's
    /// `modeOfTransportCode`, else road.
    #[arg(long, value_enum)]
    pub(crate) mode: Option<ModeArg>,
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

/// `--mode`: the model's [`TransportMode`] as a clap value (its path
/// segment, `road`, `air`, `rail`, `maritime`), not a list of its own.
/// A clap value that wraps a library type instead of re-declaring its
/// variants: the values are `$all` (the type's own list), named by `$name`.
macro_rules! value_enum_over {
    ($(#[$doc:meta])* $arg:ident($ty:ty), $all:expr, $first:expr, $name:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) struct $arg(pub(crate) $ty);

        impl ValueEnum for $arg {
            fn value_variants<'a>() -> &'a [Self] {
                const VALUES: [$arg; $all.len()] = {
                    let all = $all;
                    let mut out = [$arg($first); $all.len()];
                    let mut i = 0;
                    while i < all.len() {
                        out[i] = $arg(all[i]);
                        i += 1;
                    }
                    out
                };
                &VALUES
            }

            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                let name: fn($ty) -> &'static str = $name;
                Some(clap::builder::PossibleValue::new(name(self.0)))
            }
        }

        impl From<$arg> for $ty {
            fn from(a: $arg) -> Self {
                a.0
            }
        }
    };
}

value_enum_over!(
    /// `--mode`: the model's [`TransportMode`] as a clap value (its path
    /// segment, `road`, `air`, `rail`, `maritime`), not a list of its own.
    ModeArg(TransportMode),
    TransportMode::ALL,
    TransportMode::Road,
    TransportMode::path_segment
);

impl std::fmt::Display for ModeArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The CLI's short name of a kind: the model's path segment without
/// `-consignment` (`transport`, `master`, `house`, `relation`, `delete`).
fn short_kind_name(kind: MessageKind) -> &'static str {
    kind.path_segment().trim_end_matches("-consignment")
}

value_enum_over!(
    /// `--kind` of `validate`: the model's [`MessageKind`] as a clap value.
    KindArg(MessageKind),
    MessageKind::ALL,
    MessageKind::Transport,
    short_kind_name
);

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
    /// Answer from a transcript written by `digitoll conformance`: recorded
    /// requests get the recorded answers (MRNs and requestIds as recorded),
    /// anything else 599 naming the closest recorded request.
    #[arg(long, value_name = "TRANSCRIPT")]
    pub(crate) replay: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make an RSA key pair and the public JWK to upload to a Maskinporten
    /// client in Samarbeidsportalen. The private key is written owner-only (0600).
    Generate(KeysGenerateArgs),
    /// Rotate a registered key without downtime: register a new key next to
    /// the old one, wait until Maskinporten accepts it, switch the credentials
    /// file, then remove the old key after a grace period.
    Rotate(Box<crate::cmd::clients::KeysRotateArgs>),
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
        #[arg(long, value_enum, default_value_t = DocKindArg(DocumentKind::Transport))]
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

value_enum_over!(
    /// `--kind` of the movement commands: the client's [`DocumentKind`] (the
    /// model's kinds that are documents) as a clap value.
    DocKindArg(DocumentKind),
    DocumentKind::ALL,
    DocumentKind::Transport,
    |k| short_kind_name(k.message_kind())
);

impl std::fmt::Display for DocKindArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(short_kind_name(self.0.message_kind()))
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

#[derive(Debug, Args)]
pub(crate) struct PresentArgs {
    #[command(flatten)]
    pub(crate) toll: TollArgs,
    /// What is presented.
    #[arg(value_enum)]
    pub(crate) kind: PresentKindArg,
    /// The presentation body (JSON). Without `requestId`, one is generated and
    /// printed: re-running with the same id is safe (Toll answers "already used").
    pub(crate) file: PathBuf,
    /// The requestId to use (overrides the file's).
    #[arg(long)]
    pub(crate) request_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PresentKindArg {
    House,
    Master,
    Container,
    Receptacle,
    /// An ICS2 entry summary declaration (ENS) MRN.
    Ens,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RoutingCommand {
    /// Print routing signals as they come, resuming from a saved cursor so a
    /// restart neither loses nor repeats signals.
    Follow {
        #[command(flatten)]
        toll: TollArgs,
        /// Which feed.
        #[arg(long, value_enum, default_value_t = FeedArg::House)]
        feed: FeedArg,
        /// Where the cursor (the last signal read) is kept.
        #[arg(long, value_name = "FILE", default_value = "routing-cursor.json")]
        cursor: PathBuf,
        /// Stop when the feed is caught up instead of polling for more.
        #[arg(long)]
        once: bool,
        /// Seconds between polls once caught up.
        #[arg(long, default_value_t = 10)]
        interval: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FeedArg {
    House,
    Transport,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ArrivalCommand {
    /// Report an arrival (needs Toll's permit for unmanned crossings) and wait for the result.
    Submit {
        #[command(flatten)]
        toll: TollArgs,
        /// The arrival body (transportMRN, timeOfArrival, customsOfficeOfArrival).
        file: PathBuf,
    },
    /// Entry status of a transport in any mode.
    Entry {
        #[command(flatten)]
        toll: TollArgs,
        mrn: String,
        #[arg(long, value_enum, default_value_t = ModeArg(TransportMode::Road))]
        mode: ModeArg,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DocumentsCommand {
    /// Upload a file (pdf, jpg, png, txt, docx, xlsx; at most 10 MB) to a declaration.
    Upload {
        #[command(flatten)]
        toll: TollArgs,
        /// The TVINN declaration id: <declarant number>-<ddmmyyyy>-<sequence>.
        declaration_id: String,
        /// The file. Its type is checked by content, not only by name.
        file: PathBuf,
        /// Document type: faktura/invoice, tillatelser/permits, fraktregning/freight-invoice,
        /// opprinnelsesdokumentasjon/proof-of-origin, fraktbrev/waybill,
        /// eksportdokumentasjon/export-documentation.
        #[arg(long = "type", value_name = "TYPE")]
        document_type: String,
    },
}

/// Where the gateway's database and master key are.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// Database: `sqlite://path?mode=rwc`, a file path, or `postgres://…`.
    #[arg(
        long,
        env = "DIGITOLL_DATABASE_URL",
        default_value = "sqlite://digitoll.db?mode=rwc"
    )]
    pub(crate) database: String,
    /// File with the operator's master key (base64 of 32 bytes) that seals
    /// tenant secrets. `DIGITOLL_MASTER_KEY` (the key itself) takes precedence.
    #[arg(
        long,
        env = "DIGITOLL_MASTER_KEY_FILE",
        default_value = "digitoll-master.key"
    )]
    pub(crate) master_key_file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "DIGITOLL_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// First run: create the master key file (mode 0600) if missing and an
    /// admin API key, printed once.
    #[arg(long)]
    pub(crate) init: bool,
    /// Worker tasks in this process (0: API only).
    #[arg(long, env = "DIGITOLL_WORKERS", default_value_t = 4)]
    pub(crate) workers: usize,
    /// Name of this instance's workers (lease owner); default: host name and pid.
    #[arg(long, env = "DIGITOLL_WORKER_NAME")]
    pub(crate) worker_name: Option<String>,
    /// Start the built-in simulator (Maskinporten + Toll) and point tenants
    /// with environment `sim` at it.
    #[arg(long)]
    pub(crate) sim: bool,
    /// Address of the built-in simulator (with --sim).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub(crate) sim_listen: SocketAddr,
    /// Sustained requests per second per tenant.
    #[arg(long, default_value_t = 50)]
    pub(crate) rate_limit: u32,
    /// Burst above the sustained rate per tenant.
    #[arg(long, default_value_t = 100)]
    pub(crate) burst: u32,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 2 * 1024 * 1024)]
    pub(crate) max_body_bytes: usize,
    /// Store connections (PostgreSQL pool, or SQLite read pool).
    #[arg(long, default_value_t = 8)]
    pub(crate) db_connections: u32,
    /// Lease of a claimed job in seconds: after a crash, the jobs this
    /// instance held are taken over by a running instance (or this one after
    /// a restart) once their lease has run out.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) job_lease_secs: u64,
    /// Emit logs as JSON lines.
    #[arg(long)]
    pub(crate) json_logs: bool,
}

/// A tenant's validation mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ValidationModeArg {
    /// Local validation refuses what it rejects (422, nothing stored or sent).
    Strict,
    /// Local findings are stored and shown as warnings; the message is sent and Toll judges.
    Advisory,
    /// No local rule checks (a body that is not JSON or not its kind is still refused).
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TenantEnvArg {
    Prod,
    Test,
    Sim,
}

/// How a tenant signs grants: generated key (default), a .p12, or an existing PEM key.
#[derive(Debug, Args)]
pub(crate) struct TenantKeyArgs {
    /// Import the customer's business certificate (.p12/.pfx); grants carry x5c.
    #[arg(long, value_name = "FILE", conflicts_with = "key_pem")]
    pub(crate) p12: Option<PathBuf>,
    /// Password of the .p12 (prefer the environment variable).
    #[arg(
        long,
        env = "DIGITOLL_P12_PASSWORD",
        hide_env_values = true,
        requires = "p12"
    )]
    pub(crate) p12_password: Option<String>,
    /// Import an existing RSA private key (PEM) already registered under --kid.
    #[arg(long, value_name = "FILE", requires = "kid")]
    pub(crate) key_pem: Option<PathBuf>,
    /// The kid the --key-pem key is registered under.
    #[arg(long)]
    pub(crate) kid: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TenantsCommand {
    /// Register a tenant. Without --p12/--key-pem a key pair is generated and
    /// its public JWK printed, to upload to the tenant's Maskinporten client.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// Organisation number (9 digits).
        #[arg(long)]
        org: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Environment.
        #[arg(long = "env", value_enum)]
        environment: TenantEnvArg,
        /// The Maskinporten client id.
        #[arg(long)]
        client_id: String,
        /// Scopes the client holds (repeat).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Custom Maskinporten issuer (a sim tenant's simulator URL unless `serve --sim`).
        #[arg(long)]
        issuer_url: Option<String>,
        #[command(flatten)]
        key: TenantKeyArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one tenant (never its secrets).
    Show {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant id.
        id: String,
    },
    /// Replace a tenant's key: a new generated pair (default) or a renewed certificate.
    RotateKey {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant id.
        id: String,
        #[command(flatten)]
        key: TenantKeyArgs,
    },
    /// Disable a tenant: its API keys answer 403 and its jobs stop.
    Disable {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant id.
        id: String,
    },
    /// Enable a disabled tenant again.
    Enable {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant id.
        id: String,
    },
    /// Remove a tenant that has no messages, jobs or keys left.
    Remove {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant id.
        id: String,
    },
    /// Set a tenant's validation mode and/or its contract profile.
    SetValidation {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant id.
        id: String,
        /// strict (default for new tenants), advisory or off.
        #[arg(long, value_enum)]
        mode: Option<ValidationModeArg>,
        /// The tenant's contract profile (TOML), checked before it is stored.
        #[arg(long, value_name = "FILE", conflicts_with = "no_contract_profile")]
        contract_profile: Option<PathBuf>,
        /// Remove the tenant's contract profile (the instance's applies alone).
        #[arg(long)]
        no_contract_profile: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApiKeysCommand {
    /// Create an API key for a tenant (or --admin) and print it once.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The tenant the key acts for.
        #[arg(long, required_unless_present = "admin", conflicts_with = "admin")]
        tenant: Option<String>,
        /// An operator key for /v1/admin.
        #[arg(long)]
        admin: bool,
        /// A label to tell keys apart.
        #[arg(long, default_value = "default")]
        label: String,
    },
    /// List keys (prefixes and labels; the keys themselves are not stored).
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, required_unless_present = "admin", conflicts_with = "admin")]
        tenant: Option<String>,
        #[arg(long)]
        admin: bool,
    },
    /// Revoke a key by its id.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// The key's id (from `api-keys list`).
        id: String,
        #[arg(long, required_unless_present = "admin", conflicts_with = "admin")]
        tenant: Option<String>,
        #[arg(long)]
        admin: bool,
    },
}
