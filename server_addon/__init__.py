"""The SiteSync server: a host for server addons, with SiteSync as the first one."""
from server_addon.addon import ServerAddon
from server_addon.app import create_app

__all__ = ["ServerAddon", "create_app"]
