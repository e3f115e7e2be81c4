#!/usr/bin/env bash
# Makes sure the command-line tools the tests need are on PATH:
#   openssl                    the tests make .p12 files in OpenSSL's default
#                              and -legacy formats with it;
#   chromium, chromedriver     the gateway's browser test drives headless
#                              Chromium through chromedriver.
# Installs the missing ones with apt when run as root (Debian/Ubuntu package
# names); otherwise stops with the command to run. Idempotent and quick when
# everything is there. Run by scripts/test.sh (and so by .ci/run).
set -euo pipefail

say() { echo "tools.sh: $*" >&2; }

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
  && ! command -v google-chrome >/dev/null 2>&1; then
  need_apt+=(chromium)
fi
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
((${#need_apt[@]})) || exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  say "the tests need ${need_apt[*]}, which are not installed."
  say "install them (as root: apt-get update && apt-get install -y ${need_apt[*]}),"
  say "or run this script as root to let it do that."
  exit 1
fi
say "installing ${need_apt[*]} with apt"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq "${need_apt[@]}" >/dev/null
