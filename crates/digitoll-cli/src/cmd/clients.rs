//! `digitoll clients …` and `digitoll keys rotate`: Digdir's self-service API
//! through an admin client (identity flags / `--credentials` of the admin
//! client, which needs the idporten:dcr.* scopes).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use maskinporten::selfservice::{
    Jwk, NewClient, RotationConfig, SelfServiceClient, SelfServiceEnvironment, key_expiry,
    rotate_key,
};
use maskinporten::{RotatingSigner, RsaKey, RsaSigner, Signer, TokenRequest};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::cli::IdentityArgs;
use crate::identity::Identity;
use crate::output::{self, outln};

/// `digitoll clients …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientsCommand {
    /// List the organisation's Maskinporten clients.
    List(AdminArgs),
    /// Create a Maskinporten client (private_key_jwt, JWT-bearer grant) with scopes.
    Create {
        #[command(flatten)]
        admin: AdminArgs,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long, default_value = "Digitoll integration (digitoll)")]
        description: String,
        /// Scope to register (repeatable).
        #[arg(long = "scope", short = 's')]
        scopes: Vec<String>,
    },
    /// Add or remove scopes on a client.
    #[command(subcommand)]
    Scopes(ScopesCommand),
    /// List or upload a client's public keys.
    #[command(subcommand)]
    Keys(ClientKeysCommand),
}

/// `digitoll clients scopes …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ScopesCommand {
    /// Add scopes to a client.
    Add {
        #[command(flatten)]
        admin: AdminArgs,
        /// The client to change.
        client: String,
        /// Scope to add (repeatable).
        #[arg(long = "scope", short = 's', required = true)]
        scopes: Vec<String>,
    },
    /// Remove scopes from a client.
    Remove {
        #[command(flatten)]
        admin: AdminArgs,
        /// The client to change.
        client: String,
        /// Scope to remove (repeatable).
        #[arg(long = "scope", short = 's', required = true)]
        scopes: Vec<String>,
    },
}

/// `digitoll clients keys …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientKeysCommand {
    /// Show a client's keys with their expiry (keys live one year after upload).
    List {
        #[command(flatten)]
        admin: AdminArgs,
        /// The client.
        client: String,
        /// Warn about keys expiring within this many days.
        #[arg(long, default_value_t = 30)]
        warn_days: i64,
    },
    /// Upload a public JWK (or a JWKS file): added next to the registered keys
    /// (at most 5), or replacing them all with --replace.
    Upload {
        #[command(flatten)]
        admin: AdminArgs,
        /// The client.
        client: String,
        /// A public JWK or JWKS file, as written by `digitoll keys generate`.
        file: PathBuf,
        /// Replace the whole key set instead of adding.
        #[arg(long)]
        replace: bool,
    },
}

/// The admin client and output format.
#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    #[command(flatten)]
    pub(crate) identity: IdentityArgs,
    /// The self-service API base URL (default: follows the Maskinporten
    /// environment: api[.test].samarbeid.digdir.no/api/v1/, or the simulator's).
    #[arg(long, env = "DIGITOLL_SELFSERVICE_URL")]
    pub(crate) api: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `digitoll keys rotate`.
#[derive(Debug, Args)]
pub(crate) struct KeysRotateArgs {
    /// The credentials file of the client whose key is rotated; it is updated
    /// to the new key once Maskinporten accepts it.
    #[arg(long, value_name = "FILE")]
    pub(crate) credentials: PathBuf,
    /// The admin client's credentials file (idporten:dcr.* scopes).
    #[arg(long, value_name = "FILE")]
    pub(crate) admin_credentials: PathBuf,
    /// The self-service API base URL (default: follows the environment).
    #[arg(long)]
    pub(crate) api: Option<String>,
    /// Scope used to test the new key (default: the first of the file's `scopes`).
    #[arg(long)]
    pub(crate) probe_scope: Option<String>,
    /// Seconds to wait for Maskinporten to accept the new key (Digdir: 0–2 minutes).
    #[arg(long, default_value_t = 150)]
    pub(crate) timeout: u64,
    /// Seconds between attempts with the new key.
    #[arg(long, default_value_t = 2)]
    pub(crate) poll: u64,
    /// Seconds the old key stays registered after the switch (other processes
    /// still using the old credentials need this long to pick up the new file).
    #[arg(long, default_value_t = 300)]
    pub(crate) grace: u64,
    /// Key size of the new key.
    #[arg(long, default_value_t = 2048)]
    pub(crate) bits: u32,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

fn admin_api(identity: &IdentityArgs, api: Option<&str>) -> anyhow::Result<SelfServiceClient> {
    let admin = Identity::from_args(identity).context("admin client")?;
    let env = match api {
        Some(url) => SelfServiceEnvironment::Custom(
            url::Url::parse(url).with_context(|| format!("--api {url:?} is not a URL"))?,
        ),
        None => SelfServiceEnvironment::for_maskinporten(&admin.env)?,
    };
    Ok(SelfServiceClient::new(env, Arc::new(admin.client()?))?)
}

fn scopes_of(list: &[String]) -> Vec<String> {
    list.iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_owned)
        .collect()
}

fn fail(e: &maskinporten::selfservice::SelfServiceError, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        output::json(&json!({ "error": e.to_string() }))?;
    } else {
        eprintln!("error: {e}");
    }
    Ok(ExitCode::from(1))
}

pub(crate) async fn run(cmd: ClientsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ClientsCommand::List(admin) => {
            let api = admin_api(&admin.identity, admin.api.as_deref())?;
            match api.list_clients().await {
                Ok(list) if admin.json => output::json(&list).map(|()| ExitCode::SUCCESS),
                Ok(list) => {
                    for c in &list {
                        outln!(
                            "{}  {}  scopes: {}",
                            c.client_id,
                            c.client_name.as_deref().unwrap_or("(no name)"),
                            c.scopes.join(" ")
                        );
                    }
                    if list.is_empty() {
                        outln!("(no clients)");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => fail(&e, admin.json),
            }
        }
        ClientsCommand::Create {
            admin,
            name,
            description,
            scopes,
        } => {
            let api = admin_api(&admin.identity, admin.api.as_deref())?;
            let new = NewClient::new(name, description, scopes_of(&scopes));
            match api.create_maskinporten_client(&new).await {
                Ok(c) if admin.json => output::json(&c).map(|()| ExitCode::SUCCESS),
                Ok(c) => {
                    outln!("Created client {}", c.client_id);
                    outln!("  scopes: {}", c.scopes.join(" "));
                    outln!(
                        "Next: digitoll keys generate, then digitoll clients keys upload {} <name>.jwk.json",
                        c.client_id
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => fail(&e, admin.json),
            }
        }
        ClientsCommand::Scopes(ScopesCommand::Add {
            admin,
            client,
            scopes,
        }) => {
            let api = admin_api(&admin.identity, admin.api.as_deref())?;
            let scopes = scopes_of(&scopes);
            let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
            match api.add_scopes(client.trim(), &refs).await {
                Ok(c) => print_client_scopes(&c, admin.json),
                Err(e) => fail(&e, admin.json),
            }
        }
        ClientsCommand::Scopes(ScopesCommand::Remove {
            admin,
            client,
            scopes,
        }) => {
            let api = admin_api(&admin.identity, admin.api.as_deref())?;
            let scopes = scopes_of(&scopes);
            let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
            match api.remove_scopes(client.trim(), &refs).await {
                Ok(c) => print_client_scopes(&c, admin.json),
                Err(e) => fail(&e, admin.json),
            }
        }
        ClientsCommand::Keys(ClientKeysCommand::List {
            admin,
            client,
            warn_days,
        }) => {
            let api = admin_api(&admin.identity, admin.api.as_deref())?;
            let keys = match api.get_jwks(client.trim()).await {
                Ok(k) => k,
                Err(e) => return fail(&e, admin.json),
            };
            let expiry = key_expiry(
                &keys,
                time::OffsetDateTime::now_utc(),
                time::Duration::days(warn_days),
            );
            let worst = expiry.iter().any(|e| {
                matches!(
                    e.status,
                    maskinporten::selfservice::ExpiryStatus::Expired
                        | maskinporten::selfservice::ExpiryStatus::ExpiresSoon
                )
            });
            if admin.json {
                output::json(&json!({ "keys": keys, "expiry": expiry }))?;
            } else {
                for e in &expiry {
                    let when = e
                        .expires_at
                        .map(output::instant)
                        .unwrap_or_else(|| "unknown".into());
                    let note = match e.status {
                        maskinporten::selfservice::ExpiryStatus::Expired => {
                            "EXPIRED: Maskinporten answers MP-121; run `digitoll keys rotate`"
                        }
                        maskinporten::selfservice::ExpiryStatus::ExpiresSoon => {
                            "expires soon: run `digitoll keys rotate`"
                        }
                        _ => "",
                    };
                    outln!(
                        "{}  expires {when} ({} days left)  {note}",
                        e.kid,
                        e.days_left.map(|d| d.to_string()).unwrap_or("?".into())
                    );
                }
                if keys.is_empty() {
                    outln!("(no keys registered)");
                }
            }
            Ok(if worst {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        ClientsCommand::Keys(ClientKeysCommand::Upload {
            admin,
            client,
            file,
            replace,
        }) => {
            let api = admin_api(&admin.identity, admin.api.as_deref())?;
            let keys = read_jwks(&file)?;
            let result = if replace {
                api.replace_jwks(client.trim(), &keys).await
            } else {
                let mut last = Ok(Vec::new());
                for k in keys {
                    last = api.add_key(client.trim(), k).await;
                    if last.is_err() {
                        break;
                    }
                }
                last
            };
            match result {
                Ok(keys) if admin.json => {
                    output::json(&json!({ "keys": keys })).map(|()| ExitCode::SUCCESS)
                }
                Ok(keys) => {
                    outln!("Client {} now has {} key(s):", client.trim(), keys.len());
                    for k in &keys {
                        outln!(
                            "  {} (expires {})",
                            k.kid,
                            k.expires_at()
                                .map(output::instant)
                                .unwrap_or_else(|| "?".into())
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => fail(&e, admin.json),
            }
        }
    }
}

fn print_client_scopes(
    c: &maskinporten::selfservice::ClientInfo,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if json {
        output::json(c)?;
    } else {
        outln!("Client {} scopes: {}", c.client_id, c.scopes.join(" "));
        outln!("(each Toll scope also needs Toll's grant to your organisation)");
    }
    Ok(ExitCode::SUCCESS)
}

/// A JWK file or a JWKS file (`{"keys":[…]}`); private members are refused.
fn read_jwks(path: &Path) -> anyhow::Result<Vec<Jwk>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let items = match v.get("keys") {
        Some(Value::Array(keys)) => keys.clone(),
        _ => vec![v],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            if k.get("d").is_some() {
                bail!(
                    "{}: key {i} is a PRIVATE key (has \"d\"); upload only the public JWK",
                    path.display()
                );
            }
            serde_json::from_value::<Jwk>(k)
                .with_context(|| format!("{}: key {i} is not a JWK", path.display()))
        })
        .collect()
}

/// `digitoll keys rotate`.
pub(crate) async fn rotate(args: KeysRotateArgs) -> anyhow::Result<ExitCode> {
    let creds_path = &args.credentials;
    let mut file: Value = serde_json::from_str(
        &std::fs::read_to_string(creds_path)
            .with_context(|| format!("cannot read {}", creds_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", creds_path.display()))?;
    let target = Identity::from_args(&IdentityArgs::from_file(creds_path.clone()))
        .context("the client to rotate")?;
    if target.signer.certificate().is_some() {
        bail!(
            "{} uses a business certificate (x5c); only registered keys (kid) are rotated",
            creds_path.display()
        );
    }
    let admin = IdentityArgs::from_file(args.admin_credentials.clone());
    let api = admin_api(&admin, args.api.as_deref())?;

    let probe_scope = args
        .probe_scope
        .clone()
        .or_else(|| {
            file.get("scopes")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .context("no scope to test the new key with: pass --probe-scope")?;

    // The new key: written next to the old one, owner-only.
    let key = RsaKey::generate(args.bits).context("generating the new key")?;
    let kid = key.thumbprint();
    let jwk: Jwk = key
        .public_jwk(maskinporten::Algorithm::RS256, &kid)
        .try_into()?;
    let dir = creds_path.parent().unwrap_or(Path::new("."));
    let key_name = format!("key-{}.pem", &kid[..12.min(kid.len())]);
    // Replaces a key file of the same kid (its behaviour so far).
    digitoll_fs::write_private(
        &dir.join(&key_name),
        key.to_pkcs8_pem()?.expose_secret().as_bytes(),
        true,
    )?;
    let new_signer: Arc<dyn Signer> = Arc::new(RsaSigner::with_kid(key, kid.clone()));

    let rotating = Arc::new(RotatingSigner::new(target.signer.clone()));
    let client = maskinporten::MaskinportenClient::builder(
        target.env.clone(),
        target.client_id.clone(),
        rotating.clone(),
    )
    .build()?;
    let mut config = RotationConfig::new(TokenRequest::for_scopes([probe_scope.as_str()])?);
    config.propagation_timeout = Duration::from_secs(args.timeout);
    config.poll_interval = Duration::from_secs(args.poll.max(1));
    config.grace_period = Duration::ZERO; // the file is switched first, then we wait below
    config.remove_old = false;
    if !args.json {
        outln!(
            "Registering key {kid} next to the old one and waiting for Maskinporten to accept it…"
        );
    }
    let report = match rotate_key(&api, &client, &rotating, new_signer, jwk, &config).await {
        Ok(r) => r,
        Err(e) => return fail(&e, args.json),
    };
    // Switch the credentials file to the new key (atomically: write, then rename).
    let old_kid = report.old_kid.clone();
    file["kid"] = json!(kid);
    file["key_file"] = json!(key_name);
    let expires = report
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .and_then(Jwk::expires_at)
        .map(output::instant);
    file["key_expires_at"] = json!(expires);
    let tmp = creds_path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&file)? + "\n")
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, creds_path)
        .with_context(|| format!("cannot replace {}", creds_path.display()))?;
    if !args.json {
        outln!(
            "✓ Maskinporten accepted the new key after {:.1} s; {} now uses it",
            report.propagation.as_secs_f64(),
            creds_path.display()
        );
    }
    // Grace period, then remove the old key.
    let mut removed = false;
    if let Some(old) = old_kid.as_deref().filter(|o| *o != kid) {
        if args.grace > 0 && !args.json {
            outln!(
                "Keeping the old key {old} for {} s for processes still using it…",
                args.grace
            );
        }
        tokio::time::sleep(Duration::from_secs(args.grace)).await;
        match api.remove_key(&target.client_id, old).await {
            Ok(_) => removed = true,
            Err(e) => {
                eprintln!("warning: could not remove the old key {old}: {e}");
            }
        }
    }
    if args.json {
        output::json(&json!({
            "client_id": target.client_id,
            "old_kid": old_kid,
            "new_kid": kid,
            "key_file": key_name,
            "propagation_ms": report.propagation.as_millis() as u64,
            "probes": report.probes,
            "old_removed": removed,
            "key_expires_at": expires,
        }))?;
    } else if removed {
        outln!("✓ Old key {} removed", old_kid.unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}

impl IdentityArgs {
    /// Identity flags that only name a credentials file (for commands that
    /// take a second identity, such as the admin client).
    pub(crate) fn from_file(path: PathBuf) -> Self {
        Self {
            credentials: Some(path),
            env: None,
            issuer: None,
            client_id: None,
            key: None,
            kid: None,
            cert_chain: None,
            key_passphrase: None,
            p12: None,
            p12_password: std::env::var("DIGITOLL_P12_PASSWORD").ok(),
            alg: None,
        }
    }
}
