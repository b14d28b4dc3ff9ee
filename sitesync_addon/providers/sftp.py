"""``sftp``: an SSH file server through paramiko."""
from __future__ import annotations

from pydantic import Field

from sitesync_addon.providers.base import SECRET, PlatformPaths, ProviderSettings


class SftpSettings(ProviderSettings):
    host: str = Field(min_length=1)
    port: int = Field(22, ge=1, le=65535)
    user: str = Field(min_length=1)
    password: str | None = Field(None, json_schema_extra=SECRET)
    key_path: PlatformPaths = Field(default_factory=dict, description="Private key per platform.")
    key_passphrase: str | None = Field(None, json_schema_extra=SECRET)
    known_hosts_path: PlatformPaths = Field(default_factory=dict)
    check_host_key: bool = Field(True, description="Turning this off trusts any server.")
    root: str = Field("/", description="Folder on the server where the site's tree starts.")
