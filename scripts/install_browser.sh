#!/usr/bin/env bash
# Debian's headless chromium for the browser check (tests/browser); Playwright drives it, no download.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser check"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null; }
else
  echo "note: no chromium on PATH; the browser check needs it (Debian: sudo apt-get install chromium)" >&2
fi
