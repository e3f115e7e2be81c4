#!/usr/bin/env bash
# The project's test command (also run by CI). Needs no network: every remote
# service is the in-process simulator or a local stub. The PostgreSQL variants
# of the store and gateway tests need a server: unless DIGITOLL_TEST_POSTGRES_URL
# points at one (a superuser URL; each test creates its own database), this
# starts a throwaway cluster with the machine's PostgreSQL binaries (installing
# them with apt when run as root and missing) and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z ${DIGITOLL_TEST_POSTGRES_URL:-} ]]; then
  PG_DIR=$(mktemp -d)
  trap 'bash scripts/pg.sh stop "$PG_DIR" >/dev/null 2>&1 || true; rm -rf "$PG_DIR"' EXIT
  DIGITOLL_TEST_POSTGRES_URL=$(bash scripts/pg.sh start "$PG_DIR" | tail -n 1)
  export DIGITOLL_TEST_POSTGRES_URL
  echo "throwaway PostgreSQL at $DIGITOLL_TEST_POSTGRES_URL"
fi

cargo test --workspace --locked --no-fail-fast "$@"
