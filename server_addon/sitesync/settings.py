"""SiteSync's settings schema: studio settings, project overrides and site-scope settings.

Field names are the contract of SEED_API.md. Provider blocks sit on each site under the
provider's code; fields marked ``secret`` are masked for keys that may not use them.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SiteName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1,
                                            max_length=255)]
ProviderCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
PlatformPaths = dict[Literal["windows", "linux", "darwin"], str]
SECRET = {"secret": True}
RESERVED_SITE_NAMES = ("local",)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LocalDriveSettings(Strict):
    """A folder tree on a disk this machine mounts; the site's ``root`` says where."""


class S3Settings(Strict):
    bucket: str = Field(min_length=1, description="Bucket that holds the site's files.")
    endpoint_url: str | None = Field(None, description="For S3-compatible servers; empty: AWS.")
    region: str | None = Field(None, description="e.g. eu-west-1.")
    prefix: str = Field("", description="Key prefix under which the site's tree starts.")
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    access_key_id: str | None = None
    secret_access_key: str | None = Field(None, json_schema_extra=SECRET)
    session_token: str | None = Field(None, json_schema_extra=SECRET)
    profile: str | None = Field(None, description="A named AWS profile instead of keys.")
    storage_class: str | None = Field(None, description="e.g. STANDARD_IA; empty: default.")


class SftpSettings(Strict):
    host: str = Field(min_length=1)
    port: int = Field(22, ge=1, le=65535)
    user: str = Field(min_length=1)
    password: str | None = Field(None, json_schema_extra=SECRET)
    key_path: PlatformPaths = Field(default_factory=dict, description="Private key per platform.")
    key_passphrase: str | None = Field(None, json_schema_extra=SECRET)
    known_hosts_path: PlatformPaths = Field(default_factory=dict)
    check_host_key: bool = Field(True, description="Turning this off trusts any server.")
    root: str = Field("/", description="Folder on the server where the site's tree starts.")


class GDriveSettings(Strict):
    credentials_path: PlatformPaths = Field(
        default_factory=dict, description="Service-account JSON file per platform.",
        json_schema_extra=SECRET)
    shared_drive: str | None = Field(None, description="Shared drive name or id; empty: My Drive.")
    root: str = Field("/", description="Folder path on the drive where the site's tree starts.")


class RcloneSettings(Strict):
    remote: str = Field(min_length=1, description="An rclone remote and path, e.g. 'backup:vfx'.")
    config_path: PlatformPaths = Field(default_factory=dict, description="rclone.conf per platform.")
    parameters: dict[str, str] = Field(
        default_factory=dict, json_schema_extra=SECRET,
        description="Inline remote options, passed by environment, e.g. {'type': 'webdav'}.")
    rclone_path: str | None = Field(None, description="rclone binary; empty: the bundled one.")


BUILTIN_PROVIDER_BLOCKS: dict[str, type[BaseModel]] = {
    "local_drive": LocalDriveSettings, "s3": S3Settings, "sftp": SftpSettings,
    "gdrive": GDriveSettings, "rclone": RcloneSettings,
}


class Site(BaseModel):
    """One configured site. Third-party providers add their block under their own code."""

    model_config = ConfigDict(extra="allow")

    name: SiteName
    enabled: bool = True
    provider: ProviderCode = "local_drive"
    alternative_sites: list[SiteName] = Field(default_factory=list)
    root: dict[SiteName, PlatformPaths] = Field(
        default_factory=dict, description="{root name: {platform: path}}, e.g. for local_drive.")
    local_drive: LocalDriveSettings | None = None
    s3: S3Settings | None = None
    sftp: SftpSettings | None = None
    gdrive: GDriveSettings | None = None
    rclone: RcloneSettings | None = None

    @model_validator(mode="after")
    def _provider_block(self) -> Site:
        if self.name in RESERVED_SITE_NAMES:
            raise ValueError(f"site name '{self.name}' is reserved for this machine's site")
        block = BUILTIN_PROVIDER_BLOCKS.get(self.provider)
        if block is LocalDriveSettings and self.local_drive is None:
            self.local_drive = LocalDriveSettings()
        elif block is not None and getattr(self, self.provider) is None:
            raise ValueError(f"site '{self.name}' uses provider '{self.provider}' and needs a "
                             f"'{self.provider}' block with its settings")
        return self


class SyncConfig(Strict):
    retry_cnt: int = Field(3, ge=1, le=1000, description="Tries before a file is FAILED.")
    loop_delay: int = Field(60, ge=1, le=86_400, description="Seconds between fallback loops.")
    always_accessible_on: list[SiteName] = Field(default_factory=list)
    active_site: SiteName = "studio"
    remote_site: SiteName = "studio"


class LocalRoot(Strict):
    name: SiteName
    path: str = Field(min_length=1, max_length=4096)


class LocalSetting(Strict):
    """Site-scope settings: what one machine (local site id) uses in a project."""

    active_site: SiteName | None = Field(None, description="Empty: the project config's.")
    remote_site: SiteName | None = Field(None, description="Empty: the project config's.")
    local_roots: list[LocalRoot] = Field(default_factory=list)


class SiteSyncSettings(Strict):
    enabled: bool = False
    config: SyncConfig = Field(default_factory=SyncConfig)
    sites: list[Site] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_sites(self) -> SiteSyncSettings:
        names = [site.name for site in self.sites]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"site names must be unique; repeated: {', '.join(duplicated)}")
        return self
