"""SiteSync client addon: the SiteSyncAddon contract, the sync engine and the CLI."""
from sitesync_addon.addon import SiteSyncAddon
from sitesync_addon.errors import ResumableError, SiteAlreadyPresentError, SiteSyncError
from sitesync_addon.status import SiteSyncStatus, SyncStatus

__all__ = ["ResumableError", "SiteAlreadyPresentError", "SiteSyncAddon", "SiteSyncError",
           "SiteSyncStatus", "SyncStatus"]
