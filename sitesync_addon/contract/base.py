"""What the contract's mixins know of each other: the shape of SiteSyncAddon."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitesync_addon.providers.base import AbstractProvider
    from sitesync_addon.server_api import ServerApi


class AddonBase:
    """Declares, for type checkers only, the members one mixin uses from another."""

    api: ServerApi
    local_site_id: str
    enabled: bool

    if TYPE_CHECKING:
        endpoint_prefix: str
        acting_sites: set[str]

        def get_sync_project_setting(self, project_name: str, exclude_locals: bool = False,
                                     cached: bool = True) -> dict[str, Any]: ...

        def get_enabled_projects(self) -> list[str]: ...

        def is_project_enabled(self, project_name: str, single: bool = False) -> bool: ...

        def get_active_site(self, project_name: str) -> str: ...

        def get_remote_site(self, project_name: str) -> str: ...

        def _as_local_id(self, site: str) -> str: ...

        def provider_for(self, project_name: str, site_name: str) -> AbstractProvider: ...

        def _representation(self, project_name: str, representation_id: str) -> dict: ...

        def _site_states(self, project_name: str, representation_ids: list[str],
                         sites: list[str] | None = None) -> dict[str, dict[str, dict]]: ...

        def _post_state(self, project_name: str, representation_id: str, site: str,
                        body: dict[str, Any], reset: bool = False) -> None: ...

        def remove_site(self, project_name: str, representation_id: str, site_name: str,
                        remove_local_files: bool = False) -> None: ...

        def _remove_local_files(self, project_name: str, representation_ids: list[str],
                                site_name: str) -> int: ...

        def is_paused(self) -> bool: ...

        def is_project_paused(self, project_name: str, check_parents: bool = False
                              ) -> bool: ...
