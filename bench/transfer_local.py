"""Benchmark: studio -> local site through `sitesync syncservice --once` against `cp -r`.

Prints one JSON document. Each round copies the same tree with `cp -r` and with the sync
service (its state kept in the server's database), alternating; the service runs as its own
process so its peak RSS is its own.

    python bench/transfer_local.py [--rounds 3] [--large 4] [--large-mib 256] [--small 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitesync_addon import SiteSyncAddon  # noqa: E402
from sitesync_addon.hashing import hash_file  # noqa: E402
from tests.conftest import free_port  # noqa: E402

KEY = "ssk_bench_admin_key"
PROJECT = "bench"
SITE = "ws-bench"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start_server(workdir: Path) -> tuple[subprocess.Popen, str]:
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
            addon.api.get("/api/health")
            return process, url
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def make_tree(root: Path, name: str, count: int, size: int) -> list[Path]:
    """Files of ``size`` bytes, different per file, written in pieces so this process stays
    small: a child forked from a big parent would report the parent's pages as its peak RSS."""
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
    api = addon.api
    folder = api.post(f"/api/projects/{PROJECT}/folders", json={"path": name})
    product = api.post(f"/api/projects/{PROJECT}/products",
                       json={"folderId": folder["id"], "name": name})
    rep_ids = []
    for start in range(0, len(paths), per_rep):
        version = api.post(f"/api/projects/{PROJECT}/versions",
                           json={"productId": product["id"], "version": start // per_rep + 1})
        files = [{"path": "{root[work]}/" + p.relative_to(studio).as_posix(),
                  "size": p.stat().st_size, "hash": hash_file(p)}
                 for p in paths[start:start + per_rep]]
        rep = api.post(f"/api/projects/{PROJECT}/representations",
                       json={"versionId": version["id"], "name": "bin", "files": files})
        rep_ids.append(rep["id"])
    return rep_ids


def queue(addon: SiteSyncAddon, rep_ids: list[str]) -> None:
    items = [{"representationId": r, "siteName": site, "status": status, "reset": True}
             for r in rep_ids for site, status in (("studio", 4), (SITE, 1))]
    addon.api.post(f"/api/{addon.endpoint_prefix}/{PROJECT}/state/bulk", json={"items": items})


def timed(command: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of a child process."""
    os.sync()  # start both contenders with no dirty pages of the other waiting to be written
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[:4]} failed with {status}")
    return elapsed, usage.ru_maxrss * 1024


def run_case(name: str, paths: list[Path], rep_ids: list[str], studio: Path, local: Path,
             addon: SiteSyncAddon, url: str, rounds: int, workdir: Path) -> dict:
    total = sum(p.stat().st_size for p in paths)
    env = {**os.environ, "SITESYNC_SERVER_URL": url, "SITESYNC_API_KEY": KEY,
           "SITESYNC_SITE_ID": SITE, "XDG_STATE_HOME": str(workdir / "state")}
    cp_times, sync_times, rss = [], [], []
    for round_number in range(rounds):
        target = workdir / "cp-target"
        shutil.rmtree(target, ignore_errors=True)
        cp_times.append(timed(["cp", "-r", str(studio / PROJECT / name), str(target)])[0])
        shutil.rmtree(target)
        shutil.rmtree(local / PROJECT / name, ignore_errors=True)
        queue(addon, rep_ids)
        seconds, peak = timed([sys.executable, "-m", "sitesync_addon.cli", "syncservice",
                               "--active_site", "local", "--once", "--quiet"], env)
        sync_times.append(seconds)
        rss.append(peak)
        log(f"{name} round {round_number + 1}: cp {cp_times[-1]:.2f}s, "
            f"syncservice {seconds:.2f}s, rss {peak / 2**20:.0f} MiB")
    mib = total / 2**20
    cp_rate = mib / statistics.median(cp_times)
    sync_rate = mib / statistics.median(sync_times)
    return {"files": len(paths), "mib": round(mib, 1),
            "cp_seconds": [round(t, 3) for t in cp_times],
            "syncservice_seconds": [round(t, 3) for t in sync_times],
            "cp_mib_s": round(cp_rate, 1), "syncservice_mib_s": round(sync_rate, 1),
            "ratio_vs_cp": round(sync_rate / cp_rate, 3),
            "peak_rss_mb": round(max(rss) / 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--large", type=int, default=4)
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--small-kib", type=int, default=64)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sitesync-bench-"))
    studio, local = workdir / "studio", workdir / "local"
    local.mkdir(parents=True)
    server, url = start_server(workdir)
    try:
        addon = SiteSyncAddon(url, KEY, site_id="bench-admin")
        settings = f"/api/{addon.endpoint_prefix}/settings"
        addon.api.post("/api/projects", json={"name": PROJECT,
                                              "roots": {"work": {"linux": str(studio)}}})
        addon.api.put(settings, json={"enabled": True})
        addon.api.put(f"{settings}/{PROJECT}/site/{SITE}", json={
            "active_site": "local", "remote_site": "studio",
            "local_roots": [{"name": "work", "path": str(local)}]})
        log("writing and registering the data set")
        large = make_tree(studio, "large", args.large, args.large_mib * 2**20)
        small = make_tree(studio, "small", args.small, args.small_kib * 1024)
        large_reps = register(addon, studio, "large", large, 1)
        small_reps = register(addon, studio, "small", small, 20)
        result = {"benchmark": "transfer_local", "rounds": args.rounds,
                  "large": run_case("large", large, large_reps, studio, local, addon, url,
                                    args.rounds, workdir),
                  "small": run_case("small", small, small_reps, studio, local, addon, url,
                                    args.rounds, workdir),
                  "targets": {"ratio_vs_cp": 0.9, "peak_rss_mb": 200}}
        print(json.dumps(result, indent=2))
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
