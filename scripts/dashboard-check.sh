#!/usr/bin/env bash
# Checks the admin dashboard in a real headless browser (Debian's chromium).
#
#   bash scripts/dashboard-check.sh ADMIN_BASE_URL [TOKEN] [SCREENSHOT_PATH]
#   bash scripts/dashboard-check.sh http://127.0.0.1:9901 secret /tmp/dashboard.png
#
# Loads ADMIN_BASE_URL/dashboard#token=TOKEN and drives the browser over the DevTools
# protocol on a pipe (--remote-debugging-pipe: no port, no websocket, stdlib Python only).
# It watches the page in real time rather than with --virtual-time-budget, whose virtual
# clock does not wait for real network fetches. The page sets body[data-state] to
# loading / ok / error and body[data-polls] to its count of complete polls.
#   exit 0  the page reached "ok", went on polling (DASHBOARD_CHECK_POLLS complete polls,
#           default 4) and every key number (#req-rate, #p99, #requests-total,
#           #backends-healthy) is a number; prints a one-line summary.
#   exit 1  the page reported an error (its #error text is printed), shows no numbers,
#           shows NaN/undefined, threw a script error, or is still loading after
#           DASHBOARD_CHECK_TIMEOUT seconds (default 30, counted from the navigation).
#   exit 2  usage, or chromium could not be installed or started.
# A screenshot of the whole page is written in every case where the page loaded.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "usage: $0 ADMIN_BASE_URL [TOKEN] [SCREENSHOT_PATH]" >&2
  exit 2
fi
base=${1%/}
token=${2:-}
shot=${3:-/tmp/sluice-dashboard.png}

# Never write the screenshot into the repository: it would end up in a commit.
repo=$(cd "$(dirname "$0")/.." && pwd -P)
shot_dir=$(cd "$(dirname "$shot")" 2>/dev/null && pwd -P) || { echo "no such folder for the screenshot: $(dirname "$shot")" >&2; exit 2; }
case "$shot_dir/" in
  "$repo"/*) echo "refusing to write the screenshot inside the repository ($shot); use e.g. /tmp/sluice-dashboard.png" >&2; exit 2 ;;
esac
shot="$shot_dir/$(basename "$shot")"

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq chromium; } >/tmp/dashboard-check-apt.log 2>&1 || {
    tail -n 20 /tmp/dashboard-check-apt.log >&2
    echo "could not install chromium (log: /tmp/dashboard-check-apt.log)" >&2
    exit 2
  }
fi

exec python3 - "$base" "$token" "$shot" <<'PY'
import base64, fcntl, json, os, queue, re, shutil, signal, subprocess, sys, tempfile, threading, time
from urllib.parse import quote

base, token, shot = sys.argv[1], sys.argv[2], sys.argv[3]
DATA_TIMEOUT = float(os.environ.get("DASHBOARD_CHECK_TIMEOUT", "30"))
WANT_POLLS = int(os.environ.get("DASHBOARD_CHECK_POLLS", "4"))
CACHE_EXPECTED = os.environ.get("DASHBOARD_EXPECT_CACHE", "") == "1"
START_TIMEOUT = 60.0   # chromium's own start on a busy 2-core machine; not counted in DATA_TIMEOUT
url = base + "/dashboard" + ("#token=" + quote(token, safe="") if token else "")
shown = base + "/dashboard" + ("#token=***" if token else "")

def fail(msg, code=1):
    print("dashboard check FAILED: " + msg, file=sys.stderr)
    sys.exit(code)

profile = tempfile.mkdtemp(prefix="dashboard-check-")
log = open(os.path.join(profile, "chromium.log"), "w+")
to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()

def child_fds():
    # The protocol pipe is fd 3 (commands in) and fd 4 (answers out); move the ends out of
    # the way first so the two dup2 calls cannot clobber each other.
    a, b = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
    os.dup2(a, 3); os.dup2(b, 4)

chrome = subprocess.Popen(
    ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
     "--remote-debugging-pipe", "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check",
     "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--password-store=basic",
     # Keep the page's 2 s timers at full speed although no one is looking at it.
     "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
     "--disable-backgrounding-occluded-windows", "--window-size=1280,900", "about:blank"],
    stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(3, 4), preexec_fn=child_fds, start_new_session=True)
os.close(to_chrome_r); os.close(from_chrome_w)

def cleanup():
    try:
        os.killpg(chrome.pid, signal.SIGTERM)   # our own process group: chromium and its helpers only
        chrome.wait(5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try: os.killpg(chrome.pid, signal.SIGKILL)
        except ProcessLookupError: pass
    shutil.rmtree(profile, ignore_errors=True)

inbox, events = queue.Queue(), queue.Queue()
def reader():
    buf = b""
    while True:
        chunk = os.read(from_chrome_r, 1 << 16)
        if not chunk:
            inbox.put(None); return
        buf += chunk
        while b"\0" in buf:
            msg, buf = buf.split(b"\0", 1)
            m = json.loads(msg)
            (inbox if "id" in m else events).put(m)
threading.Thread(target=reader, daemon=True).start()

next_id = 0
def cdp(method, params=None, session=None, timeout=20.0):
    global next_id
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params or {}}
    if session: msg["sessionId"] = session
    os.write(to_chrome_w, json.dumps(msg).encode() + b"\0")
    deadline = time.monotonic() + timeout
    while True:
        try: m = inbox.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty: raise TimeoutError(method + ": no answer from chromium within %.0f s" % timeout)
        if m is None: raise RuntimeError("chromium exited (log tail: %s)" % log_tail())
        if m.get("id") == next_id:
            if "error" in m: raise RuntimeError(method + ": " + m["error"].get("message", str(m["error"])))
            return m.get("result", {})

def log_tail():
    log.flush(); log.seek(0)
    return " | ".join(l.strip() for l in log.read().splitlines()[-5:])

# Everything the check needs from the page, in one evaluation.
PROBE = r"""(() => {
  const t = (id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : null; };
  const err = document.getElementById('error');
  const nav = performance.getEntriesByType('navigation')[0];
  return JSON.stringify({
    ready: document.readyState, state: document.body ? document.body.dataset.state || null : null,
    polls: document.body ? Number(document.body.dataset.polls || 0) : 0,
    error: err && !err.hidden ? err.textContent.trim() : '',
    rate: t('req-rate'), p50: t('p50'), p90: t('p90'), p99: t('p99'), total: t('requests-total'), backends: t('backends-healthy'),
    cache: document.getElementById('cache-some') && !document.getElementById('cache-some').hidden ? t('cache-ratio') : null,
    text: document.body ? document.body.innerText : '',
    http: nav ? nav.responseStatus : null,
    resources: performance.getEntriesByType('resource').map((r) => [r.name.replace(location.origin, ''), r.responseStatus]),
  });
})()"""

def probe(session):
    r = cdp("Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, session)
    return json.loads(r["result"]["value"])

def screenshot(session):
    try:
        size = cdp("Page.getLayoutMetrics", {}, session)["cssContentSize"]
        height = int(min(max(size["height"], 600), 6000))
        cdp("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
        time.sleep(0.3)   # a resize redraws the canvases
        png = cdp("Page.captureScreenshot", {"format": "png"}, session, timeout=30)["data"]
        with open(shot, "wb") as f: f.write(base64.b64decode(png))
        return True
    except Exception as e:
        print("could not write the screenshot: %s" % e, file=sys.stderr)
        return False

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
DASH = "\u2014"

def check():
    started = time.monotonic()
    try:
        target = cdp("Target.createTarget", {"url": "about:blank"}, timeout=START_TIMEOUT)["targetId"]
    except Exception as e:
        fail("chromium did not start: %s" % e, 2)
    session = cdp("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    cdp("Runtime.enable", {}, session)
    cdp("Page.enable", {}, session)
    cdp("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
    t0 = time.monotonic()
    nav = cdp("Page.navigate", {"url": url}, session, timeout=DATA_TIMEOUT)
    if nav.get("errorText"):
        fail("could not load %s: %s" % (shown, nav["errorText"]))
    deadline = t0 + DATA_TIMEOUT
    js_errors, p = [], None
    while True:
        while not events.empty():   # uncaught exceptions in the page are bugs
            ev = events.get()
            if ev.get("method") == "Runtime.exceptionThrown":
                d = ev["params"]["exceptionDetails"]
                js_errors.append((d.get("exception") or {}).get("description") or d.get("text"))
        try:
            p = probe(session)
        except RuntimeError:
            p = None   # between documents while navigating; try again
        now = time.monotonic()
        if js_errors:
            screenshot(session); fail("script error in the page: %s" % js_errors[0].splitlines()[0])
        if p and p["state"] == "error":
            screenshot(session); fail("the page reports an error: %s" % (p["error"] or "(no message in #error)"))
        if p and p["state"] == "ok" and p["polls"] >= WANT_POLLS:
            break
        if p and p["ready"] == "complete" and p["state"] is None and now - t0 > 5:
            screenshot(session)
            fail("%s is not the dashboard or its script did not run (page HTTP %s, resources %s): %s"
                 % (shown, p["http"], p["resources"], p["text"][:200].strip()))
        if now > deadline:
            screenshot(session)
            fail("no data after %.0f s: state %s, %s complete polls, req-rate %r, requests-total %r"
                 % (DATA_TIMEOUT, p and p["state"], p and p["polls"], p and p["rate"], p and p["total"]))
        time.sleep(0.25)

    problems = []
    for key in ("rate", "total"):
        if not NUMBER.match(p[key] or ""):
            problems.append("%s shows %r, not a number" % (key, p[key]))
    for key in ("p50", "p90", "p99"):   # a dash is fine: no request finished yet
        if p[key] != DASH and not NUMBER.match(p[key] or ""):
            problems.append("%s shows %r" % (key, p[key]))
    # With a cached route (dashboard-e2e.sh has one), the hit ratio is a number.
    if CACHE_EXPECTED and not NUMBER.match(p["cache"] or ""):
        problems.append("cache-ratio shows %r" % p["cache"])
    if not re.match(r"^\d+/\d+$", p["backends"] or ""):
        problems.append("backends-healthy shows %r" % p["backends"])
    bad = re.findall(r"\b(NaN|undefined|Infinity|null)\b", p["text"])
    if bad:
        problems.append("the page shows %s" % ", ".join(sorted(set(bad))))
    saved = screenshot(session)
    if problems:
        fail("; ".join(problems))
    ms = lambda v: v if v == DASH else v + "ms"
    print("dashboard ok: req/s=%s p50=%s p90=%s p99=%s requests=%s backends=%s cache hits=%s%% polls=%d in %.1fs (%s)%s"
          % (p["rate"], ms(p["p50"]), ms(p["p90"]), ms(p["p99"]), p["total"], p["backends"], p["cache"], p["polls"],
             time.monotonic() - started, shown, ", screenshot " + shot if saved else ""))

try:
    check()
except SystemExit:
    raise
except Exception as e:
    fail("%s: %s" % (type(e).__name__, e), 2)
finally:
    cleanup()
PY
