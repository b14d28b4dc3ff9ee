"""The pluggy hooks through which providers, built-in or installed, join SiteSync.

A package adds providers with an entry point in group ``sitesync`` that names a module (or
object) holding implementations of these hooks::

    [project.entry-points.sitesync]
    my_store = "my_package.provider"

    # my_package/provider.py
    from sitesync_addon.providers import hookimpl

    @hookimpl
    def sitesync_providers():
        return [MyStoreProvider]
"""
from __future__ import annotations

import pluggy

from sitesync_addon.providers.base import AbstractProvider

PROJECT = "sitesync"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def sitesync_providers() -> list[type[AbstractProvider]]:  # type: ignore[empty-body]  # a pluggy hookspec: never run
    """Provider classes this plugin contributes, each with its ``code``, ``settings_model``
    and ``icon``."""
