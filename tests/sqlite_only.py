"""Imported by a suite's conftest: its tests run on SQLite unless marked ``both_databases``."""
import pytest

from tests.conftest import select_database

sqlite_database_url = pytest.fixture(params=["sqlite"], name="database_url")(select_database)
