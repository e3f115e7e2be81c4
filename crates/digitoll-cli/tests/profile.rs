//! `--profile` (and `DIGITOLL_PROFILE`), `digitoll profile default|check`
//! and `digitoll rules`, run as a user would run the binary.

use std::process::{Command, Output};

use serde_json::Value;

fn digitoll(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_digitoll"));
    c.args(args)
        .env_remove("DIGITOLL_PROFILE")
        .env_remove("DIGITOLL_CREDENTIALS");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run digitoll")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn example(name: &str) -> String {
    format!("{}/../../examples/road/{name}", env!("CARGO_MANIFEST_DIR"))
}

const BAD: &str = "name = \"x\"\n\n[endpoints]\n\"road.transport.create\" = \"api/transport\"\n";

#[test]
fn a_bad_profile_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, BAD).unwrap();
    let bad = bad.display().to_string();
    let valid = example("valid-transport.json");
    for (args, env) in [
        (
            vec!["--profile", bad.as_str(), "validate", valid.as_str()],
            vec![],
        ),
        (
            vec!["validate", valid.as_str()],
            vec![("DIGITOLL_PROFILE", bad.as_str())],
        ),
        (vec!["rules", "--profile", bad.as_str()], vec![]),
        (vec!["profile", "check", bad.as_str()], vec![]),
        (vec!["--profile", bad.as_str(), "demo", "--json"], vec![]),
    ] {
        let out = digitoll(&args, &env);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "{bad}:4:27: template `api/transport` must start with `/`"
            )),
            "{args:?}: {err}"
        );
    }
    // A command that does not use the profile is not stopped by it.
    let out = digitoll(
        &["profile", "default"],
        &[("DIGITOLL_PROFILE", bad.as_str())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn the_default_profile_prints_every_endpoint_and_checks_clean() {
    let out = digitoll(&["profile", "default"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for e in digitoll_model::endpoints() {
        assert!(
            text.contains(&format!("# {:?} = {:?}", e.id, e.template)),
            "{}",
            e.id
        );
    }
    assert!(text.contains("failure_status = 202"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("default.toml");
    std::fs::write(&file, &text).unwrap();
    let file = file.display().to_string();
    let out = digitoll(&["profile", "check", &file], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok ("));
}

#[test]
fn rules_lists_the_catalogue_with_effective_severities() {
    let out = digitoll(&["rules", "--json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().expect("an array");
    assert_eq!(rows.len(), digitoll_model::rules::all().len());
    for (row, rule) in rows.iter().zip(digitoll_model::rules::all()) {
        assert_eq!(row["id"], rule.id);
        assert_eq!(row["severity"], rule.default.as_str());
        assert_eq!(row["overridden"], false);
    }
}

#[test]
fn demo_runs_with_a_profile_that_moves_paths_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("moved.toml");
    std::fs::write(
        &file,
        "[endpoints]\n\
         \"token-exchange\" = \"/auth/exchange\"\n\
         \"road.transport.create\" = \"/v9/road/transports\"\n\
         \"road.master.validation-status\" = \"/v9/road/master-status?id={requestId}\"\n\
         \"routing.house-consignment\" = \"/v9/routing/houses?from={marker}\"\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let out = digitoll(
        &[
            "--profile",
            &file,
            "demo",
            "--json",
            "--processing-ms",
            "50",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["entry"]["validEntry"], true);
    assert_eq!(v["routing"].as_array().map(Vec::len), Some(1), "{v}");
}

#[test]
fn rules_shows_a_profiles_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    std::fs::write(
        &file,
        "[rules]\n\"codelist.cl141\" = \"warning\"\n\"codelist.country\" = \"warning\"\n[rule_text]\n\"codelist.cl141\" = \"Ugyldig tollsted\"\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let out = digitoll(&["rules", "--json"], &[("DIGITOLL_PROFILE", file.as_str())]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "codelist.cl141")
        .expect("codelist.cl141 listed");
    assert_eq!(row["severity"], "warning");
    assert_eq!(row["default"], "error");
    assert_eq!(row["overridden"], true);
    assert_eq!(row["text"], "Ugyldig tollsted");
    assert!(!row["sources"].as_array().unwrap().is_empty());
    // Text output names the default next to an override.
    let out = digitoll(&["--profile", &file, "rules"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("codelist.cl141")
            && l.contains("warning")
            && l.contains("(default error)")),
        "{text}"
    );
    // And validate follows it: the unknown office is a warning, not a rejection.
    let office = example("invalid-transport-unknown-office-and-country.json");
    let plain = digitoll(&["validate", &office], &[]);
    assert_eq!(plain.status.code(), Some(1));
    let relaxed = digitoll(&["--profile", &file, "validate", &office, "--json"], &[]);
    assert_eq!(relaxed.status.code(), Some(0), "{}", stderr(&relaxed));
    assert!(
        String::from_utf8_lossy(&relaxed.stdout).contains("Ugyldig tollsted"),
        "the warning carries the profile's wording: {}",
        String::from_utf8_lossy(&relaxed.stdout)
    );
}

#[test]
fn sim_and_road_with_the_same_profile_agree_on_a_moved_path() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("moved.toml");
    std::fs::write(
        &profile,
        "[endpoints]\n\"road.test-auth\" = \"/v9/road/test-auth\"\n",
    )
    .unwrap();
    let profile = profile.display().to_string();
    let demo = dir.path().join("demo");
    let mut child = Command::new(env!("CARGO_BIN_EXE_digitoll"))
        .args(["sim", "--listen", "127.0.0.1:0", "--demo-dir"])
        .arg(&demo)
        .env("DIGITOLL_PROFILE", &profile)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first).unwrap();
    assert!(first.contains("http://127.0.0.1:"), "{first}");
    let creds = demo.join("demo-client.json").display().to_string();
    let with = digitoll(
        &[
            "--profile",
            &profile,
            "road",
            "test-auth",
            "--credentials",
            &creds,
            "--json",
        ],
        &[],
    );
    let without = digitoll(
        &["road", "test-auth", "--credentials", &creds, "--json"],
        &[],
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(with.status.success(), "{}", stderr(&with));
    assert!(!without.status.success(), "the default path is not served");
    assert!(
        String::from_utf8_lossy(&without.stdout).contains("\"not_found\""),
        "{} {}",
        String::from_utf8_lossy(&without.stdout),
        stderr(&without)
    );
}
