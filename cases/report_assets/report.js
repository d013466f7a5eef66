/* phone-forensics report: the paged, sortable, searchable timeline.
 *
 * Events live in numbered data files (data/timeline-NNNNN.js, each calling window.reportChunk) loaded only when a
 * page needs them: time order (either way) and paging need one or two files; search and the other sort orders read
 * the files one after the other and keep an index of matching events. Everything is shown with textContent, never
 * as HTML. No network: every file is the report's own. The state is kept in the URL fragment
 * (#page=N&size=N&sort=KEY&q=TEXT) so a page can be linked and reloaded.
 */
(function () {
  "use strict";
  var manifest = window.reportManifest;
  var table = document.getElementById("rows");
  if (!manifest || !table) { return; }

  var FIELDS = manifest.fields;
  var F = {};
  FIELDS.forEach(function (name, i) { F[name] = i; });
  var SHOWN = 2000; // characters of an event's text shown in a cell
  var chunks = {};
  var waiting = {};
  var state = { page: 1, size: 100, sort: "time-asc", q: "" };
  var order = null; // indices of matching events in the chosen order (null: all events in time order)
  var orderKey = null;
  var status = document.getElementById("status");

  window.reportChunk = function (n, rows) {
    chunks[n] = rows;
    if (waiting[n]) { waiting[n].forEach(function (done) { done(); }); delete waiting[n]; }
  };

  function pad(n) { return ("0000" + n).slice(-5); }

  function loadChunk(n) {
    return new Promise(function (resolve, reject) {
      if (chunks[n]) { resolve(); return; }
      if (waiting[n]) { waiting[n].push(resolve); return; }
      waiting[n] = [resolve];
      var script = document.createElement("script");
      script.src = "data/timeline-" + pad(n) + ".js";
      script.onerror = function () { reject(new Error("data file " + n + " could not be read")); };
      document.head.appendChild(script);
    });
  }

  function eventAt(i) { return chunks[Math.floor(i / manifest.chunk)][i % manifest.chunk]; }

  function loadAll(progress) {
    var n = 0;
    function next() {
      if (n >= manifest.chunks) { return Promise.resolve(); }
      progress(n);
      return loadChunk(n++).then(next);
    }
    return next();
  }

  function sortValue(row, key) {
    if (key === "device") { return row[F.device_id] || ""; }
    if (key === "artifact") { return row[F.artifact] || ""; }
    return row[F.platform] || row[F.app] || "";
  }

  function buildOrder() {
    var key = state.sort + "\u0000" + state.q;
    if (key === orderKey) { return Promise.resolve(); }
    if (!state.q && (state.sort === "time-asc" || state.sort === "time-desc")) {
      order = null; orderKey = key; return Promise.resolve();
    }
    return loadAll(function (n) {
      status.textContent = "Reading events… " + Math.round(100 * n / manifest.chunks) + "%";
    }).then(function () {
      var needle = state.q.toLowerCase();
      var found = [];
      for (var i = 0; i < manifest.events; i++) {
        if (!needle) { found.push(i); continue; }
        var row = eventAt(i);
        for (var c = 0; c < row.length; c++) {
          if (row[c] !== null && String(row[c]).toLowerCase().indexOf(needle) !== -1) { found.push(i); break; }
        }
      }
      if (state.sort === "time-desc") {
        found.reverse();
      } else if (state.sort !== "time-asc") {
        var values = {};
        found.forEach(function (i) { values[i] = sortValue(eventAt(i), state.sort); });
        found.sort(function (a, b) {
          return values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : a - b;
        });
      }
      order = found; orderKey = key;
    });
  }

  function total() { return order === null ? manifest.events : order.length; }

  function indexAt(position) {
    if (order !== null) { return order[position]; }
    return state.sort === "time-desc" ? manifest.events - 1 - position : position;
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    td.textContent = text === null || text === undefined ? "" : String(text);
    tr.appendChild(td);
    return td;
  }

  function render() {
    var count = total();
    var pages = Math.max(1, Math.ceil(count / state.size));
    if (state.page > pages) { state.page = pages; }
    if (state.page < 1) { state.page = 1; }
    var start = (state.page - 1) * state.size;
    var end = Math.min(count, start + state.size);
    var needed = {};
    for (var p = start; p < end; p++) { needed[Math.floor(indexAt(p) / manifest.chunk)] = true; }
    return Promise.all(Object.keys(needed).map(function (n) { return loadChunk(Number(n)); })).then(function () {
      var body = document.createDocumentFragment();
      for (var p = start; p < end; p++) {
        var i = indexAt(p);
        var row = eventAt(i);
        var tr = document.createElement("tr");
        tr.setAttribute("data-event", String(i + 1));
        cell(tr, i + 1, "num");
        cell(tr, row[F.datetime], "time");
        if (F.local_time !== undefined) { cell(tr, row[F.local_time], "time"); }
        cell(tr, row[F.timestamp_desc]);
        var dev = cell(tr, "");
        var page = manifest.device_pages[row[F.device_id]];
        if (page) {
          var a = document.createElement("a");
          a.setAttribute("href", page);
          a.textContent = row[F.device_id];
          dev.appendChild(a);
        } else {
          dev.textContent = row[F.device_id] || "";
        }
        cell(tr, row[F.artifact]);
        cell(tr, row[F.platform] || row[F.app]);
        var text = row[F.message] || "";
        var td = cell(tr, text.length > SHOWN ? text.slice(0, SHOWN) : text, "body");
        td.setAttribute("dir", "auto");
        if (text.length > SHOWN) {
          var more = document.createElement("span");
          more.className = "more";
          more.textContent = " … (" + text.length + " characters; the whole text is in the conversation page and the exports)";
          td.appendChild(more);
        }
        var source = [row[F.source_path], row[F.source_table], row[F.source_row] ? "row " + row[F.source_row] : null];
        cell(tr, source.filter(function (s) { return s; }).join(" · "), "small");
        body.appendChild(tr);
      }
      table.textContent = "";
      table.appendChild(body);
      document.getElementById("page").value = String(state.page);
      document.getElementById("pages").textContent = "of " + pages;
      status.textContent = count ? "Events " + (start + 1) + "–" + end + " of " + count +
        (state.q ? " matching “" + state.q + "”" : "") + " (page " + state.page + " of " + pages + ")"
        : "No event matches.";
      var fragment = "page=" + state.page + "&size=" + state.size + "&sort=" + encodeURIComponent(state.sort) +
        (state.q ? "&q=" + encodeURIComponent(state.q) : "");
      if (location.hash.slice(1) !== fragment) { history.replaceState(null, "", "#" + fragment); }
    });
  }

  function update() {
    return buildOrder().then(render).catch(function (err) { status.textContent = "Error: " + err.message; });
  }

  function readFragment() {
    location.hash.slice(1).split("&").forEach(function (part) {
      var kv = part.split("=");
      var value = decodeURIComponent(kv.slice(1).join("=") || "");
      if (kv[0] === "page") { state.page = parseInt(value, 10) || 1; }
      if (kv[0] === "size") { state.size = Math.min(1000, Math.max(1, parseInt(value, 10) || 100)); }
      if (kv[0] === "sort" && ["time-asc", "time-desc", "device", "artifact", "platform"].indexOf(value) !== -1) {
        state.sort = value;
      }
      if (kv[0] === "q") { state.q = value; }
    });
    document.getElementById("search").value = state.q;
    document.getElementById("sort").value = state.sort;
    var size = document.getElementById("size");
    if (!Array.prototype.some.call(size.options, function (o) { return o.value === String(state.size); })) {
      var option = document.createElement("option");
      option.textContent = String(state.size);
      size.appendChild(option);
    }
    size.value = String(state.size);
  }

  function go(page) { state.page = page; update(); }

  document.getElementById("first").addEventListener("click", function () { go(1); });
  document.getElementById("prev").addEventListener("click", function () { go(state.page - 1); });
  document.getElementById("next").addEventListener("click", function () { go(state.page + 1); });
  document.getElementById("last").addEventListener("click", function () { go(Math.ceil(total() / state.size)); });
  document.getElementById("page").addEventListener("change", function (e) { go(parseInt(e.target.value, 10) || 1); });
  document.getElementById("size").addEventListener("change", function (e) {
    state.size = parseInt(e.target.value, 10) || 100; go(1);
  });
  document.getElementById("sort").addEventListener("change", function (e) { state.sort = e.target.value; go(1); });
  var timer = null;
  document.getElementById("search").addEventListener("input", function (e) {
    clearTimeout(timer);
    timer = setTimeout(function () { state.q = e.target.value; go(1); }, 250);
  });
  document.getElementById("controls").addEventListener("submit", function (e) { e.preventDefault(); });
  readFragment();
  update();
})();
