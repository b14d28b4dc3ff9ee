"""kill -9 of `sitesync syncservice` at random moments, thirty times, then a run to the end.

Each trial starts a long-running ``sitesync syncservice --active_site local`` downloading
studio -> ws1 (empty, small and multi-MiB files) and kills it with SIGKILL at a seeded random
moment. Of the first trials, half die anywhere in the first seconds after the process is
spawned and half while a file moves (a seeded few milliseconds after a temporary file
appears: local copies are too quick for a blind delay to land inside one). The last
``STARTUP_TRIALS`` die within the first second after the service itself starts (its slot
folder appears: then it cleans up after the killed one, claims and takes leases).
After every kill:

- every file under a final name on ws1 is a published file with exactly its bytes (hash);
- every file the server has OK on ws1 is complete on disk.

Between trials a little more is published, so there is always work. At the end one
``--once`` run moves the rest: every file OK with its hash, no temporary file left, nothing
IN_PROGRESS (the killed services' leases were given back at the next start: a lease is 300
s and no option shortens it, so one left held would show here). An inotify count shows how
often each final name was placed: a name is placed again when a kill came after its rename
but before its "done" reached the server (finals are sent in batches every 0.5 s), and the
next service moves it once more; each placement is a rename of verified bytes, and the
hashes after every kill show no final name ever held anything else.

``KILL9_SEED`` replays a run.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sitesync_addon.client.types import FileSiteState
from sitesync_addon.engine.temp_files import TEMP_SUFFIX
from sitesync_addon.hashing import hash_file
from sitesync_addon.status import SiteSyncStatus
from tests.conftest import ADMIN_KEY
from tests.faults.renames import RenameCounter
from tests.studio import LOCAL_ID, PROJECT, Studio

MIB = 1024 * 1024
TRIALS = 30
STARTUP_TRIALS = 10  # the last trials: killed within a second of the service's start
EARLY_KILL = 1.0  # seconds after the service starts
ANY_KILL = (0.2, 3.5)  # seconds after the process is spawned
MID_FILE_KILL = 0.03  # at most this long after a temporary file appears
MID_FILE_WAIT = 20.0  # seconds to see a file move before killing anyway
SLOT_WAIT = 60.0  # seconds a slow machine may take to start the service (a deadline)
FINAL_TIMEOUT = 300.0


def sizes(rng: random.Random, empty: int, small: int, large: int, huge: int) -> list[int]:
    """Empty files, small ones (up to 200 kB), some of 1-4 MiB and some of 16-40 MiB (the
    kernel copies those in 8 MiB chunks: a window for a kill mid-file), shuffled."""
    found = ([0] * empty + [rng.randint(1, 200_000) for _ in range(small)]
             + [rng.randint(1 * MIB, 4 * MIB) for _ in range(large)]
             + [rng.randint(16 * MIB, 40 * MIB) for _ in range(huge)])
    rng.shuffle(found)
    return found


class Trials:
    """The studio, what was published, and the service runs against it."""

    def __init__(self, studio: Studio, tmp_path: Path, rng: random.Random) -> None:
        self.studio = studio
        self.rng = rng
        self.reps: list[dict] = []
        self.state_home = tmp_path / "state"
        self.log = tmp_path / "services.log"
        self.verified: dict[Path, tuple[int, int, int]] = {}  # path -> (inode, mtime, size)
        self.kills = 0
        self.mid_file = 0  # kills that left a temporary file: they hit a file while it moved
        self.processes: list[subprocess.Popen] = []

    def publish(self, empty: int, small: int, large: int, huge: int) -> None:
        """Publish a new version, queue it for ws1 and make its folder (for inotify)."""
        rep = self.studio.publish("sh010", sizes(self.rng, empty, small, large, huge),
                                  version=len(self.reps) + 1)
        self.studio.local_path(rep["files"][0]).parent.mkdir(parents=True, exist_ok=True)
        self.studio.artist.add_site(PROJECT, rep["id"], LOCAL_ID)
        self.reps.append(rep)

    def files(self) -> list[dict]:
        return [file for rep in self.reps for file in rep["files"]]

    def spawn(self, *extra: str) -> subprocess.Popen:
        env = {**os.environ, "SITESYNC_SERVER_URL": self.studio.url,
               "SITESYNC_API_KEY": ADMIN_KEY, "SITESYNC_SITE_ID": LOCAL_ID,
               "XDG_STATE_HOME": str(self.state_home)}
        with open(self.log, "ab") as output:  # a file: a pipe nobody reads would block it
            process = subprocess.Popen([sys.executable, "-m", "sitesync_addon.cli", "syncservice",
                                     "--active_site", "local", "--quiet", *extra], env=env,
                                    stdin=subprocess.DEVNULL, stdout=output,
                                    stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def kill_all(self) -> None:
        """Whatever still runs (a failed trial): nothing outlives the test."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    def slot_of(self, process: subprocess.Popen) -> bool:
        """Whether the service of ``process`` has built its slot (it is about to claim)."""
        return any(self.state_home.glob(f"sitesync/in-flight/*/{process.pid}-*"))

    def temp_files(self) -> list[Path]:
        return list(self.studio.local_root.rglob(f"*{TEMP_SUFFIX}"))

    def wait_for_start(self, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + SLOT_WAIT
        while not self.slot_of(process) and process.poll() is None:
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.01)

    def wait_for_a_moving_file(self, process: subprocess.Popen) -> None:
        """Until a temporary file appears (a file moves), or a while has passed."""
        deadline = time.monotonic() + MID_FILE_WAIT
        while not self.temp_files() and process.poll() is None:
            if time.monotonic() > deadline:
                return
            time.sleep(0.002)

    def kill(self, process: subprocess.Popen, moment: str, delay: float) -> None:
        """SIGKILL ``delay`` seconds after ``moment``: the spawn, the service's start, or a
        temporary file appearing."""
        if moment == "start":
            self.wait_for_start(process)
        elif moment == "mid-file":
            self.wait_for_a_moving_file(process)
        time.sleep(delay)
        assert process.poll() is None, f"the service ended by itself: {self.log_tail()}"
        process.send_signal(signal.SIGKILL)
        self.kills += 1
        process.wait()

    def states(self) -> dict[str, FileSiteState]:
        """The state of every published file on ws1, by file id."""
        answer = self.studio.artist.site_states(PROJECT, [rep["id"] for rep in self.reps],
                                                [LOCAL_ID])
        return {fid: state for rep in self.reps
                for fid, state in answer[rep["id"]][LOCAL_ID]["files"].items()}

    def assert_whole(self, path: Path, file: dict) -> None:
        """``path`` holds the published bytes; hashed again only when it changed."""
        info = path.stat()
        seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        if self.verified.get(path) != seen:
            assert hash_file(path) == file["hash"], f"{path} is partial or corrupt"
            self.verified[path] = seen

    def check_after_kill(self) -> None:
        self.mid_file += bool(self.temp_files())
        by_path = {self.studio.local_path(file): file for file in self.files()}
        for path in self.studio.local_root.rglob("*"):
            if path.is_file() and not path.name.endswith(TEMP_SUFFIX):
                assert path in by_path, f"{path} is under a final name but was never published"
                self.assert_whole(path, by_path[path])
        states = self.states()
        for path, file in by_path.items():
            if states[file["id"]]["status"] == SiteSyncStatus.OK:
                assert path.exists(), f"{path} is OK on the server but not on disk"
                self.assert_whole(path, file)


def kill_moment(trial: int, rng: random.Random) -> tuple[str, float]:
    """When trial ``trial`` is killed: after what, and how many seconds later."""
    if trial >= TRIALS - STARTUP_TRIALS:
        return "start", rng.uniform(0.0, EARLY_KILL)
    if trial % 2:
        return "mid-file", rng.uniform(0.0, MID_FILE_KILL)
    return "spawn", rng.uniform(*ANY_KILL)


def test_kill_9_at_random_moments_never_exposes_partial_bytes(studio: Studio,
                                                             tmp_path: Path) -> None:
    seed = int(os.environ.get("KILL9_SEED", time.time_ns() % 2**32))
    print(f"KILL9_SEED={seed}")
    rng = random.Random(seed)
    trials = Trials(studio, tmp_path, rng)
    trials.publish(empty=15, small=55, large=10, huge=3)
    started = time.monotonic()
    with RenameCounter(studio.local_root) as counter:
        try:
            for trial in range(TRIALS):
                moment, delay = kill_moment(trial, rng)
                trials.kill(trials.spawn(), moment, delay)
                trials.check_after_kill()
                trials.publish(empty=1, small=4, large=trial % 2, huge=1)
            assert trials.spawn("--once").wait(FINAL_TIMEOUT) == 0, trials.log_tail()
        finally:
            trials.kill_all()
    states = trials.states()
    files = trials.files()
    for file in files:
        assert states[file["id"]]["status"] == SiteSyncStatus.OK, states[file["id"]]
        assert hash_file(studio.local_path(file)) == file["hash"]
    assert not any(s["status"] == SiteSyncStatus.IN_PROGRESS for s in states.values())
    leftovers = list(studio.local_root.rglob(f"*{TEMP_SUFFIX}"))
    assert leftovers == [] and list(studio.root.rglob(f"*{TEMP_SUFFIX}")) == []
    unknown = [p for p in counter.placed if studio.local_root / p not in
               {studio.local_path(file) for file in files}]
    assert unknown == [], f"final names placed that were never published: {unknown}"
    most = sorted(counter.twice().items(), key=lambda item: -item[1])[:5]
    print("placed most often:", ", ".join(f"{path} x{count}" for path, count in most))
    print(f"figures trials={TRIALS} kills={trials.kills} mid_file={trials.mid_file} "
          f"files={len(files)} lost=0 partial=0 placed_twice={len(counter.twice())} "
          f"most_placements={max(counter.placed.values(), default=0)} seed={seed} "
          f"seconds={time.monotonic() - started:.0f}")
