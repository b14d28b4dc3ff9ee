"""Files on disk and whole-project operations of the SiteSyncAddon contract (a mixin)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sitesync_addon.client.types import Representation
from sitesync_addon.contract.base import ApiBase
from sitesync_addon.paths import template_to_site_path
from sitesync_addon.platform import current_platform
from sitesync_addon.providers.local_drive import prune_empty_folders
from sitesync_addon.sites import DEFAULT_SITE
from sitesync_addon.status import SiteSyncStatus

log = logging.getLogger(__name__)


class FilesMixin(ApiBase):
    wake_callbacks: list[Callable[[], None]]

    def get_anatomy(self, project_name: str) -> dict[str, Any]:
        """The project's path model: roots for this platform and the path template (cached)."""
        cache: dict[str, dict[str, Any]] = self.__dict__.setdefault("_anatomy_cache", {})
        if project_name not in cache:
            roots = self.client.projects.site_roots(project_name, current_platform())
            cache[project_name] = {
                "roots": roots,
                "templates": {"publish": "{root[work]}/{project}/{folder}/{product}/"
                                         "v{version:03d}/{filename}"}}
        return cache[project_name]

    def get_local_file_path(self, project_name: str, site_name: str, file_path: str) -> str:
        """The real path on this machine of a path template on a local_drive site."""
        provider = self.sites.provider(project_name, site_name)
        if not provider.features.local_path:
            raise ValueError(f"site '{site_name}' uses '{provider.code}', not a local drive")
        return str(provider.real_path(template_to_site_path(file_path)))

    def _representations(self, project_name: str) -> list[Representation]:
        return self.client.catalog.representations(project_name)

    def validate_project(self, project_name: str, site_name: str,
                         reset_missing: bool = False) -> dict[str, int]:
        """Record files present on the site as OK; with ``reset_missing`` requeue missing ones."""
        site_name = self._as_local_id(site_name)
        provider = self.sites.provider(project_name, site_name)
        representations = self._representations(project_name)
        states = self.site_states(project_name, [r["id"] for r in representations],
                                   [site_name])
        counts = {"added": 0, "reset": 0}
        for rep in representations:
            site_state = states.get(rep["id"], {}).get(site_name)
            recorded = site_state["files"] if site_state else {}
            present_new, missing = [], []
            for item in rep["files"]:
                stat = provider.stat(template_to_site_path(item["path"]))
                held = recorded.get(item["id"])
                is_ok = held is not None and held["status"] == SiteSyncStatus.OK
                if stat is not None and stat.size == item["size"] and not is_ok:
                    present_new.append(item["id"])
                elif stat is None and is_ok:
                    missing.append(item["id"])
            changes = [{"id": f, "status": int(SiteSyncStatus.OK)} for f in present_new]
            if reset_missing:
                changes += [{"id": f, "status": int(SiteSyncStatus.QUEUED)} for f in missing]
                counts["reset"] += len(missing)
            counts["added"] += len(present_new)
            if changes:
                self._post_state(project_name, rep["id"], site_name, {"files": changes})
        log.info("validate_project %s on %s: %d files added as OK, %d requeued", project_name,
                 site_name, counts["added"], counts["reset"])
        return counts

    def _remove_local_files(self, project_name: str, representation_ids: list[str],
                            site_name: str) -> int:
        """Delete this machine's copies (its local_drive site only) and folders left empty."""
        if site_name != self.local_site_id:
            raise ValueError(f"only files of this machine's site ({self.local_site_id}) are "
                             f"deleted, not those of '{site_name}'")
        provider = self.sites.provider(project_name, site_name)
        if not provider.features.local_path:
            raise ValueError(f"site '{site_name}' is not a local drive of this machine")
        removed = 0
        for rep_id in representation_ids:
            rep = self._representation(project_name, rep_id)
            for item in rep["files"]:
                path = template_to_site_path(item["path"])
                if provider.stat(path) is not None:
                    provider.delete(path)
                    removed += 1
                prune_empty_folders(provider.real_path(path),
                                    Path(provider.roots[path.partition("/")[0]]))
        return removed

    def clear_project(self, project_name: str, site_name: str) -> int:
        """Remove ``site_name`` from every representation and delete its local files.

        Only this machine's local site can be cleared, never ``studio``.
        """
        site_name = self._as_local_id(site_name)
        if site_name == DEFAULT_SITE:
            raise ValueError("clear_project never clears 'studio'")
        representation_ids = [r["id"] for r in self._representations(project_name)]
        removed = self._remove_local_files(project_name, representation_ids, site_name)
        states = self.site_states(project_name, representation_ids, [site_name])
        for rep_id, sites in states.items():
            if site_name in sites:
                self.remove_site(project_name, rep_id, site_name)
        log.info("clear_project %s: removed %s and %d files", project_name, site_name, removed)
        return removed

    def reset_timer(self) -> None:
        """Wake every sync service now (this process's and, through the server, others')."""
        for wake in self.wake_callbacks:
            wake()
        for project in self.get_enabled_projects():
            self.client.work.reset_timer(project)

