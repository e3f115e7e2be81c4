#!/usr/bin/env bash
# The project's test command (also run by CI). Needs no network:
# every remote service is the in-process simulator or a local stub.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
