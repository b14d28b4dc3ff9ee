// Site tasks of a project: validate a site, clear it, and the recent tasks with their outcome.
// The sync service of the site does the work; the table follows "command" events, which the
// queue page's event stream passes on as "sitesync:command" DOM events.
"use strict";
(() => {
  const S = window.SiteSync;
  const live = S.pageData();
  const panel = document.getElementById("site-tasks");
  if (!live || !panel) return;
  const enc = encodeURIComponent;
  const P = `/${enc(live.project)}`;
  const body = panel.querySelector("#tasks tbody");
  const siteChoice = panel.querySelector("#task-site");
  const clearButton = panel.querySelector("#task-clear");
  let liveSites = new Set(live.liveSites || []);
  const deletable = new Set(live.deletable || []);
  let commands = S.pageData("tasks-data") || [];

  const LABELS = { validate: "validate", clear: "clear the site", remove: "delete files" };

  function outcome(command) {
    if (command.status === "failed" || command.status === "cancelled") return command.message || "";
    if (command.status === "queued" && !liveSites.has(command.site)) {
      return `waiting: no sync service of site ${command.site} runs now`;
    }
    if (!command.result) return "";
    return Object.entries(command.result).map(([name, count]) => `${count} ${name}`).join(", ");
  }

  function task(command) {
    let label = LABELS[command.action] || command.action;
    if (command.action === "validate" && command.resetMissing) label += ", queue missing again";
    if (command.action === "remove") label += ` of ${command.representationIds.length} representation(s)`;
    return label;
  }

  function paint() {
    if (!commands.length) {
      body.replaceChildren(S.el("tr", {}, S.el("td", { colspan: "6", class: "muted" },
                                                  "No site task yet.")));
      return;
    }
    body.replaceChildren(...commands.map((command) => {
      const badge = { done: "ok", failed: "failed", running: "in-progress", queued: "queued",
                      cancelled: "na" }[command.status] || "na";
      const cancel = command.status === "queued"
        ? S.el("button", { type: "button", "data-cancel": command.id }, "Cancel") : "";
      return S.el("tr", { "data-command": command.id },
        S.el("td", {}, S.when(command.requestedAt)),
        S.el("td", {}, task(command)),
        S.el("td", {}, command.site),
        S.el("td", {}, S.el("span", { class: `badge st-${badge}` }, command.status)),
        S.el("td", { class: command.status === "failed" ? "msg failed" : "" }, outcome(command)),
        S.el("td", {}, cancel));
    }));
  }

  async function refresh() {
    try {
      const [recent, services] = await Promise.all([S.api("GET", `${P}/commands?limit=10`),
                                                    S.api("GET", "/services")]);
      commands = recent;
      liveSites = new Set(services.filter((s) => !s.stale).map((s) => s.site));
      paint();
    } catch (error) {
      S.toast(`Could not read the site tasks: ${error.message}`, true);
    }
  }

  async function ask(command, done) {
    const site = siteChoice.value;
    try {
      await S.api("POST", `${P}/sites/${enc(site)}/commands`, command);
      panel.open = true;
      S.toast(liveSites.has(site) ? done(site)
        : `${done(site)} No sync service of site ${site} runs now; the task waits for one.`);
      await refresh();
    } catch (error) {
      S.toast(error.message, true);
    }
  }

  panel.querySelector("#task-validate").addEventListener("click", () => ask(
    { action: "validate", resetMissing: panel.querySelector("#task-reset-missing").checked },
    (site) => `Asked the sync service of ${site} to validate it.`));

  function clearAllowed() {
    if (!clearButton) return;
    const allowed = deletable.has(siteChoice.value);
    clearButton.disabled = !allowed;
    clearButton.title = allowed ? "" : `This key may not delete files on ${siteChoice.value}.`;
  }
  if (clearButton) {
    clearButton.addEventListener("click", async () => {
      const site = siteChoice.value;
      const question = `Clear site ${site} from ${live.project}? Its sync service deletes the ` +
        `site's copies of every file of the project, and the site is removed from every ` +
        "representation.";
      if (!(await S.confirm(question, "Clear the site"))) return;
      ask({ action: "clear" }, (name) => `Asked the sync service of ${name} to clear it.`);
    });
  }
  siteChoice.addEventListener("change", clearAllowed);
  clearAllowed();

  body.addEventListener("click", async (event) => {
    const id = event.target.dataset && event.target.dataset.cancel;
    if (!id) return;
    try {
      await S.api("DELETE", `${P}/commands/${enc(id)}`);
      S.toast("Task cancelled.");
    } catch (error) {
      S.toast(error.message, true);
    }
    refresh();
  });

  let timer = null;
  document.addEventListener("sitesync:command", () => {
    if (!timer) timer = setTimeout(() => { timer = null; refresh(); }, 150);
  });
  paint();
})();
