"""Machines A and B of one studio, with the publish plugins registered."""
from tests.launch.conftest import machine_b, sync_b  # noqa: F401
from tests.publish.conftest import plugin_paths  # noqa: F401
from tests.sqlite_only import sqlite_database_url  # noqa: F401
