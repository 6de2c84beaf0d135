// dqm console: fills the server-rendered page from /api/console/...
// Hand-written, no dependencies. The admin token (when auth is on) is kept
// in sessionStorage and sent as Authorization: Bearer, streams included
// (fetch, not EventSource, so the header can go): never in a URL.
'use strict';
(() => {
  const page = document.body.dataset.page;
  const authMode = document.body.dataset.auth;
  const TOKEN_KEY = 'dqm.console.token';
  const content = document.getElementById('content');
  const tools = document.getElementById('tools');
  const TAGS = ['slow', 'medium', 'fast', 'cache'];
  const S = { state: null, points: [], db: new URLSearchParams(location.search).get('database') || '', streams: [] };

  // ---- DOM
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
    return el;
  }
  function s(tag, attrs) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    return el;
  }
  function put(el, ...kids) { el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined)); }
  function table(cols, rows, empty) {
    if (!rows.length) return h('div', { class: 'tablewrap' }, h('div', { class: 'empty' }, empty || 'Nothing yet.'));
    return h('div', { class: 'tablewrap' }, h('table', {},
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { class: c.num ? 'num' : null }, c.title)))),
      h('tbody', {}, rows)));
  }
  function td(v, cls) { return h('td', { class: cls }, v); }
  function num(v) { return h('td', { class: 'num' }, v); }
  function badge(text, cls) { return h('span', { class: 'badge ' + (cls || '') }, text); }

  // ---- formatting
  const f1 = (n) => (n === undefined || n === null) ? '–' : (Math.round(n * 10) / 10).toLocaleString();
  const int = (n) => (n || 0).toLocaleString();
  const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false });
  function age(ms) {
    if (ms === undefined || ms === null || ms < 0) return '–';
    if (ms < 1000) return ms + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    if (ms < 3600000) return Math.round(ms / 60000) + ' min';
    return (ms / 3600000).toFixed(1) + ' h';
  }
  const ratio = (r) => (r === undefined || r < 0) ? '–' : (r * 100).toFixed(1) + ' %';

  // ---- token and requests
  const tokenForm = document.getElementById('token-form');
  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';
  function headers(extra) {
    const hd = Object.assign({}, extra || {});
    if (token()) hd.Authorization = 'Bearer ' + token();
    return hd;
  }
  function needToken(msg) {
    setLive(false, 'token needed');
    if (!tokenForm) { put(content, h('p', { class: 'err' }, msg || 'refused')); return; }
    put(content, h('p', { class: 'muted' }, 'Waiting for an admin token.'));
    tokenForm.hidden = false;
    document.getElementById('token-msg').textContent = msg || '';
    document.getElementById('token').focus();
  }
  if (tokenForm) {
    tokenForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = document.getElementById('token').value.trim().replace(/^Bearer\s+/i, '');
      if (!v) return;
      sessionStorage.setItem(TOKEN_KEY, v);
      document.getElementById('token').value = '';
      tokenForm.hidden = true;
      restart();
    });
    document.getElementById('token-forget').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      S.streams.forEach((st) => st.stop());
      needToken('Token forgotten.');
    });
  }
  class Refused extends Error {}
  async function api(path, opts) {
    opts = opts || {};
    const init = { method: opts.method || 'GET', cache: 'no-store', headers: headers(opts.body ? { 'Content-Type': 'application/json' } : {}) };
    if (opts.body) init.body = JSON.stringify(opts.body);
    const r = await fetch(path, init);
    const body = await r.json().catch(() => ({}));
    if (r.status === 401 || r.status === 403) { needToken(body.message); throw new Refused(body.message); }
    return { status: r.status, body };
  }

  // ---- event streams over fetch
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  function stream(url, onEvent) {
    let stopped = false, ctrl = null, last = 0;
    (async () => {
      while (!stopped) {
        ctrl = new AbortController();
        let clean = false;
        try {
          const r = await fetch(url(last), { headers: headers({ Accept: 'text/event-stream' }), signal: ctrl.signal, cache: 'no-store' });
          if (r.status === 401 || r.status === 403) { const b = await r.json().catch(() => ({})); needToken(b.message); return; }
          if (!r.ok) throw new Error('HTTP ' + r.status);
          const reader = r.body.getReader();
          const dec = new TextDecoder();
          let buf = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += dec.decode(value, { stream: true });
            let i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const raw = buf.slice(0, i);
              buf = buf.slice(i + 2);
              let name = 'message', data = '';
              for (const line of raw.split('\n')) {
                if (line.startsWith('event: ')) name = line.slice(7);
                else if (line.startsWith('id: ')) last = Number(line.slice(4));
                else if (line.startsWith('data: ')) data += line.slice(6);
              }
              if (name === 'end') clean = true;
              else if (data) onEvent(name, JSON.parse(data));
            }
          }
        } catch (e) {
          if (stopped) return;
          setLive(false, 'reconnecting…');
        }
        if (!stopped && !clean) await sleep(1000);
      }
    })();
    const st = { stop() { stopped = true; if (ctrl) ctrl.abort(); } };
    S.streams.push(st);
    return st;
  }

  // ---- live state
  const liveDot = document.getElementById('live-dot');
  const liveText = document.getElementById('live-text');
  function setLive(on, text) {
    liveDot.className = 'dot ' + (on ? 'on' : 'off');
    liveText.textContent = text;
  }
  function onTick(t) {
    S.state = t.state;
    let lastSeq = S.points.length ? S.points[S.points.length - 1].seq : 0;
    if (t.state.seq < lastSeq) { S.points = []; lastSeq = 0; } // the server restarted
    for (const p of t.points) if (p.seq > lastSeq) S.points.push(p);
    const keep = Math.round(15 * 60 * 1000 / (t.state.interval_ms || 1000));
    if (S.points.length > keep) S.points.splice(0, S.points.length - keep);
    if (!S.db || !dbs().includes(S.db)) S.db = dbs()[0] || '';
    setLive(true, 'live · ' + clock(t.state.time));
    renderTools();
    (pages[page].tick || (() => {}))();
  }
  const dbs = () => (S.state ? S.state.databases.map((d) => d.name) : []);
  const dbState = () => (S.state ? S.state.databases.find((d) => d.name === S.db) : null);

  let toolsFor = '';
  function renderTools() {
    const p = pages[page];
    if (!p.dbSelect) return;
    const key = dbs().join(',') + '|' + S.db;
    if (key === toolsFor) return;
    toolsFor = key;
    const sel = h('select', { id: 'db', 'aria-label': 'database', on: { change: () => { chooseDB(sel.value); } } },
      (p.allDBs ? [h('option', { value: '' }, 'all databases')] : []),
      dbs().map((n) => h('option', { value: n, selected: n === S.db }, n)));
    if (p.allDBs && S.allDB) sel.value = '';
    put(tools, h('label', { for: 'db' }, 'Database'), sel, (p.tools || (() => []))());
  }
  function chooseDB(name) {
    S.allDB = name === '';
    if (name) S.db = name;
    const u = new URL(location.href);
    if (name) u.searchParams.set('database', name); else u.searchParams.delete('database');
    history.replaceState(null, '', u);
    toolsFor = '';
    renderTools();
    (pages[page].dbChanged || pages[page].tick || (() => {}))();
  }

  // ---- charts: inline SVG, one polyline per series
  const W = 600, H = 170, PL = 62, PR = 8, PT = 8, PB = 18;
  function nice(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }
  function chart(id, title, series, unit, fixedTop) {
    const pts = S.points;
    const now = pts.length ? pts[pts.length - 1].t : Date.now();
    // The window is the history held, at least a minute, at most 15.
    const from = now - Math.min(15 * 60 * 1000, Math.max(60 * 1000, pts.length ? now - pts[0].t : 0));
    let top = 0;
    for (const se of series) for (const [, v] of se.values) if (v !== null && v > top) top = v;
    top = fixedTop || nice(top);
    const x = (t) => PL + (W - PL - PR) * (t - from) / (now - from);
    const y = (v) => PT + (H - PT - PB) * (1 - v / top);
    const g = s('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': title, id });
    for (const v of [0, top / 2, top]) {
      g.append(s('line', { class: 'grid-line', x1: PL, x2: W - PR, y1: y(v), y2: y(v) }));
      const lbl = s('text', { class: 'axis', x: PL - 6, y: y(v) + 3, 'text-anchor': 'end' });
      lbl.textContent = f1(v) + (unit || '');
      g.append(lbl);
    }
    const span = (now - from) / 1000;
    const back = '−' + (span < 90 ? Math.round(span) + ' s' : Math.round(span / 60) + ' min');
    for (const [t, anchor, text] of [[from, 'start', back], [now, 'end', 'now']]) {
      const lbl = s('text', { class: 'axis', x: x(t), y: H - 4, 'text-anchor': anchor });
      lbl.textContent = text;
      g.append(lbl);
    }
    // A null value (no data in that second) breaks the line.
    let lastSum = 0;
    series.forEach((se, i) => {
      const last = se.values.length ? se.values[se.values.length - 1][1] : null;
      if (last !== null) lastSum += last;
      let seg = [];
      const draw = () => {
        if (seg.length) g.append(s('polyline', { class: se.cls || 's' + (i + 1), points: seg.join(' ') }));
        seg = [];
      };
      for (const [t, v] of se.values) {
        if (v === null) draw(); else seg.push(x(t).toFixed(1) + ',' + y(v).toFixed(1));
      }
      draw();
    });
    g.setAttribute('data-count', pts.length);
    g.setAttribute('data-last', String(Math.round(lastSum * 1000) / 1000));
    g.setAttribute('data-max', String(top));
    const nowText = series.map((se) => se.values.length && se.values[se.values.length - 1][1] !== null ? f1(se.values[se.values.length - 1][1]) : '–').join(' / ');
    return h('div', { class: 'chart' },
      h('h2', {}, h('span', {}, title), h('span', { class: 'now' }, nowText + (unit || ''))),
      g,
      h('div', { class: 'legend' }, series.map((se, i) => h('span', {}, h('i', { class: se.cls || 's' + (i + 1) }), se.name))));
  }
  // seriesOf picks one value per point of db: a number, or null for none.
  const seriesOf = (db, pick) => S.points.filter((p) => p.dbs && p.dbs[db]).map((p) => {
    const v = pick(p.dbs[db]);
    return [p.t, v === null ? null : v || 0];
  });

  // ---- confirmation
  function confirmDialog(text, danger) {
    const d = document.getElementById('confirm');
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').className = danger ? 'danger' : 'primary';
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
      d.returnValue = '';
      d.showModal();
    });
  }

  // ---- pages
  function workersTable(list, withDB) {
    return table([...(withDB ? [{ title: 'Database' }] : []), { title: 'Label' }, { title: 'Instance' }, { title: 'Tags' }, { title: 'Processed', num: true }, { title: 'Failed', num: true }],
      list.map((w) => h('tr', {},
        withDB ? td(w.db) : null,
        h('td', {}, h('span', { class: 'label' }, w.label), ' ', w.lead ? badge('Lead', 'lead') : null),
        td(h('code', {}, w.instance)), td(w.tags.join(', ') || '–'), num(int(w.processed)), num(int(w.failed)))),
      'No worker has reported yet.');
  }

  const overview = {
    tick() {
      const st = S.state;
      const cards = st.databases.map((d) => h('div', { class: 'card', 'data-db': d.name },
        h('div', { class: 'title' }, h('h2', {}, d.name), d.ready ? badge('ready', 'ok') : badge(d.state || 'not ready', d.state === 'ERROR' ? 'bad' : 'warn')),
        h('dl', { class: 'kv' },
          h('dt', {}, 'Engine'), h('dd', {}, d.engine),
          h('dt', {}, 'Lead'), h('dd', {}, d.lead ? h('code', {}, d.lead) : badge('none', 'bad'), ' ', d.lead_here ? badge('this instance', 'lead') : null),
          h('dt', {}, 'Heartbeat age'), h('dd', {}, age(d.heartbeat_age_ms)),
          h('dt', {}, 'Last check here'), h('dd', {}, d.last_check ? age(Date.parse(st.time) - Date.parse(d.last_check)) + ' ago' : '–'),
          h('dt', {}, 'Catalog'), h('dd', {}, int(d.catalog_entries) + ' entries'),
          h('dt', {}, 'Dead letters'), h('dd', {}, d.dead_letters ? badge(int(d.dead_letters), 'bad') : '0'),
          h('dt', {}, 'Stream'), h('dd', {}, h('code', {}, d.stream.name), ` · ${d.stream.replicas} replica${d.stream.replicas === 1 ? '' : 's'} · leader `,
            h('code', {}, d.stream.leader || '–'), d.stream.peers.length ? ' · peers ' + d.stream.peers.join(', ') : '',
            ` · ${int(d.stream.messages)} queued`),
          h('dt', {}, 'Instances'), h('dd', {}, d.instances.map((i) => h('div', {}, h('code', {}, i.id), ' ', i.leader ? badge('Lead', 'lead') : null, ` ${i.state} · ${age(i.age_ms)}`))))));
      const workers = st.databases.flatMap((d) => d.workers.map((w) => Object.assign({ db: d.name }, w)));
      put(content, h('div', { class: 'grid' }, cards), h('h3', {}, 'Workers'), workersTable(workers, true),
        h('h3', {}, 'Lead changes'), events(st.lead_changes.slice().reverse().map((e) =>
          h('li', {}, h('time', {}, clock(e.time)), h('b', {}, e.database), `: ${e.from || 'none'} → ${e.to || 'none'}`)), 'No Lead change seen since this instance started.'));
    },
  };
  function events(items, empty) { return items.length ? h('ul', { class: 'events' }, items) : h('p', { class: 'muted' }, empty); }

  const queues = {
    dbSelect: true,
    tick() {
      const d = dbState();
      if (!d) return;
      const rows = d.tags.map((t) => h('tr', { 'data-tag': t.tag }, td(h('b', {}, t.tag)), num(t.min), num(t.max === 0 ? 'Lead' : t.max), num(t.desired), num(t.running),
        num(int(t.pending)), num(int(t.ack_pending)), num(f1(t.per_s))));
      const decisions = S.state.scale.filter((x) => x.database === d.name).reverse();
      put(content,
        table([{ title: 'Queue' }, { title: 'Min', num: true }, { title: 'Max', num: true }, { title: 'Desired', num: true }, { title: 'Running', num: true },
          { title: 'Pending', num: true }, { title: 'Ack pending', num: true }, { title: 'Deliveries/s', num: true }], rows),
        h('div', { class: 'charts' },
          chart('chart-depth', 'Depth (pending + ack pending)', TAGS.map((t) => ({ name: t, values: seriesOf(d.name, (p) => p.depth && p.depth[t]) }))),
          chart('chart-throughput', 'Throughput (deliveries/s)', TAGS.map((t) => ({ name: t, values: seriesOf(d.name, (p) => p.tput && p.tput[t]) }))),
        ),
        h('h3', {}, 'Workers'), workersTable(d.workers, false),
        h('h3', {}, 'Scale decisions'), events(decisions.map((x) => h('li', {}, h('time', {}, clock(x.time)), h('b', {}, x.tag), ' ',
          h('span', { class: x.to > x.from ? 'up' : 'down' }, `${x.from} → ${x.to}`), ` (Lead ${x.leader})`)), 'No scaling decision since this instance started.'));
    },
  };

  const q3 = (q) => (q.p50 || q.p99) ? `${f1(q.p50)} / ${f1(q.p90)} / ${f1(q.p99)}` : '–';
  const requests = {
    dbSelect: true,
    tick() {
      const d = dbState();
      if (!d) return;
      const rows = d.requests.map((r) => h('tr', {}, td(h('b', {}, r.tag)), num(int(r.total)), num(f1(r.per_s)), num(f1(r.errors_per_s)),
        td(Object.entries(r.errors).map(([c, n]) => `${c} ${int(n)}`).join(', ') || '–'), num(q3(r.exec_ms)), num(q3(r.wait_ms))));
      const routes = S.state.http.map((r) => h('tr', {}, td(h('code', {}, r.route)), num(int(r.total)), num(f1(r.per_s)),
        td(Object.entries(r.status).map(([c, n]) => `${c}: ${int(n)}`).join(', ')), num(q3(r.latency_ms))));
      put(content,
        h('div', { class: 'charts' },
          chart('chart-requests', 'Answers per second', [{ name: 'answers', cls: 's2', values: seriesOf(d.name, (p) => p.req) }, { name: 'errors', cls: 's6', values: seriesOf(d.name, (p) => p.err) }]),
          chart('chart-latency', 'Execution latency', [{ name: 'p50', values: seriesOf(d.name, (p) => p.p50 || null) }, { name: 'p99', values: seriesOf(d.name, (p) => p.p99 || null) }], ' ms')),
        table([{ title: 'Queue' }, { title: 'Answered', num: true }, { title: 'Per s', num: true }, { title: 'Errors/s', num: true }, { title: 'Errors by code' },
          { title: 'Execution ms p50/p90/p99', num: true }, { title: 'Queue wait ms p50/p90/p99', num: true }], rows, 'No request answered on this instance yet.'),
        h('h3', {}, 'REST routes'),
        table([{ title: 'Route' }, { title: 'Requests', num: true }, { title: 'Per s', num: true }, { title: 'Statuses' }, { title: 'Latency ms p50/p90/p99', num: true }], routes));
    },
  };

  const cachePage = {
    dbSelect: true,
    tick() {
      const d = dbState();
      if (!d) return;
      const rows = S.state.databases.map((x) => h('tr', {}, td(h('b', {}, x.name)), num(int(x.cache.entries)), num(int(x.cache.hits)), num(int(x.cache.misses)),
        num(ratio(x.cache.hit_ratio)), num(ratio(x.cache.hit_ratio_all)), num(int(x.cache.invalidations)), num(int(x.cache.evictions)),
        num(x.cache.drops ? badge(int(x.cache.drops), 'warn') : '0')));
      put(content,
        table([{ title: 'Database' }, { title: 'Entries', num: true }, { title: 'Hits', num: true }, { title: 'Misses', num: true }, { title: 'Hit ratio 10 s', num: true },
          { title: 'Hit ratio all', num: true }, { title: 'Invalidations', num: true }, { title: 'Evictions', num: true }, { title: 'Drops (missed invalidation)', num: true }], rows),
        h('div', { class: 'charts' },
          chart('chart-hits', 'Hit ratio (last 10 s)', [{ name: d.name, values: seriesOf(d.name, (p) => p.hit < 0 ? null : p.hit * 100) }], ' %', 100),
          chart('chart-entries', 'Entries', [{ name: d.name, values: seriesOf(d.name, (p) => p.entries) }])));
    },
  };

  const changes = {
    dbSelect: true, allDBs: true,
    rows: [], paused: false, st: null, table: new URLSearchParams(location.search).get('table') || '',
    tools() {
      const input = h('input', { type: 'text', id: 'table-filter', placeholder: 'table (all)', value: changes.table, 'aria-label': 'table',
        on: { keydown: (e) => { if (e.key === 'Enter') { changes.table = input.value.trim(); changes.start(); } } } });
      return [h('label', { for: 'table-filter' }, 'Table'), input,
        h('button', { id: 'apply-filter', on: { click: () => { changes.table = input.value.trim(); changes.start(); } } }, 'Filter'),
        h('button', { id: 'pause', on: { click: (e) => { changes.paused = !changes.paused; e.target.textContent = changes.paused ? 'Resume' : 'Pause'; } } }, changes.paused ? 'Resume' : 'Pause'),
        h('button', { on: { click: () => { changes.rows = []; changes.draw(); } } }, 'Clear')];
    },
    tick() { if (!changes.st) changes.start(); },
    dbChanged() { changes.start(); },
    start() {
      if (changes.st) changes.st.stop();
      changes.rows = [];
      changes.draw();
      const db = S.allDB ? '' : S.db;
      changes.st = stream((after) => `/api/console/changes?database=${encodeURIComponent(db)}&table=${encodeURIComponent(changes.table)}&after=${after}`, (name, c) => {
        if (name !== 'change' || changes.paused) return;
        changes.rows.unshift(c);
        if (changes.rows.length > 500) changes.rows.length = 500;
        changes.dirty = true;
      });
    },
    draw() {
      changes.dirty = false;
      put(content, table([{ title: 'Time' }, { title: 'Database' }, { title: 'Table' }, { title: 'Op' }, { title: 'Sequence', num: true }, { title: 'Data' }],
        changes.rows.map((c) => h('tr', { 'data-seq': c.seq }, td(clock(c.timestamp)), td(c.database), td(h('b', {}, c.table)), td(badge(c.op, c.op === 'delete' ? 'bad' : c.op === 'insert' ? 'ok' : 'warn')),
          num(c.sequence_id), td(h('pre', { class: 'data' }, JSON.stringify(c.data))))),
        'No change event yet' + (changes.table ? ` for table ${changes.table}` : '') + '. Changes appear as the database triggers fire.'));
    },
  };
  setInterval(() => { if (page === 'changes' && changes.dirty) changes.draw(); }, 250);

  const deadletters = {
    dbSelect: true, seen: null, msg: '',
    tools() {
      return [h('button', { id: 'dl-refresh', on: { click: () => deadletters.load() } }, 'Refresh'),
        h('button', { id: 'dl-replay-all', on: { click: () => deadletters.act('replay', { all: true }, `Replay every dead letter of ${S.db} to its queue?`) } }, 'Replay all'),
        h('button', { id: 'dl-purge-all', class: 'danger', on: { click: () => deadletters.act('purge', { all: true }, `Purge every dead letter of ${S.db}? They cannot be replayed after.`, true) } }, 'Purge all')];
    },
    tick() {
      const d = dbState();
      if (d && d.dead_letters !== deadletters.seen) { deadletters.seen = d.dead_letters; deadletters.load(); }
    },
    dbChanged() { deadletters.seen = null; deadletters.tick(); },
    async load() {
      let r;
      try { r = await api('/api/console/deadletters?database=' + encodeURIComponent(S.db)); } catch (e) { return; }
      if (r.status !== 200) { put(content, h('p', { class: 'err' }, r.body.message || 'HTTP ' + r.status)); return; }
      const rows = r.body.letters.map((l) => h('tr', { 'data-id': l.request_id },
        num(l.seq), td(clock(l.time)), td(h('code', {}, l.request_id)), td(l.ref), td(h('code', {}, l.queue)), td(l.reason), num(l.deliveries),
        td(l.error), td(h('pre', { class: 'data' }, l.data)),
        h('td', { class: 'actions' }, h('button', { class: 'small replay', on: { click: () => deadletters.act('replay', { ids: [l.request_id] }, `Replay ${l.request_id} to ${l.queue}?`) } }, 'Replay'), ' ',
          h('button', { class: 'small purge', on: { click: () => deadletters.act('purge', { seqs: [l.seq] }, `Purge dead letter ${l.request_id}? It cannot be replayed after.`, true) } }, 'Purge'))));
      put(content, deadletters.msg ? h('p', { class: 'muted', id: 'dl-msg' }, deadletters.msg) : null,
        table([{ title: 'Seq', num: true }, { title: 'Time' }, { title: 'Request id' }, { title: 'Ref' }, { title: 'Queue' }, { title: 'Reason' },
          { title: 'Deliveries', num: true }, { title: 'Error' }, { title: 'Request' }, { title: '' }], rows, `No dead letter for ${S.db}.`),
        r.body.more ? h('p', { class: 'muted' }, 'Showing the oldest ones; more follow.') : null);
    },
    async act(what, sel, question, danger) {
      if (!await confirmDialog(question, danger)) return;
      try {
        const r = await api('/api/console/deadletters/' + what, { method: 'POST', body: Object.assign({ database: S.db }, sel) });
        deadletters.msg = r.status !== 200 ? (r.body.message || 'HTTP ' + r.status)
          : what === 'replay' ? `Replayed ${r.body.replayed.length}.` : `Purged ${r.body.purged}.`;
      } catch (e) { return; }
      deadletters.load();
    },
  };

  const TYPES = ['INTEGER', 'FLOAT', 'STRING', 'TEXT', 'BOOLEAN', 'DATE', 'TIME', 'DATETIME', 'TIMESTAMP'];
  const catalog = {
    dbSelect: true, loaded: '',
    tick() { if (catalog.loaded !== S.db) catalog.load(); },
    dbChanged() { catalog.load(); },
    async load() {
      catalog.loaded = S.db;
      let r;
      try { r = await api('/api/console/catalog?database=' + encodeURIComponent(S.db)); } catch (e) { return; }
      if (r.status !== 200) { put(content, h('p', { class: 'err' }, r.body.message || 'HTTP ' + r.status)); return; }
      const rows = [];
      for (const e of r.body.entries) {
        const tryRow = h('tr', { class: 'tryit', hidden: true }, h('td', { colspan: 8 }, catalog.form(e)));
        rows.push(h('tr', { 'data-ref': e.ref }, num(e.ref), h('td', {}, h('b', {}, e.name), e.description ? h('div', { class: 'muted' }, e.description) : null),
          td(e.queue), num(e.cache_ttl_s ? e.cache_ttl_s + ' s' : '–'), td(e.tables.join(', ') || '–'),
          td(e.public ? badge('public', 'ok') : badge('private', 'warn')), td(e.writes ? badge('writes', 'bad') : 'reads'),
          h('td', {}, h('button', { class: 'small try', on: { click: () => { tryRow.hidden = !tryRow.hidden; } } }, 'Try it'))), tryRow);
      }
      put(content, table([{ title: 'Ref', num: true }, { title: 'Name' }, { title: 'Queue' }, { title: 'TTL', num: true }, { title: 'Tables' },
        { title: 'Access' }, { title: 'Kind' }, { title: '' }], rows, `The catalog of ${S.db} is empty or not loaded.`));
    },
    form(e) {
      const inputs = e.params.map((name) => ({ name, type: h('select', { 'aria-label': name + ' type' }, TYPES.map((t) => h('option', {}, t))), value: h('input', { type: 'text', name, 'aria-label': name }) }));
      const out = h('div', { class: 'result' });
      const run = async (ev) => {
        ev.preventDefault();
        if (e.writes && !await confirmDialog(`Entry ${e.ref} modifies data in ${S.db}. Run it?`, true)) return;
        const params = {};
        for (const i of inputs) {
          const raw = i.value.value.trim(), t = i.type.value;
          let v = raw === '' ? null : raw;
          if (v !== null && (t === 'INTEGER' || t === 'FLOAT') && raw !== '' && !isNaN(Number(raw))) v = Number(raw);
          if (v !== null && t === 'BOOLEAN') v = raw === 'true' ? true : raw === 'false' ? false : raw;
          (params[t] = params[t] || {})[i.name] = v;
        }
        put(out, h('p', { class: 'muted' }, 'Running…'));
        let r;
        try { r = await api('/api/console/query', { method: 'POST', body: { database: S.db, query_ref: e.ref, params } }); } catch (err) { put(out); return; }
        put(out, catalog.result(r));
      };
      return h('form', { class: 'try-form', on: { submit: run } },
        h('div', { class: 'params' }, inputs.length ? inputs.map((i) => h('label', { class: 'param' }, h('code', {}, ':' + i.name), i.type, i.value)) : h('span', { class: 'muted' }, 'No parameters.')),
        h('button', { class: 'primary', type: 'submit' }, 'Run ' + e.ref), ' ', h('code', { class: 'muted' }, e.sql), out);
    },
    result(r) {
      const b = r.body;
      if (!b.success) return h('p', { class: 'err' }, `${r.status} ${b.error || ''}: ${b.message || ''}`);
      const rows = b.rows || [];
      const cols = rows.length ? Object.keys(rows[0]) : [];
      return h('div', {}, h('div', { class: 'meta' }, `${int(b.row_count)} row${b.row_count === 1 ? '' : 's'} · ${b.execution_time_ms} ms · queue ${b.queue_used}${b.cached ? ' · cached ' + b.cache_age_ms + ' ms ago' : ''}${b.affected_rows ? ' · affected ' + b.affected_rows.join(', ') : ''}`),
        table(cols.map((c) => ({ title: c })), rows.slice(0, 200).map((row) => h('tr', {}, cols.map((c) => td(typeof row[c] === 'object' ? JSON.stringify(row[c]) : String(row[c]))))), 'No rows.'));
    },
  };

  const pages = { overview, queues, requests, cache: cachePage, changes, deadletters, catalog };

  function restart() {
    S.streams.forEach((st) => st.stop());
    S.streams = [];
    changes.st = null;
    catalog.loaded = '';
    deadletters.seen = null;
    toolsFor = '';
    stream((after) => '/api/console/stream?after=' + after, (name, data) => { if (name === 'tick') onTick(data); });
  }
  if (authMode === 'token' && !token()) needToken('This console needs an admin token.');
  else restart();
})();
