//! Starting the simulator: builder, router composition, middleware and the
//! connection loop.
//!
//! The router is `maskinporten::routes()` + `admin::routes()` + `toll::routes()`
//! (the Toll APIs under `/api/` and their admin routes under `/sim/toll/`),
//! wrapped, outermost first, in:
//!
//! 1. the `Date` header from the sim clock (replacing hyper's own: hyper only adds
//!    `Date` when the response has none);
//! 2. request recording and fault injection ([`observe`]).
//!
//! Connections are served by our own hyper loop rather than `axum::serve`, so a
//! fault can close a connection without a response: a response carrying the
//! [`DropConnection`] marker makes the service fail, and hyper then closes the
//! connection without writing anything.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration as StdDuration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use digitoll_model::profile::ContractProfile;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt as _;
use url::Url;

use crate::ca::{CertEnvironment, TestCa};
use crate::clock::SimClock;
use crate::faults::{FaultAction, FaultSet};
use crate::keys::RsaPrivateKey;
use crate::maskinporten::TokenSigner;
use crate::record::{RecordedBody, RecordedRequest, Recorder, redact_authorization};
use crate::registry::Registry;
use crate::state::SimState;
use crate::toll::{TollConfig, TollState};
use crate::{SimControl, SimError, admin, demo, maskinporten, toll};

/// Largest request body the simulator reads (recording buffers bodies).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Entry point: `Simulator::builder()...start().await`.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// A builder with the defaults: `127.0.0.1:0`, demo data on, 120 s tokens, TEST environment.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            demo: true,
            token_lifetime: StdDuration::from_secs(120),
            demo_credentials_dir: None,
            environment: CertEnvironment::Test,
            public_base_url: None,
            fault_seed: 0,
            signing_key: None,
            demo_key: None,
            toll: TollConfig::default(),
            replay: None,
            profile: ContractProfile::default(),
        }
    }
}

/// Configures and starts a simulator.
#[derive(Debug)]
pub struct SimulatorBuilder {
    bind: SocketAddr,
    demo: bool,
    token_lifetime: StdDuration,
    demo_credentials_dir: Option<PathBuf>,
    environment: CertEnvironment,
    public_base_url: Option<Url>,
    fault_seed: u64,
    signing_key: Option<RsaPrivateKey>,
    demo_key: Option<RsaPrivateKey>,
    toll: TollConfig,
    replay: Option<Vec<crate::replay::Exchange>>,
    profile: ContractProfile,
}

impl SimulatorBuilder {
    /// The contract profile to behave by (default: our reading of Toll's
    /// documentation): routes at its `[endpoints]` paths, validation with its
    /// `[rules]` and `[rule_text]`, answers renamed by `[response_fields]`,
    /// `[simulator]` statuses and `[maskinporten] accept_claims`.
    pub fn profile(mut self, profile: ContractProfile) -> Self {
        self.profile = profile;
        self
    }

    /// Address to listen on (default `127.0.0.1:0`, a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Whether to install the demo organisation and clients (default true).
    pub fn demo(mut self, enabled: bool) -> Self {
        self.demo = enabled;
        self
    }

    /// `expires_in` of issued access tokens (default 120 s).
    pub fn token_lifetime(mut self, d: StdDuration) -> Self {
        self.token_lifetime = d;
        self
    }

    /// At start, write the demo client's credentials into `dir` (see [`crate::demo`]).
    pub fn write_demo_credentials(mut self, dir: impl Into<PathBuf>) -> Self {
        self.demo_credentials_dir = Some(dir.into());
        self
    }

    /// Which Maskinporten environment to play (default TEST): decides which CA is
    /// trusted; the other environment's certificates get MP-120.
    pub fn environment(mut self, env: CertEnvironment) -> Self {
        self.environment = env;
        self
    }

    /// The URL clients reach the simulator at, if not `http://<bound address>/`
    /// (e.g. behind a proxy, or when bound to `0.0.0.0`). It becomes the issuer.
    pub fn public_base_url(mut self, url: Url) -> Self {
        self.public_base_url = Some(url);
        self
    }

    /// Seed of the RNG behind probabilistic faults (default 0).
    pub fn fault_seed(mut self, seed: u64) -> Self {
        self.fault_seed = seed;
        self
    }

    /// Sign access tokens with this key instead of a fresh one (saves the slow RSA
    /// key generation in debug-build tests; gives a stable `/jwk` across restarts).
    pub fn signing_key(mut self, key: RsaPrivateKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// Use this key for the demo client instead of a fresh one (stable demo credentials).
    pub fn demo_key(mut self, key: RsaPrivateKey) -> Self {
        self.demo_key = Some(key);
        self
    }

    /// `expires_in` of Toll tokens from the token exchange (default 970 s, as in
    /// Toll's example).
    pub fn toll_token_lifetime(mut self, d: StdDuration) -> Self {
        self.toll.token_lifetime = d;
        self
    }

    /// How long after receipt, on the sim clock, Toll submissions are processed
    /// (default 1 s; validation-status answers 404 until then). Zero makes the
    /// result visible to the next call, which suits tests.
    pub fn processing_delay(mut self, d: StdDuration) -> Self {
        self.toll.processing_delay = d;
        self
    }

    /// Whether Toll validation uses the playground fixtures (TVINN, VOEC, NCTS)
    /// as api-test.toll.no does (default true: the simulator mimics Toll's test
    /// environment).
    pub fn playground(mut self, enabled: bool) -> Self {
        self.toll.playground = enabled;
        self
    }

    /// Answer from a recorded transcript instead of simulating (see
    /// [`crate::replay`]): recorded requests get the recorded answers,
    /// anything else a 599 naming the closest recorded request. The admin
    /// API under `/sim/` stays.
    pub fn replay(mut self, transcript: Vec<crate::replay::Exchange>) -> Self {
        self.replay = Some(transcript);
        self
    }

    /// Binds, generates keys and CAs, installs demo data, writes demo credentials
    /// if asked, and serves in a background task. The server stops when the
    /// returned [`RunningSimulator`] is shut down or dropped.
    pub async fn start(self) -> Result<RunningSimulator, SimError> {
        toll::paths::check(&self.profile)?;
        let listener = TcpListener::bind(self.bind)
            .await
            .map_err(|source| SimError::Bind {
                addr: self.bind,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: self.bind,
            source,
        })?;
        let base_url = match self.public_base_url {
            Some(mut url) => {
                if !url.path().ends_with('/') {
                    let path = format!("{}/", url.path());
                    url.set_path(&path);
                }
                url
            }
            None => default_base_url(local_addr)?,
        };

        let signing_key = key_or_generate(self.signing_key);
        let demo_key = key_or_generate(if self.demo { self.demo_key } else { None });
        let ca = tokio::task::spawn_blocking(TestCa::generate);
        let (signing_key, demo_key, ca) = tokio::join!(signing_key, demo_key, ca);
        let signing_key = signing_key?;
        let ca = ca.map_err(|e| SimError::Server(format!("CA generation task: {e}")))??;

        let state = Arc::new(SimState {
            issuer: base_url.to_string(),
            base_url: base_url.clone(),
            environment: self.environment,
            clock: SimClock::new(),
            registry: RwLock::new(Registry::default()),
            faults: FaultSet::new(self.fault_seed),
            recorder: Recorder::default(),
            ca,
            signer: TokenSigner::new(&signing_key)?,
            used_jtis: Mutex::new(Default::default()),
            token_lifetime: RwLock::new(self.token_lifetime),
            toll: TollState::new(self.toll),
            selfservice: Default::default(),
            profile: Arc::new(self.profile),
        });
        let control = SimControl {
            state: state.clone(),
        };
        if self.demo {
            let demo_key = demo_key?;
            let demo = demo::install(&control, &demo_key)?;
            if let Some(dir) = &self.demo_credentials_dir {
                demo::write_credentials(&control, &demo, dir)?;
            }
        } else if let Some(dir) = &self.demo_credentials_dir {
            return Err(SimError::InvalidInput(format!(
                "write_demo_credentials({}): the demo is disabled, so there are no demo credentials",
                dir.display()
            )));
        }

        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let app = match self.replay {
            Some(transcript) => replay_router(state, transcript),
            None => router(state),
        };
        let task = tokio::spawn(serve(listener, app, shutdown_rx));
        Ok(RunningSimulator {
            base_url,
            local_addr,
            control,
            shutdown_tx,
            task,
        })
    }
}

async fn key_or_generate(key: Option<RsaPrivateKey>) -> Result<RsaPrivateKey, SimError> {
    match key {
        Some(k) => Ok(k),
        None => tokio::task::spawn_blocking(RsaPrivateKey::generate)
            .await
            .map_err(|e| SimError::Server(format!("key generation task: {e}")))?,
    }
}

fn default_base_url(addr: SocketAddr) -> Result<Url, SimError> {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    let text = match ip {
        IpAddr::V4(ip) => format!("http://{ip}:{}/", addr.port()),
        IpAddr::V6(ip) => format!("http://[{ip}]:{}/", addr.port()),
    };
    Url::parse(&text).map_err(|e| SimError::Server(format!("base URL {text}: {e}")))
}

/// A started simulator. Dropping it stops the server (in-flight requests finish).
#[derive(Debug)]
pub struct RunningSimulator {
    base_url: Url,
    local_addr: SocketAddr,
    control: SimControl,
    shutdown_tx: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningSimulator {
    /// `http://127.0.0.1:PORT/` (or the configured public base URL).
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// The Maskinporten issuer: the base URL as a string, with its trailing slash.
    pub fn issuer(&self) -> String {
        self.base_url.to_string()
    }

    /// `base_url + "token"`.
    pub fn token_endpoint(&self) -> Url {
        self.url("token")
    }

    /// `base_url` joined with a relative path such as `"jwk"` or `"sim/requests"`.
    pub fn url(&self, path: &str) -> Url {
        self.base_url
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.base_url.clone())
    }

    /// The socket address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A cheap, cloneable handle to the simulator's state.
    pub fn control(&self) -> SimControl {
        self.control.clone()
    }

    /// Stops accepting connections and waits (up to 5 s) for open ones to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown_tx.send(true);
        let _ = self.task.await;
    }
}

/// Composes every route with the middleware stack.
pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .merge(maskinporten::routes())
        .merge(admin::routes())
        .merge(toll::routes(&state.profile))
        .merge(crate::selfservice::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn_with_state(state.clone(), date_header))
        .with_state(state)
}

/// The admin API plus the transcript's answers (see [`crate::replay`]).
fn replay_router(state: Arc<SimState>, transcript: Vec<crate::replay::Exchange>) -> Router {
    Router::new()
        .merge(admin::routes())
        .with_state(state.clone())
        .merge(crate::replay::routes(Arc::new(crate::replay::Replay::new(
            transcript,
        ))))
        .layer(middleware::from_fn_with_state(state, date_header))
}

async fn not_found(request: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "error": "not_found",
            "error_description": format!("no route for {} {}", request.method(), request.uri().path()),
        })),
    )
        .into_response()
}

/// Sets `Date` from the sim clock on every response.
async fn date_header(State(state): State<Arc<SimState>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&state.clock.http_date()) {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

/// Marker on a response: close the connection instead of sending it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// Records the request, then applies faults (latency, error answers, drops).
async fn observe(State(state): State<Arc<SimState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/sim/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, format!("request body: {e}")).into_response();
        }
    };
    let now = state.clock.now();
    let decision = state.faults.decide(parts.method.as_str(), &path, now);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    state.recorder.push(RecordedRequest {
        id: state.recorder.next_id(),
        method: parts.method.to_string(),
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                let v = if k == header::AUTHORIZATION {
                    redact_authorization(&v)
                } else {
                    v
                };
                (k.as_str().to_owned(), v)
            })
            .collect(),
        body: RecordedBody::decode(content_type, &bytes),
        received_at: now,
        faults: decision.fired.clone(),
    });
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    match decision.action {
        None => next.run(request).await,
        Some(FaultAction::DropResponse) => {
            let mut response = next.run(request).await;
            response.extensions_mut().insert(DropConnection);
            response
        }
        Some(FaultAction::DropConnection) => {
            let mut response = Response::new(Body::empty());
            response.extensions_mut().insert(DropConnection);
            response
        }
        Some(FaultAction::Status(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, format!("digitoll-sim: simulated {status}\n")).into_response()
        }
        Some(FaultAction::Outage(retry_after)) => {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                "digitoll-sim: simulated outage (503 Service Unavailable)\n",
            )
                .into_response();
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            response
        }
        Some(FaultAction::RateLimited(secs)) => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                "digitoll-sim: simulated rate limit (429 Too Many Requests)\n",
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            response
        }
    }
}

/// The service error that makes hyper close a connection without responding.
#[derive(Debug)]
struct ConnectionDropped;

impl std::fmt::Display for ConnectionDropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a simulated fault")
    }
}

impl std::error::Error for ConnectionDropped {}

/// Accepts connections until shutdown, serving each with HTTP/1.1 keep-alive.
async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(StdDuration::from_millis(50)).await;
                        continue;
                    }
                };
                let router = router.clone();
                let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                    let router = router.clone();
                    async move {
                        let response = router.oneshot(request.map(Body::new)).await.unwrap_or_else(|e| match e {});
                        if response.extensions().get::<DropConnection>().is_some() {
                            Err(ConnectionDropped)
                        } else {
                            Ok(response)
                        }
                    }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(StdDuration::from_secs(5), graceful.shutdown()).await;
}
