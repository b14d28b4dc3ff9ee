"""SiteSync, the first server addon: sync state, work queue, pauses and events."""
from server_addon.sitesync.addon import SiteSyncServerAddon

__all__ = ["SiteSyncServerAddon"]
