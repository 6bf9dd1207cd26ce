#!/usr/bin/env bash
# TEST-ONLY stand-in for the sluice binary, to exercise run.sh without a build:
#   SLUICE_BIN=bench/stub_sluice.sh DURATION=3 CONNS=2000 bash bench/run.sh
# Accepts `run -c FILE.yaml`, reads the listener port and the first backend
# address from the YAML that run.sh generates, and execs a single-threaded
# haproxy in their place (so the PID stays the same, like a real sluice).
# Numbers in the "sluice" rows are then HAProxy's, NOT Sluice's.
set -euo pipefail
[[ ${1:-} == run && ${2:-} == -c && -n ${3:-} ]] || { echo "usage: $0 run -c FILE" >&2; exit 2; }
cfg=$3
port=$(sed -n 's/^ *port: *\([0-9]*\).*/\1/p' "$cfg" | head -n 1)
backend=$(sed -n 's/^ *- address: *\([0-9.]*:[0-9]*\).*/\1/p' "$cfg" | head -n 1)
[[ -n $port && -n $backend ]] || { echo "stub_sluice: cannot parse $cfg" >&2; exit 1; }
echo "stub_sluice: NOT SLUICE - haproxy on 127.0.0.1:$port -> $backend" >&2
hcfg="$(dirname "$cfg")/stub_sluice.haproxy.cfg"
cat >"$hcfg" <<CFG
global
    nbthread 1
    maxconn 20000
    no strict-limits
defaults
    mode http
    timeout connect 10s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
    http-reuse always
frontend fe
    bind 127.0.0.1:$port
    default_backend be
backend be
    server origin $backend
CFG
exec haproxy -db -f "$hcfg"
