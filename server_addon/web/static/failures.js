// Failures page: retry one group of failed files (same site and message).
"use strict";
(() => {
  const S = window.SiteSync;
  const page = S.pageData();
  if (!page) return;
  for (const button of document.querySelectorAll("button.retry")) {
    button.addEventListener("click", async () => {
      const group = page.groups[Number(button.dataset.index)];
      button.disabled = true;
      try {
        const result = await S.api("POST", `/${encodeURIComponent(page.project)}/failures/retry`,
                                   { message: group.message, site: group.site });
        button.closest("td").replaceChildren(
          S.el("span", { class: "badge st-queued" }, `${result.requeued} queued again`));
        S.toast(`${result.requeued} file(s) queued again on ${group.site}.`);
      } catch (error) {
        button.disabled = false;
        S.toast(error.message, true);
      }
    });
  }
})();
