"""The catalog store: projects and their roots, folders, products, versions, representations.

Store functions take a connection and keyword arguments, and raise ``ApiError`` for anything a
client can get wrong, so routers stay thin.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Uuid, bindparam, delete, insert, select, text

from server_addon.db.tables import (files, folders, products, projects, representations,
                                    version_links, versions)
from server_addon.errors import bad_request, conflict, not_found

NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
PLATFORMS = ("windows", "linux", "darwin")
_TEMPLATE = re.compile(r"^\{root\[(?P<root>[A-Za-z0-9_.-]+)\]\}/(?P<rest>.+)$")


# -- projects -------------------------------------------------------------------------------

def validate_roots(roots: dict[str, dict[str, str]]) -> None:
    if not roots:
        raise bad_request("A project needs at least one root, e.g. "
                          '{"work": {"linux": "/mnt/work"}}.')
    for root_name, per_platform in roots.items():
        if not re.match(NAME_PATTERN, root_name):
            raise bad_request(f"Root name '{root_name}' may only use letters, digits, _ . -")
        unknown = set(per_platform) - set(PLATFORMS)
        if unknown:
            raise bad_request(f"Root '{root_name}' names unknown platforms {sorted(unknown)}; "
                              f"use {', '.join(PLATFORMS)}.")


def create_project(conn: Connection, *, name: str, roots: dict[str, dict[str, str]]) -> dict:
    validate_roots(roots)
    if conn.execute(select(projects.c.id).where(projects.c.name == name)).first():
        raise conflict(f"Project '{name}' exists already.")
    record = {"id": uuid.uuid4(), "name": name, "roots": roots, "created_at": time.time()}
    conn.execute(insert(projects).values(record))
    return record


def get_project(conn: Connection, *, name: str) -> dict:
    row = conn.execute(select(projects).where(projects.c.name == name)).mappings().first()
    if row is None:
        raise not_found("Project", f"'{name}'",
                        "Create it with `sitesync project create` or POST /api/projects.")
    return dict(row)


def list_projects(conn: Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(select(projects).order_by(projects.c.name)).mappings()]


def delete_project(conn: Connection, *, project_id: uuid.UUID) -> None:
    conn.execute(delete(projects).where(projects.c.id == project_id))


def site_roots(roots: dict[str, dict[str, str]], platform: str) -> dict[str, str]:
    """``{root name: path}`` for one platform; roots without a path there are left out."""
    return {name: paths[platform] for name, paths in roots.items() if paths.get(platform)}


# -- folders, products, versions --------------------------------------------------------------

def _get_or_create(conn: Connection, table: Any, keys: dict, values: dict) -> tuple[dict, bool]:
    query = select(table)
    for column, value in keys.items():
        query = query.where(table.c[column] == value)
    row = conn.execute(query).mappings().first()
    if row is not None:
        return dict(row), False
    record = {"id": uuid.uuid4(), **keys, **values}
    conn.execute(insert(table).values(record))
    return record, True


def _get_in_project(conn: Connection, table: Any, kind: str, *, project_id: uuid.UUID,
                    item_id: uuid.UUID) -> dict:
    row = conn.execute(
        select(table).where(table.c.id == item_id, table.c.project_id == project_id)
    ).mappings().first()
    if row is None:
        raise not_found(kind, item_id, "in this project.")
    return dict(row)


def create_folder(conn: Connection, *, project_id: uuid.UUID, path: str) -> tuple[dict, bool]:
    clean = path.strip("/")
    if not clean or any(part in ("", ".", "..") for part in clean.split("/")):
        raise bad_request(f"Folder path '{path}' must be like 'shots/sh010', without '..'.")
    return _get_or_create(conn, folders, {"project_id": project_id, "path": clean}, {})


def create_product(conn: Connection, *, project_id: uuid.UUID, folder_id: uuid.UUID, name: str,
                   product_type: str) -> tuple[dict, bool]:
    _get_in_project(conn, folders, "Folder", project_id=project_id, item_id=folder_id)
    return _get_or_create(conn, products, {"folder_id": folder_id, "name": name},
                          {"project_id": project_id, "product_type": product_type})


def create_version(conn: Connection, *, project_id: uuid.UUID, product_id: uuid.UUID,
                   version: int, task: str | None = None, author: str | None = None,
                   links: Sequence[tuple[uuid.UUID, str]] = ()) -> tuple[dict, bool]:
    _get_in_project(conn, products, "Product", project_id=project_id, item_id=product_id)
    record, created = _get_or_create(
        conn, versions, {"product_id": product_id, "version": version},
        {"project_id": project_id, "task": task, "author": author, "created_at": time.time()})
    for linked_id, _link_type in links:
        _get_in_project(conn, versions, "Linked version", project_id=project_id,
                        item_id=linked_id)
    if links:
        conn.execute(delete(version_links).where(version_links.c.version_id == record["id"]))
        conn.execute(insert(version_links), [
            {"version_id": record["id"], "linked_version_id": linked, "link_type": kind}
            for linked, kind in dict.fromkeys(links)])
    record["links"] = version_links_of(conn, version_ids=[record["id"]]).get(record["id"], [])
    return record, created


def version_links_of(conn: Connection, *, version_ids: Iterable[uuid.UUID]
                     ) -> dict[uuid.UUID, list[dict]]:
    rows = conn.execute(select(version_links).where(
        version_links.c.version_id.in_(list(version_ids))))
    result: dict[uuid.UUID, list[dict]] = {}
    for row in rows:
        result.setdefault(row.version_id, []).append(
            {"version_id": row.linked_version_id, "type": row.link_type})
    return result


def list_folders(conn: Connection, *, project_id: uuid.UUID) -> list[dict]:
    query = select(folders).where(folders.c.project_id == project_id).order_by(folders.c.path)
    return [dict(r) for r in conn.execute(query).mappings()]


def list_products(conn: Connection, *, project_id: uuid.UUID,
                  folder_id: uuid.UUID | None = None) -> list[dict]:
    query = select(products).where(products.c.project_id == project_id)
    if folder_id is not None:
        query = query.where(products.c.folder_id == folder_id)
    return [dict(r) for r in conn.execute(query.order_by(products.c.name)).mappings()]


def list_versions(conn: Connection, *, project_id: uuid.UUID,
                  product_id: uuid.UUID | None = None, task: str | None = None) -> list[dict]:
    query = select(versions).where(versions.c.project_id == project_id)
    if product_id is not None:
        query = query.where(versions.c.product_id == product_id)
    if task is not None:
        query = query.where(versions.c.task == task)
    rows = [dict(r) for r in conn.execute(query.order_by(versions.c.version)).mappings()]
    links = version_links_of(conn, version_ids=[r["id"] for r in rows])
    for row in rows:
        row["links"] = links.get(row["id"], [])
    return rows


def get_version(conn: Connection, *, project_id: uuid.UUID, version_id: uuid.UUID) -> dict:
    row = _get_in_project(conn, versions, "Version", project_id=project_id, item_id=version_id)
    row["links"] = version_links_of(conn, version_ids=[version_id]).get(version_id, [])
    return row


def delete_item(conn: Connection, table: Any, kind: str, *, project_id: uuid.UUID,
                item_id: uuid.UUID) -> None:
    _get_in_project(conn, table, kind, project_id=project_id, item_id=item_id)
    conn.execute(delete(table).where(table.c.id == item_id))


def get_folder(conn: Connection, *, project_id: uuid.UUID, folder_id: uuid.UUID) -> dict:
    return _get_in_project(conn, folders, "Folder", project_id=project_id, item_id=folder_id)


def get_product(conn: Connection, *, project_id: uuid.UUID, product_id: uuid.UUID) -> dict:
    return _get_in_project(conn, products, "Product", project_id=project_id, item_id=product_id)


# -- representations ------------------------------------------------------------------------

def validate_file_path(path: str, roots: dict[str, Any]) -> None:
    """A path template must sit under one of the project's roots and never climb out of it."""
    match = _TEMPLATE.match(path)
    if match is None:
        raise bad_request(f"File path '{path}' must start with '{{root[NAME]}}/', "
                          "e.g. '{root[work]}/proj/sh010/file.exr'.")
    if match["root"] not in roots:
        raise bad_request(f"File path '{path}' uses root '{match['root']}', which the project "
                          f"does not have (roots: {', '.join(sorted(roots))}).")
    parts = re.split(r"[\\/]", match["rest"])
    if match["rest"].startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", match["rest"]):
        raise bad_request(f"File path '{path}' is absolute after its root; make it relative.")
    if any(part in ("", ".", "..") for part in parts) or "\x00" in path:
        raise bad_request(f"File path '{path}' escapes its root or has empty parts; "
                          "remove '..', '.' and doubled slashes.")


def create_representation(conn: Connection, *, project_id: uuid.UUID, roots: dict[str, Any],
                          version_id: uuid.UUID, name: str,
                          file_list: Sequence[dict]) -> dict:
    version = _get_in_project(conn, versions, "Version", project_id=project_id,
                              item_id=version_id)
    exists = conn.execute(select(representations.c.id).where(
        representations.c.version_id == version_id, representations.c.name == name)).first()
    if exists:
        raise conflict(f"Version {version_id} has a representation '{name}' already "
                       f"({exists.id}); delete it first or publish a new version.")
    file_rows = _file_rows(file_list, roots)
    folder_id = conn.execute(select(products.c.folder_id).where(
        products.c.id == version["product_id"])).scalar_one()
    record = {"id": uuid.uuid4(), "project_id": project_id, "version_id": version_id,
              "folder_id": folder_id, "name": name, "created_at": time.time()}
    conn.execute(insert(representations).values(record))
    if file_rows:
        conn.execute(insert(files), [{**row, "representation_id": record["id"]}
                                     for row in file_rows])
    record["files"] = file_rows
    return record


def _file_rows(file_list: Sequence[dict], roots: dict[str, Any]) -> list[dict]:
    """Validated rows of a representation's files, in the given order."""
    file_rows = []
    for position, item in enumerate(file_list):
        validate_file_path(item["path"], roots)
        file_rows.append({"id": item.get("id") or uuid.uuid4(), "position": position,
                          "path": item["path"], "size": item["size"], "hash": item.get("hash")})
    if len({row["id"] for row in file_rows}) != len(file_rows):
        raise bad_request("File ids must be unique within a representation.")
    return file_rows


def replace_representation_files(conn: Connection, *, project_id: uuid.UUID,
                                 roots: dict[str, Any], representation_id: uuid.UUID,
                                 file_list: Sequence[dict]) -> None:
    """Republish a representation in place (a hero version): same id, these files.

    The old file rows go, and with them (by cascade) every record that was about them; ids
    given again name new files.
    """
    _get_in_project(conn, representations, "Representation", project_id=project_id,
                    item_id=representation_id)
    file_rows = _file_rows(file_list, roots)
    conn.execute(delete(files).where(files.c.representation_id == representation_id))
    if file_rows:
        conn.execute(insert(files), [{**row, "representation_id": representation_id}
                                     for row in file_rows])


def representation_query(project_id: uuid.UUID) -> Any:
    """Representations with the names of their version, product and folder."""
    return (
        select(representations, versions.c.version, versions.c.task,
               products.c.name.label("product"), products.c.product_type,
               folders.c.path.label("folder"))
        .join(versions, versions.c.id == representations.c.version_id)
        .join(products, products.c.id == versions.c.product_id)
        .join(folders, folders.c.id == products.c.folder_id)
        .where(representations.c.project_id == project_id)
    )


def files_of(conn: Connection, *, representation_ids: Iterable[uuid.UUID]
             ) -> dict[uuid.UUID, list[dict]]:
    query = (select(files).where(files.c.representation_id.in_(list(representation_ids)))
             .order_by(files.c.representation_id, files.c.position))
    result: dict[uuid.UUID, list[dict]] = {}
    for row in conn.execute(query).mappings():
        result.setdefault(row["representation_id"], []).append(dict(row))
    return result


def list_representations(conn: Connection, *, project_id: uuid.UUID,
                         version_ids: Sequence[uuid.UUID] | None = None,
                         representation_ids: Sequence[uuid.UUID] | None = None,
                         name: str | None = None) -> list[dict]:
    query = representation_query(project_id)
    if version_ids is not None:
        query = query.where(representations.c.version_id.in_(version_ids))
    if representation_ids is not None:
        query = query.where(representations.c.id.in_(representation_ids))
    if name is not None:
        query = query.where(representations.c.name == name)
    rows = [dict(r) for r in conn.execute(query.order_by(representations.c.created_at)).mappings()]
    file_map = files_of(conn, representation_ids=[r["id"] for r in rows])
    for row in rows:
        row["files"] = file_map.get(row["id"], [])
    return rows


def get_representation(conn: Connection, *, project_id: uuid.UUID,
                       representation_id: uuid.UUID) -> dict:
    rows = list_representations(conn, project_id=project_id,
                                representation_ids=[representation_id])
    if not rows:
        raise not_found("Representation", representation_id, "in this project.")
    return rows[0]


def require_representations(conn: Connection, *, project_id: uuid.UUID,
                            representation_ids: Iterable[uuid.UUID]) -> None:
    wanted = set(representation_ids)
    found = {row.id for row in conn.execute(select(representations.c.id).where(
        representations.c.project_id == project_id, representations.c.id.in_(wanted)))}
    missing = wanted - found
    if missing:
        listed = ", ".join(sorted(str(m) for m in missing)[:5])
        raise not_found("Representation(s)", listed, "in this project.")


__all__ = ["NAME_PATTERN", "PLATFORMS", "create_folder", "create_product",
           "create_project", "create_representation", "create_version", "delete_item",
           "delete_project", "files_of", "get_folder", "get_product", "get_project",
           "get_representation", "get_version", "list_folders", "list_products",
           "list_projects", "list_representations", "list_versions", "replace_representation_files",
           "representation_query", "require_representations", "site_roots",
           "validate_file_path", "validate_roots", "version_links_of"]


# A loose index scan: each step finds the next name after the last one, so a project with a
# million representations of a few names costs a few index lookups, not a scan of them all.
_NAMES = text("""
    WITH RECURSIVE found(name) AS (
        SELECT (SELECT name FROM representations WHERE project_id = :project
                ORDER BY name LIMIT 1)
        UNION ALL
        SELECT (SELECT r.name FROM representations r
                WHERE r.project_id = :project AND r.name > found.name
                ORDER BY r.name LIMIT 1)
        FROM found WHERE found.name IS NOT NULL)
    SELECT name FROM found WHERE name IS NOT NULL""").bindparams(bindparam("project", type_=Uuid))


def representation_names(conn: Connection, *, project_id: uuid.UUID) -> list[str]:
    """The distinct representation names of a project, sorted."""
    return sorted(conn.execute(_NAMES, {"project": project_id}).scalars())
