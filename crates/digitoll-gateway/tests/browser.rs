//! End-to-end test of the dashboard in headless Chromium (Debian's
//! `chromium` and `chromium-driver`, driven over WebDriver by fantoccini):
//! sign in with a tenant key, fill in and submit the road transport form
//! against the in-process simulator, watch the MRN and the routing signal
//! appear on the transport page, and check that another tenant cannot reach
//! it by URL. Then screenshots of the main views at desktop (1280×800) and
//! phone (390×844) width, checking that no page scrolls sideways on a phone.
//!
//! The screenshots are written to a temp dir (and checked to be PNGs of the
//! window's size); with `DIGITOLL_UPDATE_SCREENSHOTS=1` they are also
//! written to `docs/screenshots/` for the README.
//!
//! Chromium and chromedriver must be installed: without them the test process
//! stops (it does not skip) with a message naming `bash scripts/test.sh`,
//! which installs them (`digitoll_testkit::chromium`).

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use digitoll_client::{ReconcileConfig, RetryConfig};
use digitoll_gateway::{
    GatewayConfig, GatewayState, RuntimeOptions, WorkerConfig, app, run_workers,
};
use digitoll_sim::{ClientRegistration, RunningSimulator, Simulator};
use digitoll_store::{
    ApiKeyScope, Environment, MasterKey, MessageState, NewTenant, Store, StoreOptions, Transition,
};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const ROAD: &str = "toll:movement/road/v2";
const ENTRY: &str = "toll:movement/entry";

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Driver {
    child: tokio::process::Child,
    url: String,
}

async fn start_chromedriver(program: &Path) -> Driver {
    let port = free_port();
    let child = tokio::process::Command::new(program)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("{url}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Driver { child, url };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on {url} within 10 s");
}

async fn browser(driver: &Driver, chromium: &Path, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium.display().to_string(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--hide-scrollbars", "--window-size=1280,800",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session through chromedriver: {e}"))
}

struct Gateway {
    base: String,
    sim: RunningSimulator,
    store: Store,
    admin_key: String,
    _stop: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

async fn start_gateway() -> Gateway {
    let sim = Simulator::builder()
        .processing_delay(Duration::from_millis(300))
        .start()
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("e2e.db").display());
    let store = Store::connect(&url, StoreOptions::new(MasterKey::from_bytes([5u8; 32])))
        .await
        .expect("store");
    let (_, admin) = store
        .create_api_key(ApiKeyScope::Admin, "e2e")
        .await
        .expect("admin key");
    let config = GatewayConfig {
        runtime: RuntimeOptions {
            sim_base_url: Some(sim.base_url()),
            toll_timeout: Duration::from_secs(5),
            reconcile: ReconcileConfig {
                lookups: 2,
                delay: Duration::from_millis(100),
            },
            retry: RetryConfig::default(),
            maskinporten_retry: Some(maskinporten::RetryPolicy::none()),
            ttl: Duration::from_secs(600),
        },
        workers: WorkerConfig {
            workers: 2,
            name: "e2e".into(),
            lease: Duration::from_secs(30),
            batch: 4,
            idle_wait: Duration::from_millis(50),
            poll_first_delay: Duration::from_millis(100),
            poll_max_interval: Duration::from_millis(300),
            max_polls: 200,
            webhook_timeout: Duration::from_secs(5),
        },
        ..GatewayConfig::default()
    };
    let state = GatewayState::new(store.clone(), config, Some(digitoll_gateway::prometheus()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(state.clone());
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(run_workers(state, stopped));
    Gateway {
        base: format!("http://{addr}"),
        sim,
        store,
        admin_key: admin.expose().to_owned(),
        _stop: stop,
        _dir: dir,
    }
}

impl Gateway {
    async fn tenant(&self, org: &str, name: &str) -> (String, String) {
        let ctl = self.sim.control();
        ctl.register_organisation(org, name);
        let prepared = digitoll_gateway::keys::generate_key_pair().expect("key pair");
        let jwk = prepared.public_jwk.clone().expect("jwk");
        let client_id = format!("client-{org}");
        let t = self
            .store
            .create_tenant(NewTenant {
                org_number: org.into(),
                name: name.into(),
                environment: Environment::Sim,
                issuer_url: Some(self.sim.base_url().to_string()),
                client_id: client_id.clone(),
                key: prepared.key,
                scopes: vec![ROAD.into(), ENTRY.into()],
            })
            .await
            .expect("tenant");
        ctl.register_client(ClientRegistration::with_keys(
            client_id,
            org,
            [ROAD, ENTRY],
            vec![jwk],
        ));
        ctl.grant_scope(org, ROAD);
        ctl.grant_scope(org, ENTRY);
        let (_, key) = self
            .store
            .create_api_key(ApiKeyScope::Tenant(t.id), "e2e")
            .await
            .expect("api key");
        (t.id.to_string(), key.expose().to_owned())
    }
}

async fn sign_in(c: &Client, base: &str, key: &str) {
    c.delete_all_cookies().await.ok();
    c.goto(&format!("{base}/ui/login"))
        .await
        .expect("login page");
    let input = c.find(Locator::Id("api_key")).await.expect("key field");
    input.send_keys(key).await.expect("type key");
    c.find(Locator::Id("login-submit"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("transports-title"))
        .await
        .expect("signed in: the transports page (is the session cookie refused?)");
}

async fn text_of(c: &Client, id: &str) -> String {
    match c.find(Locator::Id(id)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn wait_text(c: &Client, id: &str, what: &str, secs: u64) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let t = text_of(c, id).await;
        if !t.trim().is_empty() {
            return t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    (w, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() {
    let (chromium, chromedriver) = digitoll_testkit::chromium();
    let gw = start_gateway().await;
    let (a_id, a_key) = gw.tenant("310000108", "Nordic Road Freight AS").await;
    let (_b_id, b_key) = gw.tenant("310000116", "Annen Speditør AS").await;
    let mut driver = start_chromedriver(&chromedriver).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let c = browser(&driver, &chromium, profile.path()).await;
    let base = gw.base.clone();

    // 1. Sign in as tenant A and fill in the form; the live check marks a
    //    missing plate, then reports no errors.
    sign_in(&c, &base, &a_key).await;
    c.goto(&format!("{base}/ui/transports/new"))
        .await
        .expect("form");
    let find = |id: &'static str| c.find(Locator::Id(id));
    find("nationality")
        .await
        .expect("nationality")
        .select_by_value("SE")
        .await
        .expect("SE");
    find("driver")
        .await
        .expect("driver")
        .send_keys("Lars Andersson")
        .await
        .expect("driver");
    find("phone")
        .await
        .expect("phone")
        .send_keys("+46701234567")
        .await
        .expect("phone");
    find("office")
        .await
        .expect("office")
        .select_by_value("NO371001")
        .await
        .expect("office");
    c.execute(
        "document.getElementById('scheduled').value = '2030-12-02T07:30';",
        vec![],
    )
    .await
    .expect("scheduled");
    find("ref_number_0")
        .await
        .expect("row")
        .send_keys("CMR-E2E-1")
        .await
        .expect("row");
    let status = wait_text(
        &c,
        "err-plate",
        "the live check to flag the empty plate",
        10,
    )
    .await;
    assert!(
        status.contains("Feltet må fylles ut") || status.contains("This field is required"),
        "{status}"
    );
    find("plate")
        .await
        .expect("plate")
        .send_keys("AB12345")
        .await
        .expect("plate");
    // Move focus away so the change event fires.
    find("driver")
        .await
        .expect("driver")
        .click()
        .await
        .expect("focus");
    let ok = wait_text(&c, "form-ok", "the live check to pass", 10).await;
    assert!(!ok.is_empty());
    assert!(text_of(&c, "err-plate").await.trim().is_empty());
    let form_shot = c.screenshot().await.expect("form screenshot");

    // 2. Submit; the transport page shows the MRN as the worker gets it.
    find("submit-transport")
        .await
        .expect("submit")
        .click()
        .await
        .expect("submit");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("live"))
        .await
        .expect("the transport page");
    let transport_url = c.current_url().await.expect("url").to_string();
    let mrn = wait_text(&c, "mrn", "the MRN on the transport page", 30).await;
    assert!(mrn.trim().len() >= 18, "an MRN: {mrn}");
    let mrn = mrn.trim().to_owned();

    // 3. The border crossing at the simulator: the routing signal appears.
    gw.sim.control().simulate_arrival(&mrn, "NO371001");
    let signal = wait_text(&c, "routing", "the routing signal", 30).await;
    assert!(
        ["Til innpassering", "Til kontroll", "To entry", "To control"]
            .iter()
            .any(|t| signal.contains(t)),
        "{signal}"
    );
    let routing_code = c
        .find(Locator::Id("routing"))
        .await
        .expect("routing")
        .attr("data-signal")
        .await
        .expect("attr")
        .unwrap_or_default();
    assert!(routing_code.starts_with("TO_"), "{routing_code}");
    let message_id = transport_url.rsplit('/').next().expect("id").to_owned();

    // A rejected message with Toll's errors, for the problems and message views.
    let rejected = gw
        .store
        .submit_message(digitoll_store::NewMessage {
            tenant_id: a_id.parse().expect("id"),
            api: "road".into(),
            kind: "master".into(),
            operation: digitoll_store::Operation::Create,
            body: serde_json::from_str(include_str!("../../../examples/road/valid-master.json"))
                .expect("master"),
            document_number: Some("CMR-2026-120001".into()),
            document_type: Some("N730".into()),
            carrier_id: None,
            idempotency_key: None,
            local_findings: None,
            validation_mode: digitoll_store::ValidationMode::Strict,
        })
        .await
        .expect("master");
    // Let the worker finish with it before marking it rejected for the view.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = gw
        .store
        .transition(
            a_id.parse().expect("id"),
            rejected.message.id,
            Transition::to(MessageState::Rejected).validation_errors(json!({
                "validationErrorList": [{"description": "Country is invalid",
                    "pointer": {"messageElementPath": "consignmentMasterLevel.consignor.address.country"}}]
            })),
        )
        .await;

    // 4. Another tenant cannot reach it by URL.
    sign_in(&c, &base, &b_key).await;
    c.goto(&transport_url).await.expect("goto");
    let page = c.source().await.expect("source");
    assert!(
        page.contains("404"),
        "another tenant's transport must answer 404"
    );
    assert!(
        !page.contains("AB12345") && !page.contains(&mrn),
        "nothing of it is shown"
    );
    c.goto(&format!("{base}/ui/messages/{message_id}"))
        .await
        .expect("goto");
    let page = c.source().await.expect("source");
    assert!(page.contains("404") && !page.contains("AB12345"));
    c.goto(&format!("{base}/ui/transports"))
        .await
        .expect("list");
    assert!(!c.source().await.expect("source").contains("AB12345"));

    // 5. Screenshots of the main views, as the operator (all tenants), at
    //    desktop and phone width; no page may scroll sideways on a phone.
    let out = tempfile::tempdir().expect("out dir");
    let update = std::env::var("DIGITOLL_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    if update {
        std::fs::create_dir_all(&docs).expect("docs/screenshots");
    }
    std::fs::write(out.path().join("form-live-check.png"), &form_shot).expect("write");
    sign_in(&c, &base, &gw.admin_key).await;
    let views: Vec<(&str, String)> = vec![
        ("transports", format!("{base}/ui/transports")),
        ("transport", transport_url.clone()),
        ("new-transport", format!("{base}/ui/transports/new")),
        (
            "message",
            format!("{base}/ui/messages/{}", rejected.message.id),
        ),
        ("problems", format!("{base}/ui/problems")),
        ("tenants", format!("{base}/ui/tenants")),
        ("tenant", format!("{base}/ui/tenants/{a_id}")),
        ("system", format!("{base}/ui/system")),
    ];
    // The window has browser decorations even when headless: size it so the
    // page's viewport is exactly the wanted size.
    let chrome: Value = c
        .execute(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
            vec![],
        )
        .await
        .expect("decorations");
    let (dw, dh) = (
        chrome[0].as_u64().unwrap_or(0) as u32,
        chrome[1].as_u64().unwrap_or(0) as u32,
    );
    for (width, height, label) in [(1280u32, 800u32, "desktop"), (390, 844, "phone")] {
        c.set_window_size(width + dw, height + dh)
            .await
            .expect("window size");
        for (name, url) in &views {
            c.goto(url).await.expect("view");
            c.wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Id("main"))
                .await
                .expect("page");
            // Let htmx load the live parts.
            tokio::time::sleep(Duration::from_millis(
                if *name == "transport" || *name == "system" {
                    2500
                } else {
                    300
                },
            ))
            .await;
            let overflow: Value = c
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth];",
                    vec![],
                )
                .await
                .expect("widths");
            let (scroll, inner) = (
                overflow[0].as_u64().unwrap_or(0),
                overflow[1].as_u64().unwrap_or(0),
            );
            if scroll > inner + 1 {
                let culprits = c
                    .execute(
                        "return Array.from(document.querySelectorAll('body *')).filter(e => \
                         e.getBoundingClientRect().right > window.innerWidth + 1).slice(-6).map(e => \
                         e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
                        vec![],
                    )
                    .await
                    .unwrap_or_default();
                panic!(
                    "{name} at {label} width scrolls sideways: {scroll} > {inner}; widest: {culprits}"
                );
            }
            let png = c.screenshot().await.expect("screenshot");
            let (w, h) = png_size(&png);
            assert_eq!((w, h), (width, height), "{name} {label}: screenshot size");
            let file = format!("{name}-{label}.png");
            std::fs::write(out.path().join(&file), &png).expect("write");
            if update {
                std::fs::write(docs.join(&file), &png).expect("write docs");
            }
        }
    }
    // The sign-in page too.
    c.delete_all_cookies().await.ok();
    for (width, height, label) in [(1280u32, 800u32, "desktop"), (390, 844, "phone")] {
        c.set_window_size(width + dw, height + dh)
            .await
            .expect("window size");
        c.goto(&format!("{base}/ui/login")).await.expect("login");
        let png = c.screenshot().await.expect("screenshot");
        png_size(&png);
        if update {
            std::fs::write(docs.join(format!("login-{label}.png")), &png).expect("write docs");
        }
    }
    c.close().await.ok();
    driver.child.kill().await.ok();
}
