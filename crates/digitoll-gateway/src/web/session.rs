//! Dashboard sessions: server-side, in memory, behind a random cookie.
//!
//! The cookie holds only a random 256-bit id (`Secure`, `HttpOnly`,
//! `SameSite=Lax`); the table is keyed by the id's SHA-256, so a memory dump
//! of the table does not yield usable cookies. Each session keeps the API key
//! it was opened with (a [`SecretString`], never logged) and re-authenticates
//! it on every request through the gateway's [`crate::Authenticator`], so a
//! revoked key or a disabled tenant ends the session at once. Sessions end
//! after an idle time (default 30 min) and an absolute time (default 12 h),
//! and at sign-out. They live in the process: several gateway instances need
//! sticky sessions, and a restart signs everyone out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header;
use base64::Engine as _;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "dt_session";
/// The sign-in form's CSRF cookie (double submit, before a session exists).
pub(crate) const LOGIN_COOKIE: &str = "dt_login";
/// The language cookie.
pub(crate) const LANG_COOKIE: &str = "dt_lang";

/// One signed-in browser.
pub(crate) struct Session {
    pub(crate) api_key: SecretString,
    pub(crate) csrf: String,
    created: Instant,
    last_seen: Mutex<Instant>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("api_key", &"[redacted]")
            .field("csrf", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// The session table and its settings.
pub(crate) struct Sessions {
    table: Mutex<HashMap<[u8; 32], std::sync::Arc<Session>>>,
    idle_ms: AtomicU64,
    absolute_ms: AtomicU64,
    secure: AtomicBool,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("count", &self.lock().len())
            .finish_non_exhaustive()
    }
}

/// 32 random bytes, base64url without padding (43 characters).
pub(crate) fn random_token() -> String {
    let mut raw = [0u8; 32];
    // aws-lc-rs' system random; failing here means the OS has no entropy.
    if aws_lc_rs::rand::fill(&mut raw).is_err() {
        panic!("the system random number generator failed");
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// Constant-time comparison of two tokens.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            table: Mutex::new(HashMap::new()),
            idle_ms: AtomicU64::new(30 * 60 * 1000),
            absolute_ms: AtomicU64::new(12 * 3600 * 1000),
            secure: AtomicBool::new(true),
        }
    }
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], std::sync::Arc<Session>>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        let idle = Duration::from_millis(self.idle_ms.load(Ordering::SeqCst));
        let absolute = Duration::from_millis(self.absolute_ms.load(Ordering::SeqCst));
        let last = *s.last_seen.lock().unwrap_or_else(|e| e.into_inner());
        now.duration_since(last) >= idle || now.duration_since(s.created) >= absolute
    }

    pub(crate) fn set_timeouts(&self, idle: Duration, absolute: Duration) {
        self.idle_ms.store(
            idle.as_millis().min(u64::MAX as u128) as u64,
            Ordering::SeqCst,
        );
        self.absolute_ms.store(
            absolute.as_millis().min(u64::MAX as u128) as u64,
            Ordering::SeqCst,
        );
    }

    pub(crate) fn set_secure(&self, secure: bool) {
        self.secure.store(secure, Ordering::SeqCst);
    }

    /// Opens a session; returns the cookie value.
    pub(crate) fn open(&self, api_key: SecretString) -> String {
        let id = random_token();
        let now = Instant::now();
        let mut table = self.lock();
        // Opening is rare: sweep expired sessions here.
        table.retain(|_, s| !self.expired(s, now));
        table.insert(
            digest(&id),
            std::sync::Arc::new(Session {
                api_key,
                csrf: random_token(),
                created: now,
                last_seen: Mutex::new(now),
            }),
        );
        id
    }

    /// The live session behind a cookie value (and marks it used), or None
    /// when unknown or expired (an expired one is removed).
    pub(crate) fn get(&self, id: &str) -> Option<std::sync::Arc<Session>> {
        let key = digest(id);
        let mut table = self.lock();
        let s = table.get(&key)?.clone();
        let now = Instant::now();
        if self.expired(&s, now) {
            table.remove(&key);
            return None;
        }
        *s.last_seen.lock().unwrap_or_else(|e| e.into_inner()) = now;
        Some(s)
    }

    /// Ends a session (sign-out).
    pub(crate) fn close(&self, id: &str) {
        self.lock().remove(&digest(id));
    }

    /// `Set-Cookie` value for the session id.
    pub(crate) fn cookie(&self, id: &str) -> String {
        let max_age = self.absolute_ms.load(Ordering::SeqCst) / 1000;
        cookie_line(
            SESSION_COOKIE,
            id,
            Some(max_age),
            self.secure.load(Ordering::SeqCst),
            true,
        )
    }

    /// `Set-Cookie` value that deletes `name`.
    pub(crate) fn clear_cookie(&self, name: &str) -> String {
        cookie_line(name, "", Some(0), self.secure.load(Ordering::SeqCst), true)
    }

    /// `Set-Cookie` for a non-session cookie (login CSRF, language).
    pub(crate) fn plain_cookie(&self, name: &str, value: &str, max_age: u64) -> String {
        cookie_line(
            name,
            value,
            Some(max_age),
            self.secure.load(Ordering::SeqCst),
            true,
        )
    }
}

fn cookie_line(
    name: &str,
    value: &str,
    max_age: Option<u64>,
    secure: bool,
    http_only: bool,
) -> String {
    let mut s = format!("{name}={value}; Path=/; SameSite=Lax");
    if let Some(m) = max_age {
        s.push_str(&format!("; Max-Age={m}"));
    }
    if http_only {
        s.push_str("; HttpOnly");
    }
    if secure {
        s.push_str("; Secure");
    }
    s
}

/// The value of cookie `name` in the request, if any.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use secrecy::ExposeSecret;

    #[test]
    fn sessions_expire_when_idle_and_on_close() {
        let s = Sessions::default();
        let id = s.open(SecretString::from("dtk_x"));
        assert_eq!(s.get(&id).expect("live").api_key.expose_secret(), "dtk_x");
        assert!(s.get("other").is_none());
        s.close(&id);
        assert!(s.get(&id).is_none());
        let id = s.open(SecretString::from("dtk_y"));
        s.set_timeouts(Duration::ZERO, Duration::from_secs(60));
        assert!(s.get(&id).is_none(), "idle timeout");
        let dbg = format!(
            "{:?}",
            Session {
                api_key: SecretString::from("dtk_secret"),
                csrf: "tok".into(),
                created: Instant::now(),
                last_seen: Mutex::new(Instant::now()),
            }
        );
        assert!(
            !dbg.contains("dtk_secret") && !dbg.contains("tok\""),
            "{dbg}"
        );
    }

    #[test]
    fn cookies_are_parsed_and_flagged() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; dt_session=abc ; dt_lang=en"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, LANG_COOKIE).as_deref(), Some("en"));
        assert_eq!(cookie(&h, "b"), None);
        let s = Sessions::default();
        let line = s.cookie("abc");
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(line.contains(attr), "{line}");
        }
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("a", "ab"));
        assert_eq!(random_token().len(), 43);
    }
}
