//! The web dashboard and forms under `/ui`, served from the same binary as the
//! API: server-rendered askama templates (auto-escaped), htmx for the live
//! parts (vendored, embedded; nothing is loaded from the internet), in
//! Norwegian and English.
//!
//! * Sign-in with a tenant API key (that tenant's data only) or an admin key
//!   (all tenants); server-side sessions behind a `Secure`, `HttpOnly`,
//!   `SameSite=Lax` cookie ([`session`]).
//! * Every POST carries the session's CSRF token (a hidden field, or the
//!   `X-CSRF-Token` header htmx sends) and is refused without it; a
//!   cross-site `Origin` is refused as well.
//! * Tenant isolation as in the API: the tenant comes from the session's key
//!   and is passed to every store call; another tenant's id answers 404.
//! * Pages answer with a strict `Content-Security-Policy` (scripts and styles
//!   from `/ui/assets` only).

mod forms;
mod i18n;
mod live;
mod pages;
mod session;
mod system;
mod tenants;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use digitoll_store::TenantId;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::Principal;
use crate::state::GatewayState;

pub use i18n::Lang;
use session::{LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, Sessions, cookie, same_token};

/// The dashboard's in-process state: sessions, the last health check per
/// tenant and metric samples for the charts.
#[derive(Debug, Default)]
pub struct WebState {
    sessions: Sessions,
    health: Mutex<HashMap<TenantId, tenants::HealthSnapshot>>,
    samples: Mutex<system::Samples>,
}

impl WebState {
    /// Sets how long a session lives without use (`idle`) and at most
    /// (`absolute`); defaults 30 min and 12 h. Applies to open sessions too.
    pub fn set_session_timeouts(&self, idle: Duration, absolute: Duration) {
        self.sessions.set_timeouts(idle, absolute);
    }

    /// Whether cookies carry `Secure` (default true). Browsers accept
    /// `Secure` cookies over plain http only from localhost, so turn this off
    /// only behind a TLS-terminating proxy that forwards plain http from
    /// another host, never to serve the dashboard over plain http.
    pub fn set_secure_cookies(&self, secure: bool) {
        self.sessions.set_secure(secure);
    }
}

/// The `/ui` routes, merged into the gateway's router by [`crate::app`].
pub(crate) fn router() -> Router<GatewayState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/ui", get(|| async { Redirect::to("/ui/transports") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/transports") }))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/lang/{lang}", get(set_lang))
        .route("/ui/assets/{name}", get(asset))
        .route(
            "/ui/transports",
            get(pages::transports).post(forms::create_transport),
        )
        .route("/ui/transports/new", get(forms::new_transport))
        .route("/ui/transports/check", post(forms::check_transport))
        .route("/ui/transports/{id}", get(pages::transport))
        .route("/ui/transports/{id}/live", get(live::transport_live))
        .route("/ui/transports/{id}/eta", post(forms::update_eta))
        .route("/ui/messages/{id}", get(pages::message))
        .route("/ui/messages/{id}/update", post(pages::message_update))
        .route("/ui/messages/{id}/delete", post(pages::message_delete))
        .route("/ui/problems", get(pages::problems))
        .route("/ui/jobs/{id}/retry", post(pages::job_retry))
        .route("/ui/jobs/{id}/cancel", post(pages::job_cancel))
        .route("/ui/tenants", get(tenants::tenants))
        .route("/ui/tenants/{id}", get(tenants::tenant))
        .route("/ui/tenants/{id}/check", post(tenants::check))
        .route("/ui/tenants/{id}/rotate-key", post(tenants::rotate))
        .route("/ui/tenants/{id}/validation", post(tenants::set_validation))
        .route("/ui/tenants/{id}/api-keys", post(tenants::create_key))
        .route(
            "/ui/tenants/{id}/api-keys/{key}/revoke",
            post(tenants::revoke_key),
        )
        .route("/ui/system", get(system::system))
        .route("/ui/system/live", get(system::system_live))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    let csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
               connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

// ------------------------------------------------------------------- errors

/// Why a dashboard request failed; rendered as a page (or an htmx redirect).
#[derive(Debug)]
pub(crate) enum WebError {
    /// No valid session: go to the sign-in page.
    SignIn { next: String, expired: bool },
    /// 404 (also another tenant's resource).
    NotFound,
    /// 403 (a tenant session on an admin page).
    Forbidden,
    /// 403: the CSRF token is missing or wrong, or the request is cross-site.
    Csrf,
    /// 400 with a message for the user.
    BadRequest(String),
    /// 500; the cause is logged, not shown.
    Internal(String),
}

impl From<digitoll_store::Error> for WebError {
    fn from(e: digitoll_store::Error) -> Self {
        match e {
            digitoll_store::Error::NotFound { .. } => WebError::NotFound,
            digitoll_store::Error::Invalid { field, reason } => {
                WebError::BadRequest(format!("{field}: {reason}"))
            }
            digitoll_store::Error::Conflict(m) => WebError::BadRequest(m.to_string()),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            WebError::SignIn { next, expired } => {
                let target = format!(
                    "/ui/login?next={}{}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>(),
                    if *expired { "&expired=1" } else { "" }
                );
                let mut resp = Redirect::to(&target).into_response();
                if let Ok(v) = HeaderValue::from_str(&target) {
                    resp.headers_mut().insert("hx-redirect", v);
                }
                return resp;
            }
            WebError::NotFound => (StatusCode::NOT_FOUND, "Ikke funnet / Not found".to_owned()),
            WebError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Ingen tilgang / Not allowed for this sign-in".to_owned(),
            ),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "Skjemaet var utløpt eller kom fra et annet nettsted. Last siden på nytt. / \
                 The form was stale or came from another site. Reload the page and try again."
                    .to_owned(),
            ),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            WebError::Internal(cause) => {
                tracing::error!(error = %cause, "dashboard request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Intern feil / Internal error".to_owned(),
                )
            }
        };
        let body = ErrorPage {
            status: status.as_u16(),
            message: &message,
        }
        .render()
        .unwrap_or_else(|_| message.clone());
        (status, Html(body)).into_response()
    }
}

// ------------------------------------------------------------------ context

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) principal: Principal,
    pub(crate) csrf: String,
    pub(crate) lang: Lang,
    pub(crate) path: String,
    pub(crate) who: String,
    pub(crate) htmx: bool,
}

/// What every page's layout needs.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) lang: Lang,
    pub(crate) title: String,
    pub(crate) csrf: String,
    pub(crate) admin: bool,
    pub(crate) who: String,
    pub(crate) path: String,
    pub(crate) nav: &'static str,
    pub(crate) signed_in: bool,
}

impl Layout {
    /// The text for a key in the page's language.
    pub(crate) fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    /// The other language (for the switch).
    pub(crate) fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Nb => "en",
            Lang::En => "nb",
        }
    }

    /// The current path, URL-encoded for the language switch's `back`.
    pub(crate) fn back(&self) -> String {
        url::form_urlencoded::byte_serialize(self.path.as_bytes()).collect()
    }

    /// The htmx header JSON carrying the CSRF token.
    pub(crate) fn hx_headers(&self) -> String {
        format!("{{\"X-CSRF-Token\": \"{}\"}}", self.csrf)
    }

    /// `aria-current` for a nav link.
    pub(crate) fn current(&self, nav: &str) -> &'static str {
        if self.nav == nav { "page" } else { "false" }
    }
}

impl Ctx {
    pub(crate) fn layout(&self, title_key: &str, nav: &'static str) -> Layout {
        Layout {
            lang: self.lang,
            title: self.lang.t(title_key).to_owned(),
            csrf: self.csrf.clone(),
            admin: self.is_admin(),
            who: self.who.clone(),
            path: self.path.clone(),
            nav,
            signed_in: true,
        }
    }

    pub(crate) fn is_admin(&self) -> bool {
        matches!(self.principal, Principal::Admin { .. })
    }

    /// The session's tenant, or None for the operator.
    pub(crate) fn tenant(&self) -> Option<TenantId> {
        match self.principal {
            Principal::Tenant { tenant, .. } => Some(tenant),
            Principal::Admin { .. } => None,
        }
    }

    /// 403 unless the operator.
    pub(crate) fn require_admin(&self) -> Result<(), WebError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// Checks the CSRF token of a POST (form field `csrf` or header
    /// `X-CSRF-Token`) and refuses cross-site requests.
    pub(crate) fn check_csrf(&self, headers: &HeaderMap, form: &Form) -> Result<(), WebError> {
        if cross_site(headers) {
            return Err(WebError::Csrf);
        }
        let presented = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| form.get("csrf").map(str::to_owned))
            .ok_or(WebError::Csrf)?;
        if same_token(&presented, &self.csrf) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    /// The tenant a request may act on: the session's own (a different
    /// `requested` one is 404), or for the operator the requested one.
    pub(crate) fn scope(&self, requested: Option<TenantId>) -> Result<Option<TenantId>, WebError> {
        match (self.tenant(), requested) {
            (Some(own), Some(r)) if r != own => Err(WebError::NotFound),
            (Some(own), _) => Ok(Some(own)),
            (None, r) => Ok(r),
        }
    }
}

/// Whether the browser says the request came from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s == "cross-site")
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
            origin_host != host
        }
        _ => false,
    }
}

fn lang_of(headers: &HeaderMap) -> Lang {
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)) {
        return l;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = accept
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if first.starts_with("en") {
        Lang::En
    } else {
        Lang::Nb
    }
}

impl FromRequestParts<GatewayState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &GatewayState) -> Result<Self, WebError> {
        let path = parts
            .uri
            .path_and_query()
            .map_or("/ui", |p| p.as_str())
            .to_owned();
        let next = if parts.method == axum::http::Method::GET {
            path.clone()
        } else {
            "/ui/transports".to_owned()
        };
        let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(WebError::SignIn {
                next,
                expired: false,
            });
        };
        let Some(session) = state.web().sessions.get(&sid) else {
            return Err(WebError::SignIn {
                next,
                expired: true,
            });
        };
        let mut auth = HeaderMap::new();
        let bearer = format!("Bearer {}", session.api_key.expose_secret());
        let Ok(mut value) = HeaderValue::from_str(&bearer) else {
            return Err(WebError::SignIn {
                next,
                expired: true,
            });
        };
        value.set_sensitive(true);
        auth.insert(header::AUTHORIZATION, value);
        let principal = match state.auth().authenticate(&auth).await {
            Ok(p) => p,
            Err(crate::error::ApiError::Unauthorized | crate::error::ApiError::Forbidden(_)) => {
                state.web().sessions.close(&sid);
                return Err(WebError::SignIn {
                    next,
                    expired: true,
                });
            }
            Err(e) => return Err(WebError::Internal(e.to_string())),
        };
        let lang = lang_of(&parts.headers);
        let who = match principal {
            Principal::Admin { .. } => lang.t("who.admin").to_owned(),
            Principal::Tenant { tenant, .. } => match state.store().tenant(tenant).await {
                Ok(t) => format!("{} ({})", t.name, t.org_number),
                Err(_) => tenant.to_string(),
            },
        };
        Ok(Ctx {
            principal,
            csrf: session.csrf.clone(),
            lang,
            path,
            who,
            htmx: parts.headers.contains_key("hx-request"),
        })
    }
}

// -------------------------------------------------------------------- forms

/// A parsed `application/x-www-form-urlencoded` body (repeated keys kept).
#[derive(Debug, Default, Clone)]
pub(crate) struct Form(pub(crate) Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Self {
        Form(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key`, trimmed, or "".
    pub(crate) fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or("").trim().to_owned()
    }

    /// Every value of `key`, in order.
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
}

pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, WebError> {
    s.parse().map_err(|_| WebError::NotFound)
}

/// A redirect after a successful POST (303, or `HX-Redirect` for htmx).
pub(crate) fn see_other(ctx: &Ctx, to: &str) -> Response {
    if ctx.htmx {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            r.headers_mut().insert("hx-redirect", v);
        }
        r
    } else {
        Redirect::to(to).into_response()
    }
}

// ------------------------------------------------------- sign-in and assets

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    next: String,
    error: Option<&'static str>,
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.starts_with("/ui//") && !n.contains('\\') => {
            n.to_owned()
        }
        _ => "/ui/transports".to_owned(),
    }
}

fn login_layout(lang: Lang, csrf: String) -> Layout {
    Layout {
        lang,
        title: lang.t("login.title").to_owned(),
        csrf,
        admin: false,
        who: String::new(),
        path: "/ui/login".into(),
        nav: "login",
        signed_in: false,
    }
}

async fn login_page(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let lang = lang_of(&headers);
    let token = session::random_token();
    let page = LoginPage {
        l: login_layout(lang, token.clone()),
        next: safe_next(q.get("next").map(String::as_str)),
        error: q.contains_key("expired").then_some("login.expired"),
    };
    let cookie = state
        .web()
        .sessions
        .plain_cookie(LOGIN_COOKIE, &token, 3600);
    Ok(([(header::SET_COOKIE, cookie)], Html(page.render()?)).into_response())
}

async fn login(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let form = Form::parse(&body);
    let expected = cookie(&headers, LOGIN_COOKIE).ok_or(WebError::Csrf)?;
    let presented = form.get("csrf").ok_or(WebError::Csrf)?;
    if cross_site(&headers) || !same_token(presented, &expected) {
        return Err(WebError::Csrf);
    }
    let key = form.text("api_key");
    let lang = lang_of(&headers);
    let mut auth = HeaderMap::new();
    let ok = match HeaderValue::from_str(&format!("Bearer {key}")) {
        Ok(v) if !key.is_empty() => {
            auth.insert(header::AUTHORIZATION, v);
            state.auth().authenticate(&auth).await.is_ok()
        }
        _ => false,
    };
    if !ok {
        let page = LoginPage {
            l: login_layout(lang, expected),
            next: safe_next(form.get("next")),
            error: Some("login.failed"),
        };
        return Ok((StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response());
    }
    let sessions = &state.web().sessions;
    let id = sessions.open(SecretString::from(key));
    let mut resp = Redirect::to(&safe_next(form.get("next"))).into_response();
    let h = resp.headers_mut();
    for c in [sessions.cookie(&id), sessions.clear_cookie(LOGIN_COOKIE)] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

async fn logout(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    ctx.check_csrf(&headers, &Form::parse(&body))?;
    let sessions = &state.web().sessions;
    if let Some(sid) = cookie(&headers, SESSION_COOKIE) {
        sessions.close(&sid);
    }
    let mut resp = Redirect::to("/ui/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&sessions.clear_cookie(SESSION_COOKIE)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

async fn set_lang(
    State(state): State<GatewayState>,
    Path(lang): Path<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let lang = Lang::parse(&lang).ok_or(WebError::NotFound)?;
    let back = match q.get("back").map(String::as_str) {
        Some("/ui/login") => "/ui/login".to_owned(),
        other => safe_next(other),
    };
    let mut resp = Redirect::to(&back).into_response();
    let c = state
        .web()
        .sessions
        .plain_cookie(LANG_COOKIE, lang.code(), 365 * 24 * 3600);
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

const HTMX: &[u8] = include_bytes!("../../assets/htmx.min.js");
const CSS: &[u8] = include_bytes!("../../assets/app.css");
const APP_JS: &[u8] = include_bytes!("../../assets/app.js");

async fn asset(Path(name): Path<String>) -> Response {
    let (body, ct) = match name.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (CSS, "text/css; charset=utf-8"),
        _ => return WebError::NotFound.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------- shared helpers

/// Norwegian local time of an instant, as `YYYY-MM-DD HH:MM`.
pub(crate) fn oslo_text(t: time::OffsetDateTime) -> String {
    let local = t.to_offset(oslo_offset(t));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// Norway's UTC offset at instant `t`: CEST (+2) from the last Sunday of
/// March 01:00 UTC to the last Sunday of October 01:00 UTC, else CET (+1).
pub(crate) fn oslo_offset(t: time::OffsetDateTime) -> time::UtcOffset {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year();
    let last_sunday = |month: time::Month| -> time::OffsetDateTime {
        let days = month.length(year);
        let mut d = time::Date::from_calendar_date(year, month, days).unwrap_or(time::Date::MIN);
        while d.weekday() != time::Weekday::Sunday {
            d = d.previous_day().unwrap_or(d);
        }
        d.with_hms(1, 0, 0)
            .unwrap_or(time::PrimitiveDateTime::MIN)
            .assume_utc()
    };
    let start = last_sunday(time::Month::March);
    let end = last_sunday(time::Month::October);
    let hours = if t >= start && t < end { 2 } else { 1 };
    time::UtcOffset::from_hms(hours, 0, 0).unwrap_or(time::UtcOffset::UTC)
}

/// Parses a `datetime-local` value (`YYYY-MM-DDTHH:MM[:SS]`) as Norwegian
/// time; None when malformed.
pub(crate) fn parse_oslo_local(s: &str) -> Option<time::OffsetDateTime> {
    let s = s.trim();
    let fmt_min = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let fmt_sec =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let p = time::PrimitiveDateTime::parse(s, &fmt_sec)
        .or_else(|_| time::PrimitiveDateTime::parse(s, &fmt_min))
        .ok()?;
    // Try winter time first; if the result falls in summer time, use +2.
    let winter = p.assume_offset(time::UtcOffset::from_hms(1, 0, 0).ok()?);
    let off = oslo_offset(winter);
    Some(p.assume_offset(off).to_offset(time::UtcOffset::UTC))
}

/// The `datetime-local` text of an instant in Norwegian time.
pub(crate) fn oslo_input(t: time::OffsetDateTime) -> String {
    oslo_text(t).replacen(' ', "T", 1)
}

/// Toll's instant format `yyyy-MM-ddTHH:mm:ssZ`.
pub(crate) fn toll_instant(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn norwegian_time_follows_summer_time() {
        assert_eq!(
            oslo_text(datetime!(2026-01-15 12:00 UTC)),
            "2026-01-15 13:00"
        );
        assert_eq!(
            oslo_text(datetime!(2026-07-01 12:00 UTC)),
            "2026-07-01 14:00"
        );
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(
            oslo_text(datetime!(2026-03-29 00:59 UTC)),
            "2026-03-29 01:59"
        );
        assert_eq!(
            oslo_text(datetime!(2026-03-29 01:00 UTC)),
            "2026-03-29 03:00"
        );
        assert_eq!(
            parse_oslo_local("2026-12-02T07:30"),
            Some(datetime!(2026-12-02 06:30 UTC))
        );
        assert_eq!(
            parse_oslo_local("2026-06-02T07:30"),
            Some(datetime!(2026-06-02 05:30 UTC))
        );
        assert_eq!(parse_oslo_local("tomorrow"), None);
        assert_eq!(
            toll_instant(datetime!(2026-06-02 05:30 UTC)),
            "2026-06-02T05:30:00Z"
        );
        assert_eq!(
            oslo_input(datetime!(2026-12-02 06:30 UTC)),
            "2026-12-02T07:30"
        );
    }

    #[test]
    fn next_and_origin_checks() {
        assert_eq!(safe_next(Some("/ui/problems")), "/ui/problems");
        assert_eq!(safe_next(Some("//evil.example/")), "/ui/transports");
        assert_eq!(safe_next(Some("/ui//evil.example")), "/ui/transports");
        assert_eq!(
            safe_next(Some("https://evil.example/ui/")),
            "/ui/transports"
        );
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(!cross_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(!cross_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(cross_site(&h));
    }
}
