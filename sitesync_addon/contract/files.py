"""Files on disk and whole-project operations of the SiteSyncAddon contract (a mixin)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sitesync_addon import site_files
from sitesync_addon.contract.base import ApiBase
from sitesync_addon.paths import template_to_site_path
from sitesync_addon.platform import current_platform
from sitesync_addon.sites import DEFAULT_SITE


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

    def validate_project(self, project_name: str, site_name: str,
                         reset_missing: bool = False) -> dict[str, int]:
        """Record files present on the site as OK; with ``reset_missing`` requeue missing ones."""
        return site_files.validate_site(self.client, self.sites, project_name,
                                        self._as_local_id(site_name), reset_missing)

    def _remove_local_files(self, project_name: str, representation_ids: list[str],
                            site_name: str) -> int:
        """Delete this machine's copies (its local_drive site only) and folders left empty."""
        self._require_local_drive(project_name, site_name)
        reps = [self._representation(project_name, r) for r in representation_ids]
        return site_files.delete_files(self.sites, project_name, site_name, reps)

    def _require_local_drive(self, project_name: str, site_name: str) -> None:
        if site_name != self.local_site_id:
            raise ValueError(f"only files of this machine's site ({self.local_site_id}) are "
                             f"deleted, not those of '{site_name}'")
        if not self.sites.provider(project_name, site_name).features.local_path:
            raise ValueError(f"site '{site_name}' is not a local drive of this machine")

    def clear_project(self, project_name: str, site_name: str) -> int:
        """Remove ``site_name`` from every representation and delete its local files.

        Only this machine's local site can be cleared, never ``studio``.
        """
        site_name = self._as_local_id(site_name)
        if site_name == DEFAULT_SITE:
            raise ValueError("clear_project never clears 'studio'")
        self._require_local_drive(project_name, site_name)
        return site_files.clear_site(self.client, self.sites, project_name, site_name)["files"]

    def reset_timer(self) -> None:
        """Wake every sync service now (this process's and, through the server, others')."""
        for wake in self.wake_callbacks:
            wake()
        for project in self.get_enabled_projects():
            self.client.work.reset_timer(project)

