"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("report-data").textContent);
  const SVG_NS = "http://www.w3.org/2000/svg"; // a namespace name, not a request
  const ROW = 20, LABEL_W = 300, AXIS_H = 22, DUR_W = 64;
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svgEl = (tag, attrs, text) => {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const human = (us) => {
    if (us < 1000) return Math.round(us) + "µs";
    if (us < 1e6) return (us / 1e3).toFixed(1) + "ms";
    if (us < 6e7) return (us / 1e6).toFixed(2) + "s";
    const s = Math.floor(us / 1e6);
    return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
  };
  const ms = (v) => human(v * 1000);
  const color = (kind) => `var(--${kind}, #64748b)`;

  let current = null; // the selected trace
  let view = [0, 1]; // the visible window, µs after the trace's start
  let selected = -1; // the inspected span

  function overview() {
    const s = DATA.summary;
    const o = $("overview");
    const add = (text, cls) => o.appendChild(el("span", cls ? { class: cls } : {}, text));
    add(`${s.traces} traces`);
    add(`${s.spans} spans`);
    add(`${s.errors} errors`, s.errors ? "err" : "");
    add(`${s.tokens.input + s.tokens.output} tokens`);
    if (s.cost !== null) add(`$${s.cost.toFixed(4)}`);
    if (DATA.total_traces > DATA.traces.length)
      add(`(timeline: the ${DATA.traces.length} slowest of ${DATA.total_traces})`, "muted");
    add(`generated ${DATA.generated} UTC`, "muted");
  }

  function traceList() {
    const list = $("trace-list");
    const q = $("filter").value.toLowerCase();
    list.textContent = "";
    for (const t of DATA.traces) {
      if (q && !(t.workflow + " " + t.id + " " + (t.group || "")).toLowerCase().includes(q)) continue;
      const item = el("div", { class: "trace-item" + (t === current ? " selected" : ""), "data-id": t.id });
      item.appendChild(el("div", { class: "wf" }, t.workflow || "(no trace record)"));
      const meta = el("div", { class: "meta" },
        `${t.start} · ${human(t.dur)} · ${t.spans.length} spans · ${t.tokens} tokens `);
      if (t.errors) meta.appendChild(el("span", { class: "err" }, `${t.errors} error${t.errors > 1 ? "s" : ""}`));
      item.appendChild(meta);
      item.appendChild(el("div", { class: "meta" }, t.id + (t.group ? " · " + t.group : "")));
      item.addEventListener("click", () => select(t));
      list.appendChild(item);
    }
  }

  function select(t) {
    current = t;
    view = [0, Math.max(t.dur, 1)];
    selected = -1;
    $("trace-title").textContent = `${t.workflow || t.id} — ${human(t.dur)}`;
    try { history.replaceState(null, "", "#trace=" + encodeURIComponent(t.id)); } catch (e) { /* file: URLs may refuse */ }
    traceList();
    gantt();
    inspect(-1);
  }

  function ticks(w) {
    const span = view[1] - view[0];
    const raw = span / Math.max(2, Math.floor(w / 110));
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(view[0] / step) * step; v <= view[1]; v += step) out.push(v);
    return out;
  }

  function gantt() {
    const box = $("timeline");
    box.textContent = "";
    const t = current;
    if (!t) return;
    const width = Math.max(box.clientWidth, 600);
    const barW = width - LABEL_W - DUR_W;
    const height = AXIS_H + t.spans.length * ROW + 4;
    const x = (us) => LABEL_W + ((us - view[0]) / (view[1] - view[0])) * barW;
    const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}` });
    for (const v of ticks(barW)) {
      const px = x(v);
      svg.appendChild(svgEl("line", { class: "tick", x1: px, x2: px, y1: AXIS_H - 4, y2: height }));
      svg.appendChild(svgEl("text", { class: "ticklabel", x: px + 2, y: 9 }, human(v)));
    }
    const clip = svgEl("clipPath", { id: "bars" });
    clip.appendChild(svgEl("rect", { x: LABEL_W, y: 0, width: barW, height }));
    svg.appendChild(clip);
    const bars = svgEl("g", { "clip-path": "url(#bars)" });
    t.spans.forEach((s, i) => {
      const y = AXIS_H + i * ROW;
      const row = svgEl("rect", { class: "row" + (i === selected ? " selected" : ""), x: 0, y, width, height: ROW, fill: "transparent" });
      row.addEventListener("click", () => inspect(i));
      svg.appendChild(row);
      const label = svgEl("text", { class: "label" + (s.error ? " failed" : ""), x: 6 + Math.min(s.depth, 12) * 12, y: y + ROW / 2 },
        (s.error ? "✗ " : "") + s.name);
      label.appendChild(svgEl("title", {}, `${s.kind} ${s.name}`));
      label.addEventListener("click", () => inspect(i));
      svg.appendChild(label);
      const x0 = x(s.s), x1 = x(s.s + s.d);
      const rect = svgEl("rect", {
        class: "span" + (s.crit ? " crit" : "") + (s.error ? " failed" : ""),
        x: Math.min(x0, x1), y: y + 4, width: Math.max(x1 - x0, 2), height: ROW - 8,
        fill: color(s.kind), "data-index": i,
      });
      rect.appendChild(svgEl("title", {}, `${s.kind} ${s.name}: ${human(s.d)}${s.error ? " — " + s.error : ""}`));
      rect.addEventListener("click", () => inspect(i));
      bars.appendChild(rect);
      svg.appendChild(svgEl("text", { class: "dur", x: width - DUR_W + 6, y: y + ROW / 2 }, human(s.d)));
    });
    svg.appendChild(bars);
    box.appendChild(svg);
    document.body.setAttribute("data-rendered-spans", String(svg.querySelectorAll("rect.span").length));
    document.body.setAttribute("data-trace-id", t.id);
  }

  function zoom(factor, centerUs) {
    if (!current) return;
    const full = Math.max(current.dur, 1);
    const c = centerUs === undefined ? (view[0] + view[1]) / 2 : centerUs;
    let w = Math.min(full, Math.max((view[1] - view[0]) * factor, full / 1e6, 0.001));
    let a = c - (c - view[0]) * (w / (view[1] - view[0]));
    a = Math.max(0, Math.min(a, full - w));
    view = [a, a + w];
    gantt();
  }

  function pan(dxPx) {
    const box = $("timeline");
    const barW = Math.max(box.clientWidth, 600) - LABEL_W - DUR_W;
    const full = Math.max(current.dur, 1);
    const w = view[1] - view[0];
    let a = view[0] - (dxPx / barW) * w;
    a = Math.max(0, Math.min(a, full - w));
    view = [a, a + w];
    gantt();
  }

  function dl(pairs) {
    const d = el("dl");
    for (const [k, v] of pairs) {
      if (v === undefined || v === null || v === "") continue;
      d.appendChild(el("dt", {}, k));
      d.appendChild(el("dd", {}, String(v)));
    }
    return d;
  }

  function inspect(i) {
    selected = i;
    const box = $("inspector");
    box.textContent = "";
    if (i < 0 || !current) {
      box.appendChild(el("p", { class: "muted" }, "Click a span to inspect it."));
      return;
    }
    const s = current.spans[i];
    box.appendChild(el("h2", {}, `${s.kind} · ${s.name}`));
    const parent = s.parent === null ? "(top level)" : current.spans[s.parent].name;
    box.appendChild(dl([
      ["span id", s.id], ["parent", parent], ["starts at", "+" + human(s.s)],
      ["duration", human(s.d)], ["self time", human(s.selft)],
      ["on the critical path", s.crit ? "yes" : "no"], ["model", s.model],
      ["tokens", s.tokens ? `${s.tokens.input} in, ${s.tokens.output} out` : null],
      ["file line", s.line || null],
    ]));
    if (s.error) {
      box.appendChild(el("h2", { class: "err" }, "Error"));
      box.appendChild(el("pre", {}, s.error));
    }
    if (s.raw) {
      if (s.raw.error) box.appendChild(el("pre", {}, JSON.stringify(s.raw.error, null, 2)));
      box.appendChild(el("h2", {}, "span_data"));
      box.appendChild(el("pre", {}, JSON.stringify(s.raw.span_data, null, 2)));
    }
    gantt();
  }

  function table(headers, rows) {
    const t = el("table");
    const tr = el("tr");
    headers.forEach((h, i) => tr.appendChild(el("th", i < 2 ? { class: "l" } : {}, h)));
    t.appendChild(tr);
    for (const r of rows) {
      const row = el("tr");
      r.forEach((c, i) => {
        const td = el("td", i < 2 ? { class: "l" } : {});
        if (c instanceof Node) td.appendChild(c); else td.textContent = c;
        row.appendChild(td);
      });
      t.appendChild(row);
    }
    return t;
  }

  function kindCell(kind) {
    const span = el("span");
    const dot = el("span", { class: "kind" });
    dot.style.background = color(kind);
    span.appendChild(dot);
    span.appendChild(document.createTextNode(kind));
    return span;
  }

  function stats() {
    const s = DATA.summary;
    const body = $("stats-body");
    const l = s.trace_latency;
    body.appendChild(el("p", {},
      `Trace duration p50 ${ms(l.p50_ms)}, p95 ${ms(l.p95_ms)}, p99 ${ms(l.p99_ms)}, max ${ms(l.max_ms)}. ` +
      `${s.skipped} input line(s) skipped.`));
    for (const p of s.critical_paths) {
      body.appendChild(el("h2", {}, `Critical path of ${p.workflow_name || p.trace_id} (${ms(p.duration_ms)})`));
      body.appendChild(table(["kind", "span", "on path", "share"], p.steps.map((st) => {
        const share = p.duration_ms > 0 ? (100 * st.on_path_ms) / p.duration_ms : 0;
        const bar = el("span", { class: "bar" });
        bar.style.width = Math.max(1, share * 1.5) + "px";
        const cell = el("span", {}, `${share.toFixed(1)}% `);
        cell.appendChild(bar);
        return [kindCell(st.kind), "\u00a0".repeat(2 * Math.min(st.depth, 12)) + st.name, ms(st.on_path_ms), cell];
      })));
    }
    body.appendChild(el("h2", {}, "Spans by self time, latency and errors"));
    body.appendChild(table(
      ["kind", "name", "count", "self time", "p50", "p95", "p99", "error rate", "most common errors"],
      s.by_span.map((r) => [kindCell(r.kind), r.name, r.count, ms(r.self_time_ms), ms(r.latency.p50_ms),
        ms(r.latency.p95_ms), ms(r.latency.p99_ms), (100 * r.error_rate).toFixed(1) + "%",
        r.top_errors.map(([m, n]) => `${n}× ${m}`).join("; ")])));
    const usage = (title, rows) => {
      if (!rows.length) return;
      body.appendChild(el("h2", {}, title));
      body.appendChild(table(["name", "calls", "input", "output", "total", "cost"],
        rows.map((r) => [r.name, r.calls, r.tokens.input, r.tokens.output, r.tokens.input + r.tokens.output,
          r.cost === null ? "-" : "$" + r.cost.toFixed(4)])));
    };
    usage("Token usage by model", s.by_model);
    usage("Token usage by agent", s.by_agent);
  }

  function wire() {
    $("filter").addEventListener("input", traceList);
    $("zoom-in").addEventListener("click", () => zoom(0.5));
    $("zoom-out").addEventListener("click", () => zoom(2));
    $("zoom-reset").addEventListener("click", () => current && select(current));
    const box = $("timeline");
    box.addEventListener("wheel", (e) => {
      if (!current) return;
      e.preventDefault();
      const rect = box.getBoundingClientRect();
      const barW = Math.max(box.clientWidth, 600) - LABEL_W - DUR_W;
      const frac = Math.min(1, Math.max(0, (e.clientX - rect.left - LABEL_W) / barW));
      zoom(e.deltaY < 0 ? 0.8 : 1.25, view[0] + frac * (view[1] - view[0]));
    }, { passive: false });
    let drag = null;
    box.addEventListener("mousedown", (e) => { drag = e.clientX; });
    window.addEventListener("mouseup", () => { drag = null; });
    window.addEventListener("mousemove", (e) => {
      if (drag === null || !current) return;
      const dx = e.clientX - drag;
      if (Math.abs(dx) > 2) { pan(dx); drag = e.clientX; }
    });
    window.addEventListener("resize", gantt);
  }

  overview();
  wire();
  stats();
  const m = /trace=([^&]+)/.exec(location.hash);
  const wanted = m ? decodeURIComponent(m[1]) : null;
  const first = DATA.traces.find((t) => t.id === wanted) || DATA.traces[0];
  if (first) select(first); else traceList();
})();
