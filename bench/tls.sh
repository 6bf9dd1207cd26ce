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
#   - h2 req/s: h2load, CONNS connections x STREAMS concurrent streams, DURATION seconds, /1k,
#     and how many connections each proxy holds to the origin halfway through;
#   - the same for Sluice with HTTP/2 to the origin too (`clusters[].http2`; the origin also
#     listens for h2c), which nginx's proxy_pass cannot do: its streams share few connections.
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

free_ports 7
ORIGIN_PORT=${PORTS[0]} NGINX_PORT=${PORTS[1]} SLUICE_PORT=${PORTS[2]} SLUICE_ADMIN=${PORTS[3]}
H2C_PORT=${PORTS[4]} SLUICE_H2_PORT=${PORTS[5]} SLUICE_H2_ADMIN=${PORTS[6]}
mkdir -p "$tmp/www" "$tmp/origin" "$tmp/nginx"
head -c 1024 /dev/urandom >"$tmp/www/1k"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench.test" \
  -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

origin_conf "off" "    listen 127.0.0.1:$H2C_PORT http2;"
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
# The same Sluice, but HTTP/2 to the origin's h2c port.
sed -e "s/port: $SLUICE_PORT/port: $SLUICE_H2_PORT/" -e "s/port: $SLUICE_ADMIN/port: $SLUICE_H2_ADMIN/" \
  -e "s/backends: \[\"127.0.0.1:$ORIGIN_PORT\"\], pool: {max_idle: 64}/backends: [\"127.0.0.1:$H2C_PORT\"], http2: true/" \
  "$tmp/sluice.yaml" >"$tmp/sluice-h2up.yaml"
grep -q "http2: true}" "$tmp/sluice-h2up.yaml" || die "could not derive sluice-h2up.yaml"
for f in sluice sluice-h2up; do "$SLUICE_BIN" check -c "$tmp/$f.yaml" >/dev/null || die "sluice check rejected $f.yaml"; done

declare -A HS RPS UP
measure() {  # measure NAME PORT UPSTREAM_PORT [h2only]: handshakes/s, h2 req/s, origin connections
  local name=$1 port=$2 url="https://127.0.0.1:$2/1k" out pid
  curl -fsS -o /dev/null --http2 -k "$url" || die "$name does not answer $url over h2"
  if [[ ${4:-} != h2only ]]; then
    out=$(timeout $((DURATION + 30)) taskset -c "$LOAD_CPU" openssl s_time -connect "127.0.0.1:$port" -new -time "$DURATION" 2>&1 </dev/null) \
      || die "openssl s_time failed against $name: $out"
    HS[$name]=$(awk '/connections in [0-9.]+s/ { for (i = 1; i <= NF; i++) if ($i == "connections/user") print $(i - 1) }' <<<"$out" | head -n 1)
    [[ -n ${HS[$name]} ]] || HS[$name]=$(awk '/connections in/ { print $1 / $4 }' <<<"$out" | head -n 1)
  fi
  timeout $((DURATION + 30)) taskset -c "$LOAD_CPU" h2load -D "$DURATION" -c "$CONNS" -m "$STREAMS" -t 1 "$url" >"$tmp/h2load-$name.out" 2>&1 &
  pid=$!
  sleep $((DURATION / 2))
  # Only this proxy runs now: every established connection to the origin port is its own.
  UP[$name]=$(ss -Htn state established "( dport = :$3 )" | wc -l)
  wait "$pid" || die "h2load failed against $name: $(cat "$tmp/h2load-$name.out")"
  out=$(cat "$tmp/h2load-$name.out")
  RPS[$name]=$(awk '/^finished in/ { print $4 }' <<<"$out")
  grep -q "succeeded, 0 failed, 0 errored" <<<"$out" || WARNINGS+=("$name: h2load saw failures: $(grep '^requests:' <<<"$out")")
  log "$name: ${HS[$name]:-} handshakes/s, ${RPS[$name]} h2 req/s, ${UP[$name]} connections to the origin"
}

stop() {  # stop PID: SIGTERM, bounded wait, so the next proxy is measured alone
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$1" || return 0; sleep 0.1; done
}

WARNINGS=()
log "starting nginx (1 worker, ssl http2) on cpu $PROXY_CPU"
start_bg nginx "$PROXY_CPU" nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
sleep 0.5
measure nginx "$NGINX_PORT" "$ORIGIN_PORT"
stop "$LAST_PID"
for f in sluice sluice-h2up; do
  port=$SLUICE_PORT upstream=$ORIGIN_PORT mode=""
  [[ $f == sluice-h2up ]] && port=$SLUICE_H2_PORT upstream=$H2C_PORT mode=h2only
  log "starting $f (1 event loop, TLS, http2) on cpu $PROXY_CPU"
  start_bg "$f" "$PROXY_CPU" "$SLUICE_BIN" run -c "$tmp/$f.yaml"
  for _ in $(seq 1 100); do curl -fsS -k -o /dev/null "https://127.0.0.1:$port/1k" 2>/dev/null && break; sleep 0.2; done
  measure "$f" "$port" "$upstream" $mode
  stop "$LAST_PID"
done

{
  echo "## TLS and HTTP/2 ($DURATION s each; h2load $CONNS conns x $STREAMS streams; one worker each)"
  report_host
  echo "- full TLS handshakes/s (openssl s_time -new, one client): nginx ${HS[nginx]}, Sluice ${HS[sluice]}: Sluice/nginx $(ratio "${HS[sluice]}" "${HS[nginx]}")"
  echo "- h2 req/s on /1k (h2load): nginx ${RPS[nginx]}, Sluice ${RPS[sluice]}: Sluice/nginx $(ratio "${RPS[sluice]}" "${RPS[nginx]}")"
  echo "- connections to the origin at $((CONNS * STREAMS)) concurrent requests: nginx ${UP[nginx]}, Sluice ${UP[sluice]} (HTTP/1.1 upstream)"
  echo "- Sluice with HTTP/2 to the origin (clusters[].http2): ${RPS[sluice-h2up]} h2 req/s ($(ratio "${RPS[sluice-h2up]}" "${RPS[nginx]}") nginx), ${UP[sluice-h2up]} connection(s) to the origin"
  report_warnings
} | tee "$OUT/tls-report.md"
