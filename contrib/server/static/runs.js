// The runs list: redrawn from /api/dashboard/runs on every event of the all-runs stream.
"use strict";

(function () {
  const body = document.getElementById("runs");
  const live = document.getElementById("live-state");
  const query = new URLSearchParams(location.search);
  const filters = new URLSearchParams();
  for (const key of ["status", "spec"]) if (query.get(key)) filters.set(key, query.get(key));

  function row(run) {
    return el("tr", { "data-run": run.id, "data-status": run.status },
      el("td", {}, el("a", { href: `/runs/${encodeURIComponent(run.id)}`, text: run.id })),
      el("td", {}, el("span", { class: `badge s-${run.status}`, text: run.status })),
      el("td", { text: run.spec }),
      el("td", { text: utc(run.started_at) }),
      el("td", { class: "num", text: seconds(run.seconds) }),
      el("td", { class: "num", text: usd(run.cost_usd) }),
      el("td", {}, run.verdict ? el("span", { class: `badge q-${run.verdict}`, text: run.verdict }) : null));
  }

  const refresh = throttled(async () => {
    const runs = await getJSON(`/api/dashboard/runs?${filters}`);
    if (runs.length === 0) {
      body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 7, text: "No runs match." })));
    } else {
      body.replaceChildren(...runs.map(row));
    }
  }, 250);

  follow("/api/events/stream", refresh, (state) => {
    live.textContent = state;
    live.dataset.state = state;
  });
})();
