# shellcheck shell=bash
# Helpers shared by the benchmark scripts (run.sh, cache.sh, ratelimit.sh). Sourced, never run:
#
#   HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
#   source "$HERE/lib.sh"
#   bench_init TAG          # log prefix "[TAG]"; sets REPO and OUT, adds /usr/sbin:/sbin to PATH
#   ...
#   bench_tmp PREFIX        # $tmp, PIDS, the cleanup trap
#   start_watchdog SECONDS  # the overall time bound
#
# This file only defines functions: the caller's shell options (set -euo pipefail) apply to
# them, and all state (the temp dir, the traps, the watchdog) is made by the calls above.
# Uses from the caller: HERE; LOAD_CPU, PROXY_CPU (check_cpus, move_origin);
# ORIGIN_PORT (start_origin); KEEP_TMP (cleanup); an optional function bench_cleanup_hook
# that cleanup calls once the processes are gone.

# ---------------------------------------------------------------- setup and logging
bench_init() {  # bench_init TAG
  BENCH_TAG=$1
  REPO=$(cd "$HERE/.." && pwd)
  OUT="$HERE/out"
  mkdir -p "$OUT"  # reports land here; a fresh clone has no bench/out yet
  export PATH="$PATH:/usr/sbin:/sbin"
}

log() { printf '[%s] %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "${BENCH_TAG:-bench}" "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

require_uints() {  # require_uints VAR...: each must hold a non-negative integer
  local v
  for v in "$@"; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
  done
}

require_cmds() {  # require_cmds CMD...
  local t
  for t in "$@"; do have "$t" || die "$t is required"; done
}

# ---------------------------------------------------------------- packages
# missing_cmds CMD...: MISSING = the CMDs not on PATH (each one's Debian package has its name).
missing_cmds() {
  local c
  MISSING=()
  for c in "$@"; do have "$c" || MISSING+=("$c"); done
}

apt_get_install() {  # apt_get_install PKG...: quiet; returns apt-get's status
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

# apt_install_required [PKG...]: apt-get update, then install the PKGs or die (needs root).
apt_install_required() {
  export DEBIAN_FRONTEND=noninteractive
  log "apt-get update"
  apt-get update -qq || log "apt-get update failed; trying install anyway"
  if (($#)); then
    log "installing $*"
    apt_get_install "$@" || die "apt-get install $* failed"
  fi
}

require_nginx_wrk() { have nginx && have wrk || die "nginx/wrk still missing after install"; }

# ---------------------------------------------------------------- machine
check_cpus() {  # LOAD_CPU and PROXY_CPU must both be usable for pinning
  taskset -c "$LOAD_CPU" true 2>/dev/null && taskset -c "$PROXY_CPU" true 2>/dev/null \
    || die "cannot pin to CPUs $LOAD_CPU and $PROXY_CPU (need >= 2 CPUs; set LOAD_CPU/PROXY_CPU)"
}

# raise_nofile: open-files limit to 65536, or (returning 1) to the hard limit when it cannot
# go that high (no CAP_SYS_RESOURCE).
raise_nofile() {
  ulimit -n 65536 2>/dev/null && return 0
  ulimit -n "$(ulimit -Hn)"
  return 1
}

check_load() {  # sets LOADAVG_START; warns when the machine is busy
  LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
  if awk -v l="${LOADAVG_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
    log "WARNING: machine is busy (loadavg $LOADAVG_START); numbers will be noisy"
  fi
}

# sluice_bin [SCRATCH]: SLUICE_BIN if set, else build sluice (release) into $REPO/SCRATCH,
# or into the default .build without SCRATCH; dies unless the result is executable.
sluice_bin() {
  if [[ -z ${SLUICE_BIN:-} ]]; then
    if (($#)); then
      log "building sluice (release) into $REPO/$1"
      (cd "$REPO" && swift build -c release --product sluice --scratch-path "$REPO/$1") || die "swift build failed"
      SLUICE_BIN="$REPO/$1/release/sluice"
    else
      log "building sluice (release)"
      (cd "$REPO" && swift build -c release --product sluice) || die "swift build failed"
      SLUICE_BIN="$REPO/.build/release/sluice"
    fi
  fi
  [[ -x $SLUICE_BIN ]] || die "SLUICE_BIN '$SLUICE_BIN' is not an executable"
}

free_ports() {  # free_ports N: PORTS = N free TCP ports on 127.0.0.1
  mapfile -t PORTS < <(python3 "$HERE/freeport.py" "$1")
  ((${#PORTS[@]} == $1)) || die "freeport.py failed"
}

# ---------------------------------------------------------------- process bookkeeping
# bench_tmp PREFIX: tmp = a new /tmp/PREFIX.XXXXXX; PIDS (every process to kill on exit) and
# WATCHDOG_PID empty; cleanup runs on exit, INT and TERM.
bench_tmp() {
  tmp=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$tmp"   # nginx workers may run as an unprivileged user
  PIDS=()
  WATCHDOG_PID=""
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

alive() {  # alive PID: running and not a zombie
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $s != Z* ]]
}

# signal_wait SIGNAL TRIES PID...: send SIGNAL to each PID, then wait (at most TRIES x 0.1 s)
# until none of them is alive.
signal_wait() {
  local sig=$1 tries=$2 pid i any
  shift 2
  for pid in "$@"; do kill "-$sig" "$pid" 2>/dev/null || true; done
  for ((i = 0; i < tries; i++)); do
    any=0
    for pid in "$@"; do alive "$pid" && any=1; done
    ((any)) || break
    sleep 0.1
  done
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  [[ -n $WATCHDOG_PID ]] && kill "$WATCHDOG_PID" 2>/dev/null || true
  signal_wait TERM 50 "${PIDS[@]}"
  for pid in "${PIDS[@]}"; do alive "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if declare -F bench_cleanup_hook >/dev/null; then bench_cleanup_hook || true; fi
  if ((rc != 0)); then
    local f
    for f in "$tmp"/*.out "$tmp"/*/error.log "$tmp"/idle-*.err; do
      [[ -s $f ]] || continue
      printf '[%s] --- last lines of %s\n' "$BENCH_TAG" "$f" >&2
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

# start_watchdog SECONDS: TERM this script once SECONDS have passed (cleanup stops the watchdog).
start_watchdog() {
  bash -c 'sleep "$1" & s=$!; trap "kill $s 2>/dev/null; wait $s; exit 0" TERM; wait $s
           echo "[$3] ERROR: time budget of $1 s exceeded, aborting" >&2; kill -TERM "$2"' \
    _ "$1" $$ "$BENCH_TAG" &
  WATCHDOG_PID=$!
}

# start_bg NAME CPU CMD...: run CMD pinned to CPU in the background, output in $tmp/NAME.out;
# sets LAST_PID. taskset execs CMD, so $! is the server process itself.
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
    alive "$pid" || die "$name (pid $pid) exited during startup (see $tmp/*.out)"
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  die "$name did not answer at $url within ~30s"
}

child_of() {  # child_of PID -> its first child (nginx worker, varnish cache process)
  local c i
  for ((i = 0; i < 50; i++)); do
    c=$(pgrep -P "$1" | head -n 1 || true)
    [[ -n $c ]] && { echo "$c"; return 0; }
    sleep 0.1
  done
  die "no child process under $1"
}

# ---------------------------------------------------------------- nginx
nginx_main() {  # nginx_main DIR: main context, events and temp paths inside DIR
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

nginx_temp_paths() {  # nginx_temp_paths DIR: http-context temp paths inside DIR
  local p
  for p in client_body proxy fastcgi uwsgi scgi; do echo "  ${p}_temp_path $1/${p}_temp;"; done
}

# origin_conf OPEN_FILE_CACHE SERVER_LINES: $tmp/origin/nginx.conf, the origin nginx serving
# $tmp/www on ORIGIN_PORT; SERVER_LINES (its locations) go in the server block after root.
origin_conf() {
  {
    nginx_main "$tmp/origin"
    cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$tmp/origin")
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  open_file_cache $1;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
    root $tmp/www;
$2
  }
}
EOF
  } >"$tmp/origin/nginx.conf"
}

# nginx_upstream_origin: http-context lines of a proxy nginx: client keep-alive and the
# "origin" upstream (ORIGIN_PORT) with idle connections kept.
nginx_upstream_origin() {
  cat <<EOF
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
EOF
}

nginx_proxy_pass() {  # location lines: to the "origin" upstream over kept-alive HTTP/1.1
  cat <<'EOF'
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
EOF
}

# start_origin: the origin nginx ($tmp/origin/nginx.conf, on ORIGIN_PORT) started on PROXY_CPU,
# for the direct baseline; sets ORIGIN_PID and ORIGIN_WORKER (both in PIDS).
start_origin() {
  log "starting origin nginx on 127.0.0.1:$ORIGIN_PORT (cpu $PROXY_CPU for the baseline)"
  start_bg origin "$PROXY_CPU" nginx -p "$tmp/origin" -e "$tmp/origin/error.log" -c "$tmp/origin/nginx.conf"
  ORIGIN_PID=$LAST_PID
  wait_http origin "http://127.0.0.1:$ORIGIN_PORT/1k" "$ORIGIN_PID"
  ORIGIN_WORKER=$(child_of "$ORIGIN_PID")
  PIDS+=("$ORIGIN_WORKER")
}

move_origin() {  # the origin (master + worker, all threads) to LOAD_CPU
  taskset -a -p -c "$LOAD_CPU" "$ORIGIN_PID" >/dev/null
  taskset -a -p -c "$LOAD_CPU" "$ORIGIN_WORKER" >/dev/null
  log "origin moved to cpu $LOAD_CPU: $(taskset -c -p "$ORIGIN_WORKER")"
}

# ---------------------------------------------------------------- report
report_host() {  # the report's first bullet: when, where, and how busy the machine was
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), host: $(uname -r), cpus: $(nproc), loadavg at start: $LOADAVG_START"
}

report_warnings() {  # a blank line and one "- WARNING:" bullet per entry of WARNINGS, if any
  local w
  if ((${#WARNINGS[@]})); then
    echo
    for w in "${WARNINGS[@]}"; do echo "- WARNING: $w"; done
  fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

# report_sluice_vs TARGET LABEL: the "Sluice/LABEL" req/s and p99 ratios on /1k and /64k, from
# the caller's RPS and P99 (keyed "TARGET,PATH"; Sluice's rows are "sluice,PATH").
report_sluice_vs() {
  local p
  for p in /1k /64k; do
    echo "- Sluice/$2 $p: req/s $(ratio "${RPS[sluice,$p]}" "${RPS[$1,$p]}") (higher is better), p99 $(ratio "${P99[sluice,$p]}" "${P99[$1,$p]}") (lower is better)"
  done
}

# bench_median "V1 V2 ...": the median of the numbers (the mean of the middle two if even).
bench_median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# settle_medians: the caller's RPS, P50 and P99 ("TARGET,PATH") become the medians of its
# ROUND_RPS, ROUND_P50 and ROUND_P99 (space-separated, one value per round), for TARGETS.
settle_medians() {
  local t p
  for t in "${TARGETS[@]}"; do
    for p in /1k /64k; do
      RPS[$t,$p]=$(bench_median "${ROUND_RPS[$t,$p]}") P50[$t,$p]=$(bench_median "${ROUND_P50[$t,$p]}")
      P99[$t,$p]=$(bench_median "${ROUND_P99[$t,$p]}")
    done
  done
}

# report_rounds: one line per target and path with every round's req/s and p99.
report_rounds() {
  local t p
  echo "Each figure is the median of $ROUNDS rounds; the rounds (req/s, then p99 ms):"
  for t in "${TARGETS[@]}"; do
    for p in /1k /64k; do echo "- $t $p: ${ROUND_RPS[$t,$p]% }; ${ROUND_P99[$t,$p]% }"; done
  done
}
