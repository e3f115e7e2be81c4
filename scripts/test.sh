#!/usr/bin/env bash
# The project's test command (also run by CI): sets up everything the tests
# need on a fresh machine, then runs `cargo test --workspace`. The tests need
# no network: every remote service is the in-process simulator or a local stub.
#
# * Tools (scripts/tools.sh): openssl, Chromium and chromedriver, installed
#   with apt when run as root and missing; otherwise it stops with the command
#   to run.
# * PostgreSQL: the PostgreSQL variants of the store, gateway and crash tests
#   need a server. Unless DIGITOLL_TEST_POSTGRES_URL points at one (a
#   superuser URL; each test creates its own database), this starts a
#   throwaway cluster with the machine's PostgreSQL binaries (installing them
#   with apt when run as root and missing) and stops it afterwards.
#
# A plain `cargo test --workspace` without these stops at the first test that
# needs one, with a message naming this script (crates/digitoll-testkit).
# Extra arguments go to cargo test, e.g. `bash scripts/test.sh -p digitoll-store`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/tools.sh

if [[ -z ${DIGITOLL_TEST_POSTGRES_URL:-} ]]; then
  PG_DIR=$(mktemp -d)
  trap 'bash scripts/pg.sh stop "$PG_DIR" >/dev/null 2>&1 || true; rm -rf "$PG_DIR"' EXIT
  DIGITOLL_TEST_POSTGRES_URL=$(bash scripts/pg.sh start "$PG_DIR" | tail -n 1)
  export DIGITOLL_TEST_POSTGRES_URL
  echo "throwaway PostgreSQL at $DIGITOLL_TEST_POSTGRES_URL"
fi

# The whole workspace, unless the arguments pick packages (-p/--package).
scope=(--workspace)
for a in "$@"; do
  case $a in -p | -p* | --package | --package=*) scope=() ;; esac
done
cargo test "${scope[@]}" --locked --no-fail-fast "$@"
