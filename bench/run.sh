#!/usr/bin/env bash
# Sluice benchmark harness.
#
# WHAT IT MEASURES
#   1. Throughput and latency (wrk -t1 -c50, --latency) of
#        origin (direct) | nginx proxy | haproxy proxy (if installed) | sluice
#      for GET /1k (1024 B) and GET /64k (65536 B) served by an nginx origin.
#      Each run: ${WARMUP:-2}s warm-up, then ${DURATION:-10}s measured, in ${ROUNDS:-3}
#      rounds that take the proxies in turn. Reports each target's median req/s, p50 and
#      p99 (ms), every round's req/s and p99, and the ratios of the medians Sluice/nginx and
#      Sluice/HAProxy (req/s: higher is better; p99: lower is better).
#   2. Memory per idle keep-alive client connection: RSS of the proxy process
#      (nginx: the worker, not the master) before and after idle_conns.py has
#      opened ${CONNS:-10000} connections, each of which made one GET /1k and
#      then stayed idle. Reports (after - before) / connections in KiB.
#
# HOW IT PINS (needs >= 2 CPUs; override with LOAD_CPU / PROXY_CPU)
#   - proxy under test (nginx proxy, haproxy, sluice): core 1 alone (taskset -c 1)
#   - origin nginx + wrk (and idle_conns.py):          core 0 (taskset -c 0)
#   - direct-origin baseline: the origin is *started* on core 1 and measured
#     first with wrk on core 0 (so it gets the same "one core alone" as a proxy);
#     afterwards it is moved to core 0 with `taskset -a -p` (master and worker)
#     before any proxy is started. Proxies idle on core 1 while another proxy is
#     measured; idle servers cost no CPU.
#
# HOW TO RUN (from anywhere; needs root for apt-get if nginx/wrk are missing)
#   bash bench/run.sh                        # builds sluice in release first
#   SLUICE_BIN=/path/to/sluice bash bench/run.sh   # skip the build
#   SKIP_SLUICE=1 bash bench/run.sh          # only origin/nginx/haproxy rows
#   DURATION=10 CONNS=10000 WARMUP=2 SKIP_HAPROXY=1 KEEP_TMP=1 ...  (env knobs)
#   Results: stdout and bench/out/results.md (raw wrk output in bench/out/).
#   Everything listens on 127.0.0.1 on free ports; all processes started here
#   are killed on exit; the whole run is bounded by BENCH_TIMEOUT seconds.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
bench_init bench   # REPO, OUT, PATH; log/die print "[bench]"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-10000}
SKIP_SLUICE=${SKIP_SLUICE:-0}
SKIP_HAPROXY=${SKIP_HAPROXY:-0}
LOAD_CPU=${LOAD_CPU:-0}
PROXY_CPU=${PROXY_CPU:-1}
WRK_CONNS=50
IDLE_HOLD=120          # idle_conns.py exits by itself after this many seconds
IDLE_OPEN_TIMEOUT=180  # max seconds to wait for idle_conns.py to print "ready"

require_uints DURATION WARMUP CONNS LOAD_CPU PROXY_CPU ROUNDS
((ROUNDS > 0)) || die "ROUNDS must be > 0"
((DURATION > 0 && CONNS > 0)) || die "DURATION and CONNS must be > 0"

# ---------------------------------------------------------------- packages
missing_cmds nginx wrk
want_haproxy=0
if [[ $SKIP_HAPROXY != 1 ]] && ! have haproxy; then want_haproxy=1; fi
if ((${#MISSING[@]} || want_haproxy)); then
  ((EUID == 0)) || die "need root to apt-get install: ${MISSING[*]} (haproxy optional)"
  apt_install_required "${MISSING[@]}"
  if ((want_haproxy)); then
    apt_get_install haproxy 2>/dev/null || log "haproxy did not install; skipping it"
  fi
fi
require_nginx_wrk
USE_HAPROXY=0
if [[ $SKIP_HAPROXY != 1 ]] && have haproxy; then USE_HAPROXY=1; fi
have curl || die "curl is required"
have taskset || die "taskset (util-linux) is required"
have python3 || die "python3 is required"

check_cpus

# ---------------------------------------------------------------- sluice build
if [[ $SKIP_SLUICE != 1 ]]; then sluice_bin; fi   # into .build unless SLUICE_BIN is set

# ---------------------------------------------------------------- fd limit
# The brief wants 65536; without CAP_SYS_RESOURCE we can only go up to the hard limit.
raise_nofile || log "WARNING: could not raise open-files limit to 65536; using hard limit $(ulimit -n)"
NOFILE=$(ulimit -n)
if [[ $NOFILE != unlimited ]] && ((CONNS + 1000 > NOFILE)); then
  log "WARNING: CONNS=$CONNS does not fit the fd limit $NOFILE; using CONNS=$((NOFILE - 1000))"
  CONNS=$((NOFILE - 1000))
fi

check_load

# ---------------------------------------------------------------- process bookkeeping
bench_tmp sluice-bench   # $tmp, PIDS, the cleanup trap (lib.sh)

# Overall time bound (the optional build above is not counted).
ntargets=$((2 + USE_HAPROXY + (SKIP_SLUICE == 1 ? 0 : 1)))
BENCH_TIMEOUT=${BENCH_TIMEOUT:-$((300 + ntargets * 2 * ROUNDS * (WARMUP + DURATION + 10) + 3 * (IDLE_OPEN_TIMEOUT + 30)))}
start_watchdog "$BENCH_TIMEOUT"

# check_body NAME BASEURL: /1k and /64k must return exactly 1024 / 65536 bytes.
check_body() {
  local name=$1 base=$2 path want got
  for path in /1k /64k; do
    want=$([[ $path == /1k ]] && echo 1024 || echo 65536)
    got=$(curl -fsS -o /dev/null --max-time 5 -w '%{size_download}' "$base$path") \
      || die "$name: GET $path failed"
    [[ $got == "$want" ]] || die "$name: GET $path returned $got bytes, expected $want"
  done
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

free_ports 4
ORIGIN_PORT=${PORTS[0]} NGINX_PORT=${PORTS[1]} HAPROXY_PORT=${PORTS[2]} SLUICE_PORT=${PORTS[3]}

# ---------------------------------------------------------------- configs
mkdir -p "$tmp/www" "$tmp/origin" "$tmp/nginx" "$OUT"
head -c 1024 /dev/urandom >"$tmp/www/1k"
head -c 65536 /dev/urandom >"$tmp/www/64k"
chmod 755 "$tmp/www" && chmod 644 "$tmp/www/1k" "$tmp/www/64k"

origin_conf max=16 "    location / { }"

{
  nginx_main "$tmp/nginx"
  cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$tmp/nginx")
$(nginx_upstream_origin)
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / {
$(nginx_proxy_pass)
    }
  }
}
EOF
} >"$tmp/nginx/nginx.conf"

cat >"$tmp/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 20000
    # maxconn 20000 wants ~40k fds; if the hard fd limit is lower (containers),
    # start anyway (a warning) instead of refusing: idle clients use 1 fd each.
    no strict-limits
    pidfile $tmp/haproxy.pid
defaults
    mode http
    timeout connect 10s
    timeout client 300s
    timeout server 300s
    timeout http-request 300s
    timeout http-keep-alive 300s
    http-reuse always
frontend fe
    bind 127.0.0.1:$HAPROXY_PORT
    default_backend be
backend be
    server origin 127.0.0.1:$ORIGIN_PORT
EOF

cat >"$tmp/sluice.yaml" <<EOF
event_loops: 1
listeners:
  - address: 127.0.0.1
    port: $SLUICE_PORT
clusters:
  - name: origin
    backends:
      - address: 127.0.0.1:$ORIGIN_PORT
    pool:
      max_idle: 64
routes:
  - cluster: origin
limits:
  max_connections: 20000
timeouts:
  client_idle: 300s
access_log:
  enabled: false
admin:
  port: 0
EOF

# ---------------------------------------------------------------- load runs
declare -A RPS P50 P99 ERRS ROUND_RPS ROUND_P50 ROUND_P99
TARGETS=()
WARNINGS=()

run_load() {  # run_load TARGET PATH URL ROUND
  local target=$1 path=$2 url=$3 round=$4 f res rps p50 p99 errs
  f="$OUT/wrk-${target//[^a-zA-Z0-9]/_}-${path#/}-$round.txt"
  log "load: $target $path, round $round (${WARMUP}s warm-up + ${DURATION}s)"
  if ((WARMUP > 0)); then
    timeout $((WARMUP + 30)) taskset -c "$LOAD_CPU" \
      wrk -t1 -c"$WRK_CONNS" -d"${WARMUP}s" "$url" >/dev/null || die "wrk warm-up failed for $target $path"
  fi
  timeout $((DURATION + 30)) taskset -c "$LOAD_CPU" \
    wrk -t1 -c"$WRK_CONNS" -d"${DURATION}s" --latency "$url" >"$f" || die "wrk failed for $target $path"
  res=$(python3 "$HERE/parse_wrk.py" "$f") || die "could not parse $f"
  read -r rps p50 p99 errs <<<"$res"
  ROUND_RPS[$target,$path]+="$rps " ROUND_P50[$target,$path]+="$p50 " ROUND_P99[$target,$path]+="$p99 "
  if ((errs > 0)); then WARNINGS+=("$target $path: $errs socket errors / non-2xx responses (see $f)"); fi
}

load_target() {  # load_target TARGET BASEURL ROUND
  ((${3:-1} > 1)) || TARGETS+=("$1")
  run_load "$1" /1k "$2/1k" "${3:-1}"
  run_load "$1" /64k "$2/64k" "${3:-1}"
}

# 1) origin on the proxy core, measured directly.
start_origin
check_body origin "http://127.0.0.1:$ORIGIN_PORT"
for ((round = 1; round <= ROUNDS; round++)); do load_target "origin (direct)" "http://127.0.0.1:$ORIGIN_PORT" "$round"; done

# 2) move the origin (master + worker, all threads) to the load core.
move_origin

# 3) proxies on the proxy core.
log "starting nginx proxy on 127.0.0.1:$NGINX_PORT (cpu $PROXY_CPU)"
start_bg nginx "$PROXY_CPU" nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
NGINX_PID=$LAST_PID
wait_http "nginx proxy" "http://127.0.0.1:$NGINX_PORT/1k" "$NGINX_PID"
NGINX_WORKER=$(child_of "$NGINX_PID")
PIDS+=("$NGINX_WORKER")
check_body "nginx proxy" "http://127.0.0.1:$NGINX_PORT"

HAPROXY_PID=""
if ((USE_HAPROXY)); then
  if haproxy -c -q -f "$tmp/haproxy.cfg" >"$tmp/haproxy-check.out" 2>&1; then
    log "starting haproxy on 127.0.0.1:$HAPROXY_PORT (cpu $PROXY_CPU)"
    # -db: stay in the foreground, no master process: $! is the one haproxy process.
    start_bg haproxy "$PROXY_CPU" haproxy -db -f "$tmp/haproxy.cfg"
    HAPROXY_PID=$LAST_PID
    wait_http haproxy "http://127.0.0.1:$HAPROXY_PORT/1k" "$HAPROXY_PID"
    check_body haproxy "http://127.0.0.1:$HAPROXY_PORT"
  else
    log "WARNING: haproxy rejected its config, skipping it:"; cat "$tmp/haproxy-check.out" >&2
    USE_HAPROXY=0
  fi
fi

SLUICE_PID=""
if [[ $SKIP_SLUICE != 1 ]]; then
  log "starting sluice on 127.0.0.1:$SLUICE_PORT (cpu $PROXY_CPU): $SLUICE_BIN"
  start_bg sluice "$PROXY_CPU" "$SLUICE_BIN" run -c "$tmp/sluice.yaml"
  SLUICE_PID=$LAST_PID
  wait_http sluice "http://127.0.0.1:$SLUICE_PORT/1k" "$SLUICE_PID"
  check_body sluice "http://127.0.0.1:$SLUICE_PORT"
fi

# The rounds take the proxies in turn (all are up, idle while another is measured), so that a
# drift of this VM's speed during the run falls on each of them alike.
for ((round = 1; round <= ROUNDS; round++)); do
  load_target "nginx proxy" "http://127.0.0.1:$NGINX_PORT" "$round"
  if ((USE_HAPROXY)); then load_target "haproxy" "http://127.0.0.1:$HAPROXY_PORT" "$round"; fi
  if [[ -n $SLUICE_PID ]]; then load_target "sluice" "http://127.0.0.1:$SLUICE_PORT" "$round"; fi
done
settle_medians

# ---------------------------------------------------------------- idle connections
declare -A RSS_BEFORE RSS_AFTER HELD PER_CONN
IDLE_TARGETS=()

idle_test() {  # idle_test NAME PORT PID
  local name=$1 port=$2 pid=$3 fifo outf errf cpid wfd before after ok held i
  local tag=${name//[^a-zA-Z0-9]/_}
  fifo="$tmp/idle-$tag.in" outf="$tmp/idle-$tag.stdout" errf="$tmp/idle-$tag.err"
  log "idle: $CONNS connections to $name (pid $pid)"
  sleep 1
  before=$(rss_kib "$pid")
  mkfifo "$fifo"
  # stdin is a FIFO we hold open: closing our end (EOF) tells the client to exit.
  taskset -c "$LOAD_CPU" python3 "$HERE/idle_conns.py" 127.0.0.1 "$port" "$CONNS" \
    --timeout "$IDLE_HOLD" <"$fifo" >"$outf" 2>"$errf" &
  cpid=$!
  PIDS+=("$cpid")
  exec {wfd}>"$fifo"
  for ((i = 0; i < IDLE_OPEN_TIMEOUT * 5; i++)); do
    grep -qx ready "$outf" 2>/dev/null && break
    alive "$cpid" || break
    sleep 0.2
  done
  if ! grep -qx ready "$outf" 2>/dev/null; then
    exec {wfd}>&-
    kill -TERM "$cpid" 2>/dev/null || true
    die "idle_conns.py against $name did not become ready: $(tail -n 3 "$errf" | tr '\n' ' ')"
  fi
  ok=$(sed -n 's/^ok=\([0-9]*\) .*/\1/p' "$outf")
  ok=${ok:-0}
  sleep 2
  alive "$pid" || die "$name died while holding idle connections"
  after=$(rss_kib "$pid")
  held=$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l)
  exec {wfd}>&-
  for ((i = 0; i < 100; i++)); do alive "$cpid" || break; sleep 0.1; done
  alive "$cpid" && kill -TERM "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
  if ((ok != CONNS)); then
    WARNINGS+=("idle $name: only $ok/$CONNS connections succeeded ($(head -n 1 "$errf"))")
  fi
  if ((held < ok)); then
    WARNINGS+=("idle $name: only $held of $ok connections still established at the 'after' sample")
  fi
  IDLE_TARGETS+=("$name")
  RSS_BEFORE[$name]=$before RSS_AFTER[$name]=$after HELD[$name]=$held
  PER_CONN[$name]=$(awk -v a="$after" -v b="$before" -v n="$ok" \
    'BEGIN { if (n > 0) printf "%.2f", (a - b) / n; else print "n/a" }')
}

idle_test "nginx proxy" "$NGINX_PORT" "$NGINX_WORKER"
if ((USE_HAPROXY)); then idle_test "haproxy" "$HAPROXY_PORT" "$HAPROXY_PID"; fi
if [[ -n $SLUICE_PID ]]; then idle_test "sluice" "$SLUICE_PORT" "$SLUICE_PID"; fi

# ---------------------------------------------------------------- report
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

report() {
  local t p r
  echo "## Sluice benchmark"
  echo
  report_host
  echo "- wrk -t1 -c$WRK_CONNS -d${DURATION}s --latency after ${WARMUP}s warm-up; proxy on cpu $PROXY_CPU, origin+wrk on cpu $LOAD_CPU"
  echo "- $(nginx -v 2>&1)$( ((USE_HAPROXY)) && echo ", $(haproxy -v 2>/dev/null | head -n 1)")"
  [[ -n $SLUICE_PID ]] && echo "- sluice: $SLUICE_BIN (git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo n/a))"
  echo
  echo "| target | path | req/s | p50 ms | p99 ms |"
  echo "|---|---|---:|---:|---:|"
  for t in "${TARGETS[@]}"; do
    for p in /1k /64k; do
      echo "| $t | $p | ${RPS[$t,$p]} | ${P50[$t,$p]} | ${P99[$t,$p]} |"
    done
  done
  echo
  report_rounds
  echo
  if [[ -n $SLUICE_PID ]]; then
    for r in "nginx proxy:nginx" "haproxy:HAProxy"; do
      t=${r%%:*}
      [[ -n ${RPS[$t,/1k]:-} ]] || continue
      report_sluice_vs "$t" "${r#*:}"
    done
    echo
  fi
  echo "| proxy | RSS before MiB | RSS after MiB | KiB per idle connection | conns held |"
  echo "|---|---:|---:|---:|---:|"
  for t in "${IDLE_TARGETS[@]}"; do
    echo "| $t | $(mib "${RSS_BEFORE[$t]}") | $(mib "${RSS_AFTER[$t]}") | ${PER_CONN[$t]} | ${HELD[$t]} |"
  done
  echo
  echo "Idle test: $CONNS connections, each did one GET /1k, then idle; RSS sampled 2s after all were open."
  report_warnings
}

report | tee "$OUT/results.md"
log "results written to $OUT/results.md"
