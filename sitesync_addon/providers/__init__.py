"""Storage providers: the contract, the plugin hooks and the registry of what is installed."""
from sitesync_addon.providers.base import (
    SECRET,
    AbstractProvider,
    Features,
    FileStat,
    ProviderSettings,
    SpooledWriter,
    TranslatedStream,
    os_error,
    relative_path,
)
from sitesync_addon.providers.hookspecs import hookimpl

__all__ = ["SECRET", "AbstractProvider", "Features", "FileStat", "ProviderSettings",
           "SpooledWriter", "TranslatedStream", "hookimpl", "os_error", "relative_path"]
