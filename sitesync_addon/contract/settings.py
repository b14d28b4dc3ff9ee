"""Settings and sites of the SiteSyncAddon contract (a mixin of SiteSyncAddon)."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from sitesync_addon.contract.base import AddonBase
from sitesync_addon.server_api import ServerError
from sitesync_addon.sites import DEFAULT_SITE, LOCAL_PROVIDER, LOCAL_SITE, build_project_settings
from sitesync_addon.status import SiteSyncStatus

DEFAULT_LOOP_DELAY = 60


class SettingsMixin(AddonBase):
    # -- settings ----------------------------------------------------------------------------

    @cached_property
    def sync_studio_settings(self) -> dict[str, Any]:
        """Studio-level settings of the addon (cached)."""
        return self.api.get(f"{self._settings_path}")

    @property
    def _settings_path(self) -> str:
        return f"/api/{self.endpoint_prefix}/settings"

    @property
    def sync_project_settings(self) -> dict[str, dict[str, Any]]:
        """Resolved settings of every project, by project name (cached)."""
        if getattr(self, "_project_settings", None) is None:
            self.set_sync_project_settings()
        return self._project_settings

    def set_sync_project_settings(self, exclude_locals: bool = False) -> None:
        """Rebuild the cache of every project's resolved settings."""
        names = [project["name"] for project in self.api.get("/api/projects")]
        self._project_settings = {
            name: self._build_project_settings(name, exclude_locals) for name in names}

    def get_sync_project_setting(self, project_name: str, exclude_locals: bool = False,
                                 cached: bool = True) -> dict[str, Any]:
        """One project's resolved settings; ``cached=False`` builds fresh ones."""
        if cached and not exclude_locals:
            cache = getattr(self, "_project_settings", None) or {}
            if project_name in cache:
                return cache[project_name]
        settings = self._build_project_settings(project_name, exclude_locals)
        if not exclude_locals:
            if getattr(self, "_project_settings", None) is None:
                self._project_settings = {}
            self._project_settings[project_name] = settings
        return settings

    def _build_project_settings(self, project_name: str, exclude_locals: bool) -> dict:
        resolved = self.api.get(f"{self._settings_path}/{project_name}/resolved",
                                params={"siteId": self.local_site_id})
        roots = self.api.get(f"/api/projects/{project_name}").get("roots", {})
        return build_project_settings(resolved, roots, self.local_site_id, exclude_locals)

    def get_enabled_projects(self) -> list[str]:
        """Names of the projects with sync enabled."""
        if not self.enabled:
            return []
        return [name for name in (p["name"] for p in self.api.get("/api/projects"))
                if self.is_project_enabled(name, single=True)]

    def is_project_enabled(self, project_name: str, single: bool = False) -> bool:
        """Whether sync is on for the project; a project this key may not read is 'off'."""
        if not self.enabled:
            return False
        try:
            if single:
                settings = self.get_sync_project_setting(project_name, cached=False)
            else:
                settings = self.sync_project_settings.get(project_name)
        except ServerError as exc:
            if exc.status_code in (403, 404):
                return False
            raise
        return bool(settings and settings.get("enabled"))

    def get_loop_delay(self, project_name: str | None) -> int:
        """Seconds between loops of the sync service (60 without a project)."""
        if not project_name:
            return DEFAULT_LOOP_DELAY
        return int(self.get_sync_project_setting(project_name)["config"]["loop_delay"])

    # -- sites -------------------------------------------------------------------------------

    def _local_settings(self, project_name: str, local_settings: dict | None) -> dict:
        if local_settings is not None:
            return local_settings
        return self.get_sync_project_setting(project_name).get("local_setting") or {}

    def get_active_site_type(self, project_name: str,
                             local_settings: dict | None = None) -> str:
        """``studio`` when sync is off; else the user's local active site or the project's."""
        if not self.is_project_enabled(project_name, single=True):
            return DEFAULT_SITE
        local = self._local_settings(project_name, local_settings)
        config = self.get_sync_project_setting(project_name)["config"]
        return local.get("active_site") or config["active_site"]

    def _as_local_id(self, site: str) -> str:
        return self.local_site_id if site == LOCAL_SITE else site

    def get_active_site(self, project_name: str) -> str:
        return self._as_local_id(self.get_active_site_type(project_name))

    def get_remote_site(self, project_name: str) -> str:
        if not self.is_project_enabled(project_name, single=True):
            return DEFAULT_SITE
        local = self._local_settings(project_name, None)
        config = self.get_sync_project_setting(project_name)["config"]
        return self._as_local_id(local.get("remote_site") or config["remote_site"])

    def get_local_normalized_site(self, site_name: str) -> str:
        """The local site id as ``local``; any other name unchanged."""
        return LOCAL_SITE if site_name == self.local_site_id else site_name

    def get_site_root_overrides(self, project_name: str, site_name: str,
                                local_settings: dict | None = None) -> dict[str, str]:
        """Root overrides of ``studio`` or ``local`` (the local site id counts as local)."""
        site_name = self.get_local_normalized_site(site_name)
        if site_name not in (DEFAULT_SITE, LOCAL_SITE):
            raise ValueError(f"root overrides exist only for 'studio' and 'local', not "
                             f"'{site_name}'")
        if not self.is_project_enabled(project_name, single=True):
            return {}
        if site_name == LOCAL_SITE:
            local = self._local_settings(project_name, local_settings)
            return {root["name"]: root["path"] for root in local.get("local_roots", [])}
        studio = self.get_sync_project_setting(project_name)["sites"][DEFAULT_SITE]
        return dict(studio.get("root") or {})

    def get_provider_for_site(self, project_name: str | None = None,
                              site: str | None = None) -> str:
        """The provider code of a site; ``N/A`` when no settings name it."""
        if site in (DEFAULT_SITE, LOCAL_SITE, self.local_site_id):
            return LOCAL_PROVIDER
        if project_name:
            found = self.get_sync_project_setting(project_name)["sites"].get(site)
            if found:
                return found["provider"]
        for configured in self.sync_studio_settings.get("sites", []):
            if configured["name"] == site:
                return configured["provider"]
        return "N/A"

    def get_site_settings(self, project_name: str, site_name: str) -> dict[str, Any]:
        sites = self.get_sync_project_setting(project_name)["sites"]
        site = sites.get(self._as_local_id(site_name)) or sites.get(site_name)
        if site is None:
            raise ValueError(f"site '{site_name}' is not configured in project "
                             f"'{project_name}' (sites: {', '.join(sorted(sites))})")
        return site

    def compute_resource_sync_sites(self, project_name: str) -> list[dict[str, Any]]:
        """The sites a publish stamps on a new representation, unique by name."""
        if not self.is_project_enabled(project_name, single=True):
            return [{"name": DEFAULT_SITE, "status": SiteSyncStatus.OK}]
        settings = self.get_sync_project_setting(project_name)
        active = self.get_active_site(project_name)
        remote = self.get_remote_site(project_name)
        result: dict[str, dict[str, Any]] = {active: {"name": active,
                                                      "status": SiteSyncStatus.OK}}
        if remote != active:
            result[remote] = {"name": remote, "status": SiteSyncStatus.QUEUED}
        sites = settings["sites"]
        for origin in list(result.values()):
            aliases = sites.get(origin["name"], {}).get("alternative_sites", [])
            for alias in aliases:
                if alias not in (LOCAL_SITE,) and alias not in result:
                    result[alias] = {"name": alias, "status": origin["status"]}
        for always in settings["config"].get("always_accessible_on", []):
            always = self._as_local_id(always)
            result.setdefault(always, {"name": always, "status": SiteSyncStatus.QUEUED})
        return list(result.values())
