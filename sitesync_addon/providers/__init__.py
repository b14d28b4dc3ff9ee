"""Storage providers: the contract, the plugin hooks and the registry of what is installed."""
from sitesync_addon.providers.base import (
                                           ATOMIC_WRITE,
                                           LOCAL_PATH,
                                           AbstractProvider,
                                           FileStat,
                                           ProviderSettings,
                                           relative_path,
)
from sitesync_addon.providers.hookspecs import hookimpl

__all__ = ["ATOMIC_WRITE", "LOCAL_PATH", "AbstractProvider", "FileStat", "ProviderSettings",
           "hookimpl", "relative_path"]
