#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests, only when no chromium is on PATH.
# CI's .ci/run calls it; `npm test` never does (tests find a browser the usual way, see
# test/helpers/browser.ts). Needs root and apt-get; elsewhere it says what to do and fails.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "setup-browser: chromium is already installed ($(command -v chromium))" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: no chromium, and no root apt-get to install it; install Chromium or Chrome yourself or set CHROMIUM_PATH (see test/helpers/browser.ts)" >&2
  exit 1
fi
echo "setup-browser: installing Debian's chromium for the browser tests…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "setup-browser: installed $(command -v chromium)" >&2
