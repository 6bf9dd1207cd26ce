#!/usr/bin/env bash
# The dashboard against a real Sluice with real traffic, in headless chromium (scripts/test.sh
# runs it after the Swift tests). Everything on 127.0.0.1 with OS-chosen ports; bounded in time.
#   bash scripts/dashboard-e2e.sh [SCREENSHOT_PATH]    (default /tmp/sluice-dashboard.png)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SLUICE_BIN:-.build/debug/sluice}
shot=${1:-/tmp/sluice-dashboard.png}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Wait (bounded) until a log line shows up; prints the port in it.
port_in() {  # FILE PATTERN
  for _ in $(seq 200); do
    line=$(grep -m1 -E "$2" "$1" 2>/dev/null || true)
    if [ -n "$line" ]; then
      echo "$line" | sed -E 's/.*(127\.0\.0\.1|localhost)[^0-9]*:([0-9]+).*/\2/; s/.*port ([0-9]+).*/\1/'
      return 0
    fi
    sleep 0.1
  done
  echo "timed out waiting for /$2/ in $1:" >&2; cat "$1" >&2; return 1
}

# A backend: Python's own HTTP server on a free loopback port.
mkdir -p "$work/www/static" && echo hello > "$work/www/index.html"
# Two days old: heuristic freshness (10% of its age) keeps it cached, so the cache panel has hits.
echo "cached page" > "$work/www/static/page.html" && touch -d '2 days ago' "$work/www/static/page.html"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$work/www" > "$work/backend.log" 2>&1 &
pids+=($!)
backend=$(port_in "$work/backend.log" "Serving HTTP on")

token="dash-$RANDOM$RANDOM"
cat > "$work/sluice.yaml" <<YAML
listeners: [{name: main, address: 127.0.0.1, port: 0}]
admin: {port: 0, token: $token}
access_log: {enabled: false}
clusters: [{name: web, backends: [{address: "127.0.0.1:$backend"}]}]
rate_limits: [{name: few, tiers: [{limit: 5, window: 1m}]}]
routes:
  - {name: limited, match: {path_prefix: /limited}, cluster: web, rate_limits: [few]}
  - {name: static, match: {path_prefix: /static}, cluster: web, cache: {}}
  - {name: site, match: {path_prefix: /}, cluster: web, slo: {availability: 99.9, latency: {threshold: 300ms, percent: 99}}}
YAML
"$bin" run -c "$work/sluice.yaml" > "$work/sluice.out" 2> "$work/sluice.log" &
pids+=($!)
proxy=$(port_in "$work/sluice.log" "\] listening|message.:.listening")
admin=$(port_in "$work/sluice.log" "admin listening")

# Traffic for the page to show: successes, 404s and rate-limit denials; stops by itself.
( end=$((SECONDS + 40)); while [ $SECONDS -lt $end ]; do
    curl -s -o /dev/null "http://127.0.0.1:$proxy/" || true
    curl -s -o /dev/null "http://127.0.0.1:$proxy/missing" || true
    curl -s -o /dev/null "http://127.0.0.1:$proxy/limited" || true
    curl -s -o /dev/null "http://127.0.0.1:$proxy/static/page.html" || true
    sleep 0.05
  done ) &
pids+=($!)

DASHBOARD_EXPECT_CACHE=1 bash scripts/dashboard-check.sh "http://127.0.0.1:$admin" "$token" "$shot"
