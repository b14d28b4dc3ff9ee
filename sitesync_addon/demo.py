"""``sitesync demo``: a whole round trip on embedded SQLite, in a temporary folder.

It starts a server, creates a project with a studio root and a second local site, publishes
sample files, syncs them to the second site with live progress bars and prints a summary.
"""
from __future__ import annotations

import os
import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sitesync_addon.api import SiteSyncApi
from sitesync_addon.client.types import Representation
from sitesync_addon.hashing import hash_file
from sitesync_addon.platform import current_platform
from sitesync_addon.publish import publish_files
from sitesync_addon.service_runner import run_service
from sitesync_addon.status import SiteSyncStatus

PROJECT = "demo"
ARTIST_SITE = "artist-ws"
SHOTS = ("sh010", "sh020", "sh030")
FRAMES = 4
FRAME_BYTES = 16 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_embedded_server(data_dir: Path, api_key: str) -> tuple[str, Any]:
    """A server on SQLite in ``data_dir``, served by uvicorn in a thread on 127.0.0.1."""
    from server_addon import create_app
    from server_addon.serve import uvicorn_server

    app = create_app(f"sqlite:///{data_dir / 'sitesync.db'}", admin_api_key=api_key)
    server = uvicorn_server(app, "127.0.0.1", _free_port())
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{server.config.port}", server


def _configure(admin: SiteSyncApi, studio_root: Path, artist_root: Path) -> None:
    admin.client.projects.create(PROJECT, {"work": {current_platform(): str(studio_root)}})
    settings = admin.client.settings
    settings.put_studio({"enabled": True})
    settings.put_project(PROJECT, {"config": {"remote_site": ARTIST_SITE}})
    settings.put_site(PROJECT, ARTIST_SITE, {
        "active_site": "local", "remote_site": "studio",
        "local_roots": [{"name": "work", "path": str(artist_root)}]})


def _sample_files(folder: Path, shot: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for frame in range(1, FRAMES + 1):
        path = folder / f"{shot}_render.{frame:04d}.exr"
        path.write_bytes(os.urandom(FRAME_BYTES))
        paths.append(path)
    return paths


def run_demo(console: Console, workdir: Path | None = None) -> None:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="sitesync-demo-"))
    studio_root, artist_root = workdir / "studio", workdir / ARTIST_SITE
    studio_root.mkdir(parents=True, exist_ok=True)
    artist_root.mkdir(parents=True, exist_ok=True)
    key = "ssk_" + secrets.token_urlsafe(24)
    url, server = start_embedded_server(workdir, key)
    console.rule("[bold]SiteSync demo")
    # Paths are escaped: rich markup would eat anything in square brackets.
    console.print(f"server     {url}  (SQLite in {escape(str(workdir))})", highlight=False)
    publisher = SiteSyncApi(url, key, site_id="publisher")
    _configure(publisher, studio_root, artist_root)
    console.print(f"project    [bold]{PROJECT}[/]: studio root {escape(str(studio_root))}, "
                  f"second local site '{ARTIST_SITE}' at {escape(str(artist_root))}",
                  highlight=False)
    reps = []
    for shot in SHOTS:
        files = _sample_files(workdir / "incoming" / shot, shot)
        reps.append(publish_files(publisher, PROJECT, folder=f"shots/{shot}", product="render",
                                  version=1, representation="exr", files=files))
    stamped = [s["name"] for s in publisher.compute_resource_sync_sites(PROJECT)]
    console.print(f"published  {len(reps)} representations x {FRAMES} files into the studio "
                  f"root; stamped {', '.join(stamped)}", markup=False, highlight=False)
    console.rule(f"syncservice --active_site {ARTIST_SITE} --once")
    artist = SiteSyncApi(url, key, site_id=ARTIST_SITE)
    started = time.monotonic()
    ok = run_service(artist, "local", once=True, console=console)
    elapsed = time.monotonic() - started
    _summary(console, artist, reps, artist_root, studio_root, elapsed, ok)
    server.should_exit = True


def _summary(console: Console, addon: SiteSyncApi, reps: list[Representation],
             artist_root: Path,
             studio_root: Path, elapsed: float, ok: bool) -> None:
    table = Table("representation", "files", "studio", ARTIST_SITE, "bytes identical",
                  title="Summary")
    moved = 0
    for rep in reps:
        progress = addon.get_progress_for_repre(PROJECT, rep["id"], ARTIST_SITE, "studio")
        same = all(hash_file(artist_root / f["path"].partition("/")[2]) == f["hash"]
                   for f in rep["files"])
        moved += sum(f["size"] for f in rep["files"])
        table.add_row(f"{rep['folder']}/{rep['product']} v{rep['version']:03d} {rep['name']}",
                      str(len(rep["files"])),
                      SiteSyncStatus.OK.name if progress["studio"] == 1 else "-",
                      SiteSyncStatus.OK.name if progress[ARTIST_SITE] == 1 else "NOT OK",
                      "yes" if same else "NO")
    console.print(table)
    console.print(f"{'all OK' if ok else 'something FAILED'}: {moved / 2**20:.0f} MiB in "
                  f"{elapsed:.1f} s to {artist_root}", markup=False, highlight=False)
    console.print("Next: `sitesync server` runs a server of your own; `sitesync --help` lists "
                  "every command; the README explains sites and settings.")
