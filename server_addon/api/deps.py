"""Dependencies every router shares, as named ``Annotated`` aliases."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from server_addon import auth, catalog
from server_addon.db.engine import Database
from server_addon.errors import ApiError, forbidden

_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token.")
_api_key_header = APIKeyHeader(name="x-api-key", auto_error=False,
                               description="An API key in the x-api-key header.")


def get_db(request: Request) -> Database:
    return request.app.state.db


DbDep = Annotated[Database, Depends(get_db)]


def get_principal(
    db: DbDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> auth.Principal:
    key = bearer.credentials if bearer else header_key
    if not key:
        raise ApiError(401, "An API key is required: send 'Authorization: Bearer KEY' or "
                            "'x-api-key: KEY'. An admin creates keys with `sitesync keys create`.")
    with db.read() as conn:
        principal = auth.find_principal(conn, key)
    if principal is None:
        raise ApiError(401, "The API key is unknown or revoked; ask an admin for a valid key.")
    return principal


PrincipalDep = Annotated[auth.Principal, Depends(get_principal)]


def require_admin(principal: PrincipalDep) -> auth.Principal:
    if not principal.is_admin:
        raise forbidden("This needs an admin key.")
    return principal


def require_service(principal: PrincipalDep) -> auth.Principal:
    if principal.role is auth.Role.ARTIST:
        raise forbidden("This needs an admin or service key; artist keys may not do it.")
    return principal


AdminDep = Annotated[auth.Principal, Depends(require_admin)]
ServiceDep = Annotated[auth.Principal, Depends(require_service)]


@dataclass(frozen=True)
class Project:
    id: UUID
    name: str
    roots: dict[str, Any]


def get_project(project: Annotated[str, Path(pattern=catalog.NAME_PATTERN, max_length=255)],
                principal: PrincipalDep, db: DbDep) -> Project:
    """The project named in the path, if it exists and the key may use it."""
    if not principal.may_use_project(project):
        raise forbidden(f"This key may not use project '{project}'.")
    with db.read() as conn:
        row = catalog.get_project(conn, name=project)
    return Project(row["id"], row["name"], row["roots"])


ProjectDep = Annotated[Project, Depends(get_project)]
