import time
from uuid import UUID

from fastapi import APIRouter
from sqlalchemy import select, update

from server_addon import auth
from server_addon.api.deps import AdminDep, DbDep, PrincipalDep
from server_addon.api.schemas import KeyCreate, KeyCreated, KeyPublic
from server_addon.db.tables import api_keys
from server_addon.errors import not_found

router = APIRouter(prefix="/api/keys", tags=["keys"])


@router.get("/me", response_model=KeyPublic)
def whoami(principal: PrincipalDep, db: DbDep) -> dict:
    """The key used for this request."""
    with db.read() as conn:
        return dict(conn.execute(select(api_keys).where(
            api_keys.c.id == principal.key_id)).mappings().one())


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
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).mappings()
        return [dict(r) for r in rows]


@router.delete("/{key_id}", response_model=KeyPublic)
def revoke_key(key_id: UUID, _admin: AdminDep, db: DbDep) -> dict:
    """Revoke a key; requests with it answer 401 from now on."""
    with db.write() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == key_id,
                                            api_keys.c.revoked_at.is_(None))
                     .values(revoked_at=time.time()))
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise not_found("API key", key_id)
    return dict(row)
