from fastapi import APIRouter
from sqlalchemy import text

from server_addon.api.deps import DbDep

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health(db: DbDep) -> dict:
    """Whether the server and its database answer. Needs no key."""
    with db.read() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "database": db.engine.dialect.name}
