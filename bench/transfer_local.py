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
import sys
import tempfile
from pathlib import Path

from common import (KEY, OK, PROJECT, QUEUED, log, make_tree, queue, register, start_server,
                    stop_server, summary, timed)

from sitesync_addon import SiteSyncAddon

SITE = "ws-bench"


def run_case(name: str, paths: list[Path], rep_ids: list[str], studio: Path, local: Path,
             addon: SiteSyncAddon, url: str, rounds: int, workdir: Path) -> dict:
    env = {**os.environ, "SITESYNC_SERVER_URL": url, "SITESYNC_API_KEY": KEY,
           "SITESYNC_SITE_ID": SITE, "XDG_STATE_HOME": str(workdir / "state")}
    cp_times, sync_times, rss = [], [], []
    for round_number in range(rounds):
        target = workdir / "cp-target"
        shutil.rmtree(target, ignore_errors=True)
        cp_times.append(timed(["cp", "-r", str(studio / PROJECT / name), str(target)])[0])
        shutil.rmtree(target)
        shutil.rmtree(local / PROJECT / name, ignore_errors=True)
        queue(addon, rep_ids, {"studio": OK, SITE: QUEUED})
        seconds, peak = timed([sys.executable, "-m", "sitesync_addon.cli", "syncservice",
                               "--active_site", "local", "--once", "--quiet"], env)
        sync_times.append(seconds)
        rss.append(peak)
        log(f"{name} round {round_number + 1}: cp {cp_times[-1]:.2f}s, "
            f"syncservice {seconds:.2f}s, rss {peak / 2**20:.0f} MiB")
    return summary(paths, "cp", cp_times, sync_times, rss)


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
        addon.client.projects.create(PROJECT, {"work": {"linux": str(studio)}})
        addon.client.settings.put_studio({"enabled": True})
        addon.client.settings.put_site(PROJECT, SITE, {
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
        stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
