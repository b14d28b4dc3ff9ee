"""Benchmark the state listing, the work queue and bulk stamps on a large seeded project.

Seeds ``--reps`` representations (3 files each, a state on the studio and on an artist's
site) straight into the real tables of a freshly migrated database, then times requests
against a live uvicorn server on 127.0.0.1. Prints one JSON document to stdout; progress goes
to stderr.

    python bench/state_query.py --reps 100000 --backends sqlite,postgresql
"""
from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
import uvicorn

from server_addon import create_app
from server_addon.db import tables as host
from server_addon.sitesync import tables as sync

ADMIN_KEY = "ssk_bench_admin_key"
API = "/api/addons/sitesync/0.1.0"
PROJECT = "bench"
STUDIO, ARTIST, NEW_SITE = "studio", "artist01", "farm"
REPS_PER_FOLDER = 40  # 4 products x 5 versions x 2 representations
PRODUCTS = ("render", "model", "anim", "look")
VERSIONS_PER_PRODUCT = 5
REPRESENTATION_NAMES = ("exr", "mov")
FILES_PER_REP = 3
BATCH = 20_000  # representations seeded per round
OK, QUEUED, FAILED = 4, 1, 2


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- server ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(database_url: str) -> Iterator[str]:
    """The app (which migrates the database) served by uvicorn in a thread; yields its URL."""
    port = free_port()
    config = uvicorn.Config(create_app(database_url, admin_api_key=ADMIN_KEY), host="127.0.0.1",
                            port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def client(base_url: str) -> Callable[..., requests.Response]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ADMIN_KEY}"

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        response = session.request(method, base_url + path, timeout=600, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response

    return call


# -- seeding ---------------------------------------------------------------------------------

def folder_path(index: int) -> str:
    if index % 10 == 0:
        return f"assets/asset{index // 10:05d}"
    return f"shots/sq{index // 200:03d}/sh{index % 200:03d}0"


def catalog_rows(project_id: uuid.UUID, reps: int, rng: random.Random) -> dict[str, list[dict]]:
    """Folders, products and versions for ``reps`` representations."""
    now = time.time()
    rows: dict[str, list[dict]] = {"folders": [], "products": [], "versions": []}
    for index in range((reps + REPS_PER_FOLDER - 1) // REPS_PER_FOLDER):
        folder_id = uuid.uuid4()
        rows["folders"].append({"id": folder_id, "project_id": project_id,
                                "path": folder_path(index)})
        for name in PRODUCTS:
            product_id = uuid.uuid4()
            rows["products"].append({"id": product_id, "project_id": project_id,
                                     "folder_id": folder_id, "name": name,
                                     "product_type": name})
            for number in range(1, VERSIONS_PER_PRODUCT + 1):
                rows["versions"].append({"id": uuid.uuid4(), "project_id": project_id,
                                         "product_id": product_id, "version": number,
                                         "task": rng.choice(("comp", "light", "fx")),
                                         "author": f"user{rng.randrange(20)}",
                                         "created_at": now})
    return rows


def state_rows(project_id: uuid.UUID, versions: Sequence[dict],
               folder_of: dict[uuid.UUID, uuid.UUID],
               start: int, stop: int, rng: random.Random) -> dict[str, list[dict]]:
    """Representations ``start..stop`` with their files and their states on both sites."""
    now = time.time()
    rows: dict[str, list[dict]] = {"representations": [], "files": [], "site_states": [],
                                   "file_states": []}
    for index in range(start, stop):
        version = versions[index // len(REPRESENTATION_NAMES)]
        name = REPRESENTATION_NAMES[index % len(REPRESENTATION_NAMES)]
        rep_id = uuid.uuid4()
        rows["representations"].append({"id": rep_id, "project_id": project_id,
                                        "version_id": version["id"],
                                        "folder_id": folder_of[version["product_id"]],
                                        "name": name,
                                        "created_at": now - (stop - index)})
        # Most work has the default priority; a few are urgent or pushed back.
        priority = rng.choices((50, 90, 70, 20), weights=(85, 3, 7, 5))[0]
        roll = rng.random()
        artist_status = QUEUED if roll < 0.3 else FAILED if roll < 0.33 else OK
        file_ids = [uuid.uuid4() for _ in range(FILES_PER_REP)]
        sizes = {file_id: rng.randrange(1, 500_000_000) for file_id in file_ids}
        for position, file_id in enumerate(file_ids):
            rows["files"].append({"representation_id": rep_id, "id": file_id,
                                  "position": position,
                                  "path": f"{{root[work]}}/{PROJECT}/v{index}/f{position}.{name}",
                                  "size": sizes[file_id], "hash": None})
        for site, status in ((STUDIO, OK), (ARTIST, artist_status)):
            rows["site_states"].append({
                "representation_id": rep_id, "site": site, "project_id": project_id,
                "priority": priority, "status": status, "paused": False, "created_at": now,
                "updated_at": now})
            for file_id in file_ids:
                failed = status == FAILED
                rows["file_states"].append({
                    "representation_id": rep_id, "site": site, "file_id": file_id,
                    "project_id": project_id, "status": status, "file_size": sizes[file_id],
                    "size": 0 if status != OK else sizes[file_id],
                    "progress": 1.0 if status == OK else 0.0,
                    "retries": 3 if failed else 0,
                    "message": "connection reset" if failed else None, "paused": False,
                    "priority": priority, "queued_at": now - rng.random() * 86_400,
                    "available_at": 0.0, "updated_at": now, "lease_owner": None,
                    "lease_expires_at": None})
    return rows


TABLES = {"folders": host.folders, "products": host.products, "versions": host.versions,
          "representations": host.representations, "files": host.files,
          "site_states": sync.site_states, "file_states": sync.file_states}


def insert_rows(conn: sa.Connection, name: str, rows: list[dict]) -> None:
    """executemany on SQLite; COPY on PostgreSQL."""
    if not rows:
        return
    table = TABLES[name]
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def seed(database_url: str, project_id: uuid.UUID, reps: int) -> None:
    rng = random.Random(7)
    engine = sa.create_engine(database_url)
    started = time.monotonic()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # the data is consistent; skip the FK triggers
            conn.exec_driver_sql("SET session_replication_role = replica")
        catalog = catalog_rows(project_id, reps, rng)
        folder_of = {p["id"]: p["folder_id"] for p in catalog["products"]}
        for name, rows in catalog.items():
            insert_rows(conn, name, rows)
        for start in range(0, reps, BATCH):
            for name, rows in state_rows(project_id, catalog["versions"], folder_of, start,
                                         min(reps, start + BATCH), rng).items():
                insert_rows(conn, name, rows)
            log(f"  seeded {min(reps, start + BATCH):,} / {reps:,} representations")
    # Fresh statistics, as autovacuum / an analysed SQLite file would have them.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql"
                             else "ANALYZE")
    engine.dispose()
    log(f"  seeding took {time.monotonic() - started:.1f} s")


# -- measuring -------------------------------------------------------------------------------

def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1), "count": len(ordered)}


LISTING_QUERIES: dict[str, dict[str, Any]] = {
    "queued_on_local": {"localStatusFilter": [QUEUED]},
    "failed_on_local": {"localStatusFilter": [FAILED, QUEUED]},
    "folder_substring": {"folderFilter": "sh01"},
    "folder_and_status": {"folderFilter": "sh0050", "localStatusFilter": [OK]},
    "synced_both_page_3": {"localStatusFilter": [OK], "remoteStatusFilter": [OK], "page": 3},
}


def measure_listing(call: Callable[..., requests.Response], requests_count: int) -> dict:
    base = {"localSite": ARTIST, "remoteSite": STUDIO, "sortBy": "priority", "sortDesc": "true",
            "pageLength": 50}
    samples: list[float] = []
    per_query: dict[str, dict] = {}
    names = list(LISTING_QUERIES)
    for name in names:  # warm up caches and connections once per query shape
        page = call("GET", f"{API}/{PROJECT}/state",
                    params={**base, **LISTING_QUERIES[name]}).json()
        per_query[name] = {"total": page["total"], "total_exact": page["totalExact"],
                           "samples": []}
    for index in range(requests_count):
        name = names[index % len(names)]
        started = time.perf_counter()
        page = call("GET", f"{API}/{PROJECT}/state", params={**base, **LISTING_QUERIES[name]})
        elapsed = time.perf_counter() - started
        if not page.json()["representations"]:
            raise RuntimeError(f"listing '{name}' returned an empty page")
        samples.append(elapsed)
        per_query[name]["samples"].append(elapsed)
    return {**percentiles(samples),
            "queries": {name: {"total": info["total"], "total_exact": info["total_exact"],
                               "p50_ms": percentiles(info["samples"])["p50_ms"],
                               "p95_ms": percentiles(info["samples"])["p95_ms"]}
                        for name, info in per_query.items()}}


def measure_claims(call: Callable[..., requests.Response], claims: int) -> dict:
    samples: list[float] = []
    handed_out = 0
    for index in range(claims):
        body = {"localSite": ARTIST, "remoteSite": STUDIO, "workerId": f"worker{index % 4}",
                "limit": 100}
        started = time.perf_counter()
        items = call("POST", f"{API}/{PROJECT}/work/claim", json=body).json()
        samples.append(time.perf_counter() - started)
        handed_out += len(items)
        # Finish most, hand a few back, so the queue both drains and churns.
        reports = [{"representationId": i["representationId"], "fileId": i["fileId"],
                    "site": i["targetSite"], "outcome": "release" if n % 10 == 0 else "done"}
                   for n, i in enumerate(items)]
        if reports:
            call("POST", f"{API}/{PROJECT}/work/report",
                 json={"workerId": body["workerId"], "reports": reports})
    return {**percentiles(samples), "files_claimed": handed_out}


def measure_bulk_stamp(database_url: str, project_id: uuid.UUID,
                       call: Callable[..., requests.Response], size: int) -> dict:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rep_ids = [str(r) for r in conn.execute(
            sa.select(host.representations.c.id)
            .where(host.representations.c.project_id == project_id)
            .order_by(host.representations.c.created_at.desc()).limit(size)).scalars()]
    engine.dispose()
    items = [{"representationId": rep_id, "siteName": NEW_SITE, "status": QUEUED}
             for rep_id in rep_ids]
    started = time.perf_counter()
    call("POST", f"{API}/{PROJECT}/state/bulk", json={"items": items})
    return {"representations": len(items), "wall_s": round(time.perf_counter() - started, 3)}


def run_backend(database_url: str, args: argparse.Namespace) -> dict:
    with live_server(database_url) as base_url:
        call = client(base_url)
        call("POST", "/api/projects", json={"name": PROJECT,
                                            "roots": {"work": {"linux": "/mnt/work"}}})
        engine = sa.create_engine(database_url)
        with engine.connect() as conn:
            project_id = conn.execute(sa.select(host.projects.c.id).where(
                host.projects.c.name == PROJECT)).scalar_one()
        engine.dispose()
        log(f"  seeding {args.reps:,} representations")
        seed(database_url, project_id, args.reps)
        log("  measuring the listing")
        listing = measure_listing(call, args.requests)
        log("  measuring claims")
        claims = measure_claims(call, args.claims)
        log("  measuring a bulk stamp")
        bulk = measure_bulk_stamp(database_url, project_id, call, args.stamp)
    return {"listing": listing, "claim": claims, "bulk_stamp": bulk}


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database next to ``admin_url``'s, dropped afterwards."""
    name = f"sitesync_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="sitesync_bench_") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=50, help="listing requests to time")
    parser.add_argument("--claims", type=int, default=50, help="claims to time")
    parser.add_argument("--stamp", type=int, default=10_000, help="representations per stamp")
    args = parser.parse_args()
    results: dict[str, Any] = {"reps": args.reps, "files_per_rep": FILES_PER_REP,
                               "targets": {"p95_page_ms": 50, "p95_claim_ms": 50,
                                           "bulk_stamp_s": 3}}
    for backend in args.backends.split(","):
        log(f"{backend}: {args.reps:,} representations")
        database = sqlite_database() if backend == "sqlite" else postgres_database(args.pg_url)
        with database as url:
            results[backend] = run_backend(url, args)
        log(f"{backend}: done")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
