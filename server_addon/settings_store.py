"""Addon settings in three scopes: studio, project overrides, and site (per local site id)."""
from __future__ import annotations

import re
import time
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, delete, select

from server_addon.db.engine import upsert_insert
from server_addon.db.tables import addon_settings

MASK = "********"
# Blocks no model describes (providers not installed here) are masked by name: a name holding
# any of these words is a secret. Matched inside words ("apiToken", "passwd"); in doubt, mask.
SECRET_WORDS = ("token", "secret", "pass", "pwd", "key", "credential", "private", "auth",
                "cookie", "session", "signature", "dsn")
# ...unless its last word says it is where a secret lives, not the secret: key_path, token_file.
LOCATION_WORDS = frozenset({"path", "paths", "file", "filename", "dir", "folder"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_URL_PASSWORD = re.compile(r"://[^/\s@]*:[^/\s@]*@")  # scheme://user:password@host
_URL_PARAMETER = re.compile(r"[?&;]([^=&;#\s]+)=")  # ...?sig=...&token=...
SIGNATURE_PARAMETERS = frozenset({"sig"})  # a signed URL's short names (Azure SAS)
# A pair such as {"name": "Authorization", "value": "Bearer ..."} (headers, environment):
# its name says whether its value is a secret.
PAIR_NAMES = ("name", "key", "header")


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


def looks_secret(name: str) -> bool:
    """Whether a field no model describes is named like a secret."""
    words = [word.lower() for word in _WORD.findall(name)]
    if words and words[-1] in LOCATION_WORDS:
        return False
    joined = "".join(words)
    return any(word in joined for word in SECRET_WORDS)


def _secret_text(value: str) -> bool:
    """A URL with a password, or with a query parameter named like a secret (a signature)."""
    return bool(_URL_PASSWORD.search(value)) or any(
        parameter.lower() in SIGNATURE_PARAMETERS or looks_secret(parameter)
        for parameter in _URL_PARAMETER.findall(value))


def _pair_name(value: dict) -> str | None:
    for field in PAIR_NAMES:
        if isinstance(value.get(field), str):
            return value[field]
    return None


def masked_by_name(name: str, value: Any) -> Any:
    """``value`` with what its names (or a password or signature in a URL) mark as secret
    replaced by MASK."""
    if value and (looks_secret(name) or (isinstance(value, str) and _secret_text(value))):
        return MASK
    if isinstance(value, dict):
        pair = _pair_name(value)
        if pair is not None and looks_secret(pair):
            # the pair's name stays readable, unless its own field is named like a secret
            return {key: item if key in PAIR_NAMES and not looks_secret(key)
                    else masked_by_name(pair, item) for key, item in value.items()}
        return {key: masked_by_name(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked_by_name("", item) for item in value]
    return value


def masked(model: BaseModel) -> dict:
    """The model as JSON data with every secret field that holds a value replaced by MASK;
    fields beyond the model (blocks of providers not installed here) are masked by name."""
    data = model.model_dump(mode="json")
    for name in type(model).model_fields:
        value = getattr(model, name)
        if _is_secret(type(model), name) and value:
            data[name] = MASK
        elif isinstance(value, BaseModel):
            data[name] = masked(value)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            data[name] = [masked(item) for item in value]
    for name in model.model_extra or {}:
        data[name] = masked_by_name(name, data[name])
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
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        # unnamed lists (inside blocks no model describes) come back in their order
        return [restore_masked(item, old_item) for item, old_item in zip(new, old, strict=True)]
    return new
