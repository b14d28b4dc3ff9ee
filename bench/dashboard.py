"""Benchmark the web dashboard: the sync queue page's first render on a large project, and the
server CPU that live updates add.

Seeds ``--reps`` representations on PostgreSQL (as bench/state_query.py does), starts
``sitesync server`` as its own process, then
- times the queue page (``/projects/bench``) with the default view and a few filtered ones;
- runs ``--services`` fake sync services that claim files and report progress every second,
  first alone, then with ``--pages`` open pages following the event stream, and reports the
  server process's CPU in both phases.

Prints one JSON document to stdout; progress goes to stderr.

    python bench/dashboard.py --reps 1000000 --services 10 --pages 20
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from state_query import (API, ARTIST, PROJECT, STUDIO, free_port, log,  # noqa: E402
                         percentiles, postgres_database, seed)

from server_addon.db import tables as host  # noqa: E402

KEY = "ssk_bench_admin_key"
PAGE_VIEWS: dict[str, dict[str, Any]] = {
    "default": {},
    "queued_on_local": {"localStatusFilter": 1},
    "folder_filter": {"folderFilter": "sh01"},
    "sorted_by_folder": {"sortBy": "folder", "sortDesc": "false"},
    "page_20": {"page": 20},
}


def start_server(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "SITESYNC_ADMIN_API_KEY": KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "sitesync_addon.cli", "server", "--port", str(port),
         "--database-url", database_url], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"{url}/api/health", timeout=5).ok:
                return process, url
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("the server did not start")
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_pages(session: requests.Session, url: str, count: int) -> dict[str, Any]:
    base = {"localSite": ARTIST, "remoteSite": STUDIO}
    results: dict[str, Any] = {}
    every: list[float] = []
    for name, view in PAGE_VIEWS.items():
        params = {**base, **view}
        response = session.get(f"{url}/projects/{PROJECT}", params=params, timeout=120)
        response.raise_for_status()  # warm-up, and a check the page renders
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            session.get(f"{url}/projects/{PROJECT}", params=params, timeout=120).raise_for_status()
            samples.append(time.perf_counter() - started)
        results[name] = percentiles(samples)
        every += samples
    results["all"] = percentiles(every)
    return results


class FakeService(threading.Thread):
    """Claims a few files and reports their progress every second, as a moving service."""

    def __init__(self, url: str, number: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, stop
        self.worker = f"bench-service-{number}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {KEY}"
        self.reports = 0

    def run(self) -> None:
        items = self.session.post(f"{self.url}{API}/{PROJECT}/work/claim", json={
            "localSite": ARTIST, "remoteSite": STUDIO, "workerId": self.worker, "limit": 4,
            "leaseSeconds": 600}, timeout=60).json()
        step = 0
        while not self.stop.wait(1.0):
            step += 1
            reports = [{"representationId": i["representationId"], "fileId": i["fileId"],
                        "site": i["targetSite"], "outcome": "progress",
                        "progress": min(0.99, step / 100), "size": step * 1000}
                       for i in items]
            self.session.post(f"{self.url}{API}/{PROJECT}/work/report", json={
                "workerId": self.worker, "leaseSeconds": 600, "reports": reports},
                timeout=60).raise_for_status()
            self.reports += 1


class OpenPage(threading.Thread):
    """An open queue page: follows the project's event stream and reads every event."""

    def __init__(self, url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, stop
        self.events = 0

    def run(self) -> None:
        with contextlib.suppress(requests.RequestException):  # the server stopped at the end
            self._follow()

    def _follow(self) -> None:
        with requests.get(f"{self.url}{API}/events/stream",
                          params={"project": PROJECT, "kinds": "progress,state"},
                          headers={"Authorization": f"Bearer {KEY}"}, stream=True,
                          timeout=60) as response:
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith(b"event:"):
                    self.events += 1


def measure_live(url: str, pid: int, services: int, pages: int, seconds: float
                 ) -> dict[str, Any]:
    def phase(with_pages: int) -> dict[str, Any]:
        stop = threading.Event()
        workers = [FakeService(url, n + with_pages * 100, stop) for n in range(services)]
        readers = [OpenPage(url, stop) for _ in range(with_pages)]
        for thread in readers + workers:
            thread.start()
        time.sleep(2)  # claims done, streams open
        cpu, started = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        used, wall = cpu_seconds(pid) - cpu, time.monotonic() - started
        stop.set()
        return {"server_cpu_percent": round(100 * used / wall, 1),
                "reports_per_second": round(sum(w.reports for w in workers) / (wall + 2), 1),
                "events_read_per_page": [r.events for r in readers][:3]}

    alone = phase(0)
    watched = phase(pages)
    return {"services": services, "pages": pages, "seconds": seconds,
            "services_alone": alone, "with_pages": watched,
            "added_cpu_percent": round(watched["server_cpu_percent"]
                                       - alone["server_cpu_percent"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=20, help="timed renders per view")
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0, help="per live phase")
    args = parser.parse_args()
    with postgres_database(args.pg_url) as database_url:
        process, url = start_server(database_url)
        try:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {KEY}"
            session.post(f"{url}/api/projects", json={
                "name": PROJECT, "roots": {"work": {"linux": "/mnt/work"}}}).raise_for_status()
            session.put(f"{url}{API}/settings/{PROJECT}",
                        json={"enabled": True}).raise_for_status()
            engine = sa.create_engine(database_url)
            with engine.connect() as conn:
                project_id = conn.execute(sa.select(host.projects.c.id).where(
                    host.projects.c.name == PROJECT)).scalar_one()
            engine.dispose()
            log(f"seeding {args.reps:,} representations")
            seed(database_url, project_id, args.reps)
            log("timing the queue page")
            pages = measure_pages(session, url, args.requests)
            log("measuring live updates")
            live = measure_live(url, process.pid, args.services, args.pages, args.seconds)
        finally:
            process.terminate()
            process.wait(60)
    print(json.dumps({"benchmark": "dashboard", "reps": args.reps, "backend": "postgresql",
                      "queue_page": pages, "live": live,
                      "targets": {"queue_page_p95_ms": 300, "added_cpu_percent": 10}},
                     indent=2))


if __name__ == "__main__":
    main()
