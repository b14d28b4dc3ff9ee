"""What the parts of SiteSyncApi share: the server client, the site resolver, lookups."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sitesync_addon.client import ServerClient
from sitesync_addon.client.types import Representation, SiteState
from sitesync_addon.errors import ServerNotFound
from sitesync_addon.sites import SiteResolver


class ApiBase:
    """The members every part of the contract uses; the parts are mixed into SiteSyncApi."""

    client: ServerClient
    sites: SiteResolver
    local_site_id: str

    def _as_local_id(self, site: str) -> str:
        return self.sites.as_local_id(site)

    def _representation(self, project_name: str, representation_id: str) -> Representation:
        try:
            return self.client.catalog.representation(project_name, representation_id)
        except ServerNotFound:
            raise ValueError(f"representation {representation_id} does not exist in project "
                             f"'{project_name}'") from None

    def _post_state(self, project_name: str, representation_id: str, site: str,
                    body: dict[str, Any], reset: bool = False) -> None:
        self.client.state.change(project_name, representation_id, site, body, reset)

    def site_states(self, project_name: str, representation_ids: Sequence[str],
                    sites: Sequence[str] | None = None) -> dict[str, dict[str, SiteState]]:
        """``{representation id: {site: state, its files by id}}`` as stored on the server."""
        return self.client.state.sites(project_name, representation_ids, sites)

    if TYPE_CHECKING:  # members one part uses from another
        @property
        def acting_sites(self) -> set[str]: ...

        def get_sync_project_setting(self, project_name: str, exclude_locals: bool = False,
                                     cached: bool = True) -> dict[str, Any]: ...

        def get_enabled_projects(self) -> list[str]: ...

        def is_project_enabled(self, project_name: str, single: bool = False) -> bool: ...

        def get_active_site(self, project_name: str) -> str: ...

        def get_remote_site(self, project_name: str) -> str: ...

        def remove_site(self, project_name: str, representation_id: str, site_name: str,
                        remove_local_files: bool = False) -> None: ...

        def _remove_local_files(self, project_name: str, representation_ids: list[str],
                                site_name: str) -> int: ...

        def is_paused(self) -> bool: ...

        def is_project_paused(self, project_name: str, check_parents: bool = False
                              ) -> bool: ...
