"""SQLite by default; tests opt into PostgreSQL with `both_databases`."""
from tests.sqlite_only import sqlite_database_url  # noqa: F401
