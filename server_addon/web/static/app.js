// SiteSync dashboard: what every page shares. Data goes into the page as text only
// (textContent), never as markup.
"use strict";

const SiteSync = (() => {
  const meta = (name) => {
    const tag = document.querySelector(`meta[name="${name}"]`);
    return tag ? tag.getAttribute("content") : "";
  };
  const apiPrefix = meta("api-prefix");

  const STATUS = { NA: -1, IN_PROGRESS: 0, QUEUED: 1, FAILED: 2, PAUSED: 3, OK: 4 };
  const STATUS_NAMES = { "-1": "not on site", 0: "in progress", 1: "queued", 2: "failed",
                         3: "paused", 4: "ok" };
  const STATUS_CLASSES = { "-1": "na", 0: "in-progress", 1: "queued", 2: "failed",
                           3: "paused", 4: "ok" };

  class ApiError extends Error {
    constructor(status, message, errors) {
      super(message);
      this.status = status;
      this.errors = errors || [];
    }
  }

  function describe(detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
    }
    return "The server refused the request.";
  }

  // A call to the REST API with this session; the CSRF token goes with every change.
  function api(method, path, body) {
    return request(method, path.startsWith("/api/") ? path : apiPrefix + path, body);
  }

  // The JSON twin of a dashboard page (``?format=json``): the data the page renders, fresh.
  function twin(path) {
    const url = new URL(path || window.location.pathname, window.location.href);
    url.searchParams.set("format", "json");
    return request("GET", url.pathname + url.search, undefined, "no-store");
  }

  async function request(method, url, body, cache) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = meta("csrf-token");
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, { method, headers, credentials: "same-origin", cache,
                                    body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiError(0, "The server does not answer; check that it runs and try again.");
    }
    const text = await response.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch (err) { parsed = null; }
    if (!response.ok) {
      if (response.status === 401) {
        throw new ApiError(401, "Your session has ended; sign in again (reload the page).");
      }
      const detail = parsed && parsed.detail !== undefined ? parsed.detail : text;
      const errors = (parsed && parsed.errors) || (Array.isArray(detail) ? detail : []);
      throw new ApiError(response.status, describe(detail) || `HTTP ${response.status}`, errors);
    }
    return parsed;
  }

  // el("td", {class: "num"}, "text", child): attributes and text, never HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function toast(message, bad) {
    const box = document.getElementById("toast");
    if (!box) return;
    const item = el("div", { class: bad ? "item bad" : "item" }, message);
    box.append(item);
    setTimeout(() => item.remove(), bad ? 12000 : 5000);
  }

  function confirmAction(text, okLabel) {
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      return Promise.resolve(window.confirm(text));
    }
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = okLabel || "Confirm";
    dialog.returnValue = "cancel";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    });
  }

  function filesize(value) {
    if (value === null || value === undefined) return "";
    let size = Number(value);
    for (const unit of ["B", "KiB", "MiB", "GiB", "TiB"]) {
      if (Math.abs(size) < 1024 || unit === "TiB") {
        return unit === "B" ? `${Math.trunc(size)} B` : `${size.toFixed(1)} ${unit}`;
      }
      size /= 1024;
    }
    return "";
  }

  const rate = (value) => (value ? `${filesize(value)}/s` : "");
  const percent = (value) => `${Math.round((value || 0) * 100)}%`;
  function when(seconds) {
    if (!seconds) return "";
    return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  // The badge, progress bar, pause mark, message and retries of one side of a row.
  function statusCell(cell, side, site) {
    const status = side.status;
    cell.replaceChildren(el("span", { class: `badge st-${STATUS_CLASSES[status] || "na"}` },
                            STATUS_NAMES[status] || String(status)));
    if (status === STATUS.IN_PROGRESS) {
      cell.append(el("progress", { max: "1", value: String(side.progress || 0),
                                   "aria-label": `Progress on ${site}` }, percent(side.progress)),
                  el("span", { class: "pct" }, percent(side.progress)));
    }
    if (side.paused && status !== STATUS.PAUSED) {
      cell.append(" ", el("span", { class: "badge st-paused" }, "paused"));
    }
    if (side.message && status !== STATUS.OK) {
      cell.append(el("span", { class: status === STATUS.FAILED ? "msg failed" : "msg" },
                     side.message));
    }
    if (side.retries && status !== STATUS.OK) {
      cell.append(el("span", { class: "retries" },
                     `${side.retries} ${side.retries === 1 ? "retry" : "retries"}`));
    }
  }

  // Server-sent events of one project (with this session's cookie); reconnects by itself,
  // going on after the last event it had. They start from the newest event when the page
  // was made, so changes between the page's data and the stream's start are not missed.
  function events(project, kinds, onEvent, indicator) {
    if (typeof EventSource === "undefined") return null;
    const query = new URLSearchParams();
    if (meta("events-after")) query.set("after", meta("events-after"));
    if (project) query.set("project", project);
    if (kinds) query.set("kinds", kinds.join(","));
    const source = new EventSource(`${apiPrefix}/events/stream?${query}`,
                                   { withCredentials: true });
    const show = (state, text) => {
      if (!indicator) return;
      indicator.dataset.state = state;
      indicator.textContent = text;
    };
    source.onopen = () => show("open", "live");
    source.onerror = () => show("closed", "reconnecting…");
    for (const kind of kinds || []) {
      source.addEventListener(kind, (message) => {
        let event;
        try { event = JSON.parse(message.data); } catch (err) { return; }
        onEvent(kind, event.payload || {}, event);
      });
    }
    window.addEventListener("pagehide", () => source.close());
    return source;
  }

  // Run calls a few at a time; resolves to [{item, ok, error}] in order.
  async function each(items, call, limit = 4) {
    const results = new Array(items.length);
    let next = 0;
    async function worker() {
      while (next < items.length) {
        const index = next++;
        try {
          results[index] = { item: items[index], ok: true, value: await call(items[index]) };
        } catch (error) {
          results[index] = { item: items[index], ok: false, error };
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
  }

  function report(results, done) {
    const failed = results.filter((r) => !r.ok);
    const okCount = results.length - failed.length;
    if (okCount) toast(`${done}: ${okCount} done.`);
    if (failed.length) {
      const messages = [...new Set(failed.map((r) => r.error.message))];
      toast(`${failed.length} refused: ${messages.join(" / ")}`, true);
    }
    return failed.length === 0;
  }

  function pageData(id) {
    const tag = document.getElementById(id || "page-data");
    return tag ? JSON.parse(tag.textContent) : null;
  }

  return { api, twin, ApiError, el, toast, confirm: confirmAction, filesize, rate, percent, when,
           statusCell, events, each, report, pageData, STATUS, STATUS_NAMES, STATUS_CLASSES,
           apiPrefix };
})();
window.SiteSync = SiteSync;
