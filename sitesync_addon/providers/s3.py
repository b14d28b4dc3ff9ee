"""``s3``: AWS S3 and S3-compatible servers through boto3."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from sitesync_addon.providers.base import SECRET, ProviderSettings


class S3Settings(ProviderSettings):
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
