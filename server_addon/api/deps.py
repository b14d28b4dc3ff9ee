"""Dependencies every router shares, as named ``Annotated`` aliases."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Path, Request
from fastapi.security import (APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials,
                              HTTPBearer)

from server_addon import auth, catalog
from server_addon.db.engine import Database
from server_addon.errors import ApiError, forbidden

_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token.")
_api_key_header = APIKeyHeader(name="x-api-key", auto_error=False,
                               description="An API key in the x-api-key header.")
_session_cookie = APIKeyCookie(
    name=auth.SESSION_COOKIE, auto_error=False,
    description="The web dashboard's session (sign in at /signin). Requests that change "
                f"something with it must send the page's CSRF token as '{auth.CSRF_HEADER}'.")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Database:
    return request.app.state.db


DbDep = Annotated[Database, Depends(get_db)]


def session_principal(request: Request, db: Database, cookie: str) -> auth.Principal | None:
    """Who a dashboard session cookie belongs to; None if it is invalid, old or revoked."""
    session = auth.read_session(request.app.state.session_secret, cookie)
    if session is None:
        return None
    with db.read() as conn:
        return auth.find_principal_by_id(conn, session.key_id)


def get_principal(
    request: Request,
    db: DbDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
    cookie: Annotated[str | None, Depends(_session_cookie)],
) -> auth.Principal:
    """The caller, by API key (bearer or x-api-key), else by the dashboard's session cookie."""
    key = bearer.credentials if bearer else header_key
    if not key and cookie:
        principal = session_principal(request, db, cookie)
        if principal is None:
            raise ApiError(401, "The dashboard session has ended (signed out, expired, or its "
                                "API key was revoked); sign in again.")
        if request.method not in SAFE_METHODS and not auth.csrf_matches(
                request.app.state.session_secret, cookie,
                request.headers.get(auth.CSRF_HEADER)):
            raise forbidden(f"A change made with a dashboard session needs the page's "
                            f"'{auth.CSRF_HEADER}' header; reload the page and try again.")
        return principal
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
