// Projects page: the server's pause switch.
"use strict";
(() => {
  const button = document.getElementById("server-pause");
  if (!button) return;
  const line = document.getElementById("server-state");
  const { api, el, toast } = window.SiteSync;
  function show(paused) {
    button.dataset.paused = String(paused);
    button.setAttribute("aria-pressed", String(paused));
    button.textContent = paused ? "Resume the server" : "Pause the server";
    line.replaceChildren(paused
      ? el("span", { class: "badge st-paused" }, "server paused")
      : el("span", { class: "badge st-ok" }, "server running"));
    if (paused) line.append(" Every transfer of every project is stopped.");
  }
  button.addEventListener("click", async () => {
    const pause = button.dataset.paused !== "true";
    if (pause && !(await window.SiteSync.confirm(
      "Pause the server? Every sync service stops every transfer of every project until " +
      "it is resumed.", "Pause the server"))) return;
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    try {
      const result = await api("PUT", "/pause", { paused: pause });
      show(result.paused);
      toast(result.paused ? "The server is paused." : "The server runs again.");
    } catch (error) {
      toast(error.message, true);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
})();
