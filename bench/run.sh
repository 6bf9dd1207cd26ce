#!/usr/bin/env bash
# Sluice benchmark harness.
#
# WHAT IT MEASURES
#   1. Throughput and latency (wrk -t1 -c50, --latency) of
#        origin (direct) | nginx proxy | haproxy proxy (if installed) | sluice
#      for GET /1k (1024 B) and GET /64k (65536 B) served by an nginx origin.
#      Each run: ${WARMUP:-2}s warm-up, then ${DURATION:-10}s measured.
#      Reports req/s, p50 and p99 (ms) and the ratios Sluice/nginx and
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
REPO=$(cd "$HERE/.." && pwd)
OUT="$HERE/out"
export PATH="$PATH:/usr/sbin:/sbin"

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-10000}
SKIP_SLUICE=${SKIP_SLUICE:-0}
SKIP_HAPROXY=${SKIP_HAPROXY:-0}
LOAD_CPU=${LOAD_CPU:-0}
PROXY_CPU=${PROXY_CPU:-1}
WRK_CONNS=50
IDLE_HOLD=120          # idle_conns.py exits by itself after this many seconds
IDLE_OPEN_TIMEOUT=180  # max seconds to wait for idle_conns.py to print "ready"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

for v in DURATION WARMUP CONNS LOAD_CPU PROXY_CPU; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
((DURATION > 0 && CONNS > 0)) || die "DURATION and CONNS must be > 0"

# ---------------------------------------------------------------- packages
missing=()
have nginx || missing+=(nginx)
have wrk || missing+=(wrk)
want_haproxy=0
if [[ $SKIP_HAPROXY != 1 ]] && ! have haproxy; then want_haproxy=1; fi
if ((${#missing[@]} || want_haproxy)); then
  ((EUID == 0)) || die "need root to apt-get install: ${missing[*]} (haproxy optional)"
  export DEBIAN_FRONTEND=noninteractive
  log "apt-get update"
  apt-get update -qq || log "apt-get update failed; trying install anyway"
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get install -y -q "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
  fi
  if ((want_haproxy)); then
    apt-get install -y -q haproxy >/dev/null 2>&1 || log "haproxy did not install; skipping it"
  fi
fi
have nginx && have wrk || die "nginx/wrk still missing after install"
USE_HAPROXY=0
if [[ $SKIP_HAPROXY != 1 ]] && have haproxy; then USE_HAPROXY=1; fi
have curl || die "curl is required"
have taskset || die "taskset (util-linux) is required"
have python3 || die "python3 is required"

taskset -c "$LOAD_CPU" true 2>/dev/null && taskset -c "$PROXY_CPU" true 2>/dev/null \
  || die "cannot pin to CPUs $LOAD_CPU and $PROXY_CPU (need >= 2 CPUs; set LOAD_CPU/PROXY_CPU)"

# ---------------------------------------------------------------- sluice build
if [[ $SKIP_SLUICE != 1 ]]; then
  if [[ -z ${SLUICE_BIN:-} ]]; then
    log "building sluice (release)"
    (cd "$REPO" && swift build -c release --product sluice) || die "swift build failed"
    SLUICE_BIN="$REPO/.build/release/sluice"
  fi
  [[ -x $SLUICE_BIN ]] || die "SLUICE_BIN '$SLUICE_BIN' is not an executable"
fi

# ---------------------------------------------------------------- fd limit
# The brief wants 65536; without CAP_SYS_RESOURCE we can only go up to the hard limit.
if ! ulimit -n 65536 2>/dev/null; then
  hard=$(ulimit -Hn)
  ulimit -n "$hard"
  log "WARNING: could not raise open-files limit to 65536; using hard limit $hard"
fi
NOFILE=$(ulimit -n)
if [[ $NOFILE != unlimited ]] && ((CONNS + 1000 > NOFILE)); then
  log "WARNING: CONNS=$CONNS does not fit the fd limit $NOFILE; using CONNS=$((NOFILE - 1000))"
  CONNS=$((NOFILE - 1000))
fi

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOADAVG_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
  log "WARNING: machine is busy (loadavg $LOADAVG_START); numbers will be noisy"
fi

# ---------------------------------------------------------------- process bookkeeping
tmp=$(mktemp -d /tmp/sluice-bench.XXXXXX)
chmod 755 "$tmp"   # nginx workers may run as an unprivileged user
PIDS=()
WATCHDOG_PID=""

alive() {  # alive PID: running and not a zombie
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $s != Z* ]]
}

cleanup() {
  local rc=$? pid i any
  trap - EXIT INT TERM
  [[ -n $WATCHDOG_PID ]] && kill "$WATCHDOG_PID" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 50; i++)); do
    any=0
    for pid in "${PIDS[@]}"; do alive "$pid" && any=1; done
    ((any)) || break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do alive "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((rc != 0)); then
    local f
    for f in "$tmp"/*.out "$tmp"/*/error.log "$tmp"/idle-*.err; do
      [[ -s $f ]] || continue
      printf '[bench] --- last lines of %s\n' "$f" >&2
      tail -n 15 "$f" >&2
    done
    log "failed (rc=$rc); temp dir kept: $tmp"
  elif [[ ${KEEP_TMP:-0} == 1 ]]; then
    log "temp dir kept: $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Overall time bound (the optional build above is not counted).
ntargets=$((2 + USE_HAPROXY + (SKIP_SLUICE == 1 ? 0 : 1)))
BENCH_TIMEOUT=${BENCH_TIMEOUT:-$((300 + ntargets * 2 * (WARMUP + DURATION + 10) + 3 * (IDLE_OPEN_TIMEOUT + 30)))}
bash -c 'sleep "$1" & s=$!; trap "kill $s 2>/dev/null; wait $s; exit 0" TERM; wait $s
         echo "[bench] ERROR: time budget of $1 s exceeded, aborting" >&2; kill -TERM "$2"' \
  _ "$BENCH_TIMEOUT" $$ &
WATCHDOG_PID=$!

# start_bg NAME CPU CMD...: run CMD pinned to CPU in the background; sets LAST_PID.
# taskset execs CMD, so $! is the server process itself.
start_bg() {
  local name=$1 cpu=$2
  shift 2
  taskset -c "$cpu" "$@" >"$tmp/$name.out" 2>&1 </dev/null &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# wait_http NAME URL PID: bounded wait until URL answers 200.
wait_http() {
  local name=$1 url=$2 pid=$3 i
  for ((i = 0; i < 150; i++)); do
    alive "$pid" || die "$name (pid $pid) exited during startup"
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  die "$name did not answer at $url within ~30s"
}

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

nginx_worker() {  # nginx_worker MASTER_PID -> pid of its (single) worker
  local w i
  for ((i = 0; i < 50; i++)); do
    w=$(pgrep -P "$1" | head -n 1 || true)
    [[ -n $w ]] && { echo "$w"; return 0; }
    sleep 0.1
  done
  die "no nginx worker under master $1"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

mapfile -t PORTS < <(python3 "$HERE/freeport.py" 4)
((${#PORTS[@]} == 4)) || die "freeport.py failed"
ORIGIN_PORT=${PORTS[0]} NGINX_PORT=${PORTS[1]} HAPROXY_PORT=${PORTS[2]} SLUICE_PORT=${PORTS[3]}

# ---------------------------------------------------------------- configs
mkdir -p "$tmp/www" "$tmp/origin" "$tmp/nginx" "$OUT"
head -c 1024 /dev/urandom >"$tmp/www/1k"
head -c 65536 /dev/urandom >"$tmp/www/64k"
chmod 755 "$tmp/www" && chmod 644 "$tmp/www/1k" "$tmp/www/64k"

nginx_common() {  # nginx_common DIR: main-context + temp paths inside DIR
  cat <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 20000; }
EOF
}
nginx_temp_paths() {
  local p
  for p in client_body proxy fastcgi uwsgi scgi; do echo "  ${p}_temp_path $1/${p}_temp;"; done
}

{
  nginx_common "$tmp/origin"
  cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$tmp/origin")
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  open_file_cache max=16;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
    root $tmp/www;
    location / { }
  }
}
EOF
} >"$tmp/origin/nginx.conf"

{
  nginx_common "$tmp/nginx"
  cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$tmp/nginx")
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
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
declare -A RPS P50 P99 ERRS
TARGETS=()
WARNINGS=()

run_load() {  # run_load TARGET PATH URL
  local target=$1 path=$2 url=$3 f res rps p50 p99 errs
  f="$OUT/wrk-${target//[^a-zA-Z0-9]/_}-${path#/}.txt"
  log "load: $target $path (${WARMUP}s warm-up + ${DURATION}s)"
  if ((WARMUP > 0)); then
    timeout $((WARMUP + 30)) taskset -c "$LOAD_CPU" \
      wrk -t1 -c"$WRK_CONNS" -d"${WARMUP}s" "$url" >/dev/null || die "wrk warm-up failed for $target $path"
  fi
  timeout $((DURATION + 30)) taskset -c "$LOAD_CPU" \
    wrk -t1 -c"$WRK_CONNS" -d"${DURATION}s" --latency "$url" >"$f" || die "wrk failed for $target $path"
  res=$(python3 "$HERE/parse_wrk.py" "$f") || die "could not parse $f"
  read -r rps p50 p99 errs <<<"$res"
  RPS[$target,$path]=$rps P50[$target,$path]=$p50 P99[$target,$path]=$p99 ERRS[$target,$path]=$errs
  if ((errs > 0)); then WARNINGS+=("$target $path: $errs socket errors / non-2xx responses (see $f)"); fi
}

load_target() {  # load_target TARGET BASEURL
  TARGETS+=("$1")
  run_load "$1" /1k "$2/1k"
  run_load "$1" /64k "$2/64k"
}

# 1) origin on the proxy core, measured directly.
log "starting origin nginx on 127.0.0.1:$ORIGIN_PORT (cpu $PROXY_CPU for the baseline)"
start_bg origin "$PROXY_CPU" nginx -p "$tmp/origin" -e "$tmp/origin/error.log" -c "$tmp/origin/nginx.conf"
ORIGIN_PID=$LAST_PID
wait_http origin "http://127.0.0.1:$ORIGIN_PORT/1k" "$ORIGIN_PID"
ORIGIN_WORKER=$(nginx_worker "$ORIGIN_PID")
PIDS+=("$ORIGIN_WORKER")
check_body origin "http://127.0.0.1:$ORIGIN_PORT"
load_target "origin (direct)" "http://127.0.0.1:$ORIGIN_PORT"

# 2) move the origin (master + worker, all threads) to the load core.
taskset -a -p -c "$LOAD_CPU" "$ORIGIN_PID" >/dev/null
taskset -a -p -c "$LOAD_CPU" "$ORIGIN_WORKER" >/dev/null
log "origin moved to cpu $LOAD_CPU: $(taskset -c -p "$ORIGIN_WORKER")"

# 3) proxies on the proxy core.
log "starting nginx proxy on 127.0.0.1:$NGINX_PORT (cpu $PROXY_CPU)"
start_bg nginx "$PROXY_CPU" nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
NGINX_PID=$LAST_PID
wait_http "nginx proxy" "http://127.0.0.1:$NGINX_PORT/1k" "$NGINX_PID"
NGINX_WORKER=$(nginx_worker "$NGINX_PID")
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

load_target "nginx proxy" "http://127.0.0.1:$NGINX_PORT"
if ((USE_HAPROXY)); then load_target "haproxy" "http://127.0.0.1:$HAPROXY_PORT"; fi
if [[ -n $SLUICE_PID ]]; then load_target "sluice" "http://127.0.0.1:$SLUICE_PORT"; fi

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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

report() {
  local t p r
  echo "## Sluice benchmark"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), host: $(uname -r), cpus: $(nproc), loadavg at start: $LOADAVG_START"
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
  if [[ -n $SLUICE_PID ]]; then
    for r in "nginx proxy:nginx" "haproxy:HAProxy"; do
      t=${r%%:*}
      [[ -n ${RPS[$t,/1k]:-} ]] || continue
      for p in /1k /64k; do
        echo "- Sluice/${r#*:} $p: req/s $(ratio "${RPS[sluice,$p]}" "${RPS[$t,$p]}") (higher is better), p99 $(ratio "${P99[sluice,$p]}" "${P99[$t,$p]}") (lower is better)"
      done
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
  if ((${#WARNINGS[@]})); then
    echo
    for r in "${WARNINGS[@]}"; do echo "- WARNING: $r"; done
  fi
}

report | tee "$OUT/results.md"
log "results written to $OUT/results.md"
