// Representation page: actions per site, and live file progress from the event stream.
"use strict";
(() => {
  const S = window.SiteSync;
  const page = S.pageData();
  if (!page) return;
  const enc = encodeURIComponent;
  const base = `/${enc(page.project)}/state/${page.representationId}`;

  function fileRow(fileId, site) {
    return document.querySelector(
      `#files tr[data-file="${CSS.escape(fileId)}"][data-site="${CSS.escape(site)}"]`);
  }

  function paintFile(fileId, site, file) {
    const row = fileRow(fileId, site);
    if (!row) return;
    const cell = row.querySelector("td.status");
    cell.replaceChildren(S.el("span", { class: `badge st-${statusClass(file.status)}` },
                              S.STATUS_NAMES[file.status] || String(file.status)));
    if (file.status === S.STATUS.IN_PROGRESS) {
      cell.append(S.el("progress", { max: "1", value: String(file.progress || 0),
                                     "aria-label": `Progress of this file on ${site}` },
                       S.percent(file.progress)));
    }
    cell.append(S.el("span", { class: "pct" }, S.percent(file.progress)));
    if (file.retries !== undefined) row.querySelector(".retries-cell").textContent = String(file.retries);
    if (file.timestamp) row.querySelector(".updated").textContent = S.when(file.timestamp);
    if (file.message !== undefined) {
      row.querySelector(".message").replaceChildren(file.message
        ? S.el("span", { class: file.status === S.STATUS.FAILED ? "msg failed" : "msg" },
               file.message) : "");
    }
  }
  const statusClass = (status) =>
    ({ "-1": "na", 0: "in-progress", 1: "queued", 2: "failed", 3: "paused", 4: "ok" })[status] || "na";

  function paintSite(site) {
    const row = document.querySelector(`#sites tr[data-site="${CSS.escape(site.name)}"]`);
    if (!row) return;
    const cell = row.querySelector("td.status");
    const progress = site.files.length
      ? site.files.reduce((sum, f) => sum + f.progress, 0) / site.files.length : 0;
    S.statusCell(cell, { status: site.status, progress, paused: site.paused }, site.name);
    row.querySelector(".priority").textContent = String(site.priority);
    row.querySelector(".size").textContent = S.filesize(site.files.reduce((s, f) => s + f.size, 0));
    row.querySelector(".updated").textContent = S.when(site.updatedAt);
    const toggle = row.querySelector('button[data-action="pause"], button[data-action="unpause"]');
    toggle.dataset.action = site.paused ? "unpause" : "pause";
    toggle.textContent = site.paused ? "Unpause" : "Pause";
  }

  async function refresh() {
    const query = new URLSearchParams({ representationIds: page.representationId });
    try {
      const [found] = await S.api("GET", `/${enc(page.project)}/state/representations?${query}`);
      const names = new Set(found.sites.map((s) => s.name));
      if ([...names].some((n) => !page.sites.includes(n)) ||
          page.sites.some((n) => !names.has(n))) {
        window.location.reload(); // a site came or went: the tables change shape
        return;
      }
      for (const site of found.sites) {
        paintSite(site);
        for (const file of site.files) paintFile(file.id, site.name, file);
      }
    } catch (error) {
      S.toast(`Could not refresh: ${error.message}`, true);
    }
  }
  let timer = null;
  const refreshSoon = (delay = 150) => { if (!timer) timer = setTimeout(() => { timer = null; refresh(); }, delay); };

  S.events(page.project, ["progress", "state", "reset", "priority", "paused", "unpaused"],
           (kind, payload) => {
    const items = (payload.items || []).filter((i) => i.representationId === page.representationId);
    if (kind === "progress") {
      for (const item of items) paintFile(item.fileId, item.site, item);
    } else if (kind === "state") {
      if (items.length) refreshSoon();
    } else {
      refreshSoon(250);
    }
  }, document.getElementById("live"));

  async function run(label, call) {
    try {
      await call();
      S.toast(label);
    } catch (error) {
      S.toast(error.message, true);
    }
    refreshSoon(0);
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const site = button.dataset.site;
    switch (button.dataset.action) {
      case "resync":
        return run(`Queued again on ${site}.`, () => S.api("POST", `${base}/${enc(site)}?reset=true`, {}));
      case "pause":
        return run(`Paused on ${site}.`, () => S.api("PUT", `${base}/${enc(site)}/pause`, { paused: true }));
      case "unpause":
        return run(`Unpaused on ${site}.`, () => S.api("PUT", `${base}/${enc(site)}/pause`, { paused: false }));
      case "remove":
        if (!(await S.confirm(`Remove this representation from site ${site}? The server forgets ` +
                              "that site's state; files already there are not deleted.", "Remove"))) return;
        return run(`Removed from ${site}.`, async () => {
          await S.api("DELETE", `${base}/${enc(site)}`);
          window.location.reload();
        });
      case "add": {
        const target = document.getElementById("add-site").value;
        if (page.sites.includes(target)) {
          S.toast(`Already on ${target}; use Re-sync to queue it again.`, true);
          return;
        }
        return run(`Queued for ${target}.`, async () => {
          await S.api("POST", `${base}/${enc(target)}`, { status: S.STATUS.QUEUED });
          window.location.reload();
        });
      }
      case "priority": {
        const target = document.getElementById("priority-site").value;
        const value = Number(document.getElementById("priority-value").value);
        if (!Number.isInteger(value) || value < 1 || value > 1000) {
          S.toast("Priority is a whole number from 1 to 1000 (higher goes first).", true);
          return;
        }
        return run(`Priority ${value} on ${target}.`,
                   () => S.api("POST", `${base}/${enc(target)}`, { priority: value }));
      }
      default:
    }
  });
})();
