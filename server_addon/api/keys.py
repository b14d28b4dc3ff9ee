import time
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from sqlalchemy import Connection, select, update

from server_addon import auth
from server_addon.api.deps import AdminDep, DbDep, PrincipalDep
from server_addon.api.schemas import (SITE_ID_PATTERN, ErrorBody, KeyCreate, KeyCreated,
                                      KeyPublic)
from server_addon.db.tables import api_keys
from server_addon.errors import ApiError, not_found
from server_addon.api.routing import TransactionRoute

router = APIRouter(prefix="/api/keys", tags=["keys"], route_class=TransactionRoute)
SitePath = Annotated[str, Path(pattern=SITE_ID_PATTERN, max_length=255)]
NOT_BINDABLE = {422: {"model": ErrorBody,
                      "description": "Not an artist key, a revoked one, or an invalid request."}}


@router.get("/me", response_model=KeyPublic)
def whoami(principal: PrincipalDep, db: DbDep) -> dict:
    """The key used for this request."""
    with db.read() as conn:
        return _public(conn, principal.key_id)


@router.post("", response_model=KeyCreated, status_code=201)
def create_key(body: KeyCreate, _admin: AdminDep, db: DbDep) -> dict:
    """Create a key; the plain key is in this answer only."""
    with db.write() as conn:
        key, record = auth.create_key(conn, name=body.name, role=body.role,
                                      projects=body.projects)
    return {**record, "key": key}


@router.get("", response_model=list[KeyPublic])
def list_keys(_admin: AdminDep, db: DbDep) -> list[dict]:
    with db.read() as conn:
        sites = auth.sites_of_keys(conn)
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).mappings()
        return [{**r, "sites": sites.get(r["id"], [])} for r in rows]


@router.delete("/{key_id}", response_model=KeyPublic)
def revoke_key(key_id: UUID, _admin: AdminDep, db: DbDep) -> dict:
    """Revoke a key; requests with it answer 401 from now on. Its sites stay registered to it
    until an admin registers them to another key, so no other artist key takes them."""
    with db.write() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == key_id,
                                            api_keys.c.revoked_at.is_(None))
                     .values(revoked_at=time.time()))
        return _public(conn, key_id)


@router.put("/{key_id}/sites/{site_id}", response_model=KeyPublic, responses=NOT_BINDABLE)
def bind_site(key_id: UUID, site_id: SitePath, _admin: AdminDep, db: DbDep) -> dict:
    """Register a machine's site id to an artist key, taking it from any key that held it:
    of the artist keys, only this one may then write that site's site-scope settings."""
    with db.write() as conn:
        key = _public(conn, key_id)
        if key["role"] != auth.Role.ARTIST:
            raise ApiError(422, f"Only artist keys hold sites; {key['role']} keys may write "
                                f"the settings of every site already.")
        if key["revoked_at"] is not None:
            raise ApiError(422, f"API key {key_id} is revoked; register '{site_id}' to the "
                                f"machine's new key.")
        auth.bind_site(conn, key_id, site_id)
        return _public(conn, key_id)


@router.delete("/{key_id}/sites/{site_id}", response_model=KeyPublic)
def unbind_site(key_id: UUID, site_id: SitePath, _admin: AdminDep, db: DbDep) -> dict:
    """Free a site id: the next artist key that writes its site-scope settings gets it."""
    with db.write() as conn:
        _public(conn, key_id)
        if not auth.unbind_site(conn, key_id, site_id):
            raise ApiError(404, f"Site '{site_id}' is not registered to API key {key_id}.")
        return _public(conn, key_id)


def _public(conn: Connection, key_id: UUID) -> dict:
    """The key's record with its sites; 404 if there is no such key."""
    row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise not_found("API key", key_id)
    return {**row, "sites": auth.sites_of_keys(conn, key_id).get(key_id, [])}
