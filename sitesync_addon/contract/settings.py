"""Settings and sites of the SiteSync contract (a part of SiteSyncApi)."""
from __future__ import annotations

from typing import Any

from sitesync_addon.contract.base import ApiBase
from sitesync_addon.sites import DEFAULT_SITE, LOCAL_PROVIDER, LOCAL_SITE
from sitesync_addon.status import SiteSyncStatus


class SettingsMixin(ApiBase):
    @property
    def sync_studio_settings(self) -> dict[str, Any]:
        """Studio-level settings of the addon (cached)."""
        return self.sites.studio_settings()

    @property
    def sync_project_settings(self) -> dict[str, dict[str, Any]]:
        """Resolved settings of every project, by project name (cached)."""
        return {p["name"]: self.sites.project_settings(p["name"]) for p in self.sites.projects()}

    def set_sync_project_settings(self, exclude_locals: bool = False) -> None:
        """Rebuild the cache of every project's resolved settings."""
        self.sites.invalidate()
        for project in self.sites.projects():
            self.sites.project_settings(project["name"], exclude_locals, cached=False,
                                        keep=True)

    def get_sync_project_setting(self, project_name: str, exclude_locals: bool = False,
                                 cached: bool = True) -> dict[str, Any]:
        """One project's resolved settings; ``cached=False`` builds fresh ones."""
        return self.sites.project_settings(project_name, exclude_locals, cached)

    def get_enabled_projects(self) -> list[str]:
        """Names of the projects with sync enabled."""
        return self.sites.enabled_projects()

    def is_project_enabled(self, project_name: str, single: bool = False) -> bool:
        """Whether sync is on for the project; a project this key may not read is 'off'.
        ``single`` reads that project's settings afresh."""
        return self.sites.is_enabled(project_name, cached=not single)

    def get_loop_delay(self, project_name: str | None) -> int:
        """Seconds between loops of the sync service (60 without a project)."""
        return self.sites.loop_delay(project_name)

    # -- sites -------------------------------------------------------------------------------

    def get_active_site_type(self, project_name: str,
                             local_settings: dict[str, Any] | None = None) -> str:
        """``studio`` when sync is off; else the user's local active site or the project's."""
        return self.sites.side_type(project_name, "active_site", fresh=True,
                                    local_settings=local_settings)

    def get_active_site(self, project_name: str) -> str:
        return self.sites.active_site(project_name, fresh=True)

    def get_remote_site(self, project_name: str) -> str:
        return self.sites.remote_site(project_name, fresh=True)

    def get_local_normalized_site(self, site_name: str) -> str:
        """The local site id as ``local``; any other name unchanged."""
        return LOCAL_SITE if site_name == self.local_site_id else site_name

    def get_site_root_overrides(self, project_name: str, site_name: str,
                                local_settings: dict[str, Any] | None = None) -> dict[str, str]:
        """Root overrides of ``studio`` or ``local`` (the local site id counts as local)."""
        site_name = self.get_local_normalized_site(site_name)
        if site_name not in (DEFAULT_SITE, LOCAL_SITE):
            raise ValueError(f"root overrides exist only for 'studio' and 'local', not "
                             f"'{site_name}'")
        if not self.is_project_enabled(project_name, single=True):
            return {}
        if site_name == LOCAL_SITE:
            if local_settings is None:
                local_settings = self.get_sync_project_setting(project_name).get(
                    "local_setting") or {}
            return {root["name"]: root["path"] for root in local_settings.get("local_roots", [])}
        studio = self.get_sync_project_setting(project_name)["sites"][DEFAULT_SITE]
        return dict(studio.get("root") or {})

    def get_provider_for_site(self, project_name: str | None = None,
                              site: str | None = None) -> str:
        """The provider code of a site; ``N/A`` when no settings name it."""
        if project_name:
            found = self.get_sync_project_setting(project_name)["sites"].get(site)
            if found:
                return str(found["provider"])
        if site in (DEFAULT_SITE, LOCAL_SITE, self.local_site_id):
            return LOCAL_PROVIDER
        for configured in self.sync_studio_settings.get("sites", []):
            if configured["name"] == site:
                return str(configured["provider"])
        return "N/A"

    def get_site_settings(self, project_name: str, site_name: str) -> dict[str, Any]:
        return self.sites.site(project_name, site_name)

    def compute_resource_sync_sites(self, project_name: str) -> list[dict[str, Any]]:
        """The sites a publish stamps on a new representation, unique by name."""
        if not self.is_project_enabled(project_name, single=True):
            return [{"name": DEFAULT_SITE, "status": SiteSyncStatus.OK}]
        settings = self.get_sync_project_setting(project_name)
        active = self.sites.active_site(project_name)
        remote = self.sites.remote_site(project_name)
        result: dict[str, dict[str, Any]] = {active: {"name": active,
                                                      "status": SiteSyncStatus.OK}}
        if remote != active:
            result[remote] = {"name": remote, "status": SiteSyncStatus.QUEUED}
        sites = settings["sites"]
        for origin in list(result.values()):
            for alias in sites.get(origin["name"], {}).get("alternative_sites", []):
                if alias != LOCAL_SITE and alias not in result:
                    result[alias] = {"name": alias, "status": origin["status"]}
        for always in settings["config"].get("always_accessible_on", []):
            always = self.sites.as_local_id(always)
            result.setdefault(always, {"name": always, "status": SiteSyncStatus.QUEUED})
        return list(result.values())
