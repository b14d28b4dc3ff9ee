// API keys page: create (the key is shown once), revoke.
"use strict";
(() => {
  const S = window.SiteSync;
  const form = document.getElementById("new-key");
  const tbody = document.querySelector("#keys tbody");

  function revokeButton(id, name) {
    const button = S.el("button", { type: "button", class: "danger revoke", "data-key": id,
                                    "data-name": name }, "Revoke");
    return button;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
    const role = form.elements.role.value;
    const projects = [...form.elements.projects.selectedOptions].map((o) => o.value);
    const body = { name: form.elements.name.value, role,
                   projects: role === "artist" && projects.length ? projects : null };
    try {
      const key = await S.api("POST", "/api/keys", body);
      document.getElementById("created-key").textContent = key.key;
      document.getElementById("created").hidden = false;
      const row = S.el("tr", { "data-key": key.id },
        S.el("td", {}, key.name), S.el("td", {}, key.role),
        S.el("td", {}, key.projects ? key.projects.join(", ") : "every project"),
        S.el("td", {}, S.when(key.createdAt)),
        S.el("td", { class: "state" }, S.el("span", { class: "badge st-ok" }, "active")),
        S.el("td", { class: "action" }, revokeButton(key.id, key.name)));
      tbody.append(row);
      S.toast(`Key “${key.name}” created.`);
    } catch (error) {
      let placed = false;
      for (const problem of error.errors || []) {
        const field = (problem.loc || []).filter((p) => p !== "body")[0];
        const slot = form.querySelector(`.field-error[data-for="${CSS.escape(String(field))}"]`);
        if (slot) { slot.textContent = problem.msg; placed = true; }
      }
      if (!placed) S.toast(error.message, true);
    }
  });

  tbody.addEventListener("click", async (event) => {
    const button = event.target.closest("button.revoke");
    if (!button) return;
    const self = button.dataset.self === "true";
    const text = `Revoke the key “${button.dataset.name}”? Every request and dashboard session ` +
      "with it is refused from now on." + (self ? " It is the key of this session: you are signed out." : "");
    if (!(await S.confirm(text, "Revoke"))) return;
    try {
      const key = await S.api("DELETE", `/api/keys/${encodeURIComponent(button.dataset.key)}`);
      const row = button.closest("tr");
      row.querySelector(".state").replaceChildren(
        S.el("span", { class: "badge st-failed" }, `revoked ${S.when(key.revokedAt)}`));
      button.remove();
      S.toast(`Key “${key.name}” revoked.`);
      if (self) window.location.assign("/signin");
    } catch (error) {
      S.toast(error.message, true);
    }
  });
})();
