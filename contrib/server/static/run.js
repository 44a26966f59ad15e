// One run, live: each event recolours its node at once; the rest is fetched again
// from /api/dashboard/runs/{id} (throttled) and redrawn.
"use strict";

(function () {
  let view = JSON.parse(document.getElementById("view-data").textContent);
  const runId = view.run.id;
  const dag = document.getElementById("dag");
  const BOX_WIDTH = Number(dag.querySelector("rect.box")?.getAttribute("width") || 150);

  function nodeLabel(node) {
    switch (node.state) {
      case "running": {
        const p = node.progress;
        return p && p.total ? `running ${Math.round((100 * p.completed) / p.total)}%` : "running";
      }
      case "failed":
        return `failed: ${node.error_class || "error"} ×${node.attempts}`;
      case "waiting":
        return `waiting: ${node.waiting_on.join(", ")}`;
      default:
        return node.attempts > 1 ? `${node.state} ×${node.attempts}` : node.state;
    }
  }

  function paintNode(node) {
    const group = dag.querySelector(`g.node[data-node="${CSS.escape(node.id)}"]`);
    if (!group) return;
    group.dataset.state = node.state;
    group.classList.toggle("critical", view.critical_path.includes(node.id));
    const label = nodeLabel(node);
    const sub = group.querySelector("text.sub");
    sub.textContent = label.length > 24 ? label.slice(0, 23) + "…" : label;
    const p = node.state === "running" ? node.progress : null;
    const share = p && p.total ? Math.min(1, p.completed / p.total) : 0;
    group.querySelector("rect.progress").setAttribute("width", String(BOX_WIDTH * share));
    const title = group.querySelector("title");
    title.textContent = `${node.id}: ${node.hook} (${node.provider || "any provider"}) — ${label}` +
      (node.error ? `\n${node.error}` : "");
  }

  // An event's effect on its node, before the view is fetched again.
  function apply(type, event) {
    const node = view.nodes.find((n) => n.id === event.node);
    if (!node) return;
    const data = event.data || {};
    if (type === "node.started") { node.state = "running"; node.progress = null; node.waiting_on = []; }
    else if (type === "node.progress") { node.progress = data; }
    else if (type === "node.succeeded") { node.state = data.cached ? "cached" : "succeeded"; }
    else if (type === "node.failed") { node.state = "failed"; node.error = data.error || node.error; }
    else if (type.startsWith("node.") && ["skipped", "blocked", "needs_input", "cancelled"].includes(type.slice(5))) {
      node.state = type.slice(5);
    } else return;
    paintNode(node);
  }

  function renderHead() {
    const run = view.run;
    const status = document.getElementById("run-status");
    status.textContent = run.status;
    status.className = `badge s-${run.status}`;
    document.getElementById("run-seconds").textContent = seconds(run.seconds);
    document.getElementById("run-eta").textContent =
      view.eta_s === null ? "–" : `${view.eta_s.toFixed(1)} s left (estimate)`;
    document.getElementById("run-cost").textContent = usd(view.costs.total_usd);
    const tokens = view.costs.tokens;
    document.getElementById("run-tokens").textContent = tokens ? `${tokens.input} in / ${tokens.output} out` : "–";
    document.getElementById("run-verdict").textContent = view.verdict || "–";
    const error = document.getElementById("run-error");
    error.hidden = !run.error;
    error.textContent = run.error || "";
  }

  function renderTable() {
    const rows = view.nodes.map((node) => {
      const cost = view.costs.by_node[node.id];
      const tokens = cost && cost.tokens;
      return el("tr", { "data-node": node.id, "data-state": node.state },
        el("td", { text: node.id }), el("td", { text: node.hook }),
        el("td", { text: node.provider || "any" }),
        el("td", {}, el("span", { class: `badge n-${node.state}`, text: nodeLabel(node) })),
        el("td", { class: "num", text: node.attempts }),
        el("td", { class: "num", text: node.seconds === null ? "" : node.seconds.toFixed(2) }),
        el("td", { class: "num", text: usd(cost ? cost.usd : node.cost_usd) }),
        el("td", { class: "num", text: tokens ? `${tokens.input} / ${tokens.output}` : "" }),
        el("td", { class: "err", title: node.error || "", text: node.error ? node.error.slice(0, 120) : "" }));
    });
    document.getElementById("nodes").replaceChildren(...rows);
    document.getElementById("total-cost").textContent = usd(view.costs.total_usd);
    const tokens = view.costs.tokens;
    document.getElementById("total-tokens").textContent = tokens ? `${tokens.input} / ${tokens.output}` : "";
  }

  function renderTimeline() {
    const box = document.getElementById("timeline");
    const bars = view.timeline;
    if (bars.length === 0) {
      box.replaceChildren(el("p", { class: "hint", text: "No call has started yet." }));
      return;
    }
    const now = Date.now() / 1000 - (view.timeline_origin || view.run.started_at);
    const ends = bars.map((b) => (b.end_s === null ? Math.max(now, b.start_s) : b.end_s));
    const span = Math.max(...ends, 0.001);
    const lanes = Math.max(...bars.map((b) => b.lane)) + 1;
    const rows = [];
    for (let lane = 0; lane < lanes; lane++) {
      const row = el("div", { class: "lane", "data-lane": lane }, el("span", { class: "lane-name", text: `lane ${lane}` }));
      const track = el("div", { class: "track" });
      bars.forEach((bar, i) => {
        if (bar.lane !== lane) return;
        const name = bar.item === null ? bar.node : `${bar.node}[${bar.item}]`;
        const classes = ["bar", `b-${bar.status}`];
        if (bar.retry) classes.push("retry");
        if (bar.fallback) classes.push("fallback");
        if (bar.critical) classes.push("critical");
        const width = Math.max(((ends[i] - bar.start_s) / span) * 100, 0.6);
        track.append(el("div", {
          class: classes.join(" "), "data-node": bar.node, "data-status": bar.status,
          style: `left:${(bar.start_s / span) * 100}%;width:${width}%`,
          title: `${name} attempt ${bar.attempt} (${bar.provider || "any"}): ${bar.status}, ` +
            `${bar.start_s.toFixed(2)}–${ends[i].toFixed(2)} s${bar.error ? "\n" + bar.error : ""}`,
        }, el("span", { text: bar.attempt > 1 ? `${name} #${bar.attempt}` : name })));
      });
      row.append(track);
      rows.push(row);
    }
    const axis = el("div", { class: "axis" }, el("span", { text: "0 s" }), el("span", { text: `${span.toFixed(2)} s` }));
    box.replaceChildren(...rows, axis);
  }

  function renderQuality() {
    const gates = view.quality || [];
    document.getElementById("quality-section").hidden = gates.length === 0;
    document.getElementById("quality").replaceChildren(...gates.map((g) => el("tr", { "data-passed": g.passed },
      el("td", { text: g.gate }), el("td", { text: g.stage || "" }),
      el("td", { text: g.passed ? "yes" : "no" }), el("td", { text: g.severity }),
      el("td", { class: "num", text: g.measured === null ? "" : `${g.measured} ${g.unit || ""}` }),
      el("td", { class: "num", text: g.threshold === null ? "" : `${g.threshold} ${g.unit || ""}` }),
      el("td", { text: g.message || "" }))));
  }

  function renderVideo() {
    const media = view.media;
    const section = document.getElementById("video-section");
    const slot = document.getElementById("video-slot");
    if (!media.video) { section.hidden = true; return; }
    const src = `/api/runs/${encodeURIComponent(runId)}/artifacts/${media.video}`;
    if (slot.dataset.src === src) return; // keep the player (and its position) as it is
    slot.dataset.src = src;
    const video = el("video", { controls: true, preload: "metadata", src, id: "run-video" });
    if (media.captions) {
      video.append(el("track", { kind: "captions", default: true, label: "captions", srclang: "und",
        src: `/api/runs/${encodeURIComponent(runId)}/artifacts/${media.captions}` }));
    }
    slot.replaceChildren(video, el("p", {}, el("a", { href: src, text: `download ${media.video}` })));
    section.hidden = false;
  }

  function renderQuestions() {
    const section = document.getElementById("questions-section");
    const form = document.getElementById("answers-form");
    const asking = view.run.status === "needs_input" && !view.run.live && view.questions.length > 0;
    section.hidden = !asking;
    if (!asking || form.dataset.keys === view.questions.map((q) => q.key).join(",")) return;
    form.dataset.keys = view.questions.map((q) => q.key).join(",");
    const fields = view.questions.map((q) => el("p", {},
      el("label", { for: `answer-${q.key}`, text: q.question }), el("br"),
      el("textarea", { id: `answer-${q.key}`, name: q.key, rows: 2, cols: 70, required: true })));
    const error = el("p", { class: "error", id: "answers-error", hidden: true });
    form.replaceChildren(...fields, el("button", { type: "submit", id: "send-answers", text: "Answer and resume" }), error);
  }

  document.getElementById("answers-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const answers = Object.fromEntries(new FormData(e.target).entries());
    const response = await fetch(`/api/runs/${encodeURIComponent(runId)}/answers`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ answers }),
    });
    if (response.ok) { e.target.dataset.keys = ""; refresh(); return; }
    const error = document.getElementById("answers-error");
    error.textContent = errorText(await response.json().catch(() => null), response.status);
    error.hidden = false;
  });

  function render() {
    renderHead();
    view.nodes.forEach(paintNode);
    renderTable();
    renderTimeline();
    renderQuality();
    renderVideo();
    renderQuestions();
  }

  const refresh = throttled(async () => {
    view = await getJSON(`/api/dashboard/runs/${encodeURIComponent(runId)}`);
    render();
  }, 200);

  render();
  follow(`/api/runs/${encodeURIComponent(runId)}/events/stream`, (type, event) => {
    apply(type, event);
    refresh();
  });
  // while it runs, the running bars, the duration and the ETA move on between events
  setInterval(() => { if (view.run.status === "running" || view.run.live) refresh(); }, 2000);
})();
