"""Request and response models of the host API (camelCase on the wire)."""
from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from server_addon.auth import Role
from server_addon.catalog import NAME_PATTERN

# PostgreSQL text cannot hold NUL characters; refuse them on every backend alike.
NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, min_length=1, max_length=255)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]
Text = Annotated[str, StringConstraints(max_length=4096, pattern=NO_NUL)]
RootPaths = dict[Name, dict[str, Text]]
SITE_ID_PATTERN = r"^[A-Za-z0-9_.-]+$"  # a machine's local site id


class ApiModel(BaseModel):
    """A response: camelCase on the wire; fields beyond the model are left out."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ErrorBody(ApiModel):
    detail: str | list[dict[str, Any]] = Field(
        description="What is wrong: a sentence, or FastAPI's list of invalid fields.")


class ApiRequest(ApiModel):
    """A request body: unknown fields are an error, so typos don't pass silently."""

    model_config = ConfigDict(extra="forbid")


class KeyCreate(ApiRequest):
    name: Label = "api key"
    role: Role
    projects: list[Name] | None = Field(None, description="Projects an artist key may use; "
                                                          "null for every project.")


class KeyPublic(ApiModel):
    id: UUID
    name: str
    role: Role
    projects: list[str] | None
    created_at: float
    revoked_at: float | None = None
    sites: list[str] = Field(default_factory=list, description=(
        "Site ids (machines) registered to this artist key: of the artist keys, only this "
        "one may write their site-scope settings."))


class KeyCreated(KeyPublic):
    key: str = Field(description="The plain key. It is shown this once only.")


class ProjectCreate(ApiRequest):
    name: Name
    roots: RootPaths = Field(examples=[{"work": {"linux": "/mnt/work", "windows": "W:/"}}])


class ProjectPublic(ApiModel):
    id: UUID
    name: str
    roots: dict[str, dict[str, str]]


class FolderCreate(ApiRequest):
    path: Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=NO_NUL)]


class FolderPublic(ApiModel):
    id: UUID
    path: str


class ProductCreate(ApiRequest):
    folder_id: UUID
    name: Label
    product_type: Label = "generic"


class ProductPublic(ApiModel):
    id: UUID
    folder_id: UUID
    name: str
    product_type: str


class VersionLink(ApiRequest):
    version_id: UUID
    type: Label = "reference"


class VersionCreate(ApiRequest):
    product_id: UUID
    version: int = Field(ge=-1_000_000, le=1_000_000, description="0 or less: a hero version.")
    task: Label | None = None
    author: Label | None = None
    links: list[VersionLink] = []


class VersionPublic(ApiModel):
    id: UUID
    product_id: UUID
    version: int
    task: str | None
    author: str | None
    links: list[VersionLink]


class FileIn(ApiRequest):
    id: UUID | None = None
    path: Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=NO_NUL),
                    Field(examples=["{root[work]}/proj/shots/sh010/render/sh010_v001.0001.exr"])]
    size: int = Field(ge=0, le=2**62)
    hash: Annotated[str, StringConstraints(max_length=255, pattern=NO_NUL)] | None = None


class FilePublic(ApiModel):
    id: UUID
    path: str
    size: int
    hash: str | None


class RepresentationCreate(ApiRequest):
    version_id: UUID
    name: Label
    files: list[FileIn] = Field(max_length=100_000)


class RepresentationFiles(ApiRequest):
    files: list[FileIn] = Field(max_length=100_000)


class RepresentationPublic(ApiModel):
    id: UUID
    version_id: UUID
    name: str
    files: list[FilePublic]
    folder: str | None = None
    product: str | None = None
    version: int | None = None
    task: str | None = None
