"""From resolved server settings to sites: implicit sites, alternatives, roots per platform."""
from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sitesync_addon.platform import current_platform

DEFAULT_SITE = "studio"
LOCAL_SITE = "local"
LOCAL_PROVIDER = "local_drive"


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
    the local site id and its alias ``local`` get the machine's ``local_roots``.
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
