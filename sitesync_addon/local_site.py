"""This machine's local site id: from SITESYNC_SITE_ID, else generated once and kept."""
from __future__ import annotations

import os
import re
import socket
import uuid
from pathlib import Path

import platformdirs

SITE_ID_ENV = "SITESYNC_SITE_ID"


def _id_file() -> Path:
    return Path(platformdirs.user_config_dir("sitesync")) / "local_site_id"


def get_local_site_id() -> str:
    configured = os.environ.get(SITE_ID_ENV)
    if configured:
        return configured
    path = _id_file()
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:40] or "host"
    site_id = f"{host}-{uuid.uuid4().hex[:8]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(site_id)
    os.replace(partial, path)
    return site_id
