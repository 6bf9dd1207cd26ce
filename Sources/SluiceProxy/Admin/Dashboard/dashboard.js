// Sluice operator dashboard: polls /stats, /clusters and /slo every 2 s and shows what changed.
// Plain script, no libraries: it is served as-is by the admin listener.
'use strict';
(function () {
  const POLL_MS = 2000, HISTORY = 60, FETCH_TIMEOUT_MS = 10000, DASH = '\u2014', TOKEN_KEY = 'sluice-admin-token';
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  // The check script reads these: loading -> ok (two full polls, so rates exist) or error.
  body.dataset.state = 'loading'; body.dataset.polls = '0';

  // ---- token: the URL fragment (never sent to a server) first, then this tab's storage ----
  const store = {
    get() { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } },
    set(v) { try { sessionStorage.setItem(TOKEN_KEY, v); } catch (e) { /* storage off: memory only */ } },
  };
  function fragmentToken() {
    // Not URLSearchParams: it would turn a '+' in a pasted token into a space.
    const m = /(?:^|&)token=([^&]*)/.exec(location.hash.slice(1));
    if (!m) return null;
    let t = m[1];
    try { t = decodeURIComponent(t); } catch (e) { /* not percent-encoded: take it as typed */ }
    store.set(t);
    // Out of the address bar, so it is not bookmarked or shared by accident.
    history.replaceState(null, '', location.pathname + location.search);
    return t;
  }
  let token = fragmentToken() ?? store.get();

  // ---- state between polls ----
  let prev = null;          // last /stats sample: every rate is a delta against it
  let successes = 0;        // polls where all three answered
  let generation = 0, timer = null;   // generation: bumped when the token changes, so a stale poll is dropped
  const last = { p50: null, p90: null, p99: null };  // shown while no request finishes
  const hist = { rate: [], p50: [], p90: [], p99: [], e5xx: [], denied: [], cache: [] };

  // ---- formatting: anything not a finite number shows as a dash, never NaN/undefined ----
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  function must(v, name) {
    if (num(v) === null) throw new Error('GET /stats: "' + name + '" is not a number (got ' + JSON.stringify(v) + ')');
    return v;
  }
  function fmt3(v) {   // about three significant digits
    if (num(v) === null) return DASH;
    const a = Math.abs(v);
    return v.toFixed(a >= 100 || a === 0 ? 0 : a >= 10 ? 1 : 2);
  }
  const fmtInt = (v) => (num(v) === null ? DASH : String(Math.round(v)));
  const fmtMs = (sec) => (num(sec) === null ? DASH : fmt3(sec * 1000));
  const fmtPct = (r) => (num(r) === null ? DASH : String(Number((r * 100).toFixed(3))) + '%');
  function fmtBytes(v) {
    if (num(v) === null) return DASH;
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(v) : fmt3(v)) + ' ' + units[i];
  }
  function fmtDuration(s) {
    if (num(s) === null) return DASH;
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (s < 3600) return s < 60 ? s.toFixed(0) + ' s' : m + 'm ' + Math.floor(s % 60) + 's';
    return d > 0 ? d + 'd ' + h + 'h' : h + 'h ' + m + 'm';
  }
  function text(id, v) { $(id).textContent = v; }
  function el(tag, cls, content) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }
  function row(cells, tag) {
    const tr = el('tr');
    for (const c of cells) { const td = el(tag || 'td'); td.append(c); tr.append(td); }
    return tr;
  }
  function push(series, v) { series.push(v); if (series.length > HISTORY) series.shift(); }

  // ---- fetching ----
  async function fetchJSON(path) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
    let res, raw;
    try {
      res = await fetch(path, { headers, cache: 'no-store', signal: abort.signal });
      raw = await res.text();
    } catch (e) {
      throw new Error('GET ' + path + ': ' + (e.name === 'AbortError'
        ? 'no answer within ' + FETCH_TIMEOUT_MS / 1000 + ' s' : 'network error (' + e.message + ')'));
    } finally { clearTimeout(timeout); }
    if (res.status === 401) {
      throw Object.assign(new Error(token ? 'a bearer token is required: the server refused the token given. Enter the admin token above.'
        : 'a bearer token is required: enter the admin token above, or open /dashboard#token=...'), { auth: true });
    }
    if (!res.ok) throw new Error('GET ' + path + ': HTTP ' + res.status + ' ' + res.statusText + (raw ? ': ' + raw.trim().slice(0, 200) : ''));
    try { return JSON.parse(raw); } catch (e) { throw new Error('GET ' + path + ': the answer is not JSON (' + e.message + ')'); }
  }

  async function poll() {
    const mine = generation, started = performance.now();
    try {
      const [stats, clusters, slo] = await Promise.all(['/stats', '/clusters', '/slo'].map(fetchJSON));
      if (mine !== generation) return;   // the token changed meanwhile; that poll chain goes on
      renderStats(stats);
      renderClusters(clusters);
      renderSLO(slo);
      successes++;
      body.dataset.polls = String(successes);
      hideError();
      setLive(successes >= 2 ? 'ok' : 'loading');
      text('poll-info', '#' + successes + ', last at ' + new Date().toLocaleTimeString());
    } catch (e) {
      if (mine !== generation) return;
      showError(e);
    }
    // Measured from the start, so a slow answer does not stretch the period; never overlapping.
    timer = setTimeout(poll, Math.max(0, POLL_MS - (performance.now() - started)));
  }
  function setLive(state) {
    body.dataset.state = state;
    const live = $('live');
    live.textContent = { ok: 'live', loading: 'loading', error: 'error' }[state];
    live.className = 'live is-' + state;   // not the bare state: .error is the banner's class
  }
  function showError(e) {
    const box = $('error');
    box.textContent = e && e.message ? e.message : String(e);
    box.hidden = false;
    $('token-form').classList.toggle('needed', !!(e && e.auth));
    if (e && e.auth && document.activeElement !== $('token-input')) $('token-input').focus();
    setLive('error');
  }
  function hideError() { $('error').hidden = true; $('token-form').classList.remove('needed'); }

  // ---- latency: Prometheus' histogram_quantile over the buckets' growth between two polls ----
  function quantile(q, bounds, counts, total) {
    if (!(total > 0)) return null;
    const rank = q * total;
    let i = 0;
    while (i < bounds.length && counts[i] < rank) i++;
    if (i === bounds.length) return bounds.length ? bounds[bounds.length - 1] : null;  // +Inf bucket: highest finite bound
    if (i === 0 && bounds[0] <= 0) return bounds[0];
    const lower = i === 0 ? 0 : bounds[i - 1], below = i === 0 ? 0 : counts[i - 1];
    return lower + (bounds[i] - lower) * ((rank - below) / (counts[i] - below));
  }
  function readBuckets(latency) {
    const pairs = (latency && Array.isArray(latency.buckets) ? latency.buckets : [])
      .filter((b) => Array.isArray(b) && num(b[0]) !== null && num(b[1]) !== null)
      .sort((a, b) => a[0] - b[0]);
    return { bounds: pairs.map((b) => b[0]), counts: pairs.map((b) => b[1]) };
  }
  function latencyDelta(cur, old) {
    if (cur.bounds.join() !== old.bounds.join()) return null;   // layout changed: no common ground
    const counts = [];
    let run = 0;
    // Running maximum: the counters are read one by one, so a delta may dip by a request or two.
    cur.counts.forEach((c, i) => { run = Math.max(run, c - old.counts[i]); counts.push(run); });
    return { counts, total: Math.max(run, cur.count - old.count) };
  }

  // ---- renderers ----
  function renderStats(s) {
    const status = s.status || {}, rl = s.ratelimit || {}, cache = s.cache, cfg = s.config || {};
    const latency = s.latency || {};
    const cur = Object.assign(readBuckets(latency), {
      up: must(s.uptime_seconds, 'uptime_seconds'), requests: must(s.requests, 'requests'),
      count: num(latency.count) ?? 0, status, denied: num(rl.denied) ?? 0, cache,
    });
    // Elapsed time from the server's own clock: a slow fetch does not skew the rates.
    // A restart resets the counters: then this sample only becomes the new baseline.
    const dt = prev && cur.up > prev.up && cur.requests >= prev.requests ? cur.up - prev.up : null;
    const rate = (a, b) => (dt && num(a) !== null && num(b) !== null ? Math.max(0, a - b) / dt : null);

    const reqRate = prev ? rate(cur.requests, prev.requests) : null;
    text('req-rate', fmt3(reqRate));
    push(hist.rate, reqRate);
    text('requests-total', fmtInt(cur.requests));
    text('in-flight', fmtInt(num(s.in_flight)));
    text('connections', fmtInt(num(s.connections)));
    text('bytes', fmtBytes(num(s.bytes_in)) + ' / ' + fmtBytes(num(s.bytes_out)));

    const delta = dt ? latencyDelta(cur, prev) : null;
    const fresh = !!(delta && delta.total > 0);
    for (const [key, q] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99]]) {
      const v = fresh ? quantile(q, cur.bounds, delta.counts, delta.total) : null;
      if (v !== null) last[key] = v;
      push(hist[key], v === null ? null : v * 1000);
      text(key, fmtMs(last[key]));
      $(key).classList.toggle('stale', !fresh && last[key] !== null);
      $(key).title = fresh ? '' : 'no request finished since the last poll; last known value';
    }
    text('latency-mean', cur.count > 0 && num(latency.sum_seconds) !== null ? fmtMs(latency.sum_seconds / cur.count) + ' ms' : DASH);

    const tbody = $('status-body');
    tbody.replaceChildren();
    for (const cls of ['1xx', '2xx', '3xx', '4xx', '5xx']) {
      const total = num(status[cls]);
      if (cls === '1xx' && !total) continue;   // rare; shown only when it happens
      const r = prev ? rate(total, num(prev.status[cls])) : null;
      const tr = row([cls, fmtInt(total), fmt3(r)]);
      if (cls === '5xx') { tr.className = 'c5xx' + (r > 0 ? ' hot' : ''); push(hist.e5xx, r); }
      tbody.append(tr);
    }

    const deniedRate = prev ? rate(cur.denied, prev.denied) : null;
    text('denied-rate', fmt3(deniedRate));
    push(hist.denied, deniedRate);
    text('rl-allowed', fmtInt(num(rl.allowed)));
    text('rl-denied', fmtInt(num(rl.denied)));
    text('rl-shadowed', fmtInt(num(rl.shadowed)));
    text('rl-store-errors', fmtInt(num(rl.store_errors)));
    $('rl-store-errors').classList.toggle('bad', num(rl.store_errors) > 0);

    $('cache-none').hidden = !!cache;
    $('cache-some').hidden = !cache;
    if (cache) {
      const hits = num(cache.hits) ?? 0, misses = num(cache.misses) ?? 0;
      text('cache-ratio', hits + misses > 0 ? fmt3((100 * hits) / (hits + misses)) : DASH);
      const old = prev && prev.cache;
      const dh = old ? hits - (num(old.hits) ?? 0) : 0, dm = old ? misses - (num(old.misses) ?? 0) : 0;
      push(hist.cache, dt && dh >= 0 && dm >= 0 && dh + dm > 0 ? (100 * dh) / (dh + dm) : null);
      text('cache-counts', fmtInt(hits) + ' / ' + fmtInt(misses) + ' / ' + fmtInt(num(cache.stale)));
      text('cache-entries', fmtInt(num(cache.entries)));
      text('cache-bytes', fmtBytes(num(cache.bytes_stored)));
    }

    text('uptime', fmtDuration(cur.up)); text('uptime-2', fmtDuration(cur.up));
    text('config-generation', fmtInt(num(cfg.generation)));
    text('config-hash', typeof cfg.hash === 'string' ? cfg.hash : DASH);
    text('config-source', typeof cfg.source === 'string' ? cfg.source : DASH);
    text('reloads-ok', fmtInt(num(cfg.reloads_ok)));
    text('reloads-failed', fmtInt(num(cfg.reloads_failed)));
    $('reloads-failed').classList.toggle('bad', num(cfg.reloads_failed) > 0);

    prev = cur;
    drawAll();
  }

  function renderClusters(c) {
    if (!c || !Array.isArray(c.clusters)) throw new Error('GET /clusters: no "clusters" list');
    const root = $('clusters');
    let healthy = 0, total = 0;
    root.replaceChildren();
    if (!c.clusters.length) root.append(el('div', 'muted', 'no clusters configured'));
    for (const cluster of c.clusters) {
      const table = el('table', 'backends');
      table.append(el('caption', '', String(cluster.name) + (cluster.balancer ? ' \u00b7 ' + cluster.balancer : '')));
      table.append(row(['address', 'state', 'in flight', 'weight', 'ejections'], 'th'));
      for (const b of cluster.backends || []) {
        total++;
        if (b.healthy === true) healthy++;
        const states = el('span');
        const badge = (cls, label) => states.append(el('span', 'badge ' + cls, label));
        if (b.healthy === true) badge('good', 'healthy');
        if (b.ejected === true) badge('bad', 'ejected');
        if (b.active_check_passing === false) badge('bad', 'check failing');
        if (b.draining === true) badge('warn', 'draining');
        table.append(row([String(b.address), states, fmtInt(num(b.in_flight)), fmtInt(num(b.weight)), fmtInt(num(b.ejections))]));
      }
      root.append(table);
    }
    text('backends-healthy', healthy + '/' + total);
    $('backends-healthy').className = healthy < total ? 'bad' : '';
  }

  function renderSLO(s) {
    if (!s || !Array.isArray(s.routes)) throw new Error('GET /slo: no "routes" list');
    const root = $('slo');
    root.replaceChildren();
    for (const route of s.routes) {
      for (const o of route.objectives || []) {
        const alert = ['none', 'ticket', 'page'].includes(o.alert) ? o.alert : 'none';
        const box = el('div', 'objective alert-' + alert);
        const head = el('div', 'objective-head');
        head.append(el('b', '', String(route.route) + ' / ' + String(o.name)),
          el('span', 'muted', ' target ' + fmtPct(num(o.target)) + (num(o.threshold_ms) !== null ? ' under ' + fmt3(o.threshold_ms) + ' ms' : '')),
          el('span', 'badge alert ' + alert, alert === 'none' ? 'no alert' : alert));
        const left = num(o.budget_remaining);
        const bar = el('div', 'bar'), fill = el('div', 'fill' + (left !== null && left < 0.25 ? ' low' : ''));
        // Width through the CSSOM: allowed by the page's CSP, unlike inline style attributes.
        fill.style.width = (left === null ? 0 : Math.min(100, Math.max(0, left * 100))) + '%';
        bar.append(fill);
        const burn = (w) => (num(w.burn_rate) === null ? DASH : fmt3(w.burn_rate) + '\u00d7');
        const windows = (o.windows || []).map((w) => w.window + ' burn ' + burn(w)).join(', ');
        box.append(head, bar,
          el('div', 'objective-foot', 'budget left ' + fmtPct(left) + ' \u00b7 allowed downtime ' +
            (typeof o.allowed_downtime === 'string' ? o.allowed_downtime : DASH) + (windows ? ' \u00b7 ' + windows : '')));
        root.append(box);
      }
    }
    if (!root.childElementCount) root.append(el('div', 'muted', 'no objectives configured'));
  }

  // ---- sparklines on canvas: shared y scale from zero, newest point at the right edge ----
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  function spark(id, series, unit) {
    const canvas = $(id), dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (!w || !h) return;   // hidden card
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    let max = 0;
    for (const s of series) for (const v of s.data) if (v !== null && v > max) max = v;
    const top = max > 0 ? max * 1.1 : 1, step = w / (HISTORY - 1), y = (v) => h - 1 - (v / top) * (h - 14);
    for (const s of series) {
      ctx.strokeStyle = ctx.fillStyle = css(s.color);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false, lastX = 0, lastY = 0;
      s.data.forEach((v, i) => {
        if (v === null) { pen = false; return; }   // a gap: nothing was measured then
        lastX = (HISTORY - s.data.length + i) * step; lastY = y(v);
        if (pen) ctx.lineTo(lastX, lastY); else ctx.moveTo(lastX, lastY);
        pen = true;
      });
      ctx.stroke();
      if (pen) { ctx.beginPath(); ctx.arc(Math.min(lastX, w - 2), lastY, 2, 0, 2 * Math.PI); ctx.fill(); }
    }
    ctx.fillStyle = css('--muted');
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillText('max ' + fmt3(max) + ' ' + unit, 2, 10);
  }
  function drawAll() {
    spark('chart-rate', [{ data: hist.rate, color: '--accent' }], 'req/s');
    spark('chart-latency', [{ data: hist.p50, color: '--c-p50' }, { data: hist.p90, color: '--c-p90' },
      { data: hist.p99, color: '--c-p99' }], 'ms');
    spark('chart-5xx', [{ data: hist.e5xx, color: '--bad' }], '/s');
    spark('chart-denied', [{ data: hist.denied, color: '--warn' }], '/s');
    spark('chart-cache', [{ data: hist.cache, color: '--good' }], '%');
  }

  // ---- wiring ----
  function restart() {
    generation++;
    clearTimeout(timer);
    $('token-input').placeholder = token ? 'token set (hidden)' : 'bearer token';
    poll();
  }
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token-input').value.trim();
    $('token-input').value = '';
    store.set(token);
    restart();
  });
  window.addEventListener('hashchange', () => { const t = fragmentToken(); if (t !== null) { token = t; restart(); } });
  window.addEventListener('resize', drawAll);
  restart();
})();
