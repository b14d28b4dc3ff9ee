"""``gdrive``: Google Drive (My Drive or a shared drive) through the Drive v3 API."""
from __future__ import annotations

from pydantic import Field

from sitesync_addon.providers.base import SECRET, PlatformPaths, ProviderSettings


class GDriveSettings(ProviderSettings):
    credentials_path: PlatformPaths = Field(
        default_factory=dict, description="Service-account JSON file per platform.",
        json_schema_extra=SECRET)
    shared_drive: str | None = Field(None, description="Shared drive name or id; empty: My Drive.")
    root: str = Field("/", description="Folder path on the drive where the site's tree starts.")
