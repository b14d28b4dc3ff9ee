"""SiteSync's pyblish plugins registered the way a host registers them, and a way to publish
instances through ``pyblish.util.publish``.

SQLite by default; tests opt into PostgreSQL with ``both_databases``.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyblish.api
import pyblish.util
import pytest

from sitesync_addon import SiteSyncAddon
from tests.sqlite_only import sqlite_database_url  # noqa: F401
from tests.studio import PROJECT, Studio


@pytest.fixture(autouse=True)
def plugin_paths() -> Iterator[None]:
    """SiteSync's publish plugins from ``get_plugin_paths``, dropped again afterwards."""
    for path in SiteSyncAddon().get_plugin_paths()["publish"]:
        pyblish.api.register_plugin_path(path)
    yield
    pyblish.api.deregister_all_paths()


def incoming(studio: Studio, name: str, size: int = 20_000) -> Path:
    """A new file of random bytes, as a host would have written it."""
    path = studio.tmp / "incoming" / os.urandom(4).hex() / name
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(size))
    return path


def publish(*instances: dict[str, Any], addon: SiteSyncAddon | None) -> pyblish.api.Context:
    """Run ``pyblish.util.publish`` on a context holding ``instances`` (instance data)."""
    context = pyblish.api.Context()
    context.data["projectName"] = PROJECT
    if addon is not None:
        context.data["sitesync_addon"] = addon
    for data in instances:
        instance = context.create_instance(data["product"], family=data["productType"])
        instance.data.update(data)
    return pyblish.util.publish(context)


def errors(context: pyblish.api.Context) -> list[tuple[str, str | None, str]]:
    """(plugin, instance, message) of every failed step."""
    return [(r["plugin"].__name__, r["instance"].name if r["instance"] is not None else None,
             str(r["error"])) for r in context.data["results"] if r["error"] is not None]


def published(context: pyblish.api.Context) -> dict[str, list[dict]]:
    """Registered representations by instance name."""
    return {i.name: i.data.get("published_representations", []) for i in context}


def sites_of(studio: Studio, rep: dict) -> dict[str, int]:
    """``{site: status}`` of a representation."""
    states = studio.publisher.site_states(PROJECT, [rep["id"]])[rep["id"]]
    return {site: state["status"] for site, state in states.items()}
