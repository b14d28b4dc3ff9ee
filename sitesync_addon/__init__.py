"""SiteSync client addon: the SiteSync contract, the sync engine and the CLI.

Names are imported on first use, so importing a small part (``sitesync_addon.errors``, the
engine's transfer) never loads the whole client.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitesync_addon.addon import SiteSyncAddon
    from sitesync_addon.api import SiteSyncApi
    from sitesync_addon.errors import ResumableError, SiteAlreadyPresentError, SiteSyncError
    from sitesync_addon.status import SiteSyncStatus, SyncStatus

_WHERE = {
    "ResumableError": "sitesync_addon.errors",
    "SiteAlreadyPresentError": "sitesync_addon.errors",
    "SiteSyncAddon": "sitesync_addon.addon",
    "SiteSyncApi": "sitesync_addon.api",
    "SiteSyncError": "sitesync_addon.errors",
    "SiteSyncStatus": "sitesync_addon.status",
    "SyncStatus": "sitesync_addon.status",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'sitesync_addon' has no attribute '{name}'")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
