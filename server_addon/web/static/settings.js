// Settings editor: the form becomes the settings document; the server validates it (PUT) and
// each error it names is shown beside its field.
"use strict";
(() => {
  const S = window.SiteSync;
  const page = S.pageData();
  const form = document.getElementById("settings");
  if (!page || !form) return;
  const enc = encodeURIComponent;
  const url = page.scope === "studio" ? "/settings"
    : page.scope === "project" ? `/settings/${enc(page.project)}`
      : `/settings/${enc(page.project)}/site/${enc(page.siteId)}`;

  function setPath(target, path, value) {
    const parts = path.split(".");
    let node = target;
    parts.forEach((part, index) => {
      if (index === parts.length - 1) node[part] = value;
      else node = node[part] = node[part] || (/^\d+$/.test(parts[index + 1]) ? [] : {});
    });
  }

  class FieldError extends Error {
    constructor(path, message) { super(message); this.path = path; }
  }

  function read() {
    let doc = {};
    const sites = [];
    for (const field of form.querySelectorAll("[data-path]")) {
      const path = field.dataset.path;
      const type = field.dataset.type;
      let value;
      if (type === "bool") value = field.checked;
      else if (type === "int") value = field.value.trim() === "" ? null : Number(field.value);
      else if (type === "str") value = field.value;
      else if (type === "optstr") value = field.value.trim() || null;
      else if (type === "list") value = field.value.split(",").map((s) => s.trim()).filter(Boolean);
      else {
        const text = field.value.trim();
        if (!text) { if (path.startsWith("sites.")) continue; value = path ? [] : {}; }
        else {
          try { value = JSON.parse(text); } catch (error) {
            throw new FieldError(path, `Not valid JSON: ${error.message}`);
          }
        }
      }
      if (path === "") doc = value;
      else if (path.startsWith("sites.")) sites.push(value);
      else setPath(doc, path, value);
    }
    if (page.scope === "studio") doc.sites = sites;
    return doc;
  }

  function slotFor(loc) {
    // The field whose path is the longest start of the error's location.
    const path = loc.filter((part) => part !== "body").join(".");
    let best = null;
    for (const slot of form.querySelectorAll(".field-error[data-error-for]")) {
      const own = slot.dataset.errorFor;
      if (own === "" || path === own || path.startsWith(`${own}.`)) {
        if (!best || own.length > best.dataset.errorFor.length) best = slot;
      }
    }
    return { slot: best, rest: best ? path.slice(best.dataset.errorFor.length).replace(/^\./, "") : path };
  }

  function clear() {
    for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
    const top = document.getElementById("form-error");
    top.hidden = true;
    top.textContent = "";
    document.getElementById("saved").textContent = "";
  }

  function show(loc, message) {
    const { slot, rest } = slotFor(loc);
    const text = rest ? `${rest}: ${message}` : message;
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} · ${text}` : text;
      const field = slot.parentElement.querySelector("[data-path]");
      if (field) field.setAttribute("aria-invalid", "true");
    } else {
      const top = document.getElementById("form-error");
      top.hidden = false;
      top.textContent = top.textContent ? `${top.textContent} · ${text}` : text;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear();
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    let doc;
    try {
      doc = read();
    } catch (error) {
      show(error.path ? error.path.split(".") : [], error.message);
      return;
    }
    try {
      await S.api("PUT", url, doc);
      document.getElementById("saved").textContent = "Saved.";
      S.toast("Settings saved.");
    } catch (error) {
      if (error.errors && error.errors.length) {
        for (const problem of error.errors) show((problem.loc || []).map(String), problem.msg);
      } else {
        show([], error.message);
      }
    }
  });
})();
