#!/usr/bin/env bash
# TLS and HTTP/2 through Sluice against nginx, same machine, same run (not a test).
#
#   bash bench/tls.sh            # installs nginx, openssl and h2load (nghttp2-client) if missing
#
# One nginx origin serves /1k over plain HTTP. In front of it, each with one worker / one
# event loop, pinned to PROXY_CPU, the load on LOAD_CPU:
#   - nginx: `listen ssl http2`, proxy_pass to the origin with upstream keep-alive;
#   - Sluice: a TLS listener with http2.enabled, one cluster, the same origin.
# Both present the same certificate (ECDSA P-256, made here by openssl).
# Measured:
#   - full TLS handshakes per second: `openssl s_time -new` (one client, a new session each
#     time, TLS 1.3), so the figure is per-handshake cost, not throughput under concurrency;
#   - h2 req/s: h2load, CONNS connections x STREAMS concurrent streams, DURATION seconds, /1k.
# Prints each figure and the Sluice/nginx ratios. Env: DURATION (10), CONNS (20), STREAMS (10),
# LOAD_CPU (0), PROXY_CPU (1), SLUICE_BIN (default: a release build into .build-bench),
# BENCH_TIMEOUT (600 s).
set -eEuo pipefail
trap 'printf "[tls-bench] ERROR: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
bench_init tls-bench

DURATION=${DURATION:-10}
CONNS=${CONNS:-20}
STREAMS=${STREAMS:-10}
LOAD_CPU=${LOAD_CPU:-0}
PROXY_CPU=${PROXY_CPU:-1}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-600}
require_uints DURATION CONNS STREAMS LOAD_CPU PROXY_CPU BENCH_TIMEOUT

missing_cmds nginx openssl h2load curl
if ((${#MISSING[@]})); then
  pkgs=()
  for c in "${MISSING[@]}"; do [[ $c == h2load ]] && pkgs+=(nghttp2-client) || pkgs+=("$c"); done
  apt_install_required "${pkgs[@]}"
fi
require_cmds nginx openssl h2load curl taskset
check_cpus
check_load
sluice_bin .build-bench
bench_tmp sluice-tls-bench
start_watchdog "$BENCH_TIMEOUT"

free_ports 4
ORIGIN_PORT=${PORTS[0]} NGINX_PORT=${PORTS[1]} SLUICE_PORT=${PORTS[2]} SLUICE_ADMIN=${PORTS[3]}
mkdir -p "$tmp/www" "$tmp/origin" "$tmp/nginx"
head -c 1024 /dev/urandom >"$tmp/www/1k"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench.test" \
  -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

origin_conf "off" ""
start_origin
move_origin

{
  nginx_main "$tmp/nginx"
  cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$tmp/nginx")
$(nginx_upstream_origin)
  ssl_protocols TLSv1.2 TLSv1.3;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl http2 backlog=4096;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / {
$(nginx_proxy_pass)
    }
  }
}
EOF
} >"$tmp/nginx/nginx.conf"

cat >"$tmp/sluice.yaml" <<EOF
event_loops: 1
listeners:
  - address: 127.0.0.1
    port: $SLUICE_PORT
    tls: {certificates: [{cert: $tmp/cert.pem, key: $tmp/key.pem}], reload_interval: 0s}
    http2: {enabled: true, max_concurrent_streams: 1000}
admin: {address: 127.0.0.1, port: $SLUICE_ADMIN}
access_log: {enabled: false}
reload: {watch: false}
limits: {max_connections: 20000, max_requests_per_connection: 0}
clusters: [{name: origin, backends: ["127.0.0.1:$ORIGIN_PORT"], pool: {max_idle: 64}}]
routes: [{cluster: origin}]
EOF
"$SLUICE_BIN" check -c "$tmp/sluice.yaml" >/dev/null || die "sluice check rejected its config"

declare -A HS RPS
measure() {  # measure NAME PORT: handshakes/s and h2 req/s against 127.0.0.1:PORT
  local name=$1 port=$2 url="https://127.0.0.1:$2/1k" out
  curl -fsS -o /dev/null --http2 -k "$url" || die "$name does not answer $url over h2"
  out=$(timeout $((DURATION + 30)) taskset -c "$LOAD_CPU" openssl s_time -connect "127.0.0.1:$port" -new -time "$DURATION" 2>&1 </dev/null) \
    || die "openssl s_time failed against $name: $out"
  HS[$name]=$(awk '/connections in [0-9.]+s/ { for (i = 1; i <= NF; i++) if ($i == "connections/user") print $(i - 1) }' <<<"$out" | head -n 1)
  [[ -n ${HS[$name]} ]] || HS[$name]=$(awk '/connections in/ { print $1 / $4 }' <<<"$out" | head -n 1)
  out=$(timeout $((DURATION + 30)) taskset -c "$LOAD_CPU" h2load -D "$DURATION" -c "$CONNS" -m "$STREAMS" -t 1 "$url" 2>&1) \
    || die "h2load failed against $name: $out"
  RPS[$name]=$(awk '/^finished in/ { print $4 }' <<<"$out")
  grep -q "succeeded, 0 failed, 0 errored" <<<"$out" || WARNINGS+=("$name: h2load saw failures: $(grep '^requests:' <<<"$out")")
  log "$name: ${HS[$name]} handshakes/s, ${RPS[$name]} h2 req/s"
}

WARNINGS=()
log "starting nginx (1 worker, ssl http2) on cpu $PROXY_CPU"
start_bg nginx "$PROXY_CPU" nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
sleep 0.5
measure nginx "$NGINX_PORT"
log "starting sluice (1 event loop, TLS, http2) on cpu $PROXY_CPU"
start_bg sluice "$PROXY_CPU" "$SLUICE_BIN" run -c "$tmp/sluice.yaml"
for _ in $(seq 1 100); do curl -fsS -k -o /dev/null "https://127.0.0.1:$SLUICE_PORT/1k" 2>/dev/null && break; sleep 0.2; done
measure sluice "$SLUICE_PORT"

{
  echo "## TLS and HTTP/2 ($DURATION s each; h2load $CONNS conns x $STREAMS streams; one worker each)"
  report_host
  echo "- full TLS handshakes/s (openssl s_time -new, one client): nginx ${HS[nginx]}, Sluice ${HS[sluice]}: Sluice/nginx $(ratio "${HS[sluice]}" "${HS[nginx]}")"
  echo "- h2 req/s on /1k (h2load): nginx ${RPS[nginx]}, Sluice ${RPS[sluice]}: Sluice/nginx $(ratio "${RPS[sluice]}" "${RPS[nginx]}")"
  report_warnings
} | tee "$OUT/tls-report.md"
