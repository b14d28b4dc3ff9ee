"""Pause and unpause of the SiteSync contract (a part of SiteSyncApi).

Pauses are stored on the server, so every sync service honours them, also between the chunks
of a transfer in flight. Unpausing what is not paused does nothing.
"""
from __future__ import annotations

import contextlib

from sitesync_addon.contract.base import ApiBase
from sitesync_addon.contract.state import representation_id_of
from sitesync_addon.errors import ServerNotFound


class PauseMixin(ApiBase):
    def _set_representation_pause(self, project_name: str, representation_id: str,
                                  site_name: str, paused: bool) -> None:
        self.client.pause.set_representation(project_name, representation_id_of(
            representation_id), self._as_local_id(site_name), paused)

    def pause_representation(self, project_name: str, representation_id: str,
                             site_name: str) -> None:
        self._set_representation_pause(project_name, representation_id, site_name, True)

    def unpause_representation(self, project_name: str, representation_id: str,
                               site_name: str) -> None:
        """Resume; a site without state is not paused, so nothing happens."""
        with contextlib.suppress(ServerNotFound):
            self._set_representation_pause(project_name, representation_id, site_name, False)

    def pause_project(self, project_name: str) -> None:
        self.client.pause.set_project(project_name, True)

    def unpause_project(self, project_name: str) -> None:
        self.client.pause.set_project(project_name, False)

    def pause_server(self) -> None:
        self.client.pause.set_server(True)

    def unpause_server(self) -> None:
        self.client.pause.set_server(False)

    def is_paused(self) -> bool:
        """Whether the whole server is paused."""
        return self.client.pause.server()

    def is_project_paused(self, project_name: str, check_parents: bool = False) -> bool:
        paused = self.client.pause.project(project_name)
        return paused or (check_parents and self.is_paused())

    def is_representation_paused(self, representation_id: str, check_parents: bool = False,
                                 project_name: str | None = None) -> bool:
        """Paused on any site; ``check_parents`` also asks the project and the server.

        Without ``project_name`` the representation is looked for in the enabled projects.
        """
        rep = representation_id_of(representation_id)
        owner = project_name
        for project in [project_name] if project_name else self.get_enabled_projects():
            sites = self.site_states(project, [rep]).get(rep)
            if sites:
                if any(site["paused"] for site in sites.values()):
                    return True
                owner = project
                break
        if not check_parents:
            return False
        if owner:
            return self.is_project_paused(owner, check_parents=True)
        return self.is_paused()
