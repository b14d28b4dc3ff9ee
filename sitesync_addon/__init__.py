"""SiteSync client addon."""
from sitesync_addon.status import SiteSyncStatus, SyncStatus

__all__ = ["SiteSyncStatus", "SyncStatus"]
