//! `digitoll onboard`: a guide from "we need to send Digitoll data" to a
//! working credentials file, checked by the doctor.
//!
//! Interactive by default (plain line prompts on stdin, so it works in any
//! terminal and through a pseudo-terminal); `--non-interactive` takes every
//! answer from flags and/or an answers file (`--answers FILE`, the
//! `onboarding.json` this command writes) and never reads stdin.
//!
//! Steps: environment → organisation → transport modes and functions → the
//! scopes, explained in Norwegian and English → what to do in Altinn,
//! Samarbeidsportalen and Toll's registration form (TEST and PROD) → a key
//! pair (or a business certificate .p12) → the client id → the credentials
//! file → `digitoll doctor`. With `--admin-credentials` the client is created
//! and the key uploaded through Digdir's self-service API instead of by hand.
//! With `--vendor` it writes the gateway's tenant record instead.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;
use maskinporten::OrgNumber;
use maskinporten::selfservice::{NewClient, SelfServiceClient, SelfServiceEnvironment};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::IdentityArgs;
use crate::output::outln;

/// Flags of `digitoll onboard`. Every flag is also a key of the answers file.
#[derive(Debug, Args)]
pub(crate) struct OnboardArgs {
    /// Never ask: take every answer from flags and --answers (for scripts).
    #[arg(long)]
    pub(crate) non_interactive: bool,
    /// Answers file (JSON with the keys below, e.g. the onboarding.json written by an earlier run).
    #[arg(long, value_name = "FILE")]
    pub(crate) answers: Option<PathBuf>,
    /// Folder for the key, the credentials file and onboarding.json.
    #[arg(long, value_name = "DIR", default_value = "digitoll-credentials")]
    pub(crate) out: PathBuf,
    /// Maskinporten environment: test or prod.
    #[arg(long)]
    pub(crate) env: Option<String>,
    /// A custom Maskinporten issuer instead of --env (the simulator).
    #[arg(long)]
    pub(crate) issuer: Option<String>,
    /// Your organisation number (9 digits).
    #[arg(long)]
    pub(crate) org_no: Option<String>,
    /// Your organisation's name.
    #[arg(long)]
    pub(crate) org_name: Option<String>,
    /// Transport mode you send data for: road, air, rail, maritime (repeatable or comma-separated).
    #[arg(long = "mode")]
    pub(crate) modes: Vec<String>,
    /// You present goods at the border (presentation API, toll:movement/entry).
    #[arg(long)]
    pub(crate) presentation: bool,
    /// You read routing signals after arrival (routing API, toll:movement/entry).
    #[arg(long)]
    pub(crate) routing: bool,
    /// You upload supporting documents (toll:goodsdeclaration/document.write).
    #[arg(long)]
    pub(crate) documents: bool,
    /// A foreign business authenticating with an eIDAS eSeal (toll:eu/… scopes).
    #[arg(long)]
    pub(crate) foreign: bool,
    /// The Maskinporten client id (integration id), when you have it (a UUID).
    #[arg(long)]
    pub(crate) client_id: Option<String>,
    /// Use this business certificate (.p12/.pfx) instead of generating a key.
    #[arg(long, value_name = "FILE")]
    pub(crate) p12: Option<PathBuf>,
    /// Create the client and upload the key through Digdir's self-service API
    /// with this admin client's credentials (idporten:dcr.* scopes).
    #[arg(long, value_name = "FILE")]
    pub(crate) admin_credentials: Option<PathBuf>,
    /// You are a software vendor: write the gateway's tenant record (and the
    /// `digitoll tenants add` command) instead of a credentials file.
    #[arg(long)]
    pub(crate) vendor: bool,
    /// Don't run `digitoll doctor` at the end.
    #[arg(long)]
    pub(crate) no_doctor: bool,
}

/// The answers, as saved in `onboarding.json` (and read by --answers).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
struct Answers {
    env: Option<String>,
    issuer: Option<String>,
    org_no: Option<String>,
    org_name: Option<String>,
    modes: Vec<String>,
    presentation: Option<bool>,
    routing: Option<bool>,
    documents: Option<bool>,
    foreign: Option<bool>,
    client_id: Option<String>,
    p12: Option<PathBuf>,
    admin_credentials: Option<PathBuf>,
    vendor: Option<bool>,
}

/// Line prompts on stdin/stdout; in non-interactive mode every question
/// without an answer is an error naming the flag.
struct Prompter {
    interactive: bool,
}

impl Prompter {
    fn ask(&self, question: &str, flag: &str, default: Option<&str>) -> anyhow::Result<String> {
        if !self.interactive {
            return default.map(str::to_owned).with_context(|| {
                format!("--non-interactive: no answer for {question:?}; pass {flag}")
            });
        }
        let shown = match default {
            Some(d) if !d.is_empty() => format!("{question} [{d}]: "),
            _ => format!("{question}: "),
        };
        print!("{shown}");
        std::io::stdout().flush().ok();
        let mut line = String::new();
        let n = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the answer from stdin")?;
        if n == 0 {
            bail!("no answer (stdin closed); run with --non-interactive and flags for scripts");
        }
        let answer = line.trim().to_owned();
        Ok(if answer.is_empty() {
            default.unwrap_or_default().to_owned()
        } else {
            answer
        })
    }

    fn yes_no(&self, question: &str, flag: &str, current: Option<bool>) -> anyhow::Result<bool> {
        if let Some(v) = current {
            return Ok(v);
        }
        if !self.interactive {
            return Ok(false);
        }
        loop {
            let a = self.ask(&format!("{question} (y/n)"), flag, Some("n"))?;
            match a.to_ascii_lowercase().as_str() {
                "y" | "yes" | "j" | "ja" => return Ok(true),
                "n" | "no" | "nei" => return Ok(false),
                _ => outln!("  please answer y or n"),
            }
        }
    }
}

/// A scope with its plain-words explanation, Norwegian and English.
struct ScopeInfo {
    scope: String,
    nb: &'static str,
    en: &'static str,
}

/// Derives the scopes from the answers (Toll's scope table, digitoll-api.md §1).
fn scopes_for(
    modes: &[String],
    presentation: bool,
    routing: bool,
    documents: bool,
    foreign: bool,
) -> anyhow::Result<Vec<ScopeInfo>> {
    let prefix = if foreign { "toll:eu/" } else { "toll:" };
    let mut out: Vec<ScopeInfo> = Vec::new();
    for mode in modes {
        let (suffix, nb, en) = match mode.trim().to_ascii_lowercase().as_str() {
            "road" | "vei" => (
                "movement/road/v2",
                "Innsending og henting av data om varebevegelser på vei (transport, master- og house-forsendelser), også spørringer på eksisterende forsendelser og status ved grensen.",
                "Submitting and retrieving road movement data (transport, master and house consignments), including queries on existing shipments and entry status at the border.",
            ),
            "air" | "fly" => (
                "movement/air",
                "Innsending og henting av data om varebevegelser med fly (flyfrakt), også spørringer på eksisterende forsendelser.",
                "Submitting and retrieving air cargo movement data, including queries on existing shipments.",
            ),
            "rail" | "jernbane" | "tog" => (
                "movement/rail",
                "Innsending og henting av data om varebevegelser med jernbane, også spørringer på eksisterende forsendelser.",
                "Submitting and retrieving rail movement data, including queries on existing shipments.",
            ),
            "maritime" | "sea" | "sjø" => (
                "movement/maritime",
                "Innsending og henting av data om varebevegelser til sjøs, også spørringer på eksisterende forsendelser.",
                "Submitting and retrieving maritime movement data, including queries on existing shipments.",
            ),
            "" => continue,
            other => bail!("unknown transport mode {other:?}: use road, air, rail or maritime"),
        };
        let scope = format!("{prefix}{suffix}");
        if !out.iter().any(|s| s.scope == scope) {
            out.push(ScopeInfo { scope, nb, en });
        }
    }
    if presentation || routing {
        out.push(ScopeInfo {
            scope: format!("{prefix}movement/entry"),
            nb: "Gjelder API-ene movement/presentation og movement/routing: melde inn og styre varebevegelser ved innpassering i Norge, dvs. presentasjon av varer og ruting etter ankomst.",
            en: "Applies to the movement/presentation and movement/routing APIs: notifying and steering goods movements at entry into Norway, i.e. presenting goods and routing after arrival.",
        });
    }
    if documents {
        out.push(ScopeInfo {
            scope: format!("{prefix}goodsdeclaration/document.write"),
            nb: "Gjelder dokumentopplasting: laste opp støttedokumentasjon (som fakturaer og transportdokumenter) til tolldeklarasjoner.",
            en: "Applies to document upload: uploading supporting documentation (such as invoices and transport documents) to customs declarations.",
        });
    }
    if out.is_empty() {
        bail!(
            "no scopes: choose at least one transport mode (--mode road|air|rail|maritime) or --presentation/--routing/--documents"
        );
    }
    Ok(out)
}

/// Accepts a client id with surrounding whitespace; it must be a UUID.
fn parse_client_id(text: &str) -> anyhow::Result<String> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    uuid::Uuid::parse_str(&t).map_err(|_| {
        anyhow::anyhow!(
            "{t:?} is not a client id: Samarbeidsportalen shows it as a UUID such as 8f2b0c4e-3d6a-4b1e-9c7d-2a5e6f1b3c9d"
        )
    })?;
    Ok(t.to_ascii_lowercase())
}

fn print_steps(env_name: &str, foreign: bool, scopes: &[ScopeInfo], jwk_file: Option<&Path>) {
    let list = scopes
        .iter()
        .map(|s| s.scope.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    outln!();
    outln!("What to do / Hva du gjør");
    if foreign {
        outln!("  Foreign business with an eIDAS eSeal (no Samarbeidsportalen client needed):");
        outln!(
            "  1. Register with Toll (Digitoll registration form, https://toll.github.io/api/); Toll grants {list}."
        );
        outln!(
            "  2. Use your eSeal (.p12, soft token, organizationIdentifier in the subject); grants carry the full chain in x5c."
        );
        return;
    }
    let test = env_name != "prod";
    for (title, is_test) in [("TEST", true), ("PROD", false)] {
        let here = if is_test == test {
            "  ← this run"
        } else {
            ""
        };
        outln!("  {title}{here}");
        if is_test {
            outln!(
                "  1. Log in to Samarbeidsportalen TEST: https://sjolvbetjening.test.samarbeid.digdir.no (test organisations can register themselves)."
            );
        } else {
            outln!(
                "  1. An administrator (hovedadministrator) of your organisation delegates the Altinn right"
            );
            outln!(
                "     \"Selvbetjening av integrasjoner i ID-porten/Maskinporten\" to you (Altinn → Profil → Andre med rettigheter)."
            );
            outln!(
                "     Then log in with ID-porten (BankID) at https://sjolvbetjening.samarbeid.digdir.no and choose your organisation."
            );
        }
        outln!(
            "  2. Integrasjoner → Ny integrasjon → Maskinporten; name and description; add the scopes {list}."
        );
        match jwk_file {
            Some(f) => outln!(
                "  3. Under \"Egne offentlige nøkler\" (own public keys) paste the public JWK from {}.",
                f.display()
            ),
            None => outln!(
                "  3. Use your business certificate (virksomhetssertifikat): no key upload needed."
            ),
        }
        outln!(
            "  4. Fill in Toll's Digitoll registration form for {title}: Toll grants the scopes to your organisation number"
        );
        outln!(
            "     (without it Maskinporten answers MP-250). Guide: https://toll.github.io/api/maskinporten/maskinporten.html"
        );
        outln!("  5. Copy the client id (KlientID / integrasjons-ID) shown for the client.");
    }
}

/// The key material chosen or made during onboarding.
enum KeyChoice {
    Generated {
        key_file: String,
        kid: String,
        jwk: serde_json::Value,
    },
    Certificate {
        p12: PathBuf,
    },
}

pub(crate) async fn run(args: OnboardArgs) -> anyhow::Result<ExitCode> {
    let mut a: Answers = match &args.answers {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read answers file {}", p.display()))?;
            let mut de = serde_json::Deserializer::from_str(&text);
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                anyhow::anyhow!(
                    "answers file {}: at `{}`: {}",
                    p.display(),
                    e.path(),
                    e.inner()
                )
            })?
        }
        None => Answers::default(),
    };
    // Flags win over the answers file.
    macro_rules! take {
        ($field:ident) => {
            if args.$field.is_some() {
                a.$field = args.$field.clone();
            }
        };
    }
    take!(env);
    take!(issuer);
    take!(org_no);
    take!(org_name);
    take!(client_id);
    take!(p12);
    take!(admin_credentials);
    if !args.modes.is_empty() {
        a.modes = args.modes.clone();
    }
    for (flag, field) in [
        (args.presentation, &mut a.presentation),
        (args.routing, &mut a.routing),
        (args.documents, &mut a.documents),
        (args.foreign, &mut a.foreign),
        (args.vendor, &mut a.vendor),
    ] {
        if flag {
            *field = Some(true);
        }
    }
    let p = Prompter {
        interactive: !args.non_interactive,
    };

    if p.interactive {
        outln!(
            "digitoll onboard: from nothing to a working Maskinporten client for Toll's Digitoll APIs."
        );
        outln!("Press Enter to take the [default]. / Trykk Enter for [standardvalg].");
        outln!();
    }

    // Environment.
    let env_name = if let Some(issuer) = &a.issuer {
        outln!("Maskinporten: custom issuer {issuer} (simulator)");
        "test".to_owned()
    } else {
        loop {
            let e = match &a.env {
                Some(e) => e.clone(),
                None => p.ask("Environment: test or prod", "--env test|prod", Some("test"))?,
            };
            match e.to_ascii_lowercase().as_str() {
                "test" | "prod" => break e.to_ascii_lowercase(),
                other if p.interactive && a.env.is_none() => {
                    outln!("  {other:?}: answer test or prod");
                }
                other => bail!("--env {other:?}: expected test or prod"),
            }
        }
    };
    a.env = Some(env_name.clone());

    // Organisation.
    let foreign = p.yes_no(
        "Are you a foreign business with an eIDAS eSeal (no Norwegian org. number)?",
        "--foreign",
        a.foreign,
    )?;
    a.foreign = Some(foreign);
    let org_no = if foreign {
        a.org_no.clone().unwrap_or_default()
    } else {
        loop {
            let text = match &a.org_no {
                Some(o) => o.clone(),
                None => p.ask("Organisation number (9 digits)", "--org-no", None)?,
            };
            match text.trim().replace(' ', "").parse::<OrgNumber>() {
                Ok(o) => break o.to_string(),
                Err(e) if p.interactive && a.org_no.is_none() => outln!("  {e}"),
                Err(e) => bail!("--org-no {text:?}: {e}"),
            }
        }
    };
    a.org_no = Some(org_no.clone());
    let org_name = match &a.org_name {
        Some(n) => n.clone(),
        None => p.ask("Organisation name", "--org-name", Some(""))?,
    };
    a.org_name = Some(org_name.clone());

    // Modes and functions → scopes.
    let scopes = loop {
        if a.modes.is_empty() {
            let m = p.ask(
                "Transport modes you send data for (road, air, rail, maritime; comma-separated)",
                "--mode",
                Some("road"),
            )?;
            a.modes = vec![m];
        }
        let modes: Vec<String> = a
            .modes
            .iter()
            .flat_map(|m| m.split([',', ' ']))
            .filter(|m| !m.trim().is_empty())
            .map(|m| m.trim().to_ascii_lowercase())
            .collect();
        let presentation = p.yes_no(
            "Do you present goods at the border (presentation API)?",
            "--presentation",
            a.presentation,
        )?;
        let routing = p.yes_no(
            "Do you read routing signals after arrival (routing API)?",
            "--routing",
            a.routing,
        )?;
        let documents = p.yes_no(
            "Do you upload supporting documents (invoices, waybills)?",
            "--documents",
            a.documents,
        )?;
        a.presentation = Some(presentation);
        a.routing = Some(routing);
        a.documents = Some(documents);
        match scopes_for(&modes, presentation, routing, documents, foreign) {
            Ok(s) => {
                a.modes = modes;
                break s;
            }
            Err(e) if p.interactive => {
                outln!("  {e}");
                a.modes.clear();
                a.presentation = None;
                a.routing = None;
                a.documents = None;
            }
            Err(e) => return Err(e),
        }
    };
    outln!();
    outln!("Scopes you need / Scopes du trenger:");
    for s in &scopes {
        outln!("  {}", s.scope);
        outln!("    nb: {}", s.nb);
        outln!("    en: {}", s.en);
        if foreign {
            outln!("    (toll:eu/… = foreign businesses authenticating with an eIDAS eSeal)");
        }
    }

    // Key or certificate.
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let out = &args.out;
    if a.p12.is_none() && p.interactive {
        if foreign {
            let path = p.ask("Path to your eSeal (.p12/.pfx)", "--p12", None)?;
            a.p12 = Some(PathBuf::from(path));
        } else {
            let path = p.ask(
                "Business certificate (.p12) to sign with instead of a new key (empty: generate a key pair)",
                "--p12",
                Some(""),
            )?;
            if !path.is_empty() {
                a.p12 = Some(PathBuf::from(path));
            }
        }
    }
    let key = match &a.p12 {
        Some(p12) => KeyChoice::Certificate { p12: p12.clone() },
        None => {
            let key_path = out.join("maskinporten.key.pem");
            let (kid, jwk) = if key_path.exists() {
                // A re-run (e.g. with the client id) keeps the key already made.
                let key = maskinporten::RsaKey::from_pem_file(&key_path, None)
                    .with_context(|| format!("existing key {}", key_path.display()))?;
                let kid = key.thumbprint();
                (
                    kid.clone(),
                    key.public_jwk(maskinporten::Algorithm::RS256, &kid),
                )
            } else {
                let pair = maskinporten::generate_key_pair(2048, maskinporten::Algorithm::RS256)
                    .context("generating the key pair")?;
                // onboard replaces a key it generated before (its behaviour so far).
                digitoll_fs::write_private(
                    &key_path,
                    pair.private_pem.expose_secret().as_bytes(),
                    true,
                )?;
                (pair.kid, pair.public_jwk)
            };
            let jwk_path = out.join("maskinporten.jwk.json");
            std::fs::write(&jwk_path, serde_json::to_string_pretty(&jwk)? + "\n")
                .with_context(|| format!("cannot write {}", jwk_path.display()))?;
            KeyChoice::Generated {
                key_file: "maskinporten.key.pem".into(),
                kid,
                jwk,
            }
        }
    };
    let jwk_file = match &key {
        KeyChoice::Generated { .. } => Some(out.join("maskinporten.jwk.json")),
        KeyChoice::Certificate { .. } => None,
    };
    if let KeyChoice::Generated { kid, jwk, .. } = &key {
        outln!();
        outln!(
            "Key pair ready (kid {kid}); the private key stays in {}",
            out.join("maskinporten.key.pem").display()
        );
        outln!("Public JWK to upload / offentlig nøkkel å laste opp:");
        outln!("{}", serde_json::to_string(jwk)?);
    }

    // The client: through the self-service API, or by hand.
    let issuer_env = match &a.issuer {
        Some(i) => maskinporten::Environment::custom(with_slash(i)),
        None if env_name == "prod" => maskinporten::Environment::Prod,
        None => maskinporten::Environment::Test,
    };
    let mut key_expires_at = None;
    if a.client_id.is_none()
        && let Some(admin_path) = &a.admin_credentials
        && !foreign
    {
        let admin =
            crate::identity::Identity::from_args(&IdentityArgs::from_file(admin_path.clone()))
                .with_context(|| format!("admin credentials {}", admin_path.display()))?;
        let api = SelfServiceClient::new(
            SelfServiceEnvironment::for_maskinporten(&issuer_env)?,
            Arc::new(admin.client()?),
        )?;
        let name = if org_name.is_empty() {
            format!("digitoll {org_no}")
        } else {
            format!("digitoll {org_name}")
        };
        let created = api
            .create_maskinporten_client(&NewClient::new(
                name,
                "Digitoll integration (created by digitoll onboard)",
                scopes.iter().map(|s| s.scope.clone()),
            ))
            .await
            .context("creating the client through the self-service API")?;
        if let KeyChoice::Generated { jwk, kid, .. } = &key {
            let keys = api
                .add_key(&created.client_id, jwk.clone().try_into()?)
                .await
                .context("uploading the public key through the self-service API")?;
            // The API says when the key expires (a year after upload): the doctor warns ahead.
            key_expires_at = keys
                .iter()
                .find(|k| &k.kid == kid)
                .and_then(maskinporten::selfservice::Jwk::expires_at);
        }
        outln!();
        outln!(
            "Created Maskinporten client {} with the scopes and uploaded the public key (self-service API).",
            created.client_id
        );
        a.client_id = Some(created.client_id);
    } else if a.client_id.is_none() || p.interactive {
        print_steps(&env_name, foreign, &scopes, jwk_file.as_deref());
    }
    let client_id = if foreign {
        Some(a.client_id.clone().unwrap_or_else(|| "eseal".to_owned()))
    } else {
        loop {
            let text = match &a.client_id {
                Some(c) => c.clone(),
                None if p.interactive => p.ask(
                    "Client id from Samarbeidsportalen (leave empty if you don't have it yet)",
                    "--client-id",
                    Some(""),
                )?,
                None => String::new(),
            };
            if text.trim().is_empty() {
                break None;
            }
            match parse_client_id(&text) {
                Ok(id) => break Some(id),
                Err(e) if p.interactive => {
                    outln!("  {e}");
                    a.client_id = None;
                }
                Err(e) => bail!("--client-id: {e}"),
            }
        }
    };
    a.client_id = client_id.clone();

    // Save the answers so a later run can finish (e.g. with the client id).
    let answers_path = out.join("onboarding.json");
    std::fs::write(&answers_path, serde_json::to_string_pretty(&a)? + "\n")
        .with_context(|| format!("cannot write {}", answers_path.display()))?;
    let Some(client_id) = client_id else {
        outln!();
        outln!("Saved your answers in {}.", answers_path.display());
        outln!(
            "When you have the client id, finish with:\n  digitoll onboard --answers {} --out {} --client-id <CLIENT-ID>",
            answers_path.display(),
            out.display()
        );
        return Ok(ExitCode::SUCCESS);
    };

    let scope_list: Vec<String> = scopes.iter().map(|s| s.scope.clone()).collect();
    let mut creds = json!({
        "client_id": client_id,
        "org_no": org_no,
        "org_name": org_name,
        "scopes": scope_list,
    });
    match &a.issuer {
        Some(i) => creds["issuer"] = json!(with_slash(i)),
        None => creds["environment"] = json!(env_name),
    }
    match &key {
        KeyChoice::Generated { key_file, kid, .. } => {
            creds["kid"] = json!(kid);
            creds["key_file"] = json!(key_file);
            creds["key_created_at"] =
                json!(crate::output::instant(time::OffsetDateTime::now_utc()));
            if let Some(exp) = key_expires_at {
                creds["key_expires_at"] = json!(crate::output::instant(exp));
            }
        }
        KeyChoice::Certificate { p12 } => {
            let abs = std::fs::canonicalize(p12).unwrap_or_else(|_| p12.clone());
            creds["p12_file"] = json!(abs);
        }
    }

    if a.vendor == Some(true) {
        return write_tenant(out, &creds, &key, &env_name, a.issuer.as_deref());
    }

    let creds_path = out.join("credentials.json");
    std::fs::write(&creds_path, serde_json::to_string_pretty(&creds)? + "\n")
        .with_context(|| format!("cannot write {}", creds_path.display()))?;
    outln!();
    outln!("Wrote {}", creds_path.display());
    outln!(
        "Use it with: digitoll road test-auth --credentials {}",
        creds_path.display()
    );
    if args.no_doctor {
        return Ok(ExitCode::SUCCESS);
    }
    outln!();
    outln!(
        "Running digitoll doctor --credentials {} …",
        creds_path.display()
    );
    let doctor = super::doctor::DoctorArgs {
        identity: IdentityArgs::from_file(creds_path.clone()),
        scopes: Vec::new(),
        expect_org: None,
        toll: None,
        no_toll: false,
        json: false,
    };
    let report = super::doctor::diagnose(&doctor).await?;
    super::doctor::render(&report);
    if report.exit_code() == 2 {
        outln!();
        outln!(
            "Not done yet: fix what the doctor reports (a new client can take up to 2 minutes to reach Maskinporten, and Toll's scope grant may take longer), then run: digitoll doctor --credentials {}",
            creds_path.display()
        );
    }
    Ok(ExitCode::from(report.exit_code()))
}

fn with_slash(s: &str) -> String {
    let s = s.trim();
    if s.ends_with('/') {
        s.to_owned()
    } else {
        format!("{s}/")
    }
}

/// `--vendor`: the tenant record for the gateway and the command that adds it.
fn write_tenant(
    out: &Path,
    creds: &serde_json::Value,
    key: &KeyChoice,
    env_name: &str,
    issuer: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let env = if issuer.is_some() { "sim" } else { env_name };
    let mut tenant = json!({
        "org": creds["org_no"],
        "name": creds["org_name"],
        "environment": env,
        "client_id": creds["client_id"],
        "scopes": creds["scopes"],
    });
    if let Some(i) = issuer {
        tenant["issuer_url"] = json!(with_slash(i));
    }
    let key_path = |f: &str| {
        std::fs::canonicalize(out.join(f))
            .unwrap_or_else(|_| out.join(f))
            .display()
            .to_string()
    };
    let mut cmd = vec![
        "digitoll".to_owned(),
        "tenants".into(),
        "add".into(),
        "--org".into(),
        creds["org_no"].as_str().unwrap_or_default().to_owned(),
        "--name".into(),
        shell_quote(creds["org_name"].as_str().unwrap_or_default()),
        "--env".into(),
        env.to_owned(),
        "--client-id".into(),
        creds["client_id"].as_str().unwrap_or_default().to_owned(),
    ];
    for s in creds["scopes"].as_array().into_iter().flatten() {
        cmd.push("--scope".into());
        cmd.push(s.as_str().unwrap_or_default().to_owned());
    }
    if let Some(i) = issuer {
        cmd.push("--issuer-url".into());
        cmd.push(with_slash(i));
    }
    match key {
        KeyChoice::Generated { key_file, kid, .. } => {
            tenant["key_pem_file"] = json!(key_path(key_file));
            tenant["kid"] = json!(kid);
            cmd.extend([
                "--key-pem".into(),
                key_path(key_file),
                "--kid".into(),
                kid.clone(),
            ]);
        }
        KeyChoice::Certificate { p12 } => {
            tenant["p12_file"] = json!(p12);
            cmd.extend(["--p12".into(), p12.display().to_string()]);
            outln!("(set DIGITOLL_P12_PASSWORD for the command below)");
        }
    }
    let path = out.join("tenant.json");
    std::fs::write(&path, serde_json::to_string_pretty(&tenant)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    outln!();
    outln!("Wrote the tenant record {}", path.display());
    outln!("Add the customer to the gateway with:");
    outln!("  {}", cmd.join(" "));
    Ok(ExitCode::SUCCESS)
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_from_answers() {
        let s = scopes_for(&["road".into(), "air".into()], true, false, true, false).unwrap();
        let names: Vec<&str> = s.iter().map(|s| s.scope.as_str()).collect();
        assert_eq!(
            names,
            [
                "toll:movement/road/v2",
                "toll:movement/air",
                "toll:movement/entry",
                "toll:goodsdeclaration/document.write"
            ]
        );
        let eu = scopes_for(&["maritime".into()], false, true, false, true).unwrap();
        assert_eq!(eu[0].scope, "toll:eu/movement/maritime");
        assert_eq!(eu[1].scope, "toll:eu/movement/entry");
        assert!(scopes_for(&[], false, false, false, false).is_err());
        assert!(scopes_for(&["boat".into()], false, false, false, false).is_err());
    }

    #[test]
    fn client_ids_are_uuids_without_whitespace() {
        assert_eq!(
            parse_client_id("  8F2B0C4E-3D6A-4B1E-9C7D-2A5E6F1B3C9D \n").unwrap(),
            "8f2b0c4e-3d6a-4b1e-9c7d-2a5e6f1b3c9d"
        );
        assert!(parse_client_id("my-client").is_err());
    }
}
