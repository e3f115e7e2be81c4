//! Test support shared by the workspace's integration tests. A dev-only crate
//! (`publish = false`): add it under `[dev-dependencies]`, never under
//! `[dependencies]`.
//!
//! * `fresh_postgres_database` (feature `postgres`): a fresh PostgreSQL
//!   database per test on the server at `DIGITOLL_TEST_POSTGRES_URL`.
//! * [`chromium`]: the paths of Chromium and chromedriver for browser tests.
//! * [`openssl`]: a `Command` for the `openssl` tool.
//!
//! # When something a test needs is missing
//!
//! The README's test command, [`TEST_COMMAND`], provides everything: it
//! starts a throwaway PostgreSQL and installs Chromium, chromedriver and
//! openssl when they are missing. A plain `cargo test --workspace` without
//! them stops at the first test that needs one, with one message naming that
//! command ([`missing`]): the message goes straight to the process's stderr
//! (libtest does not capture it) and the test process exits with status 2.
//!
//! Why stop, not skip: a skipped check is a hidden hole (CI would go green
//! without the PostgreSQL backend ever being tested). Why exit, not panic:
//! a panic fails only its own test, so a binary with thirty PostgreSQL tests
//! would print thirty copies of the same message among the other tests'
//! results; the exit prints it once, and cargo (without `--no-fail-fast`)
//! stops there. The exit runs no destructors, so a test that spawns child
//! processes in a binary with PostgreSQL tests calls [`require_postgres`]
//! before spawning.

use std::io::Write as _;
use std::path::PathBuf;

/// The README's test command, which sets up everything the tests need.
pub const TEST_COMMAND: &str = "bash scripts/test.sh";

/// The environment variable holding the PostgreSQL server's URL (a superuser;
/// each test creates its own database on it).
pub const POSTGRES_URL_ENV: &str = "DIGITOLL_TEST_POSTGRES_URL";

/// Stops the test process at once with one message: `what` is missing, and
/// [`TEST_COMMAND`] provides it. Written to the real stderr, not through the
/// test harness's output capture, so it shows even for a passing binary's
/// neighbours.
pub fn missing(what: &str, by_hand: &str) -> ! {
    let message = format!(
        "\n\ndigitoll tests: {what}.\n\
         Run `{TEST_COMMAND}` from the repository root: it starts a throwaway PostgreSQL \
         and installs Chromium, chromedriver and openssl when they are missing \
         (as root, with apt), then runs `cargo test --workspace`.\n\
         By hand: {by_hand}\n\n"
    );
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(message.as_bytes());
    let _ = err.flush();
    std::process::exit(2)
}

/// The admin URL of the test PostgreSQL server, from
/// `DIGITOLL_TEST_POSTGRES_URL`; stops the test process (see [`missing`])
/// when it is not set.
pub fn postgres_url() -> String {
    match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => missing(
            &format!("{POSTGRES_URL_ENV} is not set, so the PostgreSQL tests cannot run"),
            &format!(
                "set {POSTGRES_URL_ENV} to a superuser URL, e.g. the last line of \
                 `bash scripts/pg.sh start /tmp/pg`."
            ),
        ),
    }
}

/// Stops the test process (see [`missing`]) when `DIGITOLL_TEST_POSTGRES_URL`
/// is not set. For a test that spawns child processes while a PostgreSQL test
/// of the same binary may be running: call it before spawning, so that the
/// stop (which runs no destructors) leaves no child behind.
pub fn require_postgres() {
    postgres_url();
}

/// Creates a fresh, empty database on the test server and returns its URL
/// (the server's URL with the database name replaced, query kept). The name
/// is `digitoll_test_<uuid>`. The database is left on the server after the
/// test, for inspection; `bash scripts/test.sh` throws the whole cluster away
/// at the end.
///
/// Stops the test process when `DIGITOLL_TEST_POSTGRES_URL` is not set (see
/// [`missing`]); panics when the server cannot be reached or refuses.
#[cfg(feature = "postgres")]
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection as _;
    let admin = postgres_url();
    let name = format!("digitoll_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!("cannot connect to {POSTGRES_URL_ENV} ({admin}): {e}; is the server running?")
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
    conn.close().await.ok();
    database_url(&admin, &name)
}

/// `admin` with its database name replaced by `name`.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let server = match base.split_once("://") {
        // Only a `/` after the authority starts the database name.
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, _)) => format!("{scheme}://{authority}"),
            None => base.to_owned(),
        },
        None => base.rsplit_once('/').map_or(base, |(s, _)| s).to_owned(),
    };
    format!("{server}/{name}{query}")
}

/// The first of `names` found on `PATH`.
pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The `openssl` command-line tool (the tests make `.p12` files in OpenSSL's
/// default and `-legacy` formats with it). Stops the test process (see
/// [`missing`]) when it is not on `PATH`.
pub fn openssl() -> std::process::Command {
    let program = find_program(&["openssl"]).unwrap_or_else(|| {
        missing(
            "the openssl tool is not installed, so the .p12 tests cannot run",
            "`apt-get update && apt-get install -y openssl`.",
        )
    });
    std::process::Command::new(program)
}

/// Chromium and chromedriver for a browser test: `(chromium, chromedriver)`.
/// Stops the test process (see [`missing`]) when either is not on `PATH`.
pub fn chromium() -> (PathBuf, PathBuf) {
    let by_hand = "`apt-get update && apt-get install -y chromium chromium-driver`.";
    let chromium =
        find_program(&["chromium", "chromium-browser", "google-chrome"]).unwrap_or_else(|| {
            missing(
                "Chromium is not installed, so the browser test cannot run",
                by_hand,
            )
        });
    let driver = find_program(&["chromedriver"]).unwrap_or_else(|| {
        missing(
            "chromedriver is not installed, so the browser test cannot run",
            by_hand,
        )
    });
    (chromium, driver)
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn database_url_replaces_the_name_and_keeps_the_query() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/digitoll", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            database_url("postgres://u:p@h:1/db?sslmode=disable", "t2"),
            "postgres://u:p@h:1/t2?sslmode=disable"
        );
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432", "t3"),
            "postgres://postgres@127.0.0.1:5432/t3"
        );
    }
}
