"""SiteSync's settings schema: studio settings, project overrides and site-scope settings.

Field names are the contract of SEED_API.md. Provider blocks sit on each site under the
provider's code; fields marked ``secret`` are masked for keys that may not use them.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
    model_validator,
)

from sitesync_addon.providers.base import PlatformPaths, ProviderSettings
from sitesync_addon.providers.registry import registry

SiteName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1,
                                            max_length=255)]
ProviderCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
RESERVED_SITE_NAMES = ("local",)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteBase(BaseModel):
    """One configured site; ``Site`` adds a settings block per installed provider. Blocks of
    providers not installed here are kept as they are."""

    model_config = ConfigDict(extra="allow")

    name: SiteName
    enabled: bool = True
    provider: ProviderCode = "local_drive"
    alternative_sites: list[SiteName] = Field(default_factory=list)
    root: dict[SiteName, PlatformPaths] = Field(
        default_factory=dict, description="{root name: {platform: path}}, e.g. for local_drive.")

    @model_validator(mode="after")
    def _provider_block(self) -> SiteBase:
        if self.name in RESERVED_SITE_NAMES:
            raise ValueError(f"site name '{self.name}' is reserved for this machine's site")
        block = PROVIDER_BLOCKS.get(self.provider)
        if block is not None and getattr(self, self.provider) is None:
            try:  # a block whose fields all have defaults may be left out
                setattr(self, self.provider, block())
            except ValidationError:
                raise ValueError(f"site '{self.name}' uses provider '{self.provider}' and needs "
                                 f"a '{self.provider}' block with its settings") from None
        return self


# Every installed provider's settings model, so the schema and validation include it.
PROVIDER_BLOCKS: dict[str, type[ProviderSettings]] = registry().settings_models()
Site = create_model(  # type: ignore[call-overload]  # field types built at run time
    "Site", __base__=SiteBase, __doc__=SiteBase.__doc__,
    **{code: (model | None, None) for code, model in PROVIDER_BLOCKS.items()})


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
