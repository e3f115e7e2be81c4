//! `digitoll tenants …` and `digitoll api-keys …`: the gateway's tenants and
//! API keys, directly in the store (the same operations exist over the admin API).

use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use digitoll_gateway::keys::{self, PreparedKey};
use digitoll_store::{
    ApiKeyId, ApiKeyScope, Environment, MasterKey, NewAuditEntry, NewTenant, Store, StoreOptions,
    Tenant, TenantId, TenantUpdate, ValidationMode,
};
use secrecy::SecretString;

use crate::cli::{
    ApiKeysCommand, StoreArgs, TenantEnvArg, TenantKeyArgs, TenantsCommand, ValidationModeArg,
};
use crate::output::{instant, json, outln};

const MASTER_KEY_ENV: &str = "DIGITOLL_MASTER_KEY";

/// Reads the master key from `DIGITOLL_MASTER_KEY` or the key file; with
/// `create`, writes a new random key to the file (mode 0600) when neither exists.
pub(crate) fn master_key(args: &StoreArgs, create: bool) -> anyhow::Result<MasterKey> {
    if let Ok(b64) = std::env::var(MASTER_KEY_ENV) {
        return MasterKey::from_base64(b64.trim())
            .map_err(|e| anyhow!("{MASTER_KEY_ENV} is not base64 of 32 bytes: {e}"));
    }
    let path = &args.master_key_file;
    match std::fs::read_to_string(path) {
        Ok(text) => MasterKey::from_base64(text.trim())
            .map_err(|e| anyhow!("{}: not base64 of 32 bytes: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let mut raw = [0u8; 32];
            aws_lc_rs::rand::fill(&mut raw).map_err(|_| anyhow!("no system randomness"))?;
            let text = base64::engine::general_purpose::STANDARD.encode(raw);
            // Never replace a master key: tenant keys sealed under it would be lost.
            digitoll_fs::write_private(path, text.as_bytes(), false)?;
            eprintln!(
                "created the master key file {} (mode 0600). Back it up: without it, tenant keys cannot be opened.",
                path.display()
            );
            MasterKey::from_base64(&text).map_err(|e| anyhow!("{e}"))
        }
        Err(e) => Err(anyhow!(
            "cannot read the master key file {}: {e}. Set {MASTER_KEY_ENV}, pass --master-key-file, \
             or run `digitoll serve --init` to create one",
            path.display()
        )),
    }
}

pub(crate) async fn open_store(
    args: &StoreArgs,
    create_key: bool,
    max_connections: u32,
) -> anyhow::Result<Store> {
    let key = master_key(args, create_key)?;
    Store::connect(
        &args.database,
        StoreOptions::new(key).max_connections(max_connections),
    )
    .await
    .with_context(|| format!("cannot open the database {}", redact_url(&args.database)))
}

/// A database URL without its password, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn tenant_id(s: &str) -> anyhow::Result<TenantId> {
    s.parse()
        .map_err(|_| anyhow!("{s:?} is not a tenant id (a UUID from `digitoll tenants list`)"))
}

fn prepare_key(k: &TenantKeyArgs, org: &str) -> anyhow::Result<PreparedKey> {
    if let Some(path) = &k.p12 {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let password = SecretString::from(k.p12_password.clone().ok_or_else(|| {
            anyhow!("--p12 needs its password: set DIGITOLL_P12_PASSWORD or --p12-password")
        })?);
        return keys::import_pkcs12(bytes, password, Some(org))
            .with_context(|| format!("{}", path.display()));
    }
    if let Some(path) = &k.key_pem {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let kid = k
            .kid
            .as_deref()
            .ok_or_else(|| anyhow!("--key-pem needs --kid"))?;
        return keys::import_private_key(SecretString::from(pem), kid)
            .with_context(|| format!("{}", path.display()));
    }
    keys::generate_key_pair().map_err(Into::into)
}

fn print_tenant(t: &Tenant) {
    outln!("tenant       {}", t.id);
    outln!("org number   {}", t.org_number);
    outln!("name         {}", t.name);
    outln!("environment  {}", t.environment);
    if let Some(u) = &t.issuer_url {
        outln!("issuer       {u}");
    }
    outln!("client id    {}", t.client_id);
    outln!(
        "key          {}{}",
        t.key_kind,
        t.kid
            .as_deref()
            .map(|k| format!(" (kid {k})"))
            .unwrap_or_default()
    );
    outln!("scopes       {}", t.scopes.join(" "));
    outln!("enabled      {}", t.enabled);
    outln!("validation   {}", t.validation_mode);
    match &t.contract_profile {
        Some(p) => outln!(
            "profile      {}",
            p.trim_end().replace('\n', "\n             ")
        ),
        None => outln!("profile      (none: the instance's profile alone)"),
    }
    outln!("created      {}", instant(t.created_at));
}

fn print_prepared(
    public_jwk: Option<&serde_json::Value>,
    certificate: Option<&serde_json::Value>,
) -> anyhow::Result<()> {
    if let Some(jwk) = public_jwk {
        outln!(
            "\nUpload this public JWK to the tenant's Maskinporten client (Samarbeidsportalen → the client → Keys):"
        );
        outln!("{}", serde_json::to_string_pretty(jwk)?);
    }
    if let Some(cert) = certificate {
        outln!("\nBusiness certificate:");
        outln!("{}", serde_json::to_string_pretty(cert)?);
    }
    Ok(())
}

async fn audit(store: &Store, tenant: Option<TenantId>, action: &str, detail: serde_json::Value) {
    let _ = store
        .audit(NewAuditEntry {
            tenant_id: tenant,
            actor: "cli".into(),
            action: action.into(),
            detail,
        })
        .await;
}

pub(crate) async fn run(cmd: TenantsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TenantsCommand::Add {
            store,
            org,
            name,
            environment,
            client_id,
            scopes,
            issuer_url,
            key,
            json: as_json,
        } => {
            let db = open_store(&store, true, 2).await?;
            let environment = match environment {
                TenantEnvArg::Prod => Environment::Prod,
                TenantEnvArg::Test => Environment::Test,
                TenantEnvArg::Sim => Environment::Sim,
            };
            // A sim tenant without an issuer uses `digitoll sim`'s default
            // address; `digitoll serve --sim` overrides it with its own simulator.
            let issuer_url = match (environment, issuer_url) {
                (Environment::Sim, None) => Some("http://127.0.0.1:4100/".to_owned()),
                (_, u) => u,
            };
            let prepared = prepare_key(&key, &org)?;
            let public_jwk = prepared.public_jwk.clone();
            let certificate = prepared.certificate.clone();
            let tenant = db
                .create_tenant(NewTenant {
                    org_number: org,
                    name,
                    environment,
                    issuer_url,
                    client_id,
                    key: prepared.key,
                    scopes,
                })
                .await?;
            audit(
                &db,
                Some(tenant.id),
                "tenant.create",
                serde_json::json!({"key_kind": tenant.key_kind}),
            )
            .await;
            if as_json {
                json(
                    &serde_json::json!({"tenant": tenant, "public_jwk": public_jwk, "certificate": certificate}),
                )?;
            } else {
                print_tenant(&tenant);
                print_prepared(public_jwk.as_ref(), certificate.as_ref())?;
                outln!(
                    "\nNext: digitoll api-keys create --tenant {} --label erp",
                    tenant.id
                );
            }
            db.close().await;
        }
        TenantsCommand::List {
            store,
            json: as_json,
        } => {
            let db = open_store(&store, false, 2).await?;
            let tenants = db.tenants().await?;
            if as_json {
                json(&tenants)?;
            } else if tenants.is_empty() {
                outln!("no tenants; add one with `digitoll tenants add`");
            } else {
                for t in tenants {
                    outln!(
                        "{}  {}  {:<4}  {}  {:<8}  {}{}",
                        t.id,
                        t.org_number,
                        t.environment,
                        t.key_kind,
                        t.validation_mode,
                        t.name,
                        if t.enabled { "" } else { "  (disabled)" }
                    );
                }
            }
            db.close().await;
        }
        TenantsCommand::Show { store, id } => {
            let db = open_store(&store, false, 2).await?;
            let t = db.tenant(tenant_id(&id)?).await?;
            print_tenant(&t);
            if let Some(jwk) = &t.public_jwk {
                outln!("public JWK   {}", serde_json::to_string(jwk)?);
            }
            db.close().await;
        }
        TenantsCommand::RotateKey { store, id, key } => {
            let db = open_store(&store, false, 2).await?;
            let id = tenant_id(&id)?;
            let t = db.tenant(id).await?;
            let prepared = prepare_key(&key, &t.org_number)?;
            let public_jwk = prepared.public_jwk.clone();
            let certificate = prepared.certificate.clone();
            let t = db.set_tenant_key(id, prepared.key).await?;
            audit(
                &db,
                Some(id),
                "tenant.rotate_key",
                serde_json::json!({"key_kind": t.key_kind}),
            )
            .await;
            outln!("key of tenant {id} replaced ({}).", t.key_kind);
            outln!(
                "Running gateways pick it up within 10 minutes, or at once after a Maskinporten configuration error."
            );
            print_prepared(public_jwk.as_ref(), certificate.as_ref())?;
            db.close().await;
        }
        TenantsCommand::SetValidation {
            store,
            id,
            mode,
            contract_profile,
            no_contract_profile,
        } => {
            let profile = match (&contract_profile, no_contract_profile) {
                (Some(path), _) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    // Checked here with the file's name in the error (file:line:column).
                    digitoll_model::ContractProfile::from_toml(&text, &path.display().to_string())
                        .map_err(|e| anyhow!("{e}"))?;
                    Some(Some(text))
                }
                (None, true) => Some(None),
                (None, false) => None,
            };
            if mode.is_none() && profile.is_none() {
                bail!("give --mode, --contract-profile FILE or --no-contract-profile");
            }
            let mode = mode.map(|m| match m {
                ValidationModeArg::Strict => ValidationMode::Strict,
                ValidationModeArg::Advisory => ValidationMode::Advisory,
                ValidationModeArg::Off => ValidationMode::Off,
            });
            let db = open_store(&store, false, 2).await?;
            let id = tenant_id(&id)?;
            let changed = profile.is_some();
            let t = db
                .update_tenant(
                    id,
                    TenantUpdate {
                        validation_mode: mode,
                        contract_profile: profile,
                        ..TenantUpdate::default()
                    },
                )
                .await?;
            audit(
                &db,
                Some(id),
                "tenant.update",
                serde_json::json!({"validation_mode": t.validation_mode, "contract_profile_changed": changed}),
            )
            .await;
            print_tenant(&t);
            outln!("(running gateways apply this within 30 seconds)");
            db.close().await;
        }
        TenantsCommand::Disable { store, id } => set_enabled(&store, &id, false).await?,
        TenantsCommand::Enable { store, id } => set_enabled(&store, &id, true).await?,
        TenantsCommand::Remove { store, id } => {
            let db = open_store(&store, false, 2).await?;
            let id = tenant_id(&id)?;
            db.delete_tenant(id).await.with_context(|| {
                format!("tenant {id} still has messages, jobs or keys; disable it instead")
            })?;
            audit(
                &db,
                None,
                "tenant.remove",
                serde_json::json!({"tenant": id}),
            )
            .await;
            outln!("tenant {id} removed");
            db.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_enabled(store: &StoreArgs, id: &str, enabled: bool) -> anyhow::Result<()> {
    let db = open_store(store, false, 2).await?;
    let id = tenant_id(id)?;
    db.update_tenant(
        id,
        TenantUpdate {
            enabled: Some(enabled),
            ..TenantUpdate::default()
        },
    )
    .await?;
    audit(
        &db,
        Some(id),
        "tenant.update",
        serde_json::json!({"enabled": enabled}),
    )
    .await;
    outln!(
        "tenant {id} {} (running gateways apply this within 30 seconds)",
        if enabled { "enabled" } else { "disabled" }
    );
    db.close().await;
    Ok(())
}

fn scope_of(tenant: Option<&str>, admin: bool) -> anyhow::Result<ApiKeyScope> {
    match (tenant, admin) {
        (_, true) => Ok(ApiKeyScope::Admin),
        (Some(t), false) => Ok(ApiKeyScope::Tenant(tenant_id(t)?)),
        (None, false) => bail!("give --tenant <id> or --admin"),
    }
}

pub(crate) async fn api_keys(cmd: ApiKeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ApiKeysCommand::Create {
            store,
            tenant,
            admin,
            label,
        } => {
            let db = open_store(&store, false, 2).await?;
            let scope = scope_of(tenant.as_deref(), admin)?;
            if let ApiKeyScope::Tenant(t) = scope {
                db.tenant(t).await?;
            }
            let (info, secret) = db.create_api_key(scope, &label).await?;
            audit(
                &db,
                match scope {
                    ApiKeyScope::Tenant(t) => Some(t),
                    ApiKeyScope::Admin => None,
                },
                "api_key.create",
                serde_json::json!({"key": info.id, "label": info.label}),
            )
            .await;
            eprintln!(
                "API key {} ({}) created; it is shown once, store it now:",
                info.id, info.label
            );
            outln!("{}", secret.expose());
            db.close().await;
        }
        ApiKeysCommand::List {
            store,
            tenant,
            admin,
        } => {
            let db = open_store(&store, false, 2).await?;
            for k in db.api_keys(scope_of(tenant.as_deref(), admin)?).await? {
                outln!(
                    "{}  {}…  {}  created {}{}",
                    k.id,
                    k.prefix,
                    k.label,
                    instant(k.created_at),
                    k.revoked_at
                        .map(|r| format!("  revoked {}", instant(r)))
                        .unwrap_or_default()
                );
            }
            db.close().await;
        }
        ApiKeysCommand::Revoke {
            store,
            id,
            tenant,
            admin,
        } => {
            let db = open_store(&store, false, 2).await?;
            let key: ApiKeyId = id
                .parse()
                .map_err(|_| anyhow!("{id:?} is not a key id (see `digitoll api-keys list`)"))?;
            let scope = scope_of(tenant.as_deref(), admin)?;
            db.revoke_api_key(scope, key).await?;
            audit(
                &db,
                match scope {
                    ApiKeyScope::Tenant(t) => Some(t),
                    ApiKeyScope::Admin => None,
                },
                "api_key.revoke",
                serde_json::json!({"key": key}),
            )
            .await;
            outln!("key {key} revoked (running gateways refuse it within 30 seconds)");
            db.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
