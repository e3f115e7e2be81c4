//! Tracing spans and metrics per request, without secrets; and a POST that
//! could not connect is retried and reported as "not sent" (not ambiguous).

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use digitoll_client::{Error, MovementClient, TollEnvironment, TollTokenProvider, TransportMode};
use digitoll_model::road::Transport;
use digitoll_sim::Simulator;
use metrics::{Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, SharedString, Unit};
use tracing_subscriber::fmt::format::FmtSpan;

/// A minimal in-memory metrics recorder: counters and histogram samples by
/// `name{label=value,…}`.
#[derive(Default, Clone)]
struct Recorder {
    counters: Arc<Mutex<HashMap<String, Arc<AtomicU64>>>>,
    histograms: Arc<Mutex<HashMap<String, Arc<Samples>>>>,
}

#[derive(Default)]
struct Samples(Mutex<Vec<f64>>);

impl HistogramFn for Samples {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

fn key_text(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl metrics::Recorder for Recorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let c = self
            .counters
            .lock()
            .unwrap()
            .entry(key_text(key))
            .or_default()
            .clone();
        Counter::from_arc(c)
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let h = self
            .histograms
            .lock()
            .unwrap()
            .entry(key_text(key))
            .or_default()
            .clone();
        Histogram::from_arc(h)
    }
}

impl Recorder {
    fn counter(&self, key: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(key)
            .map(|c| c.load(Ordering::SeqCst))
            .unwrap_or(0)
    }
    fn samples(&self, key: &str) -> usize {
        self.histograms
            .lock()
            .unwrap()
            .get(key)
            .map(|h| h.0.lock().unwrap().len())
            .unwrap_or(0)
    }
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn spans_and_metrics_per_request_without_secrets_and_unsent_posts_are_retried() {
    let recorder = Recorder::default();
    let logs = Buffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let (toll_secret, unsent) = tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&recorder, || {
            runtime.block_on(async {
                let sim = Simulator::builder()
                    .demo_key(demo_key().clone())
                    .processing_delay(Duration::ZERO)
                    .start()
                    .await
                    .unwrap();
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .build()
                    .unwrap();
                let tokens = TollTokenProvider::builder(
                    mp_client(&sim),
                    TollEnvironment::Custom(sim.base_url()),
                )
                .http_client(http.clone())
                .build();
                let road = MovementClient::builder(TransportMode::Road, tokens.clone())
                    .http_client(http)
                    .retry(fast_retry())
                    .poll(fast_poll())
                    .playground_rules(true)
                    .build()
                    .unwrap();
                road.test_auth().await.unwrap();
                let transport: Transport = json(VALID_TRANSPORT);
                let done = road.submit_and_wait_transport(&transport).await.unwrap();
                road.transport_status_with_descendants(&done.mrn)
                    .await
                    .unwrap();
                let secret = tokens
                    .token(road.token_request())
                    .await
                    .unwrap()
                    .secret()
                    .to_owned();

                // Toll goes away: the POST cannot connect, so it is retried
                // (it certainly was not sent) and reported as not sent.
                sim.shutdown().await;
                let unsent = road.submit_transport(&transport).await.unwrap_err();
                (secret, unsent)
            })
        })
    });

    assert!(
        matches!(
            unsent,
            Error::Transport {
                method: "POST",
                not_sent: true,
                ..
            }
        ),
        "{unsent:?}"
    );
    assert_eq!(
        recorder.counter("toll_requests_total{api=token,status=200}"),
        1
    );
    assert_eq!(
        recorder.counter("toll_requests_total{api=road,status=200}"),
        1
    );
    assert_eq!(
        recorder.counter("toll_requests_total{api=road,status=202}"),
        1
    );
    assert_eq!(
        recorder.counter("toll_requests_total{api=road,status=error}"),
        4,
        "the unsent POST was tried max_attempts times"
    );
    assert!(recorder.counter("toll_requests_total{api=road-query,status=200}") >= 2);
    assert!(recorder.samples("toll_request_duration_seconds{api=road}") >= 6);
    assert_eq!(
        recorder.samples("toll_request_duration_seconds{api=token}"),
        1
    );

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("toll_request"), "{text}");
    assert!(
        text.contains("method=\"POST\"") || text.contains("method=POST"),
        "{text}"
    );
    assert!(text.contains("/api/movement/road/v2/transport"), "{text}");
    assert!(
        text.contains("status=\"202\"") || text.contains("status=202"),
        "{text}"
    );
    assert!(text.contains("duration_ms="), "{text}");
    assert!(
        !text.contains(&toll_secret),
        "the Toll token leaked into logs"
    );
    assert!(!text.contains("eyJ"), "a JWT leaked into logs");
    assert!(!text.contains("ABC123"), "message bodies are not logged");
}
