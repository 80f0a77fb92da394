// app.js — the camclassd page: live picture, labels, state, status, teach panel.
// Talks only to camclass-web's own endpoints; no libraries, no other origin.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  // A token given once as ?token=… is kept for this tab and sent with every request.
  const params = new URLSearchParams(location.search);
  if (params.get('token')) sessionStorage.setItem('camclass-token', params.get('token'));
  const token = sessionStorage.getItem('camclass-token');
  const url = (path) => token ? path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : path;
  const headers = token ? { Authorization: 'Bearer ' + token } : {};

  for (const id of ['stream-link', 'snap-link', 'metrics-link'])
    $(id).href = url($(id).getAttribute('href'));

  async function api(path, body) {
    const opts = { headers: Object.assign({}, headers), cache: 'no-store' };
    if (body !== undefined) {
      opts.method = 'POST';
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    let msg = null;
    try { msg = await r.json(); } catch (e) { msg = null; }
    if (!r.ok) throw new Error(msg && msg.message ? msg.message : r.status + ' ' + r.statusText);
    return msg;
  }

  function setConn(text, bad) {
    $('conn').textContent = text;
    $('conn').classList.toggle('bad', !!bad);
  }

  // --- the picture: MJPEG stream, or snapshots once a second if the stream does not play ---
  const img = $('live');
  let frames = 0;
  img.addEventListener('load', () => {
    frames++;
    document.body.dataset.picture = 'shown';
    img.dataset.frames = String(frames);
    drawRoi();
  });
  let snapTimer = null;
  function pollSnapshots() {
    if (snapTimer) return;
    snapTimer = setInterval(() => { img.src = url('/snapshot.jpg?t=' + Date.now()); }, 1000);
    img.src = url('/snapshot.jpg?t=' + Date.now());
  }
  img.addEventListener('error', () => { if (!snapTimer) setTimeout(pollSnapshots, 1000); });
  // Started after the page has loaded, so the endless stream never holds up the load event.
  window.addEventListener('load', () => {
    img.src = url('/stream.mjpg');
    setTimeout(() => { if (!frames) pollSnapshots(); }, 4000);
  });

  // --- region of interest: [model] roi from status, if the daemon reports one ---
  let roi = null;
  function drawRoi() {
    const box = $('roi');
    if (!roi || !img.naturalWidth) { box.hidden = true; return; }
    let [x, y, w, h] = roi;
    if (Math.max(x + w, y + h) > 1.0001) { // pixels of the capture size: make fractions
      x /= img.naturalWidth; w /= img.naturalWidth; y /= img.naturalHeight; h /= img.naturalHeight;
    }
    box.style.left = (x * 100) + '%'; box.style.top = (y * 100) + '%';
    box.style.width = (w * 100) + '%'; box.style.height = (h * 100) + '%';
    box.hidden = false;
  }
  function parseRoi(v) {
    if (Array.isArray(v) && v.length === 4 && v.every((n) => typeof n === 'number')) return v;
    if (v && typeof v === 'object') {
      const w = v.width !== undefined ? v.width : v.w, h = v.height !== undefined ? v.height : v.h;
      if ([v.x, v.y, w, h].every((n) => typeof n === 'number')) return [v.x, v.y, w, h];
    }
    return null;
  }

  // --- labels and state ---
  function ago(ts) {
    const s = Math.max(0, Date.now() / 1000 - ts);
    if (s < 90) return Math.round(s) + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }
  function showResult(r) {
    const ol = $('labels');
    ol.replaceChildren();
    for (const l of r.labels || []) {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = l.label === null ? '#' + l.index : l.label;
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = (l.score * 100).toFixed(1) + '%';
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.setAttribute('role', 'meter');
      bar.setAttribute('aria-valuemin', '0');
      bar.setAttribute('aria-valuemax', '1');
      bar.setAttribute('aria-valuenow', String(l.score));
      bar.setAttribute('aria-label', name.textContent);
      const fill = document.createElement('div');
      fill.style.width = Math.min(100, Math.max(0, l.score * 100)) + '%';
      bar.appendChild(fill);
      li.append(name, score, bar);
      ol.appendChild(li);
    }
    if (!ol.children.length) {
      const li = document.createElement('li');
      li.textContent = 'nothing above the threshold';
      ol.appendChild(li);
    }
    $('seq').textContent = 'result ' + r.seq + (r.latency_ms ? ', ' + r.latency_ms.capture_to_result + ' ms after capture' : '');
    if (typeof r.state === 'string') {
      $('state').textContent = r.state;
      $('since').textContent = typeof r.state_since === 'number' ? 'for ' + ago(r.state_since) : '';
    }
  }

  const statusRows = [['camera', 'Camera'], ['device', 'Device'], ['format', 'Format'],
    ['fps_in', 'fps in'], ['fps_out', 'fps out'], ['model', 'Model'], ['backend', 'Backend'],
    ['threads', 'Threads'], ['frames_skipped', 'Skipped'], ['frames_corrupt', 'Corrupt'],
    ['clients', 'Clients'], ['uptime_s', 'Uptime s']];
  function showStatus(st) {
    const dl = $('status');
    dl.replaceChildren();
    for (const [k, name] of statusRows) {
      if (st[k] === undefined || st[k] === null) continue;
      const dt = document.createElement('dt'), dd = document.createElement('dd');
      dt.textContent = name;
      dd.textContent = String(st[k]);
      dl.append(dt, dd);
    }
    if (typeof st.state === 'string') {
      $('state').textContent = st.state;
      if (typeof st.state_since === 'number') $('since').textContent = 'for ' + ago(st.state_since);
    }
    roi = parseRoi(st.roi);
    drawRoi();
  }

  async function tickLatest() {
    try { showResult(await api('/api/latest')); setConn('connected'); }
    catch (e) { setConn(e.message, true); }
  }
  async function tickStatus() {
    try { showStatus(await api('/api/status')); }
    catch (e) { setConn(e.message, true); }
  }
  tickLatest(); tickStatus();
  setInterval(tickLatest, 1000);
  setInterval(tickStatus, 5000);

  // --- teach panel ---
  // The daemon answers teach and train at once and works afterwards (docs/teach.md): "teach"
  // replies {label, count, samples} and stores the next frames one by one; "train" replies
  // {training: true, labels, samples} and swaps the model in when done. The page has no event
  // feed, so it follows both through "samples" ({labels: [{label, samples}], training}).
  const out = $('teach-out');
  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
  function showSamples(reply) {
    const ul = $('samples');
    ul.replaceChildren();
    for (const c of reply.labels || []) {
      const li = document.createElement('li');
      li.textContent = c.label + ': ' + c.samples;
      ul.appendChild(li);
    }
  }
  const countOf = (reply, label) =>
    (reply.labels || []).reduce((n, c) => (c.label === label ? c.samples : n), 0);
  async function samples() {
    const reply = await api('/api/samples', {});
    showSamples(reply);
    return reply;
  }
  async function capture(label, count) {
    const what = 'capture ' + count + ' × ' + label;
    out.textContent = what + '…';
    try {
      const started = await api('/api/teach', { label, count });
      const want = started.samples + started.count;
      let idle = 0, last = -1;
      while (idle < 60) { // gives up after 30 s without a new frame stored
        const n = countOf(await samples(), label);
        out.textContent = what + ': ' + (n - started.samples) + '/' + started.count;
        if (n >= want) { out.textContent = what + ': done, ' + label + ' has ' + n + ' samples'; return; }
        idle = n === last ? idle + 1 : 0;
        last = n;
        await sleep(500);
      }
      out.textContent = what + ': stalled at ' + (last - started.samples) + '/' + started.count;
    } catch (e) { out.textContent = what + ' failed: ' + e.message; }
  }
  async function train() {
    out.textContent = 'training…';
    try {
      const started = await api('/api/train', {});
      const deadline = Date.now() + 300000;
      while (Date.now() < deadline) {
        await sleep(1000);
        if (!(await samples()).training) {
          out.textContent = 'trained: ' + started.labels + ' labels, ' + started.samples +
            ' samples; the new model runs (held-out accuracy: camclassd log or teach_trained event)';
          tickStatus();
          return;
        }
      }
      out.textContent = 'training: still running after 5 minutes';
    } catch (e) { out.textContent = 'training failed: ' + e.message; }
  }
  $('teach-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const label = $('teach-label').value.trim();
    const count = parseInt($('teach-count').value, 10) || 1;
    capture(label, count);
  });
  $('samples-btn').addEventListener('click', () => samples().then(
    () => { out.textContent = 'sample counts: done'; },
    (e) => { out.textContent = 'sample counts failed: ' + e.message; }));
  $('train-btn').addEventListener('click', train);
})();
