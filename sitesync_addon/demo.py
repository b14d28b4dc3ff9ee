"""``sitesync demo``: a server on embedded SQLite, a demo project, published files and state."""
from __future__ import annotations

import hashlib
import os
import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sitesync_addon.platform import current_platform
from sitesync_addon.server_api import ServerApi
from sitesync_addon.status import SiteSyncStatus

PROJECT = "demo"
SHOTS = ("sh010", "sh020", "sh030")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_embedded_server(data_dir: Path, api_key: str) -> tuple[str, object]:
    """A server on SQLite in ``data_dir``, served by uvicorn in a thread on 127.0.0.1."""
    import uvicorn

    from server_addon import create_app

    app = create_app(f"sqlite:///{data_dir / 'sitesync.db'}", admin_api_key=api_key)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server


def write_sample_files(studio_root: Path) -> dict[str, list[Path]]:
    """A few frames per shot, with random content so hashes differ."""
    published: dict[str, list[Path]] = {}
    for shot in SHOTS:
        folder = studio_root / PROJECT / "shots" / shot / "render" / "v001"
        folder.mkdir(parents=True, exist_ok=True)
        published[shot] = []
        for frame in range(1, 4):
            path = folder / f"{shot}_render_v001.{frame:04d}.exr"
            path.write_bytes(os.urandom(256 * 1024))
            published[shot].append(path)
    return published


def run_demo(console: Console, workdir: Path | None = None) -> None:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="sitesync-demo-"))
    studio_root = workdir / "studio"
    api_key = "ssk_" + secrets.token_urlsafe(24)
    url, server = start_embedded_server(workdir, api_key)
    api = ServerApi(url, api_key)
    console.rule("[bold]SiteSync demo")
    console.print(f"server   {url} (SQLite in {workdir})")
    api.post("/api/projects", json={"name": PROJECT,
                                    "roots": {"work": {current_platform(): str(studio_root)}}})
    console.print(f"project  [bold]{PROJECT}[/] with studio root {studio_root}")
    prefix = "/api/addons/sitesync/" + api.get("/openapi.json")["info"]["version"]
    rep_ids = []
    for shot, paths in write_sample_files(studio_root).items():
        folder = api.post(f"/api/projects/{PROJECT}/folders", json={"path": f"shots/{shot}"})
        product = api.post(f"/api/projects/{PROJECT}/products",
                           json={"folderId": folder["id"], "name": "render"})
        version = api.post(f"/api/projects/{PROJECT}/versions",
                           json={"productId": product["id"], "version": 1})
        files = [{"path": "{root[work]}/" + p.relative_to(studio_root).as_posix(),
                  "size": p.stat().st_size,
                  "hash": hashlib.sha256(p.read_bytes()).hexdigest()} for p in paths]
        rep = api.post(f"/api/projects/{PROJECT}/representations",
                       json={"versionId": version["id"], "name": "exr", "files": files})
        rep_ids.append(rep["id"])
    items = [{"representationId": r, "siteName": site, "status": int(status)}
             for r in rep_ids for site, status in (("studio", SiteSyncStatus.OK),
                                                    ("artist-ws", SiteSyncStatus.QUEUED))]
    api.post(f"{prefix}/{PROJECT}/state/bulk", json={"items": items})
    console.print(f"published {len(rep_ids)} representations, queued for site 'artist-ws'")
    page = api.get(f"{prefix}/{PROJECT}/state",
                   params={"localSite": "studio", "remoteSite": "artist-ws"})
    table = Table("folder", "product", "v", "repre", "files", "studio", "artist-ws",
                  title="Sync state")
    for item in page["representations"]:
        table.add_row(item["folder"], item["product"], str(item["version"]),
                      item["representation"], str(item["fileCount"]),
                      SiteSyncStatus(item["localStatus"]["status"]).name,
                      SiteSyncStatus(item["remoteStatus"]["status"]).name)
    console.print(table)
    console.print(f"Next: open {url}/docs for the API, or run `sitesync server` to keep one.")
    server.should_exit = True  # type: ignore[attr-defined]
