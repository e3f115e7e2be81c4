//! Benchmarks: cached lookup, grant build+sign against a bare aws-lc-rs RSA
//! signature with the same key, and a token fetch round trip to a local stub.
//!
//! Run with `cargo bench -p maskinporten`.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use divan::{Bencher, black_box};
use maskinporten::{
    Environment, GrantBuilder, MaskinportenClient, RetryPolicy, RsaKey, RsaSigner, TokenRequest,
};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn main() {
    paired_grant_overhead();
    divan::main();
}

/// Interleaves bare signatures and full grant builds (A, B, A, B, …) so that
/// machine load affects both equally, then prints both medians and their ratio.
/// Sequential benchmarks on a busy 2-core machine drift by more than the 10 %
/// being measured; pairing removes most of that drift.
fn paired_grant_overhead() {
    let f = &*FIXTURE;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut sig = vec![0u8; f.bare_key.public_modulus_len()];
    let (mut bare, mut grant) = (Vec::new(), Vec::new());
    for _ in 0..600 {
        let t = std::time::Instant::now();
        f.bare_key
            .sign(
                &RSA_PKCS1_SHA256,
                &rng,
                black_box(&f.signing_input),
                &mut sig,
            )
            .unwrap();
        black_box(&sig);
        bare.push(t.elapsed());
        let t = std::time::Instant::now();
        let g = futures::executor::block_on(f.grants.build(
            black_box(&f.request),
            time::OffsetDateTime::now_utc(),
            Duration::from_secs(60),
        ))
        .unwrap();
        black_box(g);
        grant.push(t.elapsed());
    }
    bare.sort_unstable();
    grant.sort_unstable();
    let (b, g) = (bare[bare.len() / 2], grant[grant.len() / 2]);
    println!(
        "paired (600 interleaved runs): bare RS256 median {b:?}, grant build+sign median {g:?}, ratio {:.3}",
        g.as_secs_f64() / b.as_secs_f64()
    );
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    _server: MockServer,
    client: MaskinportenClient,
    request: TokenRequest,
    bare_key: RsaKeyPair,
    grants: GrantBuilder,
    /// A real grant's signing input, so the bare signature signs the same length.
    signing_input: Vec<u8>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let bare_key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8 = bare_key.as_der().unwrap();
    let key = RsaKey::from_pkcs8_der(pkcs8.as_ref()).unwrap();
    let signer = Arc::new(RsaSigner::with_kid(key, "bench-kid"));
    let (server, client, request) = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(path("/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "bench-token", "token_type": "Bearer", "expires_in": 3600
            })))
            .mount(&server)
            .await;
        let client = MaskinportenClient::builder(
            Environment::custom(format!("{}/", server.uri())),
            "bench-client",
            signer.clone(),
        )
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
        let request = TokenRequest::builder()
            .scope("toll:movement/road/v2")
            .consumer_org("974760673".parse().unwrap())
            .build()
            .unwrap();
        client.token(&request).await.unwrap();
        (server, client, request)
    });
    let grants = GrantBuilder::new(signer, "https://test.maskinporten.no/", "bench-client");
    let grant = futures::executor::block_on(grants.build(
        &request,
        time::OffsetDateTime::now_utc(),
        Duration::from_secs(60),
    ))
    .unwrap();
    let signing_input = grant
        .secret()
        .rsplit_once('.')
        .unwrap()
        .0
        .as_bytes()
        .to_vec();
    Fixture {
        rt,
        _server: server,
        client,
        request,
        bare_key,
        grants,
        signing_input,
    }
});

/// Cached lookup through the synchronous fast path, on 1 and 2 threads at once.
#[divan::bench(threads = [1, 2])]
fn cached_token_lookup(b: Bencher) {
    let f = &*FIXTURE;
    b.bench(|| black_box(f.client.cached(black_box(&f.request))));
}

/// Cached lookup through the async `token()` API (polled once; a hit is ready at once).
#[divan::bench(sample_size = 1000)]
fn cached_token_async(b: Bencher) {
    let f = &*FIXTURE;
    b.bench(|| {
        let mut cx = Context::from_waker(Waker::noop());
        let fut = pin!(f.client.token(black_box(&f.request)));
        match fut.poll(&mut cx) {
            Poll::Ready(r) => black_box(r.unwrap()),
            Poll::Pending => unreachable!("a cache hit is ready immediately"),
        }
    });
}

/// Baseline: one bare RS256 signature with the same key over a grant-sized input.
#[divan::bench(sample_count = 500)]
fn bare_rsa2048_sign(b: Bencher) {
    let f = &*FIXTURE;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut sig = vec![0u8; f.bare_key.public_modulus_len()];
    b.bench_local(|| {
        f.bare_key
            .sign(
                &RSA_PKCS1_SHA256,
                &rng,
                black_box(&f.signing_input),
                &mut sig,
            )
            .unwrap();
        black_box(&sig);
    });
}

/// Building and signing a full grant (claims, jti, base64url, signature).
#[divan::bench(sample_count = 500)]
fn grant_build_and_sign(b: Bencher) {
    let f = &*FIXTURE;
    b.bench(|| {
        let g = futures::executor::block_on(f.grants.build(
            black_box(&f.request),
            time::OffsetDateTime::now_utc(),
            Duration::from_secs(60),
        ))
        .unwrap();
        black_box(g)
    });
}

/// A full token fetch (grant + HTTP round trip to a local stub), bypassing the cache.
#[divan::bench(sample_count = 50, sample_size = 4)]
fn token_fetch_round_trip(b: Bencher) {
    let f = &*FIXTURE;
    b.bench(|| black_box(f.rt.block_on(f.client.fetch(&f.request)).unwrap()));
}
