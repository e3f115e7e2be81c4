//! Routes at the contract profile's paths.
//!
//! Every Toll route is mounted through [`mount`] at the effective template of
//! its endpoint id (`digitoll_model::profile::endpoints`), so a profile's
//! `[endpoints]` table moves what the simulator serves exactly as it moves
//! what the client sends. Path placeholders are mounted under positional
//! names (`{s3}` for the fourth segment), so two templates that name the
//! same position differently never conflict in the router; handlers read
//! values by placeholder name through [`Params`], wherever the template puts
//! them (path segment or query parameter).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use digitoll_model::profile::{ContractProfile, QueryValue, RouteTemplate, endpoint};

use crate::SimError;
use crate::state::SimState;

/// How one mounted route finds its placeholders.
#[derive(Debug)]
pub(crate) struct Mounted {
    /// Positional path name (`s3`) → placeholder name.
    path: Vec<(String, String)>,
    /// Query key → placeholder name.
    query: Vec<(String, String)>,
}

/// Placeholder values of a request (`mrn`, `requestId`, …), from the path
/// or the query string as the endpoint's template says.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// The value of `name` (empty when the request has none, e.g. a missing
    /// query parameter; handlers then answer as for an unknown id).
    pub(crate) fn get(&self, name: &str) -> String {
        self.0.get(name).cloned().unwrap_or_default()
    }

    /// Every value by placeholder name.
    pub(crate) fn map(&self) -> &HashMap<String, String> {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(mounted) = parts.extensions.get::<Arc<Mounted>>().cloned() else {
            return Ok(Self::default());
        };
        let mut out = HashMap::new();
        if !mounted.path.is_empty() {
            let raw = RawPathParams::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
            for (key, value) in &raw {
                if let Some((_, name)) = mounted.path.iter().find(|(k, _)| k == key) {
                    out.insert(name.clone(), value.to_owned());
                }
            }
        }
        if let Some(q) = parts.uri.query() {
            for (key, value) in url::form_urlencoded::parse(q.as_bytes()) {
                if let Some((_, name)) = mounted.query.iter().find(|(k, _)| *k == key) {
                    out.insert(name.clone(), value.into_owned());
                }
            }
        }
        Ok(Self(out))
    }
}

/// The router path of a template (placeholders renamed by position) and how
/// to read its placeholders back.
fn router_path(route: &RouteTemplate) -> (String, Mounted) {
    let mut path = String::new();
    let mut names = Vec::new();
    for (i, segment) in route.path.split('/').enumerate().skip(1) {
        path.push('/');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let key = format!("s{i}");
                path.push_str(&format!("{{{key}}}"));
                names.push((key, name.to_owned()));
            }
            None => path.push_str(segment),
        }
    }
    let query = route
        .query
        .iter()
        .filter_map(|(k, v)| match v {
            QueryValue::Placeholder(name) => Some((k.clone(), name.clone())),
            QueryValue::Literal(_) => None,
        })
        .collect();
    (path, Mounted { path: names, query })
}

/// Endpoints served by one handler: a profile may put them on one path.
const ALIASES: &[&[&str]] = &[&[
    "presentation.validation-status",
    "presentation.validation-status.by-path",
]];

fn aliases(a: &str, b: &str) -> bool {
    ALIASES
        .iter()
        .any(|group| group.contains(&a) && group.contains(&b))
}

/// Whether endpoints `a` and `b` of `profile` land on the same router path.
pub(crate) fn same_route(profile: &ContractProfile, a: &str, b: &str) -> bool {
    match (profile.route(a), profile.route(b)) {
        (Ok(ra), Ok(rb)) => shape(&router_path(&ra).0) == shape(&router_path(&rb).0),
        _ => false,
    }
}

/// A router path with every parameter written `{}`.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Checks that no two endpoints of `profile` (other than aliases, see
/// [`ALIASES`]) land on the same method and router path, which the router
/// could not tell apart.
pub(crate) fn check(profile: &ContractProfile) -> Result<(), SimError> {
    let mut seen: HashMap<(String, &str), &str> = HashMap::new();
    for e in digitoll_model::profile::endpoints() {
        let route = profile
            .route(e.id)
            .map_err(|err| SimError::InvalidInput(format!("endpoint {}: {err}", e.id)))?;
        let (path, _) = router_path(&route);
        if let Some(other) = seen.insert((shape(&path), e.method), e.id)
            && !aliases(other, e.id)
        {
            return Err(SimError::InvalidInput(format!(
                "endpoints `{other}` and `{}` are both {} {}: the simulator cannot tell them apart",
                e.id, e.method, route.path
            )));
        }
    }
    Ok(())
}

/// Mounts `handler` for endpoint `id` at the profile's template.
///
/// # Panics
/// If `id` is not in the catalogue (a programming error: ids are constants
/// of this crate, and the catalogue test mounts every one).
pub(crate) fn mount<H, T>(
    router: Router<Arc<SimState>>,
    profile: &ContractProfile,
    id: &str,
    handler: H,
) -> Router<Arc<SimState>>
where
    H: Handler<T, Arc<SimState>>,
    T: 'static,
{
    let info = endpoint(id).unwrap_or_else(|| panic!("endpoint id {id} is not in the catalogue"));
    let route = profile
        .route(id)
        .unwrap_or_else(|e| panic!("endpoint {id}: {e}"));
    let (path, mounted) = router_path(&route);
    let filter = match info.method {
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "DELETE" => MethodFilter::DELETE,
        _ => MethodFilter::GET,
    };
    router.route(
        &path,
        on(filter, handler).layer(Extension(Arc::new(mounted))),
    )
}
