"""Collect the sync settings of the project being published."""
from __future__ import annotations

import pyblish.api

from sitesync_addon.api import SiteSyncApi
from sitesync_addon.publish import ADDON_KEY, SETTINGS_KEY


class CollectSiteSync(pyblish.api.ContextPlugin):
    """Put the project's sync settings into ``context.data["sitesync"]``:
    ``{"enabled", "sites" (compute_resource_sync_sites), "active_site"}``.

    The project is ``context.data["projectName"]``. The addon is
    ``context.data["sitesync_addon"]`` when the host put one there, else a ``SiteSyncApi()``
    configured from the environment, left there for the other SiteSync plugins. A project with
    sync disabled still publishes: its only site is ``studio``, OK.
    """

    order = pyblish.api.CollectorOrder
    label = "Collect SiteSync settings"

    def process(self, context: pyblish.api.Context) -> None:
        project = context.data.get("projectName")
        if not project:
            raise ValueError("context.data['projectName'] is not set; the host must name the "
                             "project it publishes to")
        if context.data.get(ADDON_KEY) is None:
            context.data[ADDON_KEY] = SiteSyncApi()
        addon = context.data[ADDON_KEY]
        context.data[SETTINGS_KEY] = {
            "enabled": addon.is_project_enabled(project, single=True),
            "sites": addon.compute_resource_sync_sites(project),
            "active_site": addon.get_active_site(project),
        }
        self.log.info("project %s: sites %s", project, context.data[SETTINGS_KEY]["sites"])
