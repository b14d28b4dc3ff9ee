"""Building blocks for server tests: a project with published representations."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa

from tests.conftest import Api


@dataclass
class Published:
    project: str
    version_ids: list[str] = field(default_factory=list)
    representations: list[dict] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [r["id"] for r in self.representations]


def ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


def artist_with_id(api: Api, projects: list[str] | None = None) -> tuple[Api, str]:
    """(an Api with a new artist key of ``projects``, that key's id)."""
    created = ok(api.post("/api/keys", json={"role": "artist", "projects": projects}), 201)
    return api.with_key(created["key"]), created["id"]


def artist(api: Api, projects: list[str] | None = None) -> Api:
    return artist_with_id(api, projects)[0]


def make_project(api: Api, name: str = "proj", root: str = "/mnt/work") -> str:
    ok(api.post("/api/projects", json={"name": name, "roots": {"work": {"linux": root}}}), 201)
    return name


def publish(api: Api, project: str, *, count: int = 1, files: int = 3, folder: str = "sh010",
            product: str = "render", name: str = "exr", start_version: int = 1) -> Published:
    """``count`` versions of one product, each with one representation of ``files`` files."""
    result = Published(project)
    folder_id = api.post(f"/api/projects/{project}/folders", json={"path": folder}).json()["id"]
    product_id = api.post(f"/api/projects/{project}/products",
                          json={"folderId": folder_id, "name": product}).json()["id"]
    for number in range(start_version, start_version + count):
        version = ok(api.post(f"/api/projects/{project}/versions",
                              json={"productId": product_id, "version": number}), 201)
        rep = ok(api.post(f"/api/projects/{project}/representations", json={
            "versionId": version["id"], "name": name,
            "files": [{"path": f"{{root[work]}}/{project}/{folder}/{product}/v{number:03d}/"
                               f"f{i}.{name}", "size": 100 * (i + 1), "hash": f"h{i}"}
                      for i in range(files)]}), 201)
        result.version_ids.append(version["id"])
        result.representations.append(rep)
    return result


def stamp(api: Api, project: str, rep_ids: list[str], site: str, status: int,
          priority: int | None = None) -> None:
    items = [{"representationId": r, "siteName": site, "status": status} for r in rep_ids]
    if priority is not None:
        for item in items:
            item["priority"] = priority
    ok(api.post(f"{{api}}/{project}/state/bulk", json={"items": items}), 204)


def catalog_ids(api: Api, project: str, representation: dict) -> dict[str, str]:
    """The folder, product, version and representation ids of a published representation."""
    version = ok(api.get(f"/api/projects/{project}/versions/{representation['versionId']}"))
    product = ok(api.get(f"/api/projects/{project}/products/{version['productId']}"))
    return {"folder_id": product["folderId"], "product_id": product["id"],
            "version_id": version["id"], "representation_id": representation["id"]}


@contextmanager
def postgres_database(admin_engine: sa.Engine) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped on leaving (for wider scopes
    than the function-scoped ``pg_url`` fixture)."""
    name = f"sitesync_test_{uuid.uuid4().hex[:12]}"
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_engine.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
