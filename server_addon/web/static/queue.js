// Sync queue page: selection, actions through the REST API, and live rows from the server's
// event stream. Only the rows on this page are touched; nothing reloads the page.
"use strict";
(() => {
  const S = window.SiteSync;
  const live = S.pageData();
  const table = document.getElementById("queue");
  if (!live || !table) return;
  const { project, localSite, remoteSite } = live;
  const rows = live.rows; // representation id -> {local, remote}: status, progress, n, files
  const rates = {}; // representation id -> {local: {file: B/s}, remote: {...}}
  const enc = encodeURIComponent;
  const P = `/${enc(project)}`;

  // -- rows -------------------------------------------------------------------------------
  const rowOf = (id) => table.querySelector(`tr[data-rep="${CSS.escape(id)}"]`);
  const sidesOf = (site) => [site === localSite && "local", site === remoteSite && "remote"]
    .filter(Boolean);

  function paintRate(id) {
    const row = rowOf(id);
    if (!row) return;
    let total = 0;
    for (const side of ["local", "remote"]) {
      if (rows[id][side].status !== S.STATUS.IN_PROGRESS) continue;
      for (const value of Object.values((rates[id] || {})[side] || {})) total += value;
    }
    row.querySelector("td.rate").textContent = S.rate(total);
  }

  function paintProgress(id, side) {
    const row = rowOf(id);
    const state = rows[id][side];
    const cell = row.querySelector(`td[data-side="${side}"]`);
    const bar = cell.querySelector("progress");
    if (state.status !== S.STATUS.IN_PROGRESS || !bar) {
      S.statusCell(cell, { status: state.status, progress: state.progress },
                   side === "local" ? localSite : remoteSite);
      return;
    }
    bar.value = state.progress;
    bar.textContent = S.percent(state.progress);
    cell.querySelector(".pct").textContent = S.percent(state.progress);
  }

  function moveFile(id, side, fileId, progress, status, bytesPerSecond) {
    const state = rows[id][side];
    const before = state.files[fileId] || 0;
    state.files[fileId] = progress;
    state.progress = Math.min(1, Math.max(0, state.progress + (progress - before) / state.n));
    rates[id] = rates[id] || { local: {}, remote: {} };
    rates[id][side][fileId] = status === S.STATUS.IN_PROGRESS ? (bytesPerSecond || 0) : 0;
    if (status === S.STATUS.IN_PROGRESS && state.status !== S.STATUS.IN_PROGRESS &&
        state.status !== S.STATUS.FAILED) {
      state.status = S.STATUS.IN_PROGRESS;
      refreshSoon([id]);
    }
    paintProgress(id, side);
    paintRate(id);
  }

  // A listing item from the REST API becomes the row's truth again.
  function apply(item) {
    const id = item.representationId;
    const row = rowOf(id);
    if (!row) return;
    for (const side of ["local", "remote"]) {
      const summary = item[`${side}Status`];
      const files = {};
      for (const file of item.files) {
        if (file[`${side}Status`].status === S.STATUS.IN_PROGRESS) {
          files[file.id] = file[`${side}Status`].progress;
        }
      }
      rows[id][side] = { status: summary.status, progress: summary.progress,
                         n: Math.max(1, item.fileCount), files };
      S.statusCell(row.querySelector(`td[data-side="${side}"]`), summary,
                   side === "local" ? localSite : remoteSite);
    }
    row.querySelector("td.priority").textContent = String(item.priority);
    row.querySelector("td.size").textContent = S.filesize(item.size);
    paintRate(id);
  }

  const pending = new Set();
  let timer = null;
  function refreshSoon(ids, delay = 150) {
    for (const id of ids) if (rows[id]) pending.add(id);
    if (!timer && pending.size) timer = setTimeout(refreshNow, delay);
  }
  async function refreshNow() {
    timer = null;
    const ids = [...pending];
    pending.clear();
    if (!ids.length) return;
    const query = new URLSearchParams({ localSite, remoteSite, pageLength: "1000" });
    for (const id of ids) query.append("representationIds", id);
    try {
      const page = await S.api("GET", `${P}/state?${query}`);
      for (const item of page.representations) apply(item);
    } catch (error) {
      S.toast(`Could not refresh the rows: ${error.message}`, true);
    }
  }
  const allIds = () => Object.keys(rows);

  // -- live ---------------------------------------------------------------------------------
  S.events(project, ["progress", "state", "reset", "priority", "paused", "unpaused", "command"],
           (kind, payload) => {
    if (kind === "command") {  // for the site tasks
      document.dispatchEvent(new CustomEvent("sitesync:command", { detail: payload }));
    } else if (kind === "progress") {
      for (const item of payload.items || []) {
        if (!rows[item.representationId]) continue;
        for (const side of sidesOf(item.site)) {
          moveFile(item.representationId, side, item.fileId, item.progress, item.status,
                   item.bytesPerSecond);
        }
      }
    } else if (kind === "state") {
      const changed = [];
      for (const item of payload.items || []) {
        const id = item.representationId;
        if (!rows[id]) continue;
        for (const side of sidesOf(item.site)) {
          rows[id][side].status = item.status;
          if (typeof item.progress === "number") rows[id][side].progress = item.progress;
          paintProgress(id, side);
        }
        changed.push(id);
      }
      refreshSoon(changed);
    } else {
      refreshSoon(allIds(), 250);
    }
  }, document.getElementById("live"));

  // -- selection ----------------------------------------------------------------------------
  const selectAll = document.getElementById("select-all");
  const boxes = () => [...table.querySelectorAll("input.row-select")];
  const selected = () => boxes().filter((box) => box.checked).map((box) => box.value);
  const actionButtons = [...document.querySelectorAll("#actions button[data-action]")];
  function selectionChanged() {
    const ids = selected();
    for (const box of boxes()) box.closest("tr").classList.toggle("selected", box.checked);
    document.getElementById("selected-count").textContent = `${ids.length} selected`;
    for (const button of actionButtons) button.disabled = ids.length === 0;
    const count = boxes().length;
    selectAll.checked = count > 0 && ids.length === count;
    selectAll.indeterminate = ids.length > 0 && ids.length < count;
  }
  table.addEventListener("change", (event) => {
    if (event.target.classList.contains("row-select")) selectionChanged();
  });
  selectAll.addEventListener("change", () => {
    for (const box of boxes()) box.checked = selectAll.checked;
    selectionChanged();
  });
  selectionChanged();

  // -- actions ------------------------------------------------------------------------------
  const onSides = (id) => ["local", "remote"]
    .filter((side) => rows[id][side].status !== S.STATUS.NA)
    .map((side) => (side === "local" ? localSite : remoteSite))
    .filter((site, index, all) => all.indexOf(site) === index);
  const siteChoice = () => document.getElementById("action-site").value;
  const removeFiles = document.getElementById("remove-files");
  const withFiles = () => Boolean(removeFiles && removeFiles.checked);
  const notOnSite = (what) => Object.assign(new Error(what), { skipped: true });

  async function onEachSide(ids, call) {
    const pairs = ids.flatMap((id) => onSides(id).map((site) => ({ id, site })));
    const missing = ids.filter((id) => onSides(id).length === 0);
    const results = await S.each(pairs, ({ id, site }) => call(id, site));
    for (const id of missing) {
      results.push({ item: { id }, ok: false,
                     error: notOnSite("not on the local or the remote site") });
    }
    return results;
  }

  const actions = {
    "resync-local": { done: `Queued again on ${localSite}`,
      run: (ids) => S.each(ids, (id) => S.api("POST", `${P}/state/${id}/${enc(localSite)}?reset=true`, {})) },
    "resync-remote": { done: `Queued again on ${remoteSite}`,
      run: (ids) => S.each(ids, (id) => S.api("POST", `${P}/state/${id}/${enc(remoteSite)}?reset=true`, {})) },
    "add-site": { done: "Added to the site",
      run: async (ids) => {
        const site = siteChoice();
        const query = new URLSearchParams({ siteNames: site });
        for (const id of ids) query.append("representationIds", id);
        const found = await S.api("GET", `${P}/state/representations?${query}`);
        const there = new Set(found.filter((r) => r.sites.length).map((r) => r.representationId));
        return S.each(ids, (id) => (there.has(id)
          ? Promise.reject(notOnSite(`already on ${site}`))
          : S.api("POST", `${P}/state/${id}/${enc(site)}`, { status: S.STATUS.QUEUED })));
      } },
    "remove-site": { done: "Removed from the site",
      confirm: (ids) => `Remove ${ids.length} representation(s) from site ${siteChoice()}? ` +
        (withFiles()
          ? "The sync service of that site deletes their files there, then the site is removed."
          : "The server forgets that site's state of them; files already there are kept."),
      okLabel: "Remove",
      run: async (ids) => {
        const site = siteChoice();
        if (!withFiles()) return S.each(ids, (id) => S.api("DELETE", `${P}/state/${id}/${enc(site)}`));
        await S.api("POST", `${P}/sites/${enc(site)}/commands`,
                    { action: "remove", representationIds: ids });
        document.getElementById("site-tasks").open = true;
        document.dispatchEvent(new CustomEvent("sitesync:command", { detail: {} }));
        S.toast(`Asked the sync service of ${site} to delete the files of ${ids.length} ` +
                "representation(s); see Site tasks.");
        return [];
      } },
    priority: { done: "Priority set",
      run: (ids) => {
        const value = Number(document.getElementById("action-priority").value);
        if (!Number.isInteger(value) || value < 1 || value > 1000) {
          throw new Error("Priority is a whole number from 1 to 1000 (higher goes first).");
        }
        return onEachSide(ids, (id, site) => S.api("POST", `${P}/state/${id}/${enc(site)}`,
                                                   { priority: value }));
      } },
    pause: { done: "Paused",
      run: (ids) => onEachSide(ids, (id, site) => S.api("PUT", `${P}/state/${id}/${enc(site)}/pause`,
                                                         { paused: true })) },
    unpause: { done: "Unpaused",
      run: (ids) => onEachSide(ids, (id, site) => S.api("PUT", `${P}/state/${id}/${enc(site)}/pause`,
                                                         { paused: false })) },
  };

  // While one action runs the others wait; buttons stay enabled so keyboard focus stays put.
  let busy = false;
  for (const button of actionButtons) {
    button.addEventListener("click", async () => {
      const action = actions[button.dataset.action];
      const ids = selected();
      if (!ids.length || busy) return;
      if (action.confirm && !(await S.confirm(action.confirm(ids), action.okLabel))) return;
      busy = true;
      document.getElementById("actions").setAttribute("aria-busy", "true");
      try {
        S.report(await action.run(ids), action.done);
      } catch (error) {
        S.toast(error.message, true);
      } finally {
        busy = false;
        document.getElementById("actions").removeAttribute("aria-busy");
        selectionChanged();
        refreshSoon(ids, 0);
      }
    });
  }

  // -- the project's pause switch -------------------------------------------------------------
  const pauseButton = document.getElementById("project-pause");
  if (pauseButton) {
    pauseButton.addEventListener("click", async () => {
      const pause = pauseButton.dataset.paused !== "true";
      if (pauseButton.getAttribute("aria-busy") === "true") return;
      pauseButton.setAttribute("aria-busy", "true");
      try {
        const result = await S.api("PUT", `${P}/pause`, { paused: pause });
        pauseButton.dataset.paused = String(result.paused);
        pauseButton.setAttribute("aria-pressed", String(result.paused));
        pauseButton.textContent = result.paused ? "Resume the project" : "Pause the project";
        document.getElementById("project-pause-state").replaceChildren(result.paused
          ? S.el("span", { class: "badge st-paused" }, "project paused") : "");
        S.toast(result.paused ? `${project} is paused.` : `${project} runs again.`);
      } catch (error) {
        S.toast(error.message, true);
      } finally {
        pauseButton.removeAttribute("aria-busy");
      }
    });
  }

  // Filters apply as soon as a picker changes; text fields apply on Enter.
  for (const select of document.querySelectorAll("#filters select:not([multiple])")) {
    select.addEventListener("change", () => document.getElementById("filters").requestSubmit());
  }
})();
