"""What the transfer benchmarks share: a server, a data set registered and queued on it, and
timing a child process with its own peak RSS."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitesync_addon import SiteSyncAddon  # noqa: E402
from sitesync_addon.hashing import hash_file  # noqa: E402

KEY = "ssk_bench_admin_key"
PROJECT = "bench"
OK, QUEUED = 4, 1  # SiteSyncStatus

# Runs the command and prints its wall time and peak RSS. A child spawned by a big process
# reports that process's peak as its own (Linux records the old address space's high-water
# mark at exec), so the command is started from this small interpreter instead.
_MEASURE = """
import json, os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(json.dumps({"seconds": time.perf_counter() - started, "rss": usage.ru_maxrss * 1024,
                  "code": os.waitstatus_to_exitcode(status)}))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    """``sitesync server`` on SQLite in ``workdir``; returns once it answers."""
    port = free_port()
    env = {**os.environ, "SITESYNC_ADMIN_API_KEY": KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "sitesync_addon.cli", "server", "--port", str(port),
         "--database-url", f"sqlite:///{workdir / 'bench.db'}"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    addon = SiteSyncAddon(url, KEY, site_id="bench-admin")
    deadline = time.monotonic() + 60
    while True:
        try:
            addon.client.http.get("/api/health")
            return process, url
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(30)


def make_tree(root: Path, name: str, count: int, size: int) -> list[Path]:
    """Files of ``size`` bytes, different per file, written in pieces so this process stays
    small."""
    paths = []
    piece = os.urandom(min(size, 8 * 2**20))
    for index in range(count):
        path = root / PROJECT / name / f"g{index // 100:03d}" / f"f{index:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as stream:
            stream.write(index.to_bytes(8, "little"))
            left = size - 8
            while left > 0:
                stream.write(piece[:left])
                left -= min(left, len(piece))
        paths.append(path)
    return paths


def register(addon: SiteSyncAddon, studio: Path, name: str, paths: list[Path],
             per_rep: int) -> list[str]:
    """Representations of ``per_rep`` files each, with sizes and hashes, on the server."""
    catalog = addon.client.catalog
    folder = catalog.create_folder(PROJECT, name)
    product = catalog.create_product(PROJECT, folder["id"], name, "generic")
    rep_ids = []
    for start in range(0, len(paths), per_rep):
        version = catalog.create_version(PROJECT, product["id"], start // per_rep + 1, None, ())
        files = [{"path": "{root[work]}/" + p.relative_to(studio).as_posix(),
                  "size": p.stat().st_size, "hash": hash_file(p)}
                 for p in paths[start:start + per_rep]]
        rep = catalog.create_representation(PROJECT, version["id"], "bin", files)
        rep_ids.append(rep["id"])
    return rep_ids


def queue(addon: SiteSyncAddon, rep_ids: list[str], states: dict[str, int]) -> None:
    """Reset every representation to ``{site: status}`` (e.g. source OK, target QUEUED)."""
    items = [{"representationId": r, "siteName": site, "status": status, "reset": True}
             for r in rep_ids for site, status in states.items()]
    addon.client.state.stamp(PROJECT, items)


def timed(command: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of a child process."""
    os.sync()  # start every contender with no dirty pages of another waiting to be written
    result = subprocess.run([sys.executable, "-I", "-c", _MEASURE, *command], env=env,
                            stdout=subprocess.PIPE, check=True)
    measured = json.loads(result.stdout)
    if measured["code"] != 0:
        raise RuntimeError(f"{command[:4]} failed with exit code {measured['code']}")
    return measured["seconds"], measured["rss"]


def summary(paths: list[Path], rival: str, rival_times: list[float], sync_times: list[float],
            rss: list[int]) -> dict:
    """Throughput of the sync service against ``rival`` (medians) and its peak RSS."""
    import statistics

    mib = sum(p.stat().st_size for p in paths) / 2**20
    rival_rate = mib / statistics.median(rival_times)
    sync_rate = mib / statistics.median(sync_times)
    return {"files": len(paths), "mib": round(mib, 1),
            f"{rival}_seconds": [round(t, 3) for t in rival_times],
            "syncservice_seconds": [round(t, 3) for t in sync_times],
            f"{rival}_mib_s": round(rival_rate, 1), "syncservice_mib_s": round(sync_rate, 1),
            f"ratio_vs_{rival}": round(sync_rate / rival_rate, 3),
            "peak_rss_mb": round(max(rss) / 1e6, 1)}
