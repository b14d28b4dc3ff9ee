"""``rclone``: any remote rclone reaches, by driving the ``rclone`` binary."""
from __future__ import annotations

from pydantic import Field

from sitesync_addon.providers.base import SECRET, PlatformPaths, ProviderSettings


class RcloneSettings(ProviderSettings):
    remote: str = Field(min_length=1, description="An rclone remote and path, e.g. 'backup:vfx'.")
    config_path: PlatformPaths = Field(default_factory=dict, description="rclone.conf per platform.")
    parameters: dict[str, str] = Field(
        default_factory=dict, json_schema_extra=SECRET,
        description="Inline remote options, passed by environment, e.g. {'type': 'webdav'}.")
    rclone_path: str | None = Field(None, description="rclone binary; empty: the bundled one.")

