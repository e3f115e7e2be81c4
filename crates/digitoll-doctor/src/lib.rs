//! `digitoll-doctor`: checks a Maskinporten + Toll setup step by step and says
//! how to fix what is wrong.
//!
//! The checks run in the order a token travels, and each gives
//! [`Status::Pass`], [`Status::Warn`], [`Status::Fail`] or [`Status::Skip`]
//! (not run because an earlier step failed or it does not apply), a detail
//! line and, when not passing, a fix:
//!
//! 1. `config`: the configuration (credentials file or flags) was readable;
//! 2. `key`: the private key or business certificate was readable;
//! 3. `key_validity`: the certificate is inside its validity period, warning
//!    [`DoctorInput::warn_within`] (30 days) ahead; for a registered key, its
//!    one-year expiry when known;
//! 4. `cert_org`: the certificate's organisation number is the expected one;
//! 5. `cert_env`: a test certificate for TEST, a production one for PROD;
//! 6. `clock`: the local clock against Maskinporten's `Date` header (warn
//!    above 5 s, fail above 10 s: digitoll corrects its own grants, other
//!    tools don't);
//! 7. `metadata`: the metadata document is reachable and its `issuer` is the
//!    configured one;
//! 8. `token:<scope>`: a token for **each** scope on its own, so one missing
//!    grant is named, with the MP code explained;
//! 9. `toll_exchange`: the Maskinporten token is exchanged for a Toll token;
//! 10. `api:<name>`: for each API the scopes unlock, `test-auth` and a
//!     harmless read (a lookup of a made-up MRN that must answer 404, an
//!     unknown presentation request id, the first routing page).
//!
//! The library prints nothing; the CLI (`digitoll doctor`) renders the
//! [`Report`], and the gateway can run the same checks for a tenant.
//! [`Report::exit_code`]: 0 when nothing warns or fails, 1 with warnings
//! only, 2 with a failure.

#![warn(missing_docs)]

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use digitoll_client::{
    Error as TollError, MovementClient, PresentationClient, RoutingClient, RoutingFeed,
    TollEnvironment, TollTokenProvider, TransportMode,
};
use maskinporten::{
    CertEnvironmentHint, Environment, MaskinportenClient, MpCode, OrgNumber, RetryPolicy, Signer,
    TokenRequest,
};
use serde::Serialize;
use time::OffsetDateTime;

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not run: an earlier step failed, or it does not apply.
    Skip,
    /// All good.
    Pass,
    /// Works now, but needs attention.
    Warn,
    /// Broken.
    Fail,
}

impl Status {
    /// `pass`, `warn`, `fail`, `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Skip => "skip",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id, e.g. `token:toll:movement/road/v2`.
    pub id: String,
    /// What was checked, in words.
    pub title: String,
    /// The verdict.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about it (when not passing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Maskinporten's MP code, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mp_code: Option<String>,
}

impl Check {
    fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            status,
            detail: detail.into(),
            fix: None,
            mp_code: None,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// All checks, in the order they ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// The worst status (`Pass` for an empty report; skips count as passes).
    pub fn worst(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .max()
            .map(|s| if s == Status::Skip { Status::Pass } else { s })
            .unwrap_or(Status::Pass)
    }

    /// 0 when nothing warns or fails, 1 with warnings only, 2 with a failure.
    pub fn exit_code(&self) -> u8 {
        match self.worst() {
            Status::Pass | Status::Skip => 0,
            Status::Warn => 1,
            Status::Fail => 2,
        }
    }

    /// The check with this id.
    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// How many checks have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// Who is being checked: the parts of the configuration the checks need.
#[derive(Debug, Clone)]
pub struct Subject {
    /// Where the configuration came from (a file name, "flags", a tenant id).
    pub source: String,
    /// The Maskinporten environment.
    pub env: Environment,
    /// The client id.
    pub client_id: String,
}

/// What the doctor checks.
#[derive(Debug)]
pub struct DoctorInput {
    /// The configuration, or why it could not be read (check 1).
    pub subject: Result<Subject, String>,
    /// The signer, or why the key/certificate could not be loaded (check 2).
    pub signer: Result<Arc<dyn Signer>, String>,
    /// Scopes to get a token for, one at a time.
    pub scopes: Vec<String>,
    /// The organisation the certificate must belong to.
    pub expect_org: Option<OrgNumber>,
    /// Which certificates the Maskinporten environment accepts (`None`: not checked).
    pub cert_environment: Option<CertEnvironmentHint>,
    /// Where Toll is (`None`: the Toll checks are skipped).
    pub toll: Option<TollEnvironment>,
    /// When a registered key (`kid`) expires, if known (from the self-service API).
    pub key_expires_at: Option<OffsetDateTime>,
    /// How far ahead expiry warnings start (default 30 days).
    pub warn_within: time::Duration,
    /// The HTTP client to use (default: 10 s timeout, no redirects).
    pub http: Option<reqwest::Client>,
}

impl DoctorInput {
    /// Input with defaults: no scopes, no expected org, no Toll checks.
    pub fn new(subject: Result<Subject, String>, signer: Result<Arc<dyn Signer>, String>) -> Self {
        let cert_environment = match &subject {
            Ok(s) => match s.env {
                Environment::Prod => Some(CertEnvironmentHint::Prod),
                Environment::Test => Some(CertEnvironmentHint::Test),
                _ => None,
            },
            Err(_) => None,
        };
        Self {
            subject,
            signer,
            scopes: Vec::new(),
            expect_org: None,
            cert_environment,
            toll: None,
            key_expires_at: None,
            warn_within: time::Duration::days(30),
            http: None,
        }
    }
}

/// Clock offsets above this only warn.
pub const CLOCK_WARN: Duration = Duration::from_secs(5);
/// Clock offsets above this fail: Maskinporten's tolerance is ±10 s.
pub const CLOCK_FAIL: Duration = Duration::from_secs(10);

/// Runs every check and returns the report. Never fails: problems are checks.
pub async fn run(input: DoctorInput) -> Report {
    let mut checks = Vec::new();
    let http = match &input.http {
        Some(h) => h.clone(),
        None => match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
        {
            Ok(h) => h,
            Err(e) => {
                checks.push(
                    Check::new(
                        "config",
                        "Configuration readable",
                        Status::Fail,
                        format!("cannot build an HTTP client: {e}"),
                    )
                    .fix("Check the system's TLS configuration."),
                );
                return Report { checks };
            }
        },
    };

    // 1. Configuration.
    let subject = match &input.subject {
        Ok(s) => {
            checks.push(Check::new(
                "config",
                "Configuration readable",
                Status::Pass,
                format!("{}: client {} at {}", s.source, s.client_id, s.env.issuer()),
            ));
            s.clone()
        }
        Err(e) => {
            checks.push(
                Check::new("config", "Configuration readable", Status::Fail, e.clone()).fix(
                    "Pass --credentials FILE (as written by `digitoll onboard`), or --env/--issuer, --client-id and --key/--p12.",
                ),
            );
            skip_rest(&mut checks, &input, "the configuration could not be read");
            return Report { checks };
        }
    };

    // 2–5. Key or certificate.
    let signer = match &input.signer {
        Ok(s) => {
            checks.push(Check::new(
                "key",
                "Key or certificate readable",
                Status::Pass,
                describe_signer(s.as_ref()),
            ));
            key_checks(&mut checks, s.as_ref(), &input);
            Some(s.clone())
        }
        Err(e) => {
            checks.push(
                Check::new("key", "Key or certificate readable", Status::Fail, e.clone()).fix(
                    "Check the path and password; keys are PEM (PKCS#8/PKCS#1, encrypted PKCS#8) or a private JWK, certificates .p12/.pfx.",
                ),
            );
            for (id, title) in [
                ("key_validity", "Key or certificate not expired"),
                ("cert_org", "Certificate organisation"),
                ("cert_env", "Certificate environment"),
            ] {
                checks.push(Check::new(id, title, Status::Skip, "no key or certificate"));
            }
            None
        }
    };

    // 6–7. Clock and metadata.
    let reachable = server_checks(&mut checks, &http, &subject.env).await;

    // 8. A token per scope.
    let Some(signer) = signer else {
        skip_tokens_and_toll(&mut checks, &input, "no key or certificate");
        return Report { checks };
    };
    if !reachable {
        skip_tokens_and_toll(&mut checks, &input, "Maskinporten is not reachable");
        return Report { checks };
    }
    let client =
        match MaskinportenClient::builder(subject.env.clone(), subject.client_id.clone(), signer)
            .http_client(http.clone())
            .retry_policy(RetryPolicy {
                max_attempts: 2,
                ..RetryPolicy::default()
            })
            .build()
        {
            Ok(c) => Arc::new(c),
            Err(e) => {
                checks.push(
                    Check::new("token", "Maskinporten client", Status::Fail, e.to_string())
                        .fix("Check the issuer and client id."),
                );
                skip_tokens_and_toll(&mut checks, &input, "the client could not be built");
                return Report { checks };
            }
        };
    if input.scopes.is_empty() {
        checks.push(
            Check::new(
                "token",
                "Maskinporten token",
                Status::Warn,
                "no scopes to test",
            )
            .fix("Pass --scope SCOPE (repeatable) or list `scopes` in the credentials file."),
        );
    }
    let mut granted = Vec::new();
    for scope in &input.scopes {
        let check = token_check(&client, scope).await;
        if check.status == Status::Pass {
            granted.push(scope.clone());
        }
        checks.push(check);
    }

    // 9–10. Toll.
    let Some(toll) = input.toll.clone() else {
        return Report { checks };
    };
    let toll_scopes: Vec<&String> = input
        .scopes
        .iter()
        .filter(|s| s.starts_with("toll:"))
        .collect();
    if toll_scopes.is_empty() {
        return Report { checks };
    }
    let Some(first) = granted.iter().find(|s| s.starts_with("toll:")) else {
        checks.push(Check::new(
            "toll_exchange",
            "Toll token exchange",
            Status::Skip,
            "no Toll scope gave a Maskinporten token",
        ));
        return Report { checks };
    };
    let tokens = TollTokenProvider::builder(client.clone(), toll.clone())
        .http_client(http.clone())
        .build();
    let exchange_ok = match TokenRequest::for_scopes([first.as_str()]) {
        Ok(req) => match tokens.token(&req).await {
            Ok(t) => {
                checks.push(Check::new(
                    "toll_exchange",
                    "Toll token exchange",
                    Status::Pass,
                    format!(
                        "{} exchanged a {first} token for a Toll token valid {} s",
                        toll.token_exchange_url(),
                        t.lifetime().as_secs()
                    ),
                ));
                true
            }
            Err(e) => {
                checks.push(toll_failure(
                    "toll_exchange",
                    "Toll token exchange",
                    first,
                    &e,
                ));
                false
            }
        },
        Err(e) => {
            checks.push(Check::new(
                "toll_exchange",
                "Toll token exchange",
                Status::Fail,
                e.to_string(),
            ));
            false
        }
    };
    for scope in toll_scopes {
        let Some(probe) = ApiProbe::for_scope(scope) else {
            continue;
        };
        let id = format!("api:{}", probe.name());
        let title = format!("{} API reachable with {scope}", probe.label());
        if !granted.contains(scope) {
            checks.push(Check::new(
                id,
                title,
                Status::Skip,
                "no Maskinporten token for this scope",
            ));
        } else if !exchange_ok {
            checks.push(Check::new(
                id,
                title,
                Status::Skip,
                "the Toll token exchange failed",
            ));
        } else {
            checks.push(probe.run(&tokens, &http, scope, id, title).await);
        }
    }
    Report { checks }
}

fn skip_rest(checks: &mut Vec<Check>, input: &DoctorInput, why: &str) {
    for (id, title) in [
        ("key", "Key or certificate readable"),
        ("key_validity", "Key or certificate not expired"),
        ("cert_org", "Certificate organisation"),
        ("cert_env", "Certificate environment"),
        ("clock", "Local clock"),
        ("metadata", "Maskinporten metadata"),
    ] {
        checks.push(Check::new(id, title, Status::Skip, why));
    }
    skip_tokens_and_toll(checks, input, why);
}

fn skip_tokens_and_toll(checks: &mut Vec<Check>, input: &DoctorInput, why: &str) {
    for scope in &input.scopes {
        checks.push(Check::new(
            format!("token:{scope}"),
            format!("Maskinporten token for {scope}"),
            Status::Skip,
            why,
        ));
    }
    if input.toll.is_some() && input.scopes.iter().any(|s| s.starts_with("toll:")) {
        checks.push(Check::new(
            "toll_exchange",
            "Toll token exchange",
            Status::Skip,
            why,
        ));
    }
}

fn describe_signer(signer: &dyn Signer) -> String {
    match signer.certificate() {
        Some(cert) => format!(
            "business certificate {} (org {}), issued by {}, {} certificate(s) in the chain, {}",
            cert.subject,
            cert.org_number
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "unknown".into()),
            cert.issuer,
            cert.chain.len(),
            signer.algorithm().as_str()
        ),
        None => match signer.key_binding() {
            maskinporten::KeyBinding::Kid(kid) => {
                format!(
                    "private key registered as kid {kid}, {}",
                    signer.algorithm().as_str()
                )
            }
            maskinporten::KeyBinding::X5c(chain) => {
                format!("certificate chain of {} certificate(s)", chain.len())
            }
        },
    }
}

fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn key_checks(checks: &mut Vec<Check>, signer: &dyn Signer, input: &DoctorInput) {
    let now = OffsetDateTime::now_utc();
    let Some(cert) = signer.certificate() else {
        // A registered key: its expiry is known only from the self-service API.
        checks.push(match input.key_expires_at {
            Some(exp) if exp <= now => Check::new(
                "key_validity",
                "Registered key not expired",
                Status::Fail,
                format!("the registered key expired on {} (keys live one year after upload)", fmt_time(exp)),
            )
            .fix("Upload the public key again (that renews it) or rotate: `digitoll keys rotate`. Until then Maskinporten answers MP-121 \"Expired key\"."),
            Some(exp) if exp - now <= input.warn_within => Check::new(
                "key_validity",
                "Registered key not expired",
                Status::Warn,
                format!("the registered key expires on {} ({} days left)", fmt_time(exp), (exp - now).whole_days()),
            )
            .fix("Rotate the key before then: `digitoll keys rotate` (or re-upload it in Samarbeidsportalen)."),
            Some(exp) => Check::new(
                "key_validity",
                "Registered key not expired",
                Status::Pass,
                format!("expires on {} ({} days left)", fmt_time(exp), (exp - now).whole_days()),
            ),
            None => Check::new(
                "key_validity",
                "Registered key not expired",
                Status::Skip,
                "a registered key expires one year after upload; the upload date is not known here (see `digitoll clients keys list`); an expired key shows as MP-121 below",
            ),
        });
        checks.push(Check::new(
            "cert_org",
            "Certificate organisation",
            Status::Skip,
            "a registered key carries no organisation; Maskinporten takes it from the client",
        ));
        checks.push(Check::new(
            "cert_env",
            "Certificate environment",
            Status::Skip,
            "no certificate",
        ));
        return;
    };

    checks.push(if now < cert.not_before {
        Check::new(
            "key_validity",
            "Certificate valid",
            Status::Fail,
            format!("not valid before {}", fmt_time(cert.not_before)),
        )
        .fix("Check the machine's date, or wait until the certificate becomes valid.")
    } else if now > cert.not_after {
        Check::new(
            "key_validity",
            "Certificate valid",
            Status::Fail,
            format!("expired on {}", fmt_time(cert.not_after)),
        )
        .fix("Order a new business certificate (virksomhetssertifikat) from Buypass or Commfides; Maskinporten answers MP-124 to an expired one.")
    } else if cert.not_after - now <= input.warn_within {
        Check::new(
            "key_validity",
            "Certificate valid",
            Status::Warn,
            format!(
                "expires on {} ({} days left)",
                fmt_time(cert.not_after),
                (cert.not_after - now).whole_days()
            ),
        )
        .fix("Renew the business certificate now: ordering one takes days.")
    } else {
        Check::new(
            "key_validity",
            "Certificate valid",
            Status::Pass,
            format!(
                "valid until {} ({} days left)",
                fmt_time(cert.not_after),
                (cert.not_after - now).whole_days()
            ),
        )
    });

    checks.push(match (&cert.org_number, &input.expect_org) {
        (Some(found), Some(expected)) if found == expected => Check::new(
            "cert_org",
            "Certificate organisation",
            Status::Pass,
            format!("organisation number {found} as expected"),
        ),
        (Some(found), Some(expected)) => Check::new(
            "cert_org",
            "Certificate organisation",
            Status::Fail,
            format!("the certificate belongs to {found}, not {expected}"),
        )
        .fix("Use the business certificate of the organisation that owns the Maskinporten client; otherwise Maskinporten answers MP-122."),
        (Some(found), None) => Check::new(
            "cert_org",
            "Certificate organisation",
            Status::Pass,
            format!("organisation number {found} (pass --expect-org to compare)"),
        ),
        (None, _) => Check::new(
            "cert_org",
            "Certificate organisation",
            Status::Warn,
            "no organisation number found in the certificate subject (serialNumber or organizationIdentifier)",
        )
        .fix("Use a Norwegian business certificate (virksomhetssertifikat) or an eSeal with organizationIdentifier."),
    });

    let env_name = |h: CertEnvironmentHint| match h {
        CertEnvironmentHint::Test => "test",
        CertEnvironmentHint::Prod => "production",
        _ => "unknown",
    };
    checks.push(match (cert.environment_hint, input.cert_environment) {
        (_, None) => Check::new(
            "cert_env",
            "Certificate environment",
            Status::Skip,
            "the environment's certificate type is not known for a custom issuer",
        ),
        (CertEnvironmentHint::Unknown, Some(_)) => Check::new(
            "cert_env",
            "Certificate environment",
            Status::Warn,
            format!("cannot tell whether {} is a test or production certificate", cert.issuer),
        )
        .fix("Maskinporten TEST takes test certificates only and PROD production ones only (MP-120): check with the issuer."),
        (found, Some(wanted)) if found == wanted => Check::new(
            "cert_env",
            "Certificate environment",
            Status::Pass,
            format!("a {} certificate for a {} environment", env_name(found), env_name(wanted)),
        ),
        (found, Some(wanted)) => Check::new(
            "cert_env",
            "Certificate environment",
            Status::Fail,
            format!(
                "a {} certificate used with Maskinporten {}: Maskinporten answers MP-120",
                env_name(found),
                if wanted == CertEnvironmentHint::Prod { "PROD" } else { "TEST" }
            ),
        )
        .fix(if wanted == CertEnvironmentHint::Prod {
            "Use your production business certificate with PROD (test certificates come from Buypass/Commfides test CAs)."
        } else {
            "Use a test business certificate with TEST (order one from Buypass or Commfides; production certificates are refused in TEST)."
        }),
    });
}

/// Fetches the metadata once: the clock check uses its `Date` header, the
/// metadata check its body. Returns whether Maskinporten answered at all.
async fn server_checks(checks: &mut Vec<Check>, http: &reqwest::Client, env: &Environment) -> bool {
    let url = match env.metadata_url() {
        Ok(u) => u,
        Err(e) => {
            checks.push(Check::new(
                "clock",
                "Local clock",
                Status::Skip,
                "no metadata URL",
            ));
            checks.push(
                Check::new(
                    "metadata",
                    "Maskinporten metadata",
                    Status::Fail,
                    e.to_string(),
                )
                .fix("The issuer must be a URL such as https://test.maskinporten.no/."),
            );
            return false;
        }
    };
    let local_before = OffsetDateTime::now_utc();
    let started = Instant::now();
    let resp = match http.get(url.clone()).send().await {
        Ok(r) => r,
        Err(e) => {
            checks.push(Check::new(
                "clock",
                "Local clock",
                Status::Skip,
                "Maskinporten not reachable",
            ));
            checks.push(
                Check::new(
                    "metadata",
                    "Maskinporten metadata",
                    Status::Fail,
                    format!("GET {url} failed: {}", chain(&e)),
                )
                .fix("Check network access, proxy and firewall (Maskinporten PROD 139.105.36.164, TEST 139.105.36.132); status at https://status.digdir.no."),
            );
            return false;
        }
    };
    let local = local_before + started.elapsed() / 2;
    let date = resp
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .map(OffsetDateTime::from);
    checks.push(match date {
        None => Check::new(
            "clock",
            "Local clock",
            Status::Warn,
            "the server sent no Date header; cannot compare clocks",
        )
        .fix("Make sure NTP keeps this machine's clock right (Maskinporten allows ±10 s)."),
        Some(server) => clock_check(server - local + time::Duration::milliseconds(500)),
    });

    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    let meta: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let issuer = meta
        .as_ref()
        .and_then(|m| m.get("issuer"))
        .and_then(|i| i.as_str())
        .map(str::to_owned);
    checks.push(if !status.is_success() {
        Check::new(
            "metadata",
            "Maskinporten metadata",
            Status::Fail,
            format!("GET {url} answered HTTP {}", status.as_u16()),
        )
        .fix("Check the issuer URL (e.g. https://test.maskinporten.no/); status at https://status.digdir.no.")
    } else if issuer.as_deref() == Some(env.issuer()) {
        Check::new(
            "metadata",
            "Maskinporten metadata",
            Status::Pass,
            format!("{url} names issuer {}", env.issuer()),
        )
    } else {
        Check::new(
            "metadata",
            "Maskinporten metadata",
            Status::Fail,
            format!(
                "{url} names issuer {:?}, but grants are addressed to {:?}",
                issuer.unwrap_or_default(),
                env.issuer()
            ),
        )
        .fix("Configure the issuer exactly as the metadata says, trailing slash included; otherwise Maskinporten answers MP-110.")
    });
    true
}

fn clock_check(offset: time::Duration) -> Check {
    let secs = offset.as_seconds_f64();
    let abs = offset.unsigned_abs();
    let direction = if secs > 0.0 { "behind" } else { "ahead of" };
    let detail = format!(
        "this machine's clock is {:.1} s {direction} Maskinporten's",
        secs.abs()
    );
    if abs <= CLOCK_WARN {
        Check::new(
            "clock",
            "Local clock",
            Status::Pass,
            format!("within {:.1} s of Maskinporten's", secs.abs()),
        )
    } else if abs <= CLOCK_FAIL {
        Check::new("clock", "Local clock", Status::Warn, detail).fix(
            "Turn on time synchronisation (NTP: `timedatectl set-ntp true`, Windows `w32tm /resync`). Maskinporten allows ±10 s; digitoll corrects its own grants from the server's Date header, other tools do not.",
        )
    } else {
        Check::new("clock", "Local clock", Status::Fail, format!("{detail}: beyond Maskinporten's ±10 s")).fix(
            "Turn on time synchronisation (NTP: `timedatectl set-ntp true`, Windows `w32tm /resync`). digitoll corrects its own grants from the server's Date header, so digitoll keeps working, but other tools (jwt-grant-generator, other Maskinporten clients) will get MP-130 \"JWT is expired\" or \"Issue time is after now\".",
        )
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

async fn token_check(client: &MaskinportenClient, scope: &str) -> Check {
    let id = format!("token:{scope}");
    let title = format!("Maskinporten token for {scope}");
    let request = match TokenRequest::for_scopes([scope]) {
        Ok(r) => r,
        Err(e) => {
            return Check::new(id, title, Status::Fail, e.to_string())
                .fix("A scope is one word such as toll:movement/road/v2.");
        }
    };
    match client.fetch(&request).await {
        Ok(t) => Check::new(
            id,
            title,
            Status::Pass,
            format!("token issued, expires in {} s", t.lifetime().as_secs()),
        ),
        Err(e) => {
            let code = e.mp_code().cloned();
            let mut check = Check::new(id, title, Status::Fail, e.to_string());
            check.fix = Some(token_fix(code.as_ref(), scope, &e));
            check.mp_code = code.map(|c| c.as_str().to_owned());
            check
        }
    }
}

/// The fix for a failed token request, in terms of the scope.
fn token_fix(code: Option<&MpCode>, scope: &str, e: &maskinporten::Error) -> String {
    let toll = scope.starts_with("toll:");
    match code {
        Some(MpCode::Mp200) => format!(
            "MP-200: {scope} is not registered on the client. Add it in Samarbeidsportalen (Integrasjoner → your client → Scopes) or with `digitoll clients scopes add --scope {scope}`."
        ),
        Some(MpCode::Mp250) if toll => format!(
            "MP-250: Toll has not granted your organisation {scope}. Register with Toll's Digitoll registration form (TEST and PROD separately); Toll then grants the scope to your organisation number."
        ),
        Some(MpCode::Mp250) => format!(
            "MP-250: the API owner has not granted your organisation {scope}: ask the API owner for access."
        ),
        Some(MpCode::Mp121) => "MP-121: the key registered on the client is more than a year old. Upload the public key again (renews it) or rotate with `digitoll keys rotate`.".to_owned(),
        Some(MpCode::Mp100) => "MP-100: Maskinporten does not know this client id with this key in this environment. Check the client id (TEST and PROD clients differ; copy it from Samarbeidsportalen), the environment, and that the key's kid is registered on the client.".to_owned(),
        Some(MpCode::Mp120) => "MP-120: the certificate is from the other environment: a test certificate for TEST, a production certificate for PROD.".to_owned(),
        Some(other) => format!(
            "{}: {}",
            other.as_str(),
            other.hint().unwrap_or("see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking")
        ),
        None if e.is_retryable() => "Maskinporten did not answer properly: check network access and https://status.digdir.no, then try again.".to_owned(),
        None => "See the error above; https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking lists Maskinporten's errors.".to_owned(),
    }
}

fn toll_failure(id: &str, title: &str, scope: &str, e: &TollError) -> Check {
    let mut check = Check::new(id, title, Status::Fail, e.to_string());
    check.mp_code = e.mp_code().map(|c| c.as_str().to_owned());
    check.fix = Some(match e {
        TollError::Maskinporten(inner) => token_fix(e.mp_code(), scope, inner),
        TollError::Unauthorized { .. } => "Toll refused the token: check that the Toll environment matches Maskinporten's (TEST tokens for api-test.toll.no, PROD for api.toll.no).".to_owned(),
        TollError::Forbidden { .. } => format!(
            "Toll refused {scope}: register with Toll's Digitoll registration form so Toll grants the scope to your organisation."
        ),
        TollError::Transport { .. } => "Check network access to Toll (api.toll.no / api-test.toll.no), proxies and firewalls.".to_owned(),
        _ => "See the error above; Toll's API guide: https://toll.github.io/api/".to_owned(),
    });
    check
}

/// The read-only calls that prove an API is usable.
#[derive(Debug, Clone, Copy)]
enum ApiProbe {
    Movement(TransportMode, bool),
    Entry(bool),
    Documents,
}

/// An MRN no one has (valid format), for lookups that must answer 404.
const PROBE_MRN: &str = "00NODIGITOLLDOCTOR";

impl ApiProbe {
    fn for_scope(scope: &str) -> Option<Self> {
        let (foreign, rest) = match scope.strip_prefix("toll:eu/") {
            Some(r) => (true, r),
            None => (false, scope.strip_prefix("toll:")?),
        };
        Some(match rest {
            "movement/road/v2" => Self::Movement(TransportMode::Road, foreign),
            "movement/air" => Self::Movement(TransportMode::Air, foreign),
            "movement/rail" => Self::Movement(TransportMode::Rail, foreign),
            "movement/maritime" => Self::Movement(TransportMode::Maritime, foreign),
            "movement/entry" => Self::Entry(foreign),
            "goodsdeclaration/document.write" => Self::Documents,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Movement(m, _) => m.path_segment(),
            Self::Entry(_) => "entry",
            Self::Documents => "documents",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Movement(TransportMode::Road, _) => "Road",
            Self::Movement(TransportMode::Air, _) => "Air",
            Self::Movement(TransportMode::Rail, _) => "Rail",
            Self::Movement(TransportMode::Maritime, _) => "Maritime",
            Self::Entry(_) => "Presentation and routing",
            Self::Documents => "Document upload",
        }
    }

    async fn run(
        self,
        tokens: &TollTokenProvider,
        http: &reqwest::Client,
        scope: &str,
        id: String,
        title: String,
    ) -> Check {
        let fail = |e: &TollError| toll_failure(&id, &title, scope, e);
        match self {
            Self::Movement(mode, foreign) => {
                let client = match MovementClient::builder(mode, tokens.clone())
                    .http_client(http.clone())
                    .foreign_business(foreign)
                    .build()
                {
                    Ok(c) => c,
                    Err(e) => return fail(&e),
                };
                if let Err(e) = client.test_auth().await {
                    return fail(&e);
                }
                let mrn = match digitoll_model::Mrn::parse(PROBE_MRN) {
                    Ok(m) => m,
                    Err(e) => return Check::new(id, title, Status::Fail, e.to_string()),
                };
                match client.entry_status(&mrn).await {
                    Ok(_) | Err(TollError::NotFound { .. }) => Check::new(
                        id,
                        title,
                        Status::Pass,
                        format!(
                            "test-auth OK on {}; a lookup of a made-up MRN answered as expected",
                            client.submission_base()
                        ),
                    ),
                    Err(e) => fail(&e),
                }
            }
            Self::Entry(foreign) => {
                let presentation = match PresentationClient::builder(tokens.clone())
                    .http_client(http.clone())
                    .foreign_business(foreign)
                    .build()
                {
                    Ok(c) => c,
                    Err(e) => return fail(&e),
                };
                let rid = PresentationClient::new_request_id();
                if let Err(e) = presentation.validation_status(&rid).await {
                    return fail(&e);
                }
                let routing = match RoutingClient::builder(tokens.clone())
                    .http_client(http.clone())
                    .foreign_business(foreign)
                    .build()
                {
                    Ok(c) => c,
                    Err(e) => return fail(&e),
                };
                match routing.page(RoutingFeed::Transport, None).await {
                    Ok(signals) => Check::new(
                        id,
                        title,
                        Status::Pass,
                        format!(
                            "presentation status lookup answered; routing feed readable ({} signal(s) on the first page)",
                            signals.len()
                        ),
                    ),
                    Err(e) => fail(&e),
                }
            }
            Self::Documents => match TokenRequest::for_scopes([scope]) {
                Ok(req) => match tokens.token(&req).await {
                    Ok(_) => Check::new(
                        id,
                        title,
                        Status::Pass,
                        "Toll token for the upload API obtained (the upload API has no read call to probe)",
                    ),
                    Err(e) => fail(&e),
                },
                Err(e) => Check::new(id, title, Status::Fail, e.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_worst_status() {
        let mut r = Report { checks: vec![] };
        assert_eq!(r.exit_code(), 0);
        r.checks.push(Check::new("a", "a", Status::Skip, ""));
        r.checks.push(Check::new("b", "b", Status::Pass, ""));
        assert_eq!(r.exit_code(), 0);
        r.checks.push(Check::new("c", "c", Status::Warn, ""));
        assert_eq!(r.exit_code(), 1);
        r.checks.push(Check::new("d", "d", Status::Fail, ""));
        assert_eq!(r.exit_code(), 2);
        assert_eq!(r.worst(), Status::Fail);
    }

    #[test]
    fn clock_thresholds() {
        assert_eq!(clock_check(time::Duration::seconds(3)).status, Status::Pass);
        assert_eq!(
            clock_check(time::Duration::seconds(-7)).status,
            Status::Warn
        );
        let c = clock_check(time::Duration::seconds(60));
        assert_eq!(c.status, Status::Fail);
        assert!(c.detail.contains("60.0 s behind"), "{}", c.detail);
        assert!(c.fix.unwrap().contains("other tools"));
    }

    #[test]
    fn scopes_map_to_apis() {
        assert!(matches!(
            ApiProbe::for_scope("toll:movement/road/v2"),
            Some(ApiProbe::Movement(TransportMode::Road, false))
        ));
        assert!(matches!(
            ApiProbe::for_scope("toll:eu/movement/air"),
            Some(ApiProbe::Movement(TransportMode::Air, true))
        ));
        assert!(matches!(
            ApiProbe::for_scope("toll:movement/entry"),
            Some(ApiProbe::Entry(false))
        ));
        assert!(matches!(
            ApiProbe::for_scope("toll:goodsdeclaration/document.write"),
            Some(ApiProbe::Documents)
        ));
        assert!(ApiProbe::for_scope("idporten:dcr.read").is_none());
        assert!(digitoll_model::Mrn::parse(PROBE_MRN).is_ok());
    }
}
