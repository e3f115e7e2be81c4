//! `digitoll bench` end to end with small, bounded runs: the in-process
//! gateway with the simulator, the token broker and the submit scenario
//! followed to the MRN webhooks. Checks the report's shape and counts, never
//! its timings.

use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_digitoll"))
        .arg("bench")
        .args(args)
        .env_remove("DIGITOLL_BENCH_KEY")
        .output()
        .expect("run digitoll bench");
    assert!(
        out.status.success(),
        "digitoll bench {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn count(v: &Value, pointer: &str) -> u64 {
    v.pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{pointer} missing in {v}"))
}

#[test]
fn tokens_scenario_reports_every_request_and_its_baseline() {
    let r = bench(&[
        "--scenario",
        "tokens",
        "--concurrency",
        "4",
        "--requests",
        "200",
        "--duration",
        "60",
        "--warmup",
        "10",
        "--compare-baseline",
    ]);
    assert_eq!(r["scenario"], "tokens");
    assert_eq!(r["gateway"], "in-process");
    assert_eq!((count(&r, "/ok"), count(&r, "/failed")), (200, 0), "{r}");
    assert_eq!(count(&r, "/latency_ms/count"), 200);
    for p in ["p50", "p90", "p99", "max"] {
        assert!(r["latency_ms"][p].is_number(), "{p} in {r}");
    }
    assert_eq!(count(&r, "/baseline/ok"), 200, "{r}");
    assert!(r["ratio_to_baseline"].is_number());
    assert!(count(&r, "/gateway_rss_kib/idle") > 0);
    assert!(count(&r, "/gateway_rss_kib/under_load_peak") > 0);
}

#[test]
fn submit_scenario_follows_every_message_to_its_mrn() {
    let r = bench(&[
        "--scenario",
        "submit",
        "--rate",
        "40",
        "--concurrency",
        "4",
        "--requests",
        "40",
        "--duration",
        "60",
        "--warmup",
        "5",
        "--drain-timeout",
        "120",
    ]);
    assert_eq!(r["database"], "sqlite (synchronous=NORMAL)");
    assert_eq!((count(&r, "/ok"), count(&r, "/failed")), (40, 0), "{r}");
    assert_eq!(r["rate_per_second"], 40);
    assert_eq!(count(&r, "/time_to_mrn_ms/accepted"), 40, "{r}");
    assert_eq!(count(&r, "/time_to_mrn_ms/not_accepted_within_timeout"), 0);
    assert!(r["time_to_mrn_ms"]["p99"].is_number(), "{r}");
}

#[test]
fn refuses_a_remote_gateway_and_a_missing_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_digitoll"))
        .args(["bench", "--url", "http://127.0.0.1:9", "--requests", "1"])
        .env_remove("DIGITOLL_BENCH_KEY")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key"));
    let out = Command::new(env!("CARGO_BIN_EXE_digitoll"))
        .args(["bench", "--url", "http://192.0.2.1:80", "--key", "dtk_x"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}
