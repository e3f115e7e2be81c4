//! Helpers for the Toll tests: road clients for several organisations,
//! Maskinporten tokens, the token exchange, and a small road API client.

use std::path::PathBuf;
use std::time::Duration;

use digitoll_sim::{ClientRegistration, ROAD_SCOPE, Simulator};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use super::{Grant, ORG, OTHER_ORG, SCOPE, Sim, keys, start_with};

/// The representative named in the example messages (Grensespedisjon AS).
pub const REP_ORG: &str = "987654325";
/// Road client of [`ORG`].
pub const ROAD_A: &str = "road-a";
/// Road client of [`OTHER_ORG`].
pub const ROAD_B: &str = "road-b";
/// Road client of [`REP_ORG`].
pub const ROAD_REP: &str = "road-rep";
/// Client of [`ORG`] that only has the air scope.
pub const AIR_ONLY: &str = "air-only";
/// Where the sim clock is set at start: the examples' issue time.
pub const START: OffsetDateTime = datetime!(2026-12-01 08:00 UTC);

pub const SUBMIT: &str = "api/movement/road/v2";
pub const QUERY: &str = "api/movement/road/status/v2";

/// A simulator with processing delay 0, clock at [`START`], and road clients for
/// [`ORG`], [`OTHER_ORG`] and [`REP_ORG`].
pub async fn start_toll() -> Sim {
    start_toll_with(Simulator::builder().processing_delay(Duration::ZERO)).await
}

pub async fn start_toll_with(builder: digitoll_sim::SimulatorBuilder) -> Sim {
    let s = start_with(builder).await;
    let k = keys();
    for (client, org, scopes) in [
        (ROAD_A, ORG, vec![ROAD_SCOPE, SCOPE]),
        (ROAD_B, OTHER_ORG, vec![ROAD_SCOPE]),
        (ROAD_REP, REP_ORG, vec![ROAD_SCOPE]),
        (AIR_ONLY, ORG, vec![SCOPE]),
    ] {
        s.ctl.register_client(ClientRegistration::with_keys(
            client,
            org,
            scopes,
            vec![k.client.public_jwk("k1")],
        ));
        s.ctl.grant_scope(org, ROAD_SCOPE);
    }
    s.ctl.set_now(START);
    s
}

/// A Maskinporten access token for `client` with `scope`, from the sim's `/token`.
pub async fn mp_token(s: &Sim, client: &str, scope: &str) -> String {
    let grant = Grant::at(&s.sim.issuer(), client, s.ctl.now().unix_timestamp())
        .header("kid", json!("k1"))
        .claim("scope", json!(scope))
        .sign(&keys().client);
    let (status, body) = super::token_request(s, &grant).await;
    assert_eq!(status, 200, "token for {client}: {body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// POSTs the token exchange form with `subject_token`.
pub async fn exchange(s: &Sim, subject_token: &str) -> (u16, Value) {
    exchange_form(
        s,
        &[
            ("grant_type", "token-exchange"),
            ("subject_token_type", "access_token"),
            ("subject_token", subject_token),
        ],
    )
    .await
}

pub async fn exchange_form(s: &Sim, form: &[(&str, &str)]) -> (u16, Value) {
    let response = s
        .http
        .post(s.sim.url("api/access/external/oauth/token"))
        .form(form)
        .send()
        .await
        .expect("exchange request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A road API client acting with a Toll token.
#[derive(Clone)]
pub struct Api<'a> {
    pub s: &'a Sim,
    pub token: String,
}

/// A Toll token for `client` (road scope) and an [`Api`] using it.
pub async fn api<'a>(s: &'a Sim, client: &str) -> Api<'a> {
    let mp = mp_token(s, client, ROAD_SCOPE).await;
    let (status, body) = exchange(s, &mp).await;
    assert_eq!(status, 200, "exchange for {client}: {body}");
    Api {
        s,
        token: body["access_token"]
            .as_str()
            .expect("toll token")
            .to_owned(),
    }
}

async fn into_parts(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

impl Api<'_> {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.s
            .http
            .request(method, self.s.sim.url(path))
            .bearer_auth(&self.token)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        into_parts(request.send().await.expect("toll request")).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// `POST /{kind}`.
    pub async fn post(&self, kind: &str, body: &str) -> (u16, Value) {
        self.send(
            reqwest::Method::POST,
            &format!("{SUBMIT}/{kind}"),
            Some(body),
        )
        .await
    }

    /// `PUT /{kind}/{mrn}`.
    pub async fn put(&self, kind: &str, mrn: &str, body: &str) -> (u16, Value) {
        self.send(
            reqwest::Method::PUT,
            &format!("{SUBMIT}/{kind}/{mrn}"),
            Some(body),
        )
        .await
    }

    /// `DELETE /{kind}/{mrn}`.
    pub async fn delete(&self, kind: &str, mrn: &str, body: &str) -> (u16, Value) {
        self.send(
            reqwest::Method::DELETE,
            &format!("{SUBMIT}/{kind}/{mrn}"),
            Some(body),
        )
        .await
    }

    /// `GET validation-status/{request_id}`.
    pub async fn status(&self, kind: &str, request_id: &str) -> (u16, Value) {
        self.get(&format!("{QUERY}/{kind}/validation-status/{request_id}"))
            .await
    }

    /// Submits and returns the processed result (the sim runs with delay 0).
    pub async fn submit(
        &self,
        method: reqwest::Method,
        path: &str,
        kind: &str,
        body: &str,
    ) -> Value {
        let (status, accepted) = self.send(method, path, Some(body)).await;
        assert_eq!(status, 202, "{path}: {accepted}");
        let id = accepted["requestId"].as_str().expect("requestId");
        let (status, result) = self.status(kind, id).await;
        assert_eq!(
            status,
            ready_status(&result),
            "validation-status of {path}: {result}"
        );
        assert_eq!(result["requestId"], json!(id));
        result
    }

    /// POSTs and expects SUCCESS; returns the MRN.
    pub async fn create(&self, kind: &str, body: &str) -> String {
        let result = self
            .submit(
                reqwest::Method::POST,
                &format!("{SUBMIT}/{kind}"),
                kind,
                body,
            )
            .await;
        assert_eq!(result["status"], "SUCCESS", "POST {kind}: {result}");
        result["mrn"].as_str().expect("mrn").to_owned()
    }

    /// PUTs and returns the processed result.
    pub async fn update(&self, kind: &str, mrn: &str, body: &str) -> Value {
        self.submit(
            reqwest::Method::PUT,
            &format!("{SUBMIT}/{kind}/{mrn}"),
            kind,
            body,
        )
        .await
    }

    /// DELETEs and returns the processed result.
    pub async fn remove(&self, kind: &str, mrn: &str, body: &str) -> Value {
        self.submit(
            reqwest::Method::DELETE,
            &format!("{SUBMIT}/{kind}/{mrn}"),
            kind,
            body,
        )
        .await
    }
}

pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/road")
}

/// The text of `examples/road/{name}.json`.
pub fn example(name: &str) -> String {
    std::fs::read_to_string(examples_dir().join(format!("{name}.json")))
        .unwrap_or_else(|e| panic!("examples/road/{name}.json: {e}"))
}

/// An example as JSON, for edits.
pub fn example_json(name: &str) -> Value {
    serde_json::from_str(&example(name)).expect("example is JSON")
}

/// Clients with every Toll scope (road, air, rail, maritime, entry, document
/// upload) for [`ORG`], [`OTHER_ORG`] and [`REP_ORG`].
pub const ALL_A: &str = "all-a";
pub const ALL_B: &str = "all-b";
pub const ALL_REP: &str = "all-rep";

/// [`start_toll`] plus the [`ALL_A`], [`ALL_B`] and [`ALL_REP`] clients.
pub async fn start_all_apis() -> Sim {
    start_all_apis_with(Simulator::builder().processing_delay(Duration::ZERO)).await
}

/// [`start_all_apis`] from `builder` (e.g. with a contract profile).
pub async fn start_all_apis_with(builder: digitoll_sim::SimulatorBuilder) -> Sim {
    let s = start_toll_with(builder).await;
    let k = keys();
    for (client, org) in [(ALL_A, ORG), (ALL_B, OTHER_ORG), (ALL_REP, REP_ORG)] {
        s.ctl.register_client(ClientRegistration::with_keys(
            client,
            org,
            digitoll_sim::TOLL_SCOPES.iter().copied(),
            vec![k.client.public_jwk("k1")],
        ));
        for scope in digitoll_sim::TOLL_SCOPES {
            s.ctl.grant_scope(org, scope);
        }
    }
    s
}

/// An [`Api`] whose Toll token carries `scopes` (space-separated) for `client`.
pub async fn api_with<'a>(s: &'a Sim, client: &str, scopes: &str) -> Api<'a> {
    let mp = mp_token(s, client, scopes).await;
    let (status, body) = exchange(s, &mp).await;
    assert_eq!(status, 200, "exchange for {client}: {body}");
    Api {
        s,
        token: body["access_token"]
            .as_str()
            .expect("toll token")
            .to_owned(),
    }
}

/// The HTTP status of a ready validation status under the default profile:
/// 202 for FAILURE, as Toll documents in `asynkrone-valideringsfeil-EN.html`,
/// 200 otherwise.
pub fn ready_status(result: &Value) -> u16 {
    if result["status"] == "FAILURE" {
        202
    } else {
        200
    }
}

/// An [`Api`] for `client` with every Toll scope.
pub async fn api_all<'a>(s: &'a Sim, client: &str) -> Api<'a> {
    api_with(s, client, &digitoll_sim::TOLL_SCOPES.join(" ")).await
}

/// The text of `examples/{dir}/{name}.json`.
pub fn example_in(dir: &str, name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(dir)
        .join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Api<'_> {
    /// POSTs JSON to `path` and returns status and body.
    pub async fn post_to(&self, path: &str, body: &str) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// POSTs to `path`, expects 202 and returns the processed result polled
    /// at `status_path/{requestId}`.
    pub async fn submit_at(&self, path: &str, status_path: &str, body: &str) -> Value {
        let (status, accepted) = self.post_to(path, body).await;
        assert_eq!(status, 202, "{path}: {accepted}");
        let id = accepted["requestId"].as_str().expect("requestId");
        let (status, result) = self.get(&format!("{status_path}/{id}")).await;
        assert_eq!(
            status,
            ready_status(&result),
            "{status_path}/{id}: {result}"
        );
        result
    }
}
