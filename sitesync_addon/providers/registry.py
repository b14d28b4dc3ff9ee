"""Provider classes by code."""
from __future__ import annotations

from typing import Any

from sitesync_addon.providers.base import AbstractProvider
from sitesync_addon.providers.local_drive import LocalDriveProvider

_PROVIDERS: dict[str, type[AbstractProvider]] = {LocalDriveProvider.code: LocalDriveProvider}


def provider_class(code: str) -> type[AbstractProvider]:
    try:
        return _PROVIDERS[code]
    except KeyError:
        raise ValueError(f"no provider '{code}' is installed (installed: "
                         f"{', '.join(sorted(_PROVIDERS))})") from None


def create_provider(site_name: str, site: dict[str, Any]) -> AbstractProvider:
    """A provider for one resolved site (``provider``, its settings block, ``root``)."""
    code = site.get("provider", "local_drive")
    return provider_class(code)(site_name, site.get(code) or {}, site.get("root") or {})
