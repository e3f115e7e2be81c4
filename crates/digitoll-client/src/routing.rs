//! The routing API (`/api/movement/routing/v1`, scope `toll:movement/entry`):
//! a pull feed of routing signals (TO_ENTRY, TO_CONTROL, …) per house
//! consignment and per transport.
//!
//! * [`RoutingClient::page`] reads one page (at most 1000 signals, oldest
//!   first, starting after a marker; the first call has none; an empty page
//!   means caught up).
//! * [`RoutingFollower`] follows a feed from a persisted cursor with
//!   **at-least-once** delivery: a page goes to the caller's handler, and only
//!   when the handler succeeded for the whole page is the last signal's id
//!   saved as the new marker. A crash or a failing handler means the page is
//!   delivered again on the next run, never skipped; with an idempotent
//!   handler (e.g. an upsert keyed by `routingResult.id`) that is
//!   exactly-once in effect.
//! * [`CursorStore`] is where the marker lives. The client does no other
//!   storage: [`MemoryCursorStore`] (tests, short-lived processes) and
//!   [`FileCursorStore`] (one JSON file, written atomically) are provided;
//!   implement the trait to keep the marker in a database, ideally in the
//!   same transaction as the handler's effects.
//! * [`LatestSignals`] keeps the newest signal per document ("the last
//!   signal wins").

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use digitoll_model::routing::{MAX_ROUTING_PAGE, RoutingSignal};
use uuid::Uuid;

use crate::core::Core;
use crate::env::Service;
use crate::error::{Error, Operation};
use crate::service::{ApiClientBuilder, BuildClient, Parts, Sealed, status_error};
use crate::token::TollTokenProvider;

/// The two routing feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoutingFeed {
    /// `GET /house-consignment?marker=`: one signal per house (or ENS,
    /// receptacle) the organisation may see.
    HouseConsignment,
    /// `GET /transport?marker=`: transport-level signals.
    Transport,
}

impl RoutingFeed {
    /// Both feeds.
    pub const ALL: [RoutingFeed; 2] = [Self::HouseConsignment, Self::Transport];

    /// The path segment (`house-consignment`, `transport`), also the key in
    /// [`FileCursorStore`]'s file.
    pub const fn path_segment(self) -> &'static str {
        match self {
            Self::HouseConsignment => "house-consignment",
            Self::Transport => "transport",
        }
    }
}

impl fmt::Display for RoutingFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path_segment())
    }
}

/// A client of the routing API. Cheap to clone.
#[derive(Clone)]
pub struct RoutingClient {
    parts: Arc<Parts>,
}

impl fmt::Debug for RoutingClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutingClient")
            .field("base", &self.parts.base.as_str())
            .field("token_request", &self.parts.core.token_request)
            .finish_non_exhaustive()
    }
}

impl Sealed for RoutingClient {}

impl BuildClient for RoutingClient {
    const SERVICE: Service = Service::Routing;
    fn from_parts(parts: Parts) -> Self {
        Self {
            parts: Arc::new(parts),
        }
    }
}

impl RoutingClient {
    /// Starts a builder; the host comes from the token provider's environment.
    pub fn builder(tokens: TollTokenProvider) -> ApiClientBuilder<Self> {
        ApiClientBuilder::new(tokens)
    }

    /// A client with defaults.
    ///
    /// # Errors
    /// As [`ApiClientBuilder::build`].
    pub fn new(tokens: TollTokenProvider) -> Result<Self, Error> {
        Self::builder(tokens).build()
    }

    /// The API base URL (`{host}/api/movement/routing/v1`).
    pub fn base_url(&self) -> &url::Url {
        &self.parts.base
    }

    /// `GET /{feed}?marker={marker}`: up to 1000 signals after `marker`
    /// (from the start of the feed without one), oldest first; empty when
    /// caught up. Pass the last signal's `routingResult.id` as the next
    /// marker. A GET, so retried on network errors, 5xx and 429.
    ///
    /// # Errors
    /// [`Error::RequestRejected`] for Toll's 400 (e.g. field `marker`,
    /// `unknown marker`); [`Error::InvalidResponse`] for a body that is not
    /// an array of signals or has more than 1000; auth and transport errors.
    pub async fn page(
        &self,
        feed: RoutingFeed,
        marker: Option<Uuid>,
    ) -> Result<Vec<RoutingSignal>, Error> {
        // The first call has no marker (S8): the template's `marker`
        // parameter is then left out.
        let marker = marker.map(|m| m.hyphenated().to_string());
        let params: Vec<(&str, &str)> = marker.iter().map(|m| ("marker", m.as_str())).collect();
        let url = self
            .parts
            .endpoint(&format!("routing.{}", feed.path_segment()), &params)?;
        let r = self.parts.core.get(self.parts.label(), &url).await?;
        if !r.status.is_success() {
            return Err(status_error(
                &self.parts,
                Operation::Routing(feed),
                "GET",
                &url,
                r,
            ));
        }
        let signals: Vec<RoutingSignal> = Core::parse(&url, &r)?;
        if signals.len() > MAX_ROUTING_PAGE {
            return Err(Error::InvalidResponse {
                url: url.to_string(),
                status: r.status.as_u16(),
                reason: format!(
                    "{} signals in one page; Toll sends at most {MAX_ROUTING_PAGE}",
                    signals.len()
                ),
                body: String::new(),
            });
        }
        Ok(signals)
    }
}

// ------------------------------------------------------------------ cursors

/// A boxed future, as [`CursorStore`] methods return (the trait is
/// object-safe: followers hold an `Arc<dyn CursorStore>`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// Where a [`RoutingFollower`] keeps its marker (the `routingResult.id` of the
/// last signal handled), one per feed.
///
/// `save` must be durable when it returns: the follower calls it only after
/// the handler succeeded for a whole page, and a restart resumes from what
/// `load` returns. Failures are [`Error::CursorStore`].
pub trait CursorStore: Send + Sync {
    /// The saved marker of `feed`, or `None` to start at the beginning.
    fn load(&self, feed: RoutingFeed) -> StoreFuture<'_, Option<Uuid>>;
    /// Saves `marker` as `feed`'s position.
    fn save(&self, feed: RoutingFeed, marker: Uuid) -> StoreFuture<'_, ()>;
}

/// A cursor store in memory: lost when the process ends. For tests and for
/// callers that persist the marker themselves.
#[derive(Debug, Default)]
pub struct MemoryCursorStore {
    markers: Mutex<HashMap<RoutingFeed, Uuid>>,
    saves: std::sync::atomic::AtomicU64,
}

impl MemoryCursorStore {
    /// An empty store (every feed starts at the beginning).
    pub fn new() -> Self {
        Self::default()
    }

    /// The marker of `feed`, without a future.
    pub fn get(&self, feed: RoutingFeed) -> Option<Uuid> {
        self.markers.lock().ok()?.get(&feed).copied()
    }

    /// How many saves happened (one per page handled).
    pub fn saves(&self) -> u64 {
        self.saves.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl CursorStore for MemoryCursorStore {
    fn load(&self, feed: RoutingFeed) -> StoreFuture<'_, Option<Uuid>> {
        let v = self.get(feed);
        Box::pin(async move { Ok(v) })
    }

    fn save(&self, feed: RoutingFeed, marker: Uuid) -> StoreFuture<'_, ()> {
        let r = match self.markers.lock() {
            Ok(mut m) => {
                m.insert(feed, marker);
                self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }
            Err(_) => Err(Error::CursorStore {
                store: "memory".into(),
                message: "lock poisoned".into(),
            }),
        };
        Box::pin(async move { r })
    }
}

/// A cursor store in one JSON file, `{"house-consignment":"<uuid>","transport":"<uuid>"}`.
///
/// Every save writes a temporary file next to the target, fsyncs it,
/// renames it over the target and fsyncs the directory, so the file always
/// holds either the old or the new markers, also after a crash or power
/// loss. Saves from one store are serialised; do not point two processes at
/// the same file.
#[derive(Debug)]
pub struct FileCursorStore {
    path: PathBuf,
    lock: tokio::sync::Mutex<()>,
}

impl FileCursorStore {
    /// A store at `path` (created on the first save; a missing file means
    /// no markers yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, message: impl Into<String>) -> Error {
        Error::CursorStore {
            store: self.path.display().to_string(),
            message: message.into(),
        }
    }

    fn read_map(path: &Path) -> Result<HashMap<String, Uuid>, String> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("is not a JSON object of feed → marker: {e}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
            Err(e) => Err(format!("cannot read: {e}")),
        }
    }

    fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
        use std::io::Write;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "cursor".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", Uuid::new_v4().simple()));
        let result = (|| -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, path)?;
            // Make the rename itself durable (directories can be opened and
            // synced on Unix; elsewhere this is best effort).
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("cannot write: {e}"));
        }
        Ok(())
    }
}

impl CursorStore for FileCursorStore {
    fn load(&self, feed: RoutingFeed) -> StoreFuture<'_, Option<Uuid>> {
        Box::pin(async move {
            let path = self.path.clone();
            let map = tokio::task::spawn_blocking(move || Self::read_map(&path))
                .await
                .map_err(|e| self.err(format!("read task failed: {e}")))?
                .map_err(|m| self.err(m))?;
            Ok(map.get(feed.path_segment()).copied())
        })
    }

    fn save(&self, feed: RoutingFeed, marker: Uuid) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let _guard = self.lock.lock().await;
            let path = self.path.clone();
            tokio::task::spawn_blocking(move || {
                let mut map = Self::read_map(&path)?;
                map.insert(feed.path_segment().to_owned(), marker);
                let mut sorted: Vec<_> = map.into_iter().collect();
                sorted.sort();
                let obj: serde_json::Map<String, serde_json::Value> = sorted
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v.hyphenated().to_string())))
                    .collect();
                let bytes = serde_json::to_vec_pretty(&obj).map_err(|e| e.to_string())?;
                Self::write_atomically(&path, &bytes)
            })
            .await
            .map_err(|e| self.err(format!("write task failed: {e}")))?
            .map_err(|m| self.err(m))
        })
    }
}

// ----------------------------------------------------------------- follower

/// Why [`RoutingFollower::run`] stopped with an error. In both cases the
/// cursor still points before the page that was not handled, so the next
/// run delivers it again.
#[derive(Debug, thiserror::Error)]
pub enum FollowError<E> {
    /// Reading the feed or saving the cursor failed.
    #[error("routing follower: {0}")]
    Client(#[from] Error),
    /// The handler failed for a page; that page's marker was not saved.
    #[error("routing handler failed on a page of {signals} signal(s) after marker {marker:?}")]
    Handler {
        /// The handler's error.
        #[source]
        error: E,
        /// How many signals the page had.
        signals: usize,
        /// The marker the page was read after (still the saved one).
        marker: Option<Uuid>,
    },
}

/// What [`RoutingFollower::run`] did before it stopped on an empty page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FollowSummary {
    /// Non-empty pages handled and committed.
    pub pages: u64,
    /// Signals handed to the handler and committed.
    pub signals: u64,
    /// The saved marker at the end.
    pub marker: Option<Uuid>,
}

/// Follows one routing feed from a persisted cursor. See the module docs
/// for the delivery guarantee.
///
/// Two ways to use it:
/// * [`RoutingFollower::run`] with an async handler per page;
/// * [`RoutingFollower::next_page`] / [`RoutingFollower::commit`] to drive
///   the loop yourself (e.g. to commit in the same database transaction as
///   the handler's writes).
pub struct RoutingFollower {
    client: RoutingClient,
    feed: RoutingFeed,
    store: Arc<dyn CursorStore>,
    interval: Duration,
    stop_on_empty: bool,
    marker: Option<Uuid>,
    loaded: bool,
}

impl fmt::Debug for RoutingFollower {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutingFollower")
            .field("feed", &self.feed)
            .field("interval", &self.interval)
            .field("stop_on_empty", &self.stop_on_empty)
            .field("marker", &self.marker)
            .finish_non_exhaustive()
    }
}

impl RoutingFollower {
    /// A follower of `feed` whose marker lives in `store`. Defaults: poll
    /// every 30 s when caught up, never stop on an empty page.
    pub fn new(client: RoutingClient, feed: RoutingFeed, store: Arc<dyn CursorStore>) -> Self {
        Self {
            client,
            feed,
            store,
            interval: Duration::from_secs(30),
            stop_on_empty: false,
            marker: None,
            loaded: false,
        }
    }

    /// How long to wait after an empty page before asking again (default
    /// 30 s). Full and partial pages are followed at once.
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Whether [`RoutingFollower::run`] returns at the first empty page
    /// (caught up) instead of waiting `interval` and polling again (default
    /// false: follow forever; stop it by dropping the future, e.g. in a
    /// `tokio::select!` with a shutdown signal, which is safe at any point).
    #[must_use]
    pub fn stop_on_empty(mut self, stop: bool) -> Self {
        self.stop_on_empty = stop;
        self
    }

    /// The feed followed.
    pub fn feed(&self) -> RoutingFeed {
        self.feed
    }

    /// The current marker (loaded from the store on first use).
    ///
    /// # Errors
    /// [`Error::CursorStore`].
    pub async fn marker(&mut self) -> Result<Option<Uuid>, Error> {
        if !self.loaded {
            self.marker = self.store.load(self.feed).await?;
            self.loaded = true;
        }
        Ok(self.marker)
    }

    /// The page after the current marker. Does not move the cursor: call
    /// [`RoutingFollower::commit`] once the page is handled, or the same
    /// page comes again.
    ///
    /// # Errors
    /// As [`RoutingClient::page`]; [`Error::CursorStore`].
    pub async fn next_page(&mut self) -> Result<Vec<RoutingSignal>, Error> {
        let marker = self.marker().await?;
        self.client.page(self.feed, marker).await
    }

    /// Saves the last signal of `page` as the marker (nothing for an empty
    /// page) and moves the cursor past it.
    ///
    /// # Errors
    /// [`Error::CursorStore`]; the cursor is then not moved.
    pub async fn commit(&mut self, page: &[RoutingSignal]) -> Result<(), Error> {
        let Some(last) = page.last() else {
            return Ok(());
        };
        let id = last.routing_result.id;
        self.store.save(self.feed, id).await?;
        self.marker = Some(id);
        self.loaded = true;
        Ok(())
    }

    /// Reads pages after the saved marker and hands each to `handler`; when
    /// the handler returns `Ok`, the page's last id is saved, then the next
    /// page is read. On an empty page: returns (with
    /// [`RoutingFollower::stop_on_empty`]) or waits
    /// [`RoutingFollower::interval`].
    ///
    /// # Errors
    /// [`FollowError::Handler`] as soon as the handler fails (the page is not
    /// committed); [`FollowError::Client`] when reading or saving fails.
    pub async fn run<H, Fut, E>(&mut self, mut handler: H) -> Result<FollowSummary, FollowError<E>>
    where
        H: FnMut(Vec<RoutingSignal>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let mut summary = FollowSummary {
            marker: self.marker().await?,
            ..FollowSummary::default()
        };
        loop {
            let page = self.next_page().await?;
            if page.is_empty() {
                if self.stop_on_empty {
                    return Ok(summary);
                }
                tokio::time::sleep(self.interval).await;
                continue;
            }
            let Some(last) = page.last().map(|s| s.routing_result.id) else {
                continue;
            };
            let n = page.len();
            let before = self.marker;
            if let Err(error) = handler(page).await {
                return Err(FollowError::Handler {
                    error,
                    signals: n,
                    marker: before,
                });
            }
            self.store.save(self.feed, last).await?;
            self.marker = Some(last);
            summary.pages += 1;
            summary.signals += n as u64;
            summary.marker = Some(last);
        }
    }
}

// ------------------------------------------------------------ latest view

/// The newest routing signal per document, fed in feed order ("the last
/// signal received wins", \[D S8\]). The document key is digitoll-model's
/// [`RoutingSignal::document_key`] (house waybill, else ENS MRN, receptacle,
/// house or transport MRN); a signal without any key is kept under its own id.
///
/// Applying the same signals again (an at-least-once re-delivery of a page)
/// leaves the view unchanged, since a re-delivered page comes in the same order.
#[derive(Debug, Clone, Default)]
pub struct LatestSignals {
    by_key: HashMap<String, RoutingSignal>,
}

impl LatestSignals {
    /// An empty view.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(signal: &RoutingSignal) -> String {
        signal
            .document_key()
            .unwrap_or_else(|| format!("id:{}", signal.routing_result.id))
    }

    /// Records `signal` as its document's newest; returns whether the view
    /// changed (false for a repeat of the current signal).
    pub fn apply(&mut self, signal: RoutingSignal) -> bool {
        let key = Self::key(&signal);
        match self.by_key.get(&key) {
            Some(current) if current.routing_result.id == signal.routing_result.id => false,
            _ => {
                self.by_key.insert(key, signal);
                true
            }
        }
    }

    /// Applies a page in order.
    pub fn apply_all(&mut self, signals: impl IntoIterator<Item = RoutingSignal>) {
        for s in signals {
            self.apply(s);
        }
    }

    /// The newest signal for a document key (see [`RoutingSignal::document_key`]).
    pub fn get(&self, document_key: &str) -> Option<&RoutingSignal> {
        self.by_key.get(document_key)
    }

    /// The newest signal for a house waybill number and CL754 type.
    pub fn for_house(&self, reference_number: &str, doc_type: &str) -> Option<&RoutingSignal> {
        self.get(&format!("{reference_number}/{doc_type}"))
    }

    /// Documents in the view.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the view is empty.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Every (document key, newest signal).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RoutingSignal)> {
        self.by_key.iter().map(|(k, v)| (k.as_str(), v))
    }
}
