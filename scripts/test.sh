#!/usr/bin/env bash
# Sets up what the tests need on a fresh machine, then runs every test.
# The end-to-end tests use real clients (curl), a real Redis (each test starts its own
# redis-server on a free loopback port) and the real `sluice` binary.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# The TLS tests make their certificates at run time.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
# Real peers from PyPI: `websockets` (WebSocket client and server) and `h2` (raw HTTP/2
# frames for the rapid-reset test).
command -v python3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3 python3-pip; }
python3 -c 'import websockets.asyncio.client, h2.connection' 2>/dev/null \
  || python3 -m pip install -q "websockets>=13" "h2>=4" 2>/dev/null \
  || python3 -m pip install -q --break-system-packages "websockets>=13" "h2>=4"

# The subprocess tests (drain on SIGTERM, `sluice check`, streaming memory) run this binary.
swift build --product sluice
swift test "$@"

# The admin dashboard in headless chromium against a running Sluice (installs chromium when
# missing). Skipped when the tests were narrowed with arguments.
if [ $# -eq 0 ]; then bash scripts/dashboard-e2e.sh; fi

# Deployment files: hadolint on the Dockerfile, kubernetes-validate on the manifests,
# systemd-analyze verify on the unit, `sluice check` on every shipped config (installs its
# tools into a venv on first use).
if [ $# -eq 0 ]; then bash scripts/deploy-check.sh; fi

# The shipped build (Dockerfile, bench/run.sh) is a release build, which compiles differently
# (a release-only import error once slipped through): build it too, in its own scratch path.
if [ $# -eq 0 ]; then swift build -c release --product sluice --scratch-path .build-release; fi
