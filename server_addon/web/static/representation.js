// Representation page: actions per site, and live file progress from the event stream. After
// an action or a state event the page reads its JSON twin (?format=json) and repaints in
// place: rows of sites that came or went are added or dropped, nothing reloads the page.
"use strict";
(() => {
  const S = window.SiteSync;
  const page = S.pageData();
  if (!page) return;
  const enc = encodeURIComponent;
  const base = `/${enc(page.project)}/state/${page.representationId}`;
  const $ = (id) => document.getElementById(id);
  const sitesBody = $("sites").tBodies[0];
  const filesBody = $("files").tBodies[0];
  let shown = page.sites.slice(); // the sites the tables show, in their order
  let detail = null; // the page's data as the twin last gave it; progress events move it
  const same = (a, b) => a.length === b.length && a.every((value, i) => value === b[i]);

  // -- painting -----------------------------------------------------------------------------
  const badge = (status) => S.el("span", { class: `badge st-${S.STATUS_CLASSES[status] || "na"}` },
                                 S.STATUS_NAMES[status] || String(status));

  // While a side moves, its bar only changes value; false when the cell needs drawing anew.
  function moveBar(cell, status, progress) {
    const bar = cell.querySelector("progress");
    if (status !== S.STATUS.IN_PROGRESS || !bar) return false;
    bar.value = progress || 0;
    bar.textContent = S.percent(progress);
    const pct = cell.querySelector(".pct");
    if (pct) pct.textContent = S.percent(progress);
    return true;
  }

  function fileStatus(cell, file, site) {
    if (!file) {
      cell.replaceChildren(badge(S.STATUS.NA));
      return;
    }
    if (moveBar(cell, file.status, file.progress)) return;
    cell.replaceChildren(badge(file.status));
    if (file.status === S.STATUS.IN_PROGRESS) {
      cell.append(S.el("progress", { max: "1", value: String(file.progress || 0),
                                     "aria-label": `Progress of this file on ${site}` },
                       S.percent(file.progress)));
    }
    cell.append(S.el("span", { class: "pct" }, S.percent(file.progress)));
  }

  function paintFile(row, site, file) {
    fileStatus(row.querySelector("td.status"), file, site);
    row.querySelector(".retries-cell").textContent = file ? String(file.retries) : "";
    row.querySelector(".updated").textContent = file ? S.when(file.updatedAt) : "";
    row.querySelector(".message").replaceChildren(file && file.message
      ? S.el("span", { class: file.status === S.STATUS.FAILED ? "msg failed" : "msg" },
             file.message) : "");
  }

  // The rows of the files table: one per file and site, path, size and hash spanning them.
  function fileRows(rep, sites) {
    const rows = [];
    const span = String(Math.max(sites.length, 1));
    for (const file of rep.files) {
      (sites.length ? sites : [null]).forEach((site, index) => {
        const row = S.el("tr", { "data-file": file.id, "data-site": site && site.name });
        if (index === 0) {
          row.append(S.el("td", { rowspan: span, class: "path mono" }, file.path),
                     S.el("td", { rowspan: span, class: "num" }, S.filesize(file.size)),
                     S.el("td", { rowspan: span, class: "hash mono" }, file.hash || ""));
        }
        if (site) {
          row.append(S.el("td", {}, site.name), S.el("td", { class: "status" }),
                     S.el("td", { class: "num retries-cell" }), S.el("td", { class: "updated" }),
                     S.el("td", { class: "message" }));
          paintFile(row, site.name, site.files[file.id]);
        } else {
          row.append(S.el("td", { colspan: "5", class: "muted" }, "on no site"));
        }
        rows.push(row);
      });
    }
    return rows;
  }

  function siteRow(name) {
    const button = (action, label, cls) => S.el("button", { type: "button", "data-action": action,
                                                            "data-site": name, class: cls }, label);
    return S.el("tr", { "data-site": name }, S.el("th", { scope: "row" }, name),
                S.el("td", { class: "status" }), S.el("td", { class: "num size" }),
                S.el("td", { class: "num priority" }), S.el("td", { class: "updated" }),
                S.el("td", { class: "row-actions" }, button("resync", "Re-sync"), " ",
                     button("pause", "Pause"), " ", button("remove", "Remove", "danger")));
  }

  function siteStatus(row, site) {
    const cell = row.querySelector("td.status");
    if (!moveBar(cell, site.status, site.progress)) {
      S.statusCell(cell, { status: site.status, progress: site.progress, paused: site.paused },
                   site.name);
    }
    row.querySelector(".size").textContent = S.filesize(site.size);
  }

  function paintSite(row, site) {
    S.statusCell(row.querySelector("td.status"),
                 { status: site.status, progress: site.progress, paused: site.paused }, site.name);
    row.querySelector(".size").textContent = S.filesize(site.size);
    row.querySelector(".priority").textContent = String(site.priority);
    row.querySelector(".updated").textContent = S.when(site.updatedAt);
    // The same button changes its action, so keyboard focus stays on it.
    const toggle = row.querySelector('button[data-action="pause"], button[data-action="unpause"]');
    toggle.dataset.action = site.paused ? "unpause" : "pause";
    toggle.textContent = site.paused ? "Unpause" : "Pause";
  }

  function setOptions(select, names) {
    if (same([...select.options].map((o) => o.value), names)) return;
    const chosen = select.value;
    select.replaceChildren(...names.map((name) => S.el("option", { value: name }, name)));
    if (names.includes(chosen)) select.value = chosen;
  }

  // The whole page from fresh data; rows that stay are painted where they are.
  function render(fresh) {
    const names = fresh.sites.map((s) => s.name);
    const focused = document.activeElement;
    for (const row of [...sitesBody.rows]) {
      if (!names.includes(row.dataset.site)) row.remove();
    }
    let previous = null;
    for (const site of fresh.sites) {
      const row = [...sitesBody.rows].find((r) => r.dataset.site === site.name) ||
        siteRow(site.name);
      if ((previous ? previous.nextElementSibling : sitesBody.firstElementChild) !== row) {
        if (previous) previous.after(row); else sitesBody.prepend(row);
      }
      paintSite(row, site);
      previous = row;
    }
    $("sites").hidden = names.length === 0;
    $("no-sites").hidden = names.length > 0;
    $("priority-group").hidden = names.length === 0;
    setOptions($("priority-site"), names);
    setOptions($("add-site"), fresh.siteChoices);
    if (same(names, shown)) {
      for (const site of fresh.sites) {
        for (const file of fresh.representation.files) {
          const row = filesBody.querySelector(
            `tr[data-file="${CSS.escape(file.id)}"][data-site="${CSS.escape(site.name)}"]`);
          if (row) paintFile(row, site.name, site.files[file.id]);
        }
      }
    } else {
      filesBody.replaceChildren(...fileRows(fresh.representation, fresh.sites));
    }
    shown = names;
    // A removed site took the focused button with it: go on at the control that adds a site.
    if (focused && focused !== document.body && !focused.isConnected) $("add-site").focus();
  }

  let generation = 0;
  async function refresh() {
    const mine = ++generation; // an answer to an older call never paints over a newer one
    try {
      const fresh = await S.twin();
      if (mine !== generation) return;
      detail = fresh;
      render(fresh);
    } catch (error) {
      if (mine === generation) S.toast(`Could not refresh: ${error.message}`, true);
    }
  }
  let timer = null;
  const refreshSoon = (delay = 150) => {
    if (!timer) timer = setTimeout(() => { timer = null; refresh(); }, delay);
  };

  // -- live ---------------------------------------------------------------------------------
  function moved(item) {
    const site = detail && detail.sites.find((s) => s.name === item.site);
    const file = site && site.files[item.fileId];
    const row = filesBody.querySelector(
      `tr[data-file="${CSS.escape(item.fileId)}"][data-site="${CSS.escape(item.site)}"]`);
    if (!file) { // data not read yet, or a file state the page does not know: read it
      if (row) fileStatus(row.querySelector("td.status"), item, item.site);
      refreshSoon();
      return;
    }
    Object.assign(file, { status: item.status, progress: item.progress, size: item.size });
    if (row) fileStatus(row.querySelector("td.status"), file, site.name);
    const states = Object.values(site.files).filter(Boolean); // the site's mean, as the server has it
    site.progress = states.reduce((sum, f) => sum + f.progress, 0) / states.length;
    site.size = states.reduce((sum, f) => sum + f.size, 0);
    const siteRowNow = [...sitesBody.rows].find((r) => r.dataset.site === site.name);
    if (siteRowNow) siteStatus(siteRowNow, site);
  }

  S.events(page.project, ["progress", "state", "reset", "priority", "paused", "unpaused"],
           (kind, payload) => {
    const items = (payload.items || []).filter((i) => i.representationId === page.representationId);
    if (kind === "progress") {
      items.forEach(moved);
    } else if (kind === "state") {
      if (items.length) refreshSoon();
    } else {
      refreshSoon(250);
    }
  }, $("live"));

  // -- actions ------------------------------------------------------------------------------
  // One action at a time; buttons stay enabled so keyboard focus stays where it is.
  let busy = false;
  async function run(label, call) {
    busy = true;
    $("sites-card").setAttribute("aria-busy", "true");
    try {
      await call();
      S.toast(label);
    } catch (error) {
      S.toast(error.message, true);
    }
    try {
      await refresh();
    } finally {
      busy = false;
      $("sites-card").removeAttribute("aria-busy");
    }
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || busy) return;
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
        if (busy) return;
        return run(`Removed from ${site}.`, () => S.api("DELETE", `${base}/${enc(site)}`));
      case "add": {
        const target = $("add-site").value;
        if (shown.includes(target)) {
          S.toast(`Already on ${target}; use Re-sync to queue it again.`, true);
          return;
        }
        return run(`Queued for ${target}.`,
                   () => S.api("POST", `${base}/${enc(target)}`, { status: S.STATUS.QUEUED }));
      }
      case "priority": {
        const target = $("priority-site").value;
        const value = Number($("priority-value").value);
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
