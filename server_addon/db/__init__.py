"""Database access shared by the host and every server addon."""
from server_addon.db.engine import (Database, create_db_engine, default_database_url,
                                    upsert_insert)

__all__ = ["Database", "create_db_engine", "default_database_url", "upsert_insert"]
