"""Addon settings in three scopes: studio, project overrides, and site (per local site id)."""
from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, delete, select

from server_addon.db.engine import upsert_insert
from server_addon.db.tables import addon_settings

MASK = "********"


def load(conn: Connection, *, addon: str, scope: str, project: str = "",
         site_id: str = "") -> dict | None:
    row = conn.execute(select(addon_settings.c.data).where(
        addon_settings.c.addon == addon, addon_settings.c.scope == scope,
        addon_settings.c.project == project, addon_settings.c.site_id == site_id)).first()
    return row.data if row else None


def save(conn: Connection, *, addon: str, scope: str, data: dict, project: str = "",
         site_id: str = "") -> None:
    values = {"addon": addon, "scope": scope, "project": project, "site_id": site_id,
              "data": data, "updated_at": time.time()}
    statement = upsert_insert(conn, addon_settings).values(values)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["addon", "scope", "project", "site_id"],
        set_={"data": statement.excluded.data, "updated_at": statement.excluded.updated_at}))


def delete_project_settings(conn: Connection, *, project: str) -> None:
    conn.execute(delete(addon_settings).where(addon_settings.c.project == project))


def merge(base: Any, override: Any) -> Any:
    """Deep-merge ``override`` onto ``base``; lists of named items merge by name."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    if _is_named_list(base) and _is_named_list(override):
        by_name = {item["name"]: item for item in base}
        for item in override:
            by_name[item["name"]] = merge(by_name.get(item["name"], {}), item)
        return list(by_name.values())
    return override


def _is_named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def _is_secret(model: type[BaseModel], field_name: str) -> bool:
    extra = model.model_fields[field_name].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("secret"))


def masked(model: BaseModel) -> dict:
    """The model as JSON data with every secret field that holds a value replaced by MASK."""
    data = model.model_dump(mode="json")
    for name in type(model).model_fields:
        value = getattr(model, name)
        if _is_secret(type(model), name) and value:
            data[name] = MASK
        elif isinstance(value, BaseModel):
            data[name] = masked(value)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            data[name] = [masked(item) for item in value]
    return data


def restore_masked(new: Any, old: Any) -> Any:
    """Put stored secrets back where a client sent MASK (it read masked settings and saves)."""
    if new == MASK:
        return old
    if isinstance(new, dict) and isinstance(old, dict):
        return {key: restore_masked(value, old.get(key)) for key, value in new.items()}
    if _is_named_list(new) and _is_named_list(old):
        by_name = {item["name"]: item for item in old}
        return [restore_masked(item, by_name.get(item["name"])) for item in new]
    return new
