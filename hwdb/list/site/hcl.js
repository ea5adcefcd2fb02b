/* hwcert — the hardware compatibility list's index page: filters, sorting and paging over
 * window.HCL_INDEX (data/index.js), all in the browser, with no server (it works from file://).
 *
 * data/index.js is a small manifest: how many rows, the select filters' options, and the
 * shards that hold the rows (data/shard-<hash>.js, a few thousand rows each, in the list's
 * default order). The shards are loaded with <script> elements (browsers refuse fetch() of
 * file:// URLs), in order, each calling window.HCL_SHARD; the first results show as soon as
 * the first shard is in, and every shard that comes in after updates the view.
 *
 * The rows are column arrays of indices into one table of distinct strings, `S`, which grows
 * as shards come in. A free-text word is looked for once in each distinct string (lowercased
 * once), then each row only checks its columns' flags; the entry IDs, distinct per row, are
 * searched directly. Rows are built with DOM calls and textContent only: names come from
 * reports, never markup. The view (filters, sort, page) lives in the URL's fragment, so a
 * view can be linked. */
(function () {
  "use strict";
  var D = window.HCL_INDEX;
  var $ = function (id) { return document.getElementById(id); };
  var tbody = $("rows"), form = $("filters"), count = $("count"), pager = $("pager");
  var prev = $("prev"), next = $("next"), pageinfo = $("pageinfo"), table = $("hcl");
  if (!D || !tbody || !form || !count || !pager || !table || !Array.isArray(D.shards)) return;

  var t0 = performance.now();
  // How long the page took to set up, to show the first results and to load every shard, and
  // to filter, for the benchmark and the tests.
  var stats = window.HCL_STATS = {
    init_ms: 0, first_ms: 0, loaded_ms: 0, filter_ms: 0, render_ms: 0, updates: 0,
    shards: 0, errors: 0
  };
  var TOTAL = D.n, PAGE = D.page || 100, N = 0, i;
  var S = [""], L = [""], SIDX = new Map([["", 0]]);
  var C = {}, KIND = new Uint8Array(TOTAL);
  // Columns: fixed-width base-64 numbers, indices into a shard's strings.
  var DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
  var DEC = new Uint8Array(128);
  for (i = 0; i < 64; i++) DEC[DIGITS.charCodeAt(i)] = i;
  // Entry IDs: those that are not a component's PCI IDs, release and architecture put
  // together are listed by row.
  var XID = new Map();
  function idOf(r) {
    var x = XID.get(r);
    if (x !== undefined) return x;
    return "pci-" + S[C.ids[r]].replace(/[: ]/g, "-") + "." + S[C.rel[r]].replace(" ", "-") + "." + S[C.arch[r]];
  }
  function intern(s) {
    var x = SIDX.get(s);
    if (x === undefined) {
      x = S.length;
      S.push(s);
      L.push(s.toLowerCase());
      SIDX.set(s, x);
    }
    return x;
  }
  var IDL = null; // lowercased IDs, for the free text: made when the page is idle
  function lowerIds() {
    if (!IDL) IDL = [];
    for (var x = IDL.length; x < N; x++) IDL.push(idOf(x).toLowerCase());
  }

  // A shard: its rows appended, in order (a shard out of turn or malformed is left out).
  function addShard(sh) {
    if (!sh || sh.k !== stats.shards || typeof sh.n !== "number" || N + sh.n > TOTAL ||
        !Array.isArray(sh.s) || !sh.c || typeof sh.kind !== "string") {
      stats.errors += 1;
      return false;
    }
    var off = N, n = sh.n, map = new Uint32Array(sh.s.length);
    for (var j = 0; j < sh.s.length; j++) map[j] = intern(String(sh.s[j]));
    Object.keys(sh.c).forEach(function (k) {
      var w = sh.c[k][0], t = sh.c[k][1], col = C[k] || (C[k] = new Uint32Array(TOTAL));
      for (var r = 0, q = 0; r < n; r++) {
        var v = 0;
        for (var d = 0; d < w; d++) v = v * 64 + DEC[t.charCodeAt(q++)];
        col[off + r] = map[v] || 0;
      }
    });
    for (var r = 0; r < n; r++) KIND[off + r] = sh.kind.charCodeAt(r) === 49 ? 1 : 0;
    (sh.id || []).forEach(function (x) { XID.set(off + x[0], x[1]); });
    N += n;
    stats.shards += 1;
    SEARCH = SEARCH_KEYS.map(function (k) { return C[k] || (C[k] = new Uint32Array(TOTAL)); });
    // What was worked out for fewer rows is worked out again.
    rank = null;
    orders.clear();
    cacheKey = null;
    return true;
  }
  // The columns free text looks in (made once the first shard has made the columns).
  var SEARCH_KEYS = ["vendor", "name", "sub", "ids", "class", "rel", "arch", "drv", "drvv", "fw", "sys", "os"];
  var SEARCH = [];
  var SELECTS = ["arch", "rel", "vendor", "class"];
  var KEYS = ["q", "kind", "arch", "rel", "vendor", "class", "sort", "page"];
  var fields = {
    q: $("f-q"), kind: $("f-kind"), arch: $("f-arch"), rel: $("f-rel"),
    vendor: $("f-vendor"), "class": $("f-class")
  };

  function fmt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  // The selects' options, with how many entries each has.
  SELECTS.forEach(function (key) {
    var sel = fields[key], frag = document.createDocumentFragment();
    ((D.f || {})[key] || []).forEach(function (f) {
      var o = document.createElement("option");
      o.value = String(f[0]);
      o.textContent = f[0] + " (" + fmt(f[1]) + ")";
      frag.appendChild(o);
    });
    sel.appendChild(frag);
  });

  function indexOf(v) {
    var i = SIDX.get(v);
    return i === undefined ? -2 : i; // -2 matches no row
  }

  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    var st = {};
    KEYS.forEach(function (k) { st[k] = p.get(k) || ""; });
    if (st.kind !== "system" && st.kind !== "component") st.kind = "";
    st.page = Math.max(1, parseInt(st.page, 10) || 1);
    return st;
  }
  function same(a, b) {
    return KEYS.every(function (k) { return a[k] === b[k]; });
  }
  function writeHash() {
    var p = new URLSearchParams();
    KEYS.forEach(function (k) {
      var v = k === "page" ? (state.page > 1 ? String(state.page) : "") : state[k];
      if (v) p.set(k, v);
    });
    var h = p.toString();
    if (h === location.hash.replace(/^#/, "")) return;
    try {
      history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
    } catch (e) {
      location.replace("#" + h);
    }
  }

  // Sorting: each distinct string's rank (empty strings last), then rows by their rank.
  var rank = null;
  function ranks() {
    if (rank) return rank;
    var idx = new Uint32Array(S.length);
    for (var i = 0; i < idx.length; i++) idx[i] = i;
    idx.sort(function (a, b) {
      var x = L[a], y = L[b];
      if (!x !== !y) return x ? -1 : 1;
      return x < y ? -1 : x > y ? 1 : S[a] < S[b] ? -1 : S[a] > S[b] ? 1 : 0;
    });
    rank = new Float64Array(S.length);
    for (var r = 0; r < idx.length; r++) rank[idx[r]] = r;
    // Releases in version order (8.10 after 8.9), as the OS release select lists them.
    var relRank = new Float64Array(S.length).fill(S.length);
    ((D.f || {}).rel || []).forEach(function (f, i) {
      var x = SIDX.get(f[0]);
      if (x !== undefined) relRank[x] = i;
    });
    rank.rel = relRank;
    return rank;
  }
  var orders = new Map();
  function orderFor(sort) {
    if (!sort) return null;
    if (orders.has(sort)) return orders.get(sort);
    var desc = sort.charAt(0) === "-", col = desc ? sort.slice(1) : sort;
    var key = new Float64Array(N), i;
    if (col === "kind") {
      for (i = 0; i < N; i++) key[i] = KIND[i];
    } else if (col === "drv") {
      var rk = ranks(), d = C.drv, v = C.drvv, m = S.length + 1;
      for (i = 0; i < N; i++) key[i] = rk[d[i]] * m + rk[v[i]];
    } else if (C[col]) {
      var rr = col === "rel" ? ranks().rel : ranks(), c = C[col];
      for (i = 0; i < N; i++) key[i] = rr[c[i]];
    } else {
      return null;
    }
    var o = new Uint32Array(N);
    for (i = 0; i < N; i++) o[i] = i;
    var sgn = desc ? -1 : 1;
    o.sort(function (a, b) { return (key[a] - key[b]) * sgn || a - b; });
    orders.set(sort, o);
    return o;
  }

  // Filtering.
  var cacheKey = null, cacheRows = null;
  function matching() {
    var key = JSON.stringify(KEYS.slice(0, 7).map(function (k) { return state[k]; }));
    if (key === cacheKey) return cacheRows;
    var t = performance.now();
    var words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length) lowerIds();
    var hits = words.map(function (w) {
      var h = new Uint8Array(S.length);
      for (var i = 0; i < L.length; i++) if (L[i].indexOf(w) >= 0) h[i] = 1;
      return h;
    });
    var kind = state.kind === "system" ? 0 : state.kind === "component" ? 1 : -1;
    var want = SELECTS.map(function (k) { return state[k] ? indexOf(state[k]) : -1; });
    var cols = SELECTS.map(function (k) { return C[k]; });
    var order = orderFor(state.sort);
    var out = new Uint32Array(N), m = 0, nw = words.length, ns = SEARCH.length;
    rows: for (var n = 0; n < N; n++) {
      var r = order ? order[n] : n;
      if (kind >= 0 && KIND[r] !== kind) continue;
      for (var s = 0; s < 4; s++) if (want[s] !== -1 && cols[s][r] !== want[s]) continue rows;
      for (var w = 0; w < nw; w++) {
        var h = hits[w], ok = false;
        for (var c = 0; c < ns; c++) if (h[SEARCH[c][r]]) { ok = true; break; }
        if (!ok && IDL[r].indexOf(words[w]) < 0) continue rows;
      }
      out[m++] = r;
    }
    cacheKey = key;
    cacheRows = out.subarray(0, m);
    stats.filter_ms = performance.now() - t;
    return cacheRows;
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function row(r) {
    var tr = document.createElement("tr");
    cell(tr, KIND[r] ? "Component" : "System");
    cell(tr, S[C.vendor[r]]);
    var td = cell(tr, "", "name");
    var a = document.createElement("a");
    a.href = "entries/" + encodeURIComponent(idOf(r)) + ".html";
    a.textContent = S[C.name[r]];
    td.appendChild(a);
    var sub = S[C.sub[r]];
    if (sub) {
      var sp = document.createElement("span");
      sp.className = "sub";
      sp.textContent = sub;
      td.appendChild(sp);
    }
    cell(tr, S[C.ids[r]], "mono");
    cell(tr, S[C["class"][r]]);
    cell(tr, S[C.rel[r]], "nw");
    cell(tr, S[C.arch[r]]);
    var d = S[C.drv[r]], v = S[C.drvv[r]];
    cell(tr, d && v ? d + " " + v : d || v);
    // A revoked entry is never shown as certified.
    var rev = C.rev ? S[C.rev[r]] : "";
    cell(tr, rev ? "Revoked " + rev : S[C.date[r]], rev ? "date revoked" : "date");
    return tr;
  }

  function render() {
    var rows = matching(), m = rows.length, t = performance.now();
    var pages = Math.max(1, Math.ceil(m / PAGE));
    if (state.page > pages) state.page = pages;
    var from = (state.page - 1) * PAGE, to = Math.min(m, from + PAGE);
    var frag = document.createDocumentFragment();
    for (var i = from; i < to; i++) frag.appendChild(row(rows[i]));
    if (m === 0) {
      var tr = document.createElement("tr");
      var td = cell(tr, TOTAL ? "No entries match the filters." : "There are no entries in this list yet.", "empty");
      td.colSpan = 9;
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    var text;
    if (TOTAL === 0) text = "There are no entries in this list yet.";
    else if (m === 0) text = "No entries match the filters (" + fmt(N) + " in all).";
    else text = fmt(from + 1) + "–" + fmt(to) + " of " + fmt(m) + " entries" +
      (m < N ? " matching (" + fmt(N) + " in all)" : "");
    if (N < TOTAL) text += " — loading, " + fmt(N) + " of " + fmt(TOTAL) + " entries so far";
    count.textContent = text;
    pageinfo.textContent = "Page " + fmt(state.page) + " of " + fmt(pages);
    prev.disabled = state.page <= 1;
    next.disabled = state.page >= pages;
    table.querySelectorAll("th[data-col]").forEach(function (th) {
      var c = th.getAttribute("data-col");
      th.setAttribute("aria-sort", state.sort === c ? "ascending" : state.sort === "-" + c ? "descending" : "none");
    });
    stats.render_ms = performance.now() - t;
  }

  function update() {
    render();
    writeHash();
    stats.updates += 1;
  }

  function syncForm() {
    Object.keys(fields).forEach(function (k) {
      var el = fields[k], v = state[k];
      if (el.tagName === "SELECT" && v && !Array.prototype.some.call(el.options, function (o) { return o.value === v; })) {
        var o = document.createElement("option");
        o.value = v;
        o.textContent = v + " (0)";
        el.appendChild(o);
      }
      el.value = v;
    });
  }

  var state = readHash();
  syncForm();

  var timer = 0;
  fields.q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (state.q === fields.q.value) return;
      state.q = fields.q.value;
      state.page = 1;
      update();
    }, 120);
  });
  ["kind"].concat(SELECTS).forEach(function (k) {
    fields[k].addEventListener("change", function () {
      state[k] = fields[k].value;
      state.page = 1;
      update();
    });
  });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  form.addEventListener("reset", function (ev) {
    ev.preventDefault();
    Object.keys(fields).forEach(function (k) { state[k] = ""; });
    state.page = 1;
    syncForm();
    update();
    fields.q.focus();
  });
  prev.addEventListener("click", function () { state.page -= 1; update(); });
  next.addEventListener("click", function () { state.page += 1; update(); });
  table.querySelectorAll("th[data-col] button").forEach(function (b) {
    b.addEventListener("click", function () {
      var c = b.parentNode.getAttribute("data-col");
      var first = c === "date" ? "-date" : c, second = c === "date" ? "date" : "-" + c;
      state.sort = state.sort === first ? second : state.sort === second ? "" : first;
      state.page = 1;
      update();
    });
  });
  window.addEventListener("hashchange", function () {
    var st = readHash();
    if (same(st, state)) return;
    state = st;
    syncForm();
    update();
  });
  document.addEventListener("keydown", function (ev) {
    var t = ev.target && ev.target.tagName;
    if (ev.key === "/" && t !== "INPUT" && t !== "SELECT" && t !== "TEXTAREA" && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      fields.q.focus();
    }
  });

  form.hidden = false;
  pager.hidden = false;
  function ready() {
    stats.loaded_ms = performance.now() - t0;
    (window.requestIdleCallback || setTimeout)(lowerIds);
    document.documentElement.setAttribute("data-ready", "1");
  }
  var shown = false;
  window.HCL_SHARD = function (sh) {
    if (!addShard(sh)) return;
    update();
    if (!shown) {
      shown = true;
      stats.first_ms = performance.now() - t0;
      document.documentElement.setAttribute("data-first", "1");
    }
    if (N === TOTAL) ready();
  };
  stats.init_ms = performance.now() - t0;
  if (TOTAL === 0 || D.shards.length === 0) {
    update();
    ready();
    return;
  }
  // Until the first shard is in, the page shows the first rows its HTML holds.
  D.shards.forEach(function (s) {
    var el = document.createElement("script");
    el.src = "data/" + encodeURIComponent(String(s[0]));
    el.async = false; // run in order
    el.onerror = function () {
      stats.errors += 1;
      count.textContent = "Part of the list could not be loaded (" + s[0] + "): " + fmt(N) +
        " of " + fmt(TOTAL) + " entries are searched. The whole list is in hcl.csv.";
    };
    document.body.appendChild(el);
  });
})();
