#!/usr/bin/env bash
# Installs Debian's Chromium for the HTML report's browser test when it is missing.
# Needs root and apt-get (as on this project's machines and CI); elsewhere it says what to do.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: chromium is missing and cannot be installed here; run 'apt-get install chromium' as root for the browser test" >&2
  exit 0
fi
echo "setup-browser: installing Debian's chromium for the browser test…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
