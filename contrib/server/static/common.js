// Shared helpers of the dashboard pages (plain JavaScript, no library, no network but this server).
"use strict";

// Every event type the run store writes (reelgraph.run.result.Event); EventSource
// hands named events only to listeners of that name.
const EVENT_TYPES = [
  "run.started", "run.finished", "run.answered",
  "node.started", "node.progress", "node.retrying", "node.fallback", "node.revised",
  "node.succeeded", "node.failed", "node.skipped", "node.blocked",
  "node.needs_input", "node.cancelled",
];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function utc(ts) {
  return ts ? new Date(ts * 1000).toISOString().slice(0, 19).replace("T", " ") : "";
}

function seconds(value) {
  return value === null || value === undefined ? "…" : `${Number(value).toFixed(1)} s`;
}

function usd(value) {
  return `$${Number(value || 0).toFixed(4)}`;
}

// Call `fn` at most once per `wait_ms`, and once more after the last call (trailing).
function throttled(fn, wait_ms) {
  let timer = null, again = false, running = false;
  async function fire() {
    timer = null;
    if (running) { again = true; return; }
    running = true;
    try { await fn(); } finally {
      running = false;
      if (again) { again = false; schedule(); }
    }
  }
  function schedule() { if (timer === null) timer = setTimeout(fire, wait_ms); }
  return schedule;
}

// Follow a Server-Sent Events stream; `onEvent(type, payload)` for each event.
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is lost.
function follow(url, onEvent, onState) {
  const source = new EventSource(url);
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (message) => onEvent(type, JSON.parse(message.data)));
  }
  source.onopen = () => onState && onState("live");
  source.onerror = () => onState && onState(source.readyState === 2 ? "closed" : "reconnecting");
  return source;
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function errorText(body, status) {
  const detail = body && body.detail;
  if (!detail) return `HTTP ${status}`;
  if (typeof detail === "string") return detail;
  if (detail.message) {
    const lines = (detail.problems || []).map((p) => `${p.node ? p.node + ": " : ""}${p.message}${p.hint ? " (" + p.hint + ")" : ""}`);
    return [detail.message, ...lines].join("\n");
  }
  return JSON.stringify(detail);
}
