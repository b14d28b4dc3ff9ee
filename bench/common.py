"""What the transfer benchmark needs around its measurements: child processes that are always
stopped, a ``sitesync server`` (SQLite or a fresh PostgreSQL database), a data set written,
registered and stamped on it, timing a child with its own peak RSS, and /proc readings of
CPU time and peak memory."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitesync_addon import SiteSyncAddon  # noqa: E402
from sitesync_addon.hashing import hash_file  # noqa: E402

KEY = "ssk_bench_admin_key"
PROJECT = "bench"
QUEUED, FAILED, OK = 1, 2, 4  # SiteSyncStatus
POSTGRES = "postgresql://postgres@127.0.0.1:5432"

# Runs the command and prints its wall time and peak RSS. A child spawned by a big process
# reports that process's peak as its own (Linux records the old address space's high-water
# mark at exec), so the command is started from this small interpreter instead.
_MEASURE = """
import json, os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
error = process.stderr.read()
_, status, usage = os.wait4(process.pid, 0)
print(json.dumps({"seconds": time.perf_counter() - started, "rss": usage.ru_maxrss * 1024,
                  "code": os.waitstatus_to_exitcode(status),
                  "stderr": error[-4000:].decode(errors="replace")}))
"""


class BenchError(Exception):
    """A failure the benchmark reports as one line (or a line and a log tail)."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require(binary: str | None, name: str, hint: str) -> str:
    """``binary`` if it is an executable file, else a one-line error naming how to get it."""
    if not binary or not os.access(binary, os.X_OK):
        raise BenchError(f"the {name} binary is missing: {hint}")
    return binary


def sitesync_command() -> list[str]:
    """The ``sitesync`` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "sitesync"
    return [require(str(script), "sitesync", "install the project (pip install -e .)")]


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"({path} not readable)"
    return "\n".join(text.splitlines()[-lines:])


def on_signals_raise() -> None:
    """SIGTERM and SIGHUP end the run as Ctrl-C does, so every cleanup runs."""
    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started ignoring it


class Child:
    """A child process of its own session (so Ctrl-C reaches only the bench, which stops its
    children in order), its output in ``log``."""

    def __init__(self, command: Sequence[str], log_path: Path,
                 env: dict[str, str] | None = None) -> None:
        self.log = log_path
        with open(log_path, "ab") as output:
            self.process = subprocess.Popen(list(command), env=env, stdin=subprocess.DEVNULL,
                                            stdout=output, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, SIGKILL after ``timeout``; the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def proc_cpu_seconds(pid: int, children: bool = False) -> float:
    """User plus system CPU of a running process (and of its reaped children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def proc_peak_rss(pid: int) -> int:
    """VmHWM of a running process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise BenchError(f"no VmHWM in /proc/{pid}/status")


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on 127.0.0.1:5432 (user postgres, trust auth), dropped afterwards;
    yields its SQLAlchemy URL."""
    try:
        import psycopg
    except ImportError:
        raise BenchError("psycopg is missing: pip install -e '.[server]'") from None
    name = f"sitesync_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"PostgreSQL on 127.0.0.1:5432 (user postgres) refused: "
                         f"{first}") from None
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Server:
    child: Child
    url: str


def start_server(workdir: Path, database_url: str) -> Server:
    """``sitesync server`` on ``database_url``; returns once it answers."""
    port = free_port()
    env = {**os.environ, "SITESYNC_ADMIN_API_KEY": KEY}
    child = Child([*sitesync_command(), "server", "--port", str(port), "--database-url",
                   database_url], workdir / "server.log", env)
    url = f"http://127.0.0.1:{port}"
    addon = SiteSyncAddon(url, KEY, site_id="bench-admin")
    deadline = time.monotonic() + 60
    while True:
        try:
            addon.client.http.get("/api/health")
            return Server(child, url)
        except Exception as exc:  # noqa: BLE001 - not up yet
            if not child.alive() or time.monotonic() > deadline:
                child.stop()
                raise BenchError(f"sitesync server did not start ({exc}):\n"
                                 f"{tail(child.log)}") from None
            time.sleep(0.2)


def write_files(studio: Path, paths: Sequence[str], size: int) -> list[Path]:
    """Files of ``size`` bytes at ``paths`` (relative to ``studio``), different per file,
    written in pieces so this process stays small."""
    written = []
    piece = os.urandom(min(size, 8 * 2**20))
    for index, relative in enumerate(paths):
        path = studio / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as stream:
            stream.write(uuid.uuid4().bytes[:min(size, 16)])
            left = size - min(size, 16)
            while left > 0:
                stream.write(piece[:left])
                left -= min(left, len(piece))
        written.append(path)
        if index % 500 == 499:
            os.sync()  # keep dirty pages from piling up behind a large data set
    return written


def register(addon: SiteSyncAddon, studio: Path, name: str,
             representations: Sequence[Sequence[Path]]) -> list[str]:
    """One folder and product ``name``, a version and representation per group of files,
    with sizes and hashes, on the server; the representation ids."""
    catalog = addon.client.catalog
    folder = catalog.create_folder(PROJECT, name)
    product = catalog.create_product(PROJECT, folder["id"], name, "generic")
    rep_ids = []
    for number, paths in enumerate(representations, start=1):
        version = catalog.create_version(PROJECT, product["id"], number, None, ())
        files = [{"path": "{root[work]}/" + p.relative_to(studio).as_posix(),
                  "size": p.stat().st_size, "hash": hash_file(p)} for p in paths]
        rep_ids.append(catalog.create_representation(PROJECT, version["id"], "bin", files)["id"])
    return rep_ids


def stamp(addon: SiteSyncAddon, rep_ids: Sequence[str], states: dict[str, int]) -> None:
    """Reset every representation to ``{site: status}`` (e.g. source OK, target QUEUED) in
    one bulk call, as a publish does."""
    items = [{"representationId": r, "siteName": site, "status": status, "reset": True}
             for r in rep_ids for site, status in states.items()]
    addon.client.state.stamp(PROJECT, items)


def timed(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of a child process; its non-zero exit is an error
    naming the command and the end of its stderr."""
    result = subprocess.run([sys.executable, "-I", "-c", _MEASURE, *command], env=env,
                            stdout=subprocess.PIPE, check=True)
    measured = json.loads(result.stdout)
    if measured["code"] != 0:
        raise BenchError(f"{' '.join(command[:3])} ... exited {measured['code']}:\n"
                         f"{measured['stderr'].strip()}")
    return measured["seconds"], measured["rss"]


def durable(seconds: float) -> float:
    """``seconds`` plus the time ``sync`` takes to write the dirty pages out now."""
    started = time.perf_counter()
    os.sync()
    return seconds + time.perf_counter() - started


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
