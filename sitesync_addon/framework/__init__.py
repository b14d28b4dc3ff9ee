"""A small addon framework: addon interfaces and a manager that loads addons by entry point."""
from sitesync_addon.framework.interfaces import (Addon, CliAddon, LaunchHookPathsAddon,
                                                 PluginPathsAddon, TrayAddon)
from sitesync_addon.framework.manager import AddonManager, BrokenAddon

__all__ = ["Addon", "AddonManager", "BrokenAddon", "CliAddon", "LaunchHookPathsAddon",
           "PluginPathsAddon", "TrayAddon"]
