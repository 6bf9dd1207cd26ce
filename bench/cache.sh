#!/usr/bin/env bash
# Sluice HTTP cache benchmark: Sluice's cache next to Varnish and nginx proxy_cache, one run.
# On demand only (never from CI).
#
# WHAT IT MEASURES
#   1. Hot hits. One cached object of 1 KiB (/1k) and one of 64 KiB (/64k). The origin is nginx
#      serving static files with Cache-Control: max-age=3600 and an ETag. Each cache is warmed,
#      and a check confirms that it answers from cache:
#        sluice : Cache-Status starts with "Sluice; hit"
#        varnish: X-Varnish carries two ids, and Age is present
#        nginx  : X-Cache-Status (add_header $upstream_cache_status) is HIT
#      Then wrk -t1 -c50 --latency runs ${DURATION:-10}s after a ${WARMUP:-2}s warm-up, against
#      sluice | varnish (-s malloc) | nginx proxy_cache | the origin directly, in ROUNDS (3)
#      rounds that take the three caches in turn (all three stay up, idle while another is
#      measured), so that this VM's drifts in speed fall on each of them alike.
#      Reports each target's median req/s, p50 and p99 over the rounds and every round's
#      figures, the origin fetches during the measured runs (0 means every answer came from
#      cache), and the Sluice/Varnish and Sluice/nginx ratios of the medians.
#   2. Hit ratio under a skewed workload with a small cache. ZIPF_OBJECTS (20000) objects of
#      ZIPF_OBJECT_SIZE (4096) bytes, requested by zipf.lua: Zipf(ZIPF_S=0.9), with a seeded
#      sequence that is the same for every proxy, ZIPF_REQUESTS (200000) requests per proxy from
#      a cold cache. Every cache is given CACHE_PERCENT (10) % of the objects' body bytes:
#        sluice        cache: {memory_size: B, max_object_size: 1MiB}, eviction s3fifo (default),
#                      then a second run with eviction: lru
#        varnish       -s malloc,B (LRU)
#        nginx         proxy_cache_path ... keys_zone=bench:10m max_size=B ("nginx max_size"), and
#                      again with keys_zone sized for about B / object-size keys ("nginx keys_zone"):
#                      max_size is enforced only by the cache manager every few seconds,
#                      whereas a full keys_zone evicts on every store
#      Hits and misses come from each proxy's own counters: Sluice's /metrics, Varnish's
#      varnishstat, and an nginx access log of $upstream_cache_status. Fetches seen by the
#      origin (nginx stub_status) give one measure that means the same for all of them:
#      "offload" = 1 - origin fetches / requests. Also reported: req/s, p99, and the objects
#      and bytes each cache held when the run ended.
#
# HOW IT PINS (2 cores; override with LOAD_CPU / PROXY_CPU)
#   the proxy under test runs alone on core 1; origin nginx and wrk share core 0. For the
#   direct-origin row the origin is started on core 1, measured first, then moved to core 0
#   (taskset -a -p), as in run.sh. Proxies run one at a time: each is started fresh (an
#   empty cache), measured, then stopped.
#
# HOW TO RUN (root installs nginx/wrk/varnish with apt-get if they are missing)
#   bash bench/cache.sh                               # builds sluice into .build-release first
#   SLUICE_BIN=.build-release/release/sluice bash bench/cache.sh
#   DURATION=5 ZIPF_REQUESTS=100000 SKIP_VARNISH=1 KEEP_TMP=1 bash bench/cache.sh
#   Results: stdout and bench/out/cache-results.md; raw wrk output in bench/out/cache-wrk-*.txt.
#   Everything listens on 127.0.0.1 on free ports. Every process started here is killed on exit,
#   and BENCH_TIMEOUT (seconds) bounds the whole run (not counting the optional build).
set -eEuo pipefail
# A command that fails outside a checked context says where, rather than ending the run silently.
trap 'printf "[cache-bench] ERROR: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
bench_init cache-bench   # REPO, OUT, PATH; log/die print "[cache-bench]"

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ZIPF_OBJECTS=${ZIPF_OBJECTS:-20000}
ZIPF_OBJECT_SIZE=${ZIPF_OBJECT_SIZE:-4096}
ZIPF_S=${ZIPF_S:-0.9}
ZIPF_SEED=${ZIPF_SEED:-1}
ZIPF_REQUESTS=${ZIPF_REQUESTS:-200000}
ROUNDS=${ROUNDS:-3}
ZIPF_MAX_SECONDS=${ZIPF_MAX_SECONDS:-120}
CACHE_PERCENT=${CACHE_PERCENT:-10}
SKIP_VARNISH=${SKIP_VARNISH:-0}
LOAD_CPU=${LOAD_CPU:-0}
PROXY_CPU=${PROXY_CPU:-1}
WRK_CONNS=50
HOT_CACHE=256MiB        # phase 1: far more than the two objects
HOT_CACHE_BYTES=$((256 * 1024 * 1024))

require_uints DURATION WARMUP ZIPF_OBJECTS ZIPF_OBJECT_SIZE ZIPF_SEED ZIPF_REQUESTS ZIPF_MAX_SECONDS \
  CACHE_PERCENT LOAD_CPU PROXY_CPU ROUNDS
((ROUNDS > 0)) || die "ROUNDS must be > 0"
[[ $ZIPF_S =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "ZIPF_S must be a number (got '$ZIPF_S')"
((DURATION > 0 && ZIPF_OBJECTS > 0 && ZIPF_OBJECTS <= 100000 && ZIPF_REQUESTS > 0 && ZIPF_MAX_SECONDS > 0)) \
  || die "DURATION, ZIPF_REQUESTS, ZIPF_MAX_SECONDS must be > 0 and ZIPF_OBJECTS in 1..100000"
((CACHE_PERCENT > 0 && CACHE_PERCENT <= 100 && ZIPF_OBJECT_SIZE > 0)) || die "CACHE_PERCENT must be 1..100"
CACHE_BYTES=$((ZIPF_OBJECTS * ZIPF_OBJECT_SIZE * CACHE_PERCENT / 100))
((CACHE_BYTES >= 1048576)) || die "the small cache ($CACHE_BYTES bytes) must be at least 1 MiB (Sluice's max_object_size here)"

# ---------------------------------------------------------------- packages
missing_cmds nginx wrk
want_varnish=0
if [[ $SKIP_VARNISH != 1 ]] && ! have varnishd; then want_varnish=1; fi
VARNISH_NOTE=""
if ((${#MISSING[@]} || want_varnish)); then
  if ((EUID != 0)); then
    ((${#MISSING[@]} == 0)) || die "need root to apt-get install: ${MISSING[*]}"
    VARNISH_NOTE="varnish is not installed and installing it needs root: skipped"
  else
    apt_install_required "${MISSING[@]}"
    if ((want_varnish)); then
      log "installing varnish"
      apt_get_install varnish 2>/dev/null || VARNISH_NOTE="apt-get install varnish failed: skipped"
    fi
  fi
fi
require_nginx_wrk
USE_VARNISH=0
if [[ $SKIP_VARNISH == 1 ]]; then
  VARNISH_NOTE="SKIP_VARNISH=1: skipped"
elif have varnishd && have varnishstat; then
  USE_VARNISH=1
else
  VARNISH_NOTE=${VARNISH_NOTE:-"varnishd/varnishstat not found: skipped"}
fi
[[ -n $VARNISH_NOTE ]] && log "varnish: $VARNISH_NOTE"
nginx -V 2>&1 | grep -q http_stub_status_module || die "nginx lacks the stub_status module (origin fetch counting)"
require_cmds curl taskset python3 pgrep

check_cpus

# ---------------------------------------------------------------- sluice build
sluice_bin .build-release   # unless SLUICE_BIN is set

raise_nofile || true

check_load

# ---------------------------------------------------------------- process bookkeeping
bench_tmp sluice-cache-bench   # $tmp, PIDS, the cleanup trap (lib.sh); cleanup calls bench_cleanup_hook
# nginx proxy_cache lives on tmpfs when /dev/shm is one (no disk I/O, like the two memory
# caches); otherwise in the temp dir on whatever file system that is.
NGX_CACHE_ROOT=""
if [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]] && [[ -w /dev/shm ]]; then
  NGX_CACHE_ROOT=$(mktemp -d /dev/shm/sluice-cache-bench.XXXXXX)
  NGX_CACHE_FS="tmpfs (/dev/shm)"
else
  NGX_CACHE_ROOT="$tmp/nginx-cache"
  mkdir -p "$NGX_CACHE_ROOT"
  NGX_CACHE_FS="$(stat -f -c %T "$tmp") ($tmp)"
fi
chmod 755 "$NGX_CACHE_ROOT"

bench_cleanup_hook() {  # the nginx cache on /dev/shm is not under $tmp
  [[ -n ${NGX_CACHE_ROOT:-} && $NGX_CACHE_ROOT == /dev/shm/sluice-cache-bench.* ]] && rm -rf "$NGX_CACHE_ROOT"
}

# Overall time bound: phase 1 has up to 4 targets x 2 paths, phase 2 up to 5 runs.
BENCH_TIMEOUT=${BENCH_TIMEOUT:-$((300 + 8 * ROUNDS * (WARMUP + DURATION + 25) + 5 * (ZIPF_MAX_SECONDS + 60)))}
start_watchdog "$BENCH_TIMEOUT"
log "time budget: $BENCH_TIMEOUT s"

# stop_pids SIGNAL PID...: signal, wait (bounded) until all are gone, then SIGKILL; forget them.
stop_pids() {
  local sig=$1 pid keep=()
  shift
  signal_wait "$sig" 150 "$@"
  for pid in "$@"; do
    if alive "$pid"; then log "pid $pid did not exit on SIG$sig; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    [[ " $* " == *" $pid "* ]] || keep+=("$pid")
  done
  PIDS=("${keep[@]}")
}

free_ports 5
ORIGIN_PORT=${PORTS[0]} SLUICE_PORT=${PORTS[1]} SLUICE_ADMIN=${PORTS[2]} VARNISH_PORT=${PORTS[3]} NGINX_PORT=${PORTS[4]}
ORIGIN="http://127.0.0.1:$ORIGIN_PORT"

# ---------------------------------------------------------------- content
mkdir -p "$tmp/www/z" "$tmp/origin" "$OUT"
head -c 1024 /dev/urandom >"$tmp/www/1k"
head -c 65536 /dev/urandom >"$tmp/www/64k"
log "writing $ZIPF_OBJECTS objects of $ZIPF_OBJECT_SIZE bytes"
python3 - "$tmp/www/z" "$ZIPF_OBJECTS" "$ZIPF_OBJECT_SIZE" <<'PY'
import os, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    with open(os.path.join(d, "%05d" % i), "wb") as f:
        f.write(os.urandom(size))
PY
chmod -R a+rX "$tmp/www"

origin_conf "max=$((ZIPF_OBJECTS + 1000)) inactive=300s" '    etag on;
    location / { add_header Cache-Control "max-age=3600"; }
    location = /__origin_status { stub_status; }'

# origin_requests: stub_status's request count (it includes the status request itself).
# fetches_between A B: the requests the origin got between two readings, less the second one.
origin_requests() {
  local n
  n=$(curl -fsS --max-time 5 "$ORIGIN/__origin_status" | awk 'NR == 3 { print $3 }') || die "origin stub_status failed"
  [[ $n =~ ^[0-9]+$ ]] || die "could not read the origin's stub_status"
  echo "$n"
}
fetches_between() { echo $(($2 - $1 - 1)); }

# ---------------------------------------------------------------- proxy configs and lifecycles
sluice_conf() {  # sluice_conf FILE MEMORY_SIZE EVICTION
  cat >"$1" <<EOF
event_loops: 1
listeners: [{address: 127.0.0.1, port: $SLUICE_PORT}]
admin: {address: 127.0.0.1, port: $SLUICE_ADMIN}
access_log: {enabled: false}
reload: {watch: false}
limits: {max_connections: 20000, max_requests_per_connection: 0}
timeouts: {client_idle: 300s, drain: 2s}
clusters: [{name: origin, backends: ["127.0.0.1:$ORIGIN_PORT"], pool: {max_idle: 64}}]
routes: [{name: all, cluster: origin, cache: {}}]
cache: {memory_size: $2, max_object_size: 1MiB, eviction: $3}
EOF
  "$SLUICE_BIN" check -c "$1" >"$1.check" 2>&1 || { cat "$1.check" >&2; die "sluice check rejected $1"; }
}

nginx_proxy_conf() {  # nginx_proxy_conf DIR MAX_SIZE_BYTES LOG(0|1) KEYS_ZONE
  local logline="access_log off;"
  (($3)) && logline="log_format cs '\$upstream_cache_status \$uri';
  access_log $1/access.log cs buffer=256k flush=1s;"
  mkdir -p "$1"
  {
    nginx_main "$1"
    cat <<EOF
http {
  $logline
$(nginx_temp_paths "$1")
  # sendfile on, tcp_nopush off: with tcp_nopush on, /64k cache hits stalled ~40 ms each here
  # (about 1.3k req/s against about 9k without it).
  sendfile on;
  tcp_nodelay on;
$(nginx_upstream_origin)
  proxy_cache_path $NGX_CACHE_ROOT/$(basename "$1") levels=1:2 keys_zone=bench:$4 max_size=$2 inactive=1h use_temp_path=off;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / {
$(nginx_proxy_pass)
      proxy_cache bench;
      add_header X-Cache-Status \$upstream_cache_status always;
    }
  }
}
EOF
  } >"$1/nginx.conf"
}

# Each start_* sets PROXY_URL, PROXY_PIDS (all processes to stop) and PROXY_SETTING.
start_sluice() {  # start_sluice TAG MEMORY_SIZE EVICTION
  sluice_conf "$tmp/$1.yaml" "$2" "$3"
  log "starting sluice ($1: memory_size $2, eviction $3) on 127.0.0.1:$SLUICE_PORT (cpu $PROXY_CPU)"
  start_bg "$1" "$PROXY_CPU" "$SLUICE_BIN" run -c "$tmp/$1.yaml"
  PROXY_PIDS=("$LAST_PID")
  PROXY_URL="http://127.0.0.1:$SLUICE_PORT"
  PROXY_SETTING="memory_size: $2, eviction: $3"
  wait_http sluice "$PROXY_URL/1k" "$LAST_PID"
}

start_varnish() {  # start_varnish TAG MALLOC_SIZE
  local dir="$tmp/$1" child
  mkdir -p "$dir"
  cat >"$dir/default.vcl" <<EOF
vcl 4.1;
backend origin { .host = "127.0.0.1"; .port = "$ORIGIN_PORT"; }
EOF
  log "starting varnish ($1: -s malloc,$2) on 127.0.0.1:$VARNISH_PORT (cpu $PROXY_CPU)"
  # -F: manager in the foreground ($! is it); -j none: no jail user, all files in $dir.
  start_bg "$1" "$PROXY_CPU" varnishd -F -j none -n "$dir/n" -a "127.0.0.1:$VARNISH_PORT" -T none \
    -f "$dir/default.vcl" -s "malloc,$2"
  PROXY_PIDS=("$LAST_PID")
  PROXY_URL="http://127.0.0.1:$VARNISH_PORT"
  PROXY_SETTING="-s malloc,$2"
  VARNISH_N="$dir/n"
  wait_http varnish "$PROXY_URL/1k" "$LAST_PID"
  child=$(child_of "$LAST_PID")
  PIDS+=("$child")
  PROXY_PIDS+=("$child")
}

start_nginx() {  # start_nginx TAG MAX_SIZE_BYTES LOG(0|1) KEYS_ZONE
  local dir="$tmp/$1" w
  nginx_proxy_conf "$dir" "$2" "$3" "$4"
  log "starting nginx proxy_cache ($1: max_size=$2, keys_zone=$4) on 127.0.0.1:$NGINX_PORT (cpu $PROXY_CPU)"
  start_bg "$1" "$PROXY_CPU" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
  PROXY_PIDS=("$LAST_PID")
  PROXY_URL="http://127.0.0.1:$NGINX_PORT"
  PROXY_SETTING="max_size=$2, keys_zone=$4, $NGX_CACHE_FS"
  NGINX_CACHE_DIR="$NGX_CACHE_ROOT/$1"
  wait_http nginx "$PROXY_URL/1k" "$LAST_PID"
  # The worker, cache manager and cache loader are children of the master.
  for w in $(pgrep -P "$LAST_PID"); do PIDS+=("$w"); PROXY_PIDS+=("$w"); done
}

stop_proxy() {  # stop_proxy [SIGNAL]: the master/manager first, then stragglers
  stop_pids "${1:-TERM}" "${PROXY_PIDS[0]}"
  ((${#PROXY_PIDS[@]} > 1)) && stop_pids TERM "${PROXY_PIDS[@]:1}"
  PROXY_PIDS=()
}

# verify_hit KIND URL SIZE: fetch until the cache answers with a hit (at most 5 tries), with
# the body size expected. Prints the header that showed the hit.
verify_hit() {
  local kind=$1 url=$2 size=$3 i hdr got line
  hdr="$tmp/verify.hdr"
  for ((i = 0; i < 5; i++)); do
    got=$(curl -fsS -D "$hdr" -o /dev/null --max-time 5 -w '%{size_download}' "$url") || die "$kind: GET $url failed"
    [[ $got == "$size" ]] || die "$kind: GET $url returned $got bytes, expected $size"
    case $kind in
      sluice)
        line=$(grep -i '^cache-status:' "$hdr" | tr -d '\r' || true)
        [[ ${line#*: } == "Sluice; hit"* ]] && { echo "$line"; return 0; } ;;
      varnish)
        line=$(grep -i '^x-varnish:' "$hdr" | tr -d '\r' || true)
        if [[ ${line#*: } =~ ^[0-9]+\ [0-9]+$ ]] && grep -qi '^age:' "$hdr"; then
          echo "$line, $(grep -i '^age:' "$hdr" | tr -d '\r')"; return 0
        fi ;;
      nginx)
        line=$(grep -i '^x-cache-status:' "$hdr" | tr -d '\r' || true)
        [[ ${line#*: } == HIT ]] && { echo "$line"; return 0; } ;;
    esac
    sleep 0.2
  done
  die "$kind did not answer $url from cache after 5 tries (last headers: $(tr -d '\r' <"$hdr" | tr '\n' '|'))"
}

# load_run OUTFILE SECONDS CMD...: CMD on the load core, bounded by timeout, in the background
# and waited for, so that the watchdog's TERM is handled at once rather than after CMD ends.
load_run() {
  local out=$1 secs=$2 p rc=0 keep=() q
  shift 2
  timeout "$secs" taskset -c "$LOAD_CPU" "$@" >"$out" 2>&1 </dev/null &
  p=$!
  PIDS+=("$p")
  wait "$p" || rc=$?
  for q in "${PIDS[@]}"; do [[ $q == "$p" ]] || keep+=("$q"); done
  PIDS=("${keep[@]}")
  return "$rc"
}

# ---------------------------------------------------------------- phase 1: hot hits
declare -A RPS P50 P99 ERRS FETCH HITHDR ROUND_RPS ROUND_P50 ROUND_P99
TARGETS=()
WARNINGS=()

run_load() {  # run_load TARGET PATH URL COUNT_FETCHES(0|1) [ROUND]
  local target=$1 path=$2 url=$3 round=${5:-1} f res rps p50 p99 errs before after
  f="$OUT/cache-wrk-hot-${target//[^a-zA-Z0-9]/_}-${path#/}-$round.txt"
  log "hot: $target $path, round $round (${WARMUP}s warm-up + ${DURATION}s)"
  if ((WARMUP > 0)); then
    load_run /dev/null $((WARMUP + 30)) wrk -t1 -c"$WRK_CONNS" -d"${WARMUP}s" "$url" \
      || die "wrk warm-up failed for $target $path"
  fi
  (($4)) && before=$(origin_requests)
  load_run "$f" $((DURATION + 30)) wrk -t1 -c"$WRK_CONNS" -d"${DURATION}s" --latency "$url" \
    || die "wrk failed for $target $path"
  if (($4)); then
    after=$(fetches_between "$before" "$(origin_requests)")
    FETCH[$target,$path]=$(( ${FETCH[$target,$path]:-0} + after ))
    ((after == 0)) || WARNINGS+=("$target $path: the origin got $after requests during round $round")
  else
    FETCH[$target,$path]="-"
  fi
  res=$(python3 "$HERE/parse_wrk.py" "$f") || die "could not parse $f"
  read -r rps p50 p99 errs <<<"$res"
  ROUND_RPS[$target,$path]+="$rps " ROUND_P50[$target,$path]+="$p50 " ROUND_P99[$target,$path]+="$p99 "
  ((errs == 0)) || WARNINGS+=("$target $path: $errs socket errors / non-2xx responses (see $f)")
}

hot_start() {  # hot_start TARGET KIND: the proxy just started; note how to reach it, check that it hits
  local target=$1 kind=$2 p size
  TARGETS+=("$target")
  HOT_URL[$target]=$PROXY_URL HOT_PIDS[$target]="${PROXY_PIDS[*]}"
  for p in /1k /64k; do
    size=$([[ $p == /1k ]] && echo 1024 || echo 65536)
    HITHDR[$target,$p]=$(verify_hit "$kind" "$PROXY_URL$p" "$size")
    log "  $target $p from cache: ${HITHDR[$target,$p]}"
  done
}

start_origin
curl -fsS -D - -o /dev/null "$ORIGIN/1k" | grep -qi '^cache-control: max-age=3600' || die "origin sends no Cache-Control"
curl -fsS -D - -o /dev/null "$ORIGIN/1k" | grep -qi '^etag:' || die "origin sends no ETag"
TARGETS+=("origin (direct)")
for ((round = 1; round <= ROUNDS; round++)); do
  run_load "origin (direct)" /1k "$ORIGIN/1k" 0 "$round"
  run_load "origin (direct)" /64k "$ORIGIN/64k" 0 "$round"
done

move_origin

# All three run at once (each idle on the proxy core while another is measured), and the
# rounds take them in turn, so that a drift of this VM's speed falls on all of them alike.
declare -A HOT_URL HOT_PIDS
start_sluice sluice-hot "$HOT_CACHE" s3fifo
hot_start sluice sluice
if ((USE_VARNISH)); then
  start_varnish varnish-hot "$((HOT_CACHE_BYTES / 1024))k"
  hot_start varnish varnish
fi
start_nginx nginx-hot "$HOT_CACHE_BYTES" 0 10m
hot_start "nginx proxy_cache" nginx
for ((round = 1; round <= ROUNDS; round++)); do
  for t in "${TARGETS[@]:1}"; do
    for p in /1k /64k; do run_load "$t" "$p" "${HOT_URL[$t]}$p" 1 "$round"; done
  done
done
for t in "${TARGETS[@]:1}"; do
  read -r -a PROXY_PIDS <<<"${HOT_PIDS[$t]}"
  stop_proxy
done
settle_medians

# ---------------------------------------------------------------- phase 2: Zipf hit ratio
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "n/a" }'; }
offload() { awk -v f="$1" -v r="$2" 'BEGIN { if (r > 0) printf "%.1f%%", 100 * (1 - f / r); else print "n/a" }'; }
declare -A Z_REQS Z_SECS Z_RPS Z_P99 Z_HIT Z_MISS Z_EXTRA Z_FETCH Z_OBJS Z_BYTES Z_SETTING
ZRUNS=()

metric() {  # metric NAME_WITH_LABELS: one value from Sluice's /metrics
  local text
  text=$(curl -fsS --max-time 5 "http://127.0.0.1:$SLUICE_ADMIN/metrics") || die "GET /metrics on the sluice admin listener failed"
  awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) exit 1 }' <<<"$text" || die "no $1 in sluice /metrics"
}
vstat() {  # vstat FIELD: one counter from varnishstat
  local text
  text=$(varnishstat -n "$VARNISH_N" -1 -f "$1" 2>&1) || die "varnishstat -f $1 failed: $text"
  awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) exit 1 }' <<<"$text" || die "no $1 in varnishstat"
}

# zipf_wrk RUN: the Zipf load against PROXY_URL; fills Z_REQS/Z_SECS/Z_RPS/Z_P99.
zipf_wrk() {
  local run=$1 f res rps p50 p99 errs line reqs
  f="$OUT/cache-wrk-zipf-${run//[^a-zA-Z0-9]/_}.txt"
  log "zipf: $run ($ZIPF_REQUESTS requests, at most ${ZIPF_MAX_SECONDS}s)"
  ZIPF_OBJECTS=$ZIPF_OBJECTS ZIPF_S=$ZIPF_S ZIPF_SEED=$ZIPF_SEED ZIPF_REQUESTS=$ZIPF_REQUESTS ZIPF_PREFIX=/z/ \
    load_run "$f" $((ZIPF_MAX_SECONDS + 60)) \
    wrk -t1 -c"$WRK_CONNS" -d"${ZIPF_MAX_SECONDS}s" --latency -s "$HERE/zipf.lua" "$PROXY_URL/" \
    || die "wrk (zipf) failed for $run (see $f)"
  res=$(python3 "$HERE/parse_wrk.py" "$f") || die "could not parse $f"
  read -r rps p50 p99 errs <<<"$res"
  line=$(grep -E '^ *[0-9]+ requests in ' "$f") || die "no request count in $f"
  reqs=$(awk '{ print $1 }' <<<"$line")
  Z_REQS[$run]=$reqs
  Z_SECS[$run]=$(awk '{ print $4 }' <<<"$line" | tr -d ',')
  Z_RPS[$run]=$rps Z_P99[$run]=$p99
  ((errs == 0)) || WARNINGS+=("zipf $run: $errs socket errors / non-2xx responses (see $f)")
  if ((reqs < ZIPF_REQUESTS - 2 * WRK_CONNS)); then
    WARNINGS+=("zipf $run: only $reqs of $ZIPF_REQUESTS requests finished within ${ZIPF_MAX_SECONDS}s")
  fi
}

zipf_sluice() {  # zipf_sluice RUN EVICTION
  local run=$1 h0 m0 c0 o0 o1
  start_sluice "sluice-zipf-$2" "$CACHE_BYTES" "$2"
  Z_SETTING[$run]="memory_size: $CACHE_BYTES, max_object_size: 1MiB, eviction: $2"
  h0=$(metric 'sluice_cache_requests_total{result="hit"}') m0=$(metric 'sluice_cache_requests_total{result="miss"}')
  c0=$(metric 'sluice_cache_requests_total{result="collapsed"}')
  o0=$(origin_requests)
  zipf_wrk "$run"
  o1=$(origin_requests)
  Z_FETCH[$run]=$(fetches_between "$o0" "$o1")
  Z_HIT[$run]=$(($(metric 'sluice_cache_requests_total{result="hit"}') - h0))
  Z_MISS[$run]=$(($(metric 'sluice_cache_requests_total{result="miss"}') - m0))
  Z_EXTRA[$run]="collapsed $(($(metric 'sluice_cache_requests_total{result="collapsed"}') - c0)), evictions $(metric sluice_cache_evictions_total)"
  Z_OBJS[$run]=$(metric sluice_cache_objects)
  Z_BYTES[$run]=$(metric sluice_cache_bytes)
  ZRUNS+=("$run")
  stop_proxy
}

zipf_varnish() {  # zipf_varnish RUN
  local run=$1 h0 m0 o0 o1
  start_varnish varnish-zipf "$((CACHE_BYTES / 1024))k"
  Z_SETTING[$run]="-s malloc,$((CACHE_BYTES / 1024))k (= $((CACHE_BYTES / 1024 * 1024)) bytes)"
  h0=$(vstat MAIN.cache_hit) m0=$(vstat MAIN.cache_miss)
  o0=$(origin_requests)
  zipf_wrk "$run"
  o1=$(origin_requests)
  Z_FETCH[$run]=$(fetches_between "$o0" "$o1")
  Z_HIT[$run]=$(($(vstat MAIN.cache_hit) - h0))
  Z_MISS[$run]=$(($(vstat MAIN.cache_miss) - m0))
  Z_EXTRA[$run]="lru_nuked $(vstat MAIN.n_lru_nuked), busy_sleep $(vstat MAIN.busy_sleep)"
  Z_OBJS[$run]=$(vstat MAIN.n_object)
  Z_BYTES[$run]=$(vstat SMA.s0.g_bytes)
  ZRUNS+=("$run")
  stop_proxy
}

zipf_nginx() {  # zipf_nginx RUN TAG KEYS_ZONE
  local run=$1 o0 o1 logf counts hits misses rest mean peak
  start_nginx "$2" "$CACHE_BYTES" 1 "$3"
  Z_SETTING[$run]="max_size=$CACHE_BYTES, keys_zone=bench:$3, on $NGX_CACHE_FS"
  logf="$tmp/$2/access.log"
  # On tmpfs, sample the file system's used blocks twice a second: how far the cache runs
  # over max_size between the cache manager's passes.
  local sampler="" samples="$tmp/$2/tmpfs.samples"
  NGX_HELD=""
  if [[ $NGX_CACHE_FS == tmpfs* ]]; then
    stat -f -c '%b %f %S' "$NGX_CACHE_ROOT" >"$samples.base"
    (while :; do stat -f -c '%b %f %S' "$NGX_CACHE_ROOT"; sleep 0.5; done) >"$samples" 2>/dev/null &
    sampler=$!
    PIDS+=("$sampler")
  fi
  o0=$(origin_requests)
  zipf_wrk "$run"
  o1=$(origin_requests)
  Z_FETCH[$run]=$(fetches_between "$o0" "$o1")
  if [[ -n $sampler ]]; then
    stop_pids TERM "$sampler"
    NGX_HELD=$(awk 'NR == FNR { base = ($1 - $2) * $3; next }
                    { u = ($1 - $2) * $3 - base; s += u; n++; if (u > p) p = u }
                    END { if (n) printf "%d %d", s / n, p }' "$samples.base" "$samples")
  fi
  stop_proxy QUIT   # graceful: the buffered access log is written out
  # What the cache held when the load stopped (counted once nginx, and so its cache manager,
  # are gone: files vanish under a find that runs while the manager deletes).
  Z_OBJS[$run]=$(find "$NGINX_CACHE_DIR" -type f 2>/dev/null | wc -l || true)
  Z_BYTES[$run]=$({ find "$NGINX_CACHE_DIR" -type f -printf '%s %b\n' 2>/dev/null || true; } \
    | awk '{ s += $1; b += $2 * 512 } END { printf "%d (%d in blocks)", s, b }')
  [[ -s $logf ]] || die "nginx wrote no access log"
  counts=$(awk '$2 ~ /^\/z\// { n[$1]++ } END { printf "%d %d", n["HIT"], n["MISS"]; for (k in n) if (k != "HIT" && k != "MISS") printf " %s=%d", k, n[k] }' "$logf")
  read -r hits misses rest <<<"$counts"
  Z_HIT[$run]=$hits Z_MISS[$run]=$misses
  Z_EXTRA[$run]=${rest:-"-"}
  if [[ -n ${NGX_HELD:-} ]]; then
    read -r mean peak <<<"$NGX_HELD"
    Z_EXTRA[$run]="tmpfs used during the run: mean $mean B, peak $peak B ($(ratio "$peak" "$CACHE_BYTES") max_size)"
  fi
  ZRUNS+=("$run")
}

zipf_sluice "sluice s3fifo" s3fifo
zipf_sluice "sluice lru" lru
((USE_VARNISH)) && zipf_varnish "varnish"
zipf_nginx "nginx max_size" nginx-zipf 10m
# The same max_size, but a keys_zone that holds about as many keys as the cache bytes hold
# objects (~128 B per key in nginx's slab, plus room for the zone's own structures): when the
# zone is full, nginx evicts its least recently used entry at once, in the worker, so this
# bounds the object count on every store, where max_size is only enforced every few seconds.
NGX_KEYS=$((CACHE_BYTES / ZIPF_OBJECT_SIZE))
NGX_KZ="$(((NGX_KEYS * 128 + 16384 + 1023) / 1024))k"
((NGX_KEYS * 128 + 16384 >= 65536)) || NGX_KZ=64k
zipf_nginx "nginx keys_zone" nginx-zipf-kz "$NGX_KZ"

# ---------------------------------------------------------------- report

report() {
  local t p r other h m
  echo "## Sluice cache benchmark"
  echo
  report_host
  echo "- proxy under test alone on cpu $PROXY_CPU; origin nginx + wrk on cpu $LOAD_CPU; all on 127.0.0.1"
  echo "- sluice: $SLUICE_BIN (built $(date -u -r "$SLUICE_BIN" +%Y-%m-%dT%H:%M:%SZ); repo HEAD $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo n/a) at $(git -C "$REPO" log -1 --format=%cI 2>/dev/null || echo n/a)), event_loops 1"
  if ((USE_VARNISH)); then
    echo "- $(varnishd -V 2>&1 | head -n 1), malloc storage, default VCL (builtin), default thread pools"
  else
    echo "- varnish: $VARNISH_NOTE"
  fi
  echo "- $(nginx -v 2>&1), 1 worker; proxy_cache_path on $NGX_CACHE_FS"
  echo "- origin: nginx static files, Cache-Control: max-age=3600, ETag"
  echo
  echo "### 1. Hot hits (wrk -t1 -c$WRK_CONNS -d${DURATION}s --latency after ${WARMUP}s warm-up)"
  echo
  echo "| target | path | req/s | p50 ms | p99 ms | origin fetches during run |"
  echo "|---|---|---:|---:|---:|---:|"
  for t in "${TARGETS[@]}"; do
    for p in /1k /64k; do
      echo "| $t | $p | ${RPS[$t,$p]} | ${P50[$t,$p]} | ${P99[$t,$p]} | ${FETCH[$t,$p]} |"
    done
  done
  echo
  report_rounds
  echo
  for r in "varnish:Varnish" "nginx proxy_cache:nginx" "origin (direct):origin"; do
    other=${r%%:*}
    [[ -n ${RPS[$other,/1k]:-} ]] || continue
    report_sluice_vs "$other" "${r#*:}"
  done
  echo
  echo "Hit checks before each load:"
  for t in "${TARGETS[@]}"; do
    [[ -n ${HITHDR[$t,/1k]:-} ]] || continue
    echo "- $t: /1k \`${HITHDR[$t,/1k]}\`, /64k \`${HITHDR[$t,/64k]}\`"
  done
  echo
  echo "### 2. Hit ratio: Zipf($ZIPF_S) over $ZIPF_OBJECTS objects of $ZIPF_OBJECT_SIZE B, cache = $CACHE_PERCENT% of their bytes ($CACHE_BYTES B)"
  echo
  echo "wrk -t1 -c$WRK_CONNS -s zipf.lua, $ZIPF_REQUESTS requests (seed $ZIPF_SEED) from a cold cache."
  echo
  echo "| proxy | req/s | p99 ms | requests | hits | misses | hit ratio (own counters) | origin fetches | offload (1 - fetches/requests) | objects held at end | bytes held at end | other counters |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for r in "${ZRUNS[@]}"; do
    h=${Z_HIT[$r]} m=${Z_MISS[$r]}
    echo "| $r | ${Z_RPS[$r]} | ${Z_P99[$r]} | ${Z_REQS[$r]} | $h | $m | $(pct "$h" $((h + m))) | ${Z_FETCH[$r]} | $(offload "${Z_FETCH[$r]}" "${Z_REQS[$r]}") | ${Z_OBJS[$r]} | ${Z_BYTES[$r]} | ${Z_EXTRA[$r]} |"
  done
  echo
  echo "Settings:"
  for r in "${ZRUNS[@]}"; do echo "- $r: \`${Z_SETTING[$r]}\`"; done
  echo
  for r in "sluice lru" "varnish" "nginx max_size" "nginx keys_zone"; do
    [[ -n ${Z_REQS[$r]:-} ]] || continue
    echo "- sluice s3fifo vs $r: offload $(offload "${Z_FETCH[sluice s3fifo]}" "${Z_REQS[sluice s3fifo]}") vs $(offload "${Z_FETCH[$r]}" "${Z_REQS[$r]}"), origin fetches $(ratio "${Z_FETCH[sluice s3fifo]}" "${Z_FETCH[$r]}") (lower is better), req/s $(ratio "${Z_RPS[sluice s3fifo]}" "${Z_RPS[$r]}")"
  done
  echo
  echo "What each size bounds:"
  echo "- Sluice memory_size: body bytes + header fields (stored, sent, encoded head) + key + URI + 256 B per object (Sluice's own accounting), enforced on every store."
  echo "- Varnish -s malloc: the storage its malloc stevedore hands out (object headers + body); objcore/objhead bookkeeping and jemalloc rounding are outside it, and so is Transient storage (unbounded by default). SMA.s0.g_bytes is the figure it counts against the limit."
  echo "- nginx max_size: the cache files' size in whole file-system blocks (a 4 KiB body plus nginx's cache header takes two 4 KiB blocks). The cache manager process enforces it: it wakes at most every 10 s and, while over the limit, removes at most 100 files per pass (manager_files) with 50 ms pauses between passes (manager_sleep). Under a steady miss rate the cache therefore runs far over max_size, as the tmpfs samples show. keys_zone is the shared-memory index of keys and is not counted."
  echo "- nginx keys_zone row: the same max_size, but with a keys_zone of $NGX_KZ, about $NGX_KEYS keys. When the zone is full, the worker evicts the least recently used entry on the spot, so this row bounds the object count on every store. This is the nginx row to set beside the byte-bounded caches."
  echo "- nginx keeps proxy_cache_lock off (the default): concurrent misses for one key all go to the origin. Sluice and Varnish collapse them."
  report_warnings
}

report | tee "$OUT/cache-results.md"
log "results written to $OUT/cache-results.md"
