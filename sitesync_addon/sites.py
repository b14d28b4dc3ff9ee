"""From resolved server settings to sites: implicit sites, alternatives, roots per platform,
and the resolver that caches them for this machine."""
from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from sitesync_addon.client import ServerClient
from sitesync_addon.client.types import Project
from sitesync_addon.errors import ConfigError, ServerError
from sitesync_addon.platform import current_platform
from sitesync_addon.providers.base import AbstractProvider
from sitesync_addon.providers.registry import create_provider

log = logging.getLogger(__name__)

DEFAULT_SITE = "studio"
LOCAL_SITE = "local"
LOCAL_PROVIDER = "local_drive"
DEFAULT_LOOP_DELAY = 60
RETIRE_SECONDS = 600.0  # a provider of old settings is closed this long after they changed


def platform_roots(root: dict[str, Any], platform: str | None = None) -> dict[str, str]:
    """``{name: path}`` for this platform from ``{name: {platform: path}}`` (or plain paths)."""
    platform = platform or current_platform()
    result = {}
    for name, value in root.items():
        path = value.get(platform) if isinstance(value, dict) else value
        if path:
            result[name] = path
    return result


def alternative_closure(sites: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Every site's alternatives: the relation made symmetric and transitive, never reflexive.

    Cycles and self references are harmless; names of unknown sites are ignored (no state
    is ever written for a site that is not configured).
    """
    sites = list(sites)
    neighbours: dict[str, set[str]] = {site["name"]: set() for site in sites}
    for site in sites:
        for other in site.get("alternative_sites") or []:
            if other in neighbours:
                neighbours[site["name"]].add(other)
                neighbours[other].add(site["name"])
    closure: dict[str, set[str]] = {}
    for start in neighbours:
        if start in closure:
            continue
        group, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name not in group:
                group.add(name)
                todo.extend(neighbours[name] - group)
        for name in group:
            closure[name] = group - {name}
    return closure


def build_project_settings(resolved: dict[str, Any], project_roots: dict[str, Any],
                           local_site_id: str, exclude_locals: bool = False) -> dict[str, Any]:
    """The SEED_API shape: enabled, config, local_setting, and ``sites`` by name.

    ``studio`` gets the project's roots for this platform with any configured overrides, and
    the local site id and its alias ``local`` get the machine's ``local_roots``. A local site
    id that names a configured site (a studio box running as ``studio``) is that site, and
    ``local`` is an alias of it.
    """
    settings = copy.deepcopy(resolved)
    local_setting = settings.pop("local_setting", None) or {}
    if exclude_locals:
        local_setting = {"active_site": None, "remote_site": None, "local_roots": []}
    configured = {site["name"]: site for site in settings.get("sites", [])}
    studio = configured.get(DEFAULT_SITE, {"name": DEFAULT_SITE, "alternative_sites": []})
    studio_root = platform_roots(project_roots)
    studio_root.update(platform_roots(studio.get("root") or {}))
    sites: dict[str, dict[str, Any]] = {
        name: {**site, "root": platform_roots(site.get("root") or {})}
        for name, site in configured.items()}
    sites[DEFAULT_SITE] = {**studio, "enabled": True, "provider": LOCAL_PROVIDER,
                           "root": studio_root}
    if local_site_id in sites:
        sites[LOCAL_SITE] = {**sites[local_site_id], "name": LOCAL_SITE}
    else:
        local_root = {item["name"]: item["path"] for item in local_setting.get("local_roots", [])}
        for name in (local_site_id, LOCAL_SITE):
            sites[name] = {"name": name, "enabled": True, "provider": LOCAL_PROVIDER,
                           "alternative_sites": [], "root": dict(local_root)}
    closure = alternative_closure(sites.values())
    for name, site in sites.items():
        site["alternative_sites"] = sorted(closure.get(name, set()))
    settings["sites"] = sites
    settings["local_setting"] = local_setting
    return settings


class SiteResolver:
    """Settings to sites for this machine, cached until the server says they changed.

    The cache lives under one lock: the event listener calls ``invalidate()`` while transfer
    threads read. Entries also expire after the project's ``loop_delay``, so a missed event
    costs at most one loop. Invalidation closes and drops the providers built from the old
    settings.
    """

    def __init__(self, client: ServerClient, local_site_id: str, enabled: bool = True) -> None:
        self.client = client
        self.local_site_id = local_site_id
        self.enabled = enabled
        self._lock = threading.RLock()
        self._projects: tuple[float, list[Project]] | None = None
        self._settings: dict[str, tuple[float, dict[str, Any]]] = {}
        self._studio: dict[str, Any] | None = None
        self._providers: dict[tuple[str, str], AbstractProvider] = {}
        self._retired: list[tuple[float, AbstractProvider]] = []  # (since, provider)

    # -- cache ---------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget every cached setting. Providers built from them are no longer handed out;
        they are closed once ``RETIRE_SECONDS`` have passed, so transfers still using one
        can finish."""
        now = time.monotonic()
        with self._lock:
            self._retired += [(now, p) for p in self._providers.values()]
            self._providers = {}
            self._projects, self._settings, self._studio = None, {}, None
            due = [p for since, p in self._retired if now - since >= RETIRE_SECONDS]
            self._retired = [(since, p) for since, p in self._retired
                             if now - since < RETIRE_SECONDS]
        for provider in due:
            _close(provider)

    def _fresh(self, stamp: float, ttl: float) -> bool:
        return time.monotonic() - stamp < ttl

    def projects(self) -> list[Project]:
        """Every project this key may use (cached for the shortest loop delay)."""
        with self._lock:
            if self._projects and self._fresh(self._projects[0], self._min_ttl()):
                return self._projects[1]
        found = self.client.projects.list()
        with self._lock:
            self._projects = (time.monotonic(), found)
        return found

    def _min_ttl(self) -> float:
        delays = [s["config"].get("loop_delay", DEFAULT_LOOP_DELAY)
                  for _, s in self._settings.values()]
        return float(min(delays, default=DEFAULT_LOOP_DELAY))

    def studio_settings(self) -> dict[str, Any]:
        with self._lock:
            if self._studio is None:
                self._studio = self.client.settings.studio()
            return self._studio

    def project_settings(self, project: str, exclude_locals: bool = False,
                         cached: bool = True, keep: bool | None = None) -> dict[str, Any]:
        """One project's resolved settings in the SEED_API shape; ``keep`` caches them
        (by default only those with this machine's local settings)."""
        if cached and not exclude_locals:
            with self._lock:
                entry = self._settings.get(project)
                if entry and self._fresh(entry[0], entry[1]["config"].get(
                        "loop_delay", DEFAULT_LOOP_DELAY)):
                    return entry[1]
        resolved = self.client.settings.resolved(project, self.local_site_id)
        roots = next((p["roots"] for p in self.projects() if p["name"] == project), None)
        if roots is None:
            roots = self.client.projects.get(project)["roots"]
        settings = build_project_settings(resolved, roots, self.local_site_id, exclude_locals)
        if keep if keep is not None else not exclude_locals:
            with self._lock:
                self._settings[project] = (time.monotonic(), settings)
        return settings

    # -- questions -----------------------------------------------------------------------

    def is_enabled(self, project: str, cached: bool = True) -> bool:
        """Whether sync is on for the project; a project this key may not read is 'off'."""
        if not self.enabled:
            return False
        try:
            return bool(self.project_settings(project, cached=cached).get("enabled"))
        except ServerError as exc:
            if exc.status_code in (403, 404):
                return False
            raise

    def enabled_projects(self) -> list[str]:
        if not self.enabled:
            return []
        return [p["name"] for p in self.projects() if self.is_enabled(p["name"])]

    def loop_delay(self, project: str | None) -> int:
        if not project:
            return DEFAULT_LOOP_DELAY
        return int(self.project_settings(project)["config"]["loop_delay"])

    def as_local_id(self, site: str) -> str:
        return self.local_site_id if site == LOCAL_SITE else site

    def active_site(self, project: str, fresh: bool = False) -> str:
        """The user's local active site, else the project's; ``studio`` when sync is off.
        ``fresh`` reads the settings from the server first."""
        return self.as_local_id(self.side_type(project, "active_site", fresh))

    def remote_site(self, project: str, fresh: bool = False) -> str:
        return self.as_local_id(self.side_type(project, "remote_site", fresh))

    def side_type(self, project: str, key: str, fresh: bool = False,
                  local_settings: dict[str, Any] | None = None) -> str:
        """``active_site`` or ``remote_site`` as configured (``local`` kept as is)."""
        if not self.is_enabled(project, cached=not fresh):
            return DEFAULT_SITE
        settings = self.project_settings(project)
        local = local_settings if local_settings is not None else (
            settings.get("local_setting") or {})
        return str(local.get(key) or settings["config"][key])

    def site(self, project: str, site_name: str) -> dict[str, Any]:
        """A configured site of the project; ``ConfigError`` naming the known ones."""
        sites = self.project_settings(project)["sites"]
        site = sites.get(self.as_local_id(site_name)) or sites.get(site_name)
        if site is None:
            raise ConfigError(f"site '{site_name}' is not configured in project '{project}' "
                              f"(sites: {', '.join(sorted(sites))})")
        return dict(site)

    def provider(self, project: str, site_name: str) -> AbstractProvider:
        """One provider per site of a project, kept until the settings change."""
        key = (project, self.as_local_id(site_name))
        with self._lock:
            found = self._providers.get(key)
            if found is None:
                found = self._providers[key] = create_provider(
                    key[1], self.site(project, site_name))
            return found

    def mirror_to_alternatives(self, project: str, representation_id: str,
                               processed_site: str, file_id: str) -> None:
        """Give every alternative of ``processed_site`` the state the file has there."""
        site = self.project_settings(project)["sites"].get(processed_site)
        if not site or not site.get("alternative_sites"):
            return
        states = self.client.state.sites(project, [representation_id]).get(
            representation_id, {})
        source = states.get(processed_site)
        if source is None or file_id not in source["files"]:
            return
        status = int(source["files"][file_id]["status"])
        for alternative in site["alternative_sites"]:
            if alternative != LOCAL_SITE:
                self.client.state.change(project, representation_id, alternative,
                                         {"files": [{"id": file_id, "status": status}]})

    def close(self) -> None:
        """Close every provider (nothing may use them any more)."""
        self.invalidate()
        with self._lock:
            retired, self._retired = self._retired, []
        for _, provider in retired:
            _close(provider)


def _close(provider: AbstractProvider) -> None:
    close = getattr(provider, "close", None)
    if close is not None:
        try:
            close()
        except Exception as exc:  # noqa: BLE001 - closing must never break a settings change
            log.warning("closing the provider of site '%s': %s", provider.site_name, exc)
