#!/usr/bin/env bash
# Rate-limit overhead, side by side in one run: each proxy with and without a request limit
# that never refuses (every request still pays for the decision), in front of one nginx
# origin serving 1 KiB.
#
#   nginx     : off | limit_req (zone on $binary_remote_addr)
#   haproxy   : off | stick-table http_req_rate(1s) tracked per source (if installed)
#   sluice    : off | local token bucket on client_ip | redis (lease_size 100)
#
# wrk -t1 -c50 from one address (one hot key: the uncontended decision cost), ${WARMUP:-2}s
# warm-up + ${DURATION:-10}s measured per row. Proxies on core 1, origin, redis and wrk on
# core 0. Prints req/s, p99 and each "limit on / off" ratio; bench/out/ratelimit.md.
#
#   SLUICE_BIN=.build-release/release/sluice bash bench/ratelimit.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
bench_init ratelimit   # REPO, OUT, PATH; log/die print "[ratelimit]"
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}

missing_cmds nginx wrk redis-server haproxy
if ((${#MISSING[@]})); then
  ((EUID == 0)) || die "need root to install ${MISSING[*]}"
  apt_get_install "${MISSING[@]}" || log "some of ${MISSING[*]} did not install"
fi
have nginx && have wrk && have redis-server || die "nginx, wrk and redis-server are required"
sluice_bin .build-release   # unless SLUICE_BIN is set

bench_tmp sluice-ratelimit   # $tmp, PIDS, the cleanup trap (lib.sh)
# The whole run is bounded: 8 rows of warm-up + measure + start-up, plus slack.
start_watchdog $((8 * (WARMUP + DURATION + 15) + 120))

free_ports 4
ORIGIN=${PORTS[0]} PROXY=${PORTS[1]} REDIS=${PORTS[2]}
mkdir -p "$tmp/www" "$OUT"
head -c 1024 /dev/urandom >"$tmp/www/1k"
chmod 644 "$tmp/www/1k"

nginx_conf() {  # nginx_conf DIR BODY
  mkdir -p "$1"
  cat >"$1/nginx.conf" <<CONF
daemon off; master_process on; worker_processes 1; pid $1/nginx.pid; error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000;
  client_body_temp_path $1/b; proxy_temp_path $1/p; fastcgi_temp_path $1/f; uwsgi_temp_path $1/u; scgi_temp_path $1/s;
$2
}
CONF
}

nginx_conf "$tmp/origin" "  server { listen 127.0.0.1:$ORIGIN; root $tmp/www; location / { } }"
start_bg origin 0 nginx -p "$tmp/origin" -c "$tmp/origin/nginx.conf"
wait_http origin "http://127.0.0.1:$ORIGIN/1k" "$LAST_PID"
start_bg redis 0 redis-server --port "$REDIS" --bind 127.0.0.1 --save '' --appendonly no
for ((i = 0; i < 50; i++)); do redis-cli -p "$REDIS" ping >/dev/null 2>&1 && break; sleep 0.1; done

UPSTREAM="upstream o { server 127.0.0.1:$ORIGIN; keepalive 64; }"
PASS="proxy_pass http://o; proxy_http_version 1.1; proxy_set_header Connection \"\";"
# A limit that never refuses: 10^6 per second per address with a burst as large.
NGINX_OFF="  $UPSTREAM server { listen 127.0.0.1:$PROXY; location / { $PASS } }"
NGINX_ON="  $UPSTREAM limit_req_zone \$binary_remote_addr zone=z:10m rate=1000000r/s;
  server { listen 127.0.0.1:$PROXY; location / { limit_req zone=z burst=1000000 nodelay; $PASS } }"

haproxy_conf() {  # haproxy_conf FILE LIMIT(0|1)
  {
    printf 'global\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n  http-reuse always\n'
    printf 'frontend fe\n  bind 127.0.0.1:%s\n' "$PROXY"
    if [[ $2 == 1 ]]; then
      printf '  stick-table type ip size 1m expire 60s store http_req_rate(1s)\n  http-request track-sc0 src\n'
      printf '  http-request deny deny_status 429 if { sc_http_req_rate(0) gt 1000000 }\n'
    fi
    printf '  default_backend be\nbackend be\n  server o 127.0.0.1:%s\n' "$ORIGIN"
  } >"$1"
}

sluice_conf() {  # sluice_conf FILE STORE(off|local|redis)
  cat >"$1" <<YAML
event_loops: 1
listeners: [{ address: 127.0.0.1, port: $PROXY }]
clusters: [{ name: o, backends: ["127.0.0.1:$ORIGIN"], pool: { max_idle: 64 } }]
access_log: { enabled: false }
limits: { max_requests_per_connection: 0 }
admin: { port: 0 }
YAML
  if [[ $2 == off ]]; then
    echo 'routes: [{ cluster: o }]' >>"$1"
  else
    local store=local
    [[ $2 == redis ]] && store="redis://127.0.0.1:$REDIS/0"
    cat >>"$1" <<YAML
routes: [{ cluster: o, rate_limits: [bench] }]
rate_limits:
  - name: bench
    tiers: [{ limit: 1000000, window: 1s }]
    store: $store
    lease_size: 100
    response_headers: true
YAML
  fi
}

declare -A RPS P99
ROWS=()
measure() {  # measure ROW
  local f="$OUT/ratelimit-${1//[^a-zA-Z0-9]/_}.txt"
  taskset -c 0 wrk -t1 -c50 -d"${WARMUP}s" "http://127.0.0.1:$PROXY/1k" >/dev/null
  taskset -c 0 wrk -t1 -c50 -d"${DURATION}s" --latency "http://127.0.0.1:$PROXY/1k" >"$f"
  read -r rps _ p99 errs <<<"$(python3 "$HERE/parse_wrk.py" "$f")"
  ((errs == 0)) || log "WARNING: $1 had $errs errors or non-2xx (see $f)"
  RPS[$1]=$rps P99[$1]=$p99
  ROWS+=("$1")
  log "$1: $rps req/s, p99 $p99 ms"
}
run_row() {  # run_row ROW CMD...
  local row=$1; shift
  start_bg "${row//[^a-zA-Z0-9]/_}" 1 "$@"
  local pid=$LAST_PID
  wait_http "$row" "http://127.0.0.1:$PROXY/1k" "$pid"
  measure "$row"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do curl -s -o /dev/null --max-time 0.2 "http://127.0.0.1:$PROXY/" || break; sleep 0.1; done
}

nginx_conf "$tmp/n-off" "$NGINX_OFF"; run_row "nginx off" nginx -p "$tmp/n-off" -c "$tmp/n-off/nginx.conf"
nginx_conf "$tmp/n-on" "$NGINX_ON"; run_row "nginx limit_req" nginx -p "$tmp/n-on" -c "$tmp/n-on/nginx.conf"
if have haproxy; then
  haproxy_conf "$tmp/h-off.cfg" 0; run_row "haproxy off" haproxy -db -f "$tmp/h-off.cfg"
  haproxy_conf "$tmp/h-on.cfg" 1; run_row "haproxy stick-table" haproxy -db -f "$tmp/h-on.cfg"
fi
for mode in off local redis; do
  sluice_conf "$tmp/s-$mode.yaml" "$mode"
  run_row "sluice $mode" "$SLUICE_BIN" run -c "$tmp/s-$mode.yaml"
done

rps_ratio() { awk -v a="${RPS[$1]:-0}" -v b="${RPS[$2]:-0}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else printf "n/a" }'; }
{
  echo "| row | req/s | p99 ms | on / off |"
  echo "|---|---:|---:|---:|"
  for row in "${ROWS[@]}"; do
    case $row in
      "nginx limit_req") r=$(rps_ratio "$row" "nginx off") ;;
      "haproxy stick-table") r=$(rps_ratio "$row" "haproxy off") ;;
      "sluice local") r=$(rps_ratio "$row" "sluice off") ;;
      "sluice redis") r="$(rps_ratio "$row" "sluice off") ($(rps_ratio "$row" "sluice local") of local)" ;;
      *) r="" ;;
    esac
    echo "| $row | ${RPS[$row]} | ${P99[$row]} | $r |"
  done
} | tee "$OUT/ratelimit.md"
