"""What a sync service is told when it is built."""
from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

CLAIM_LIMIT = 200
LEASE_SECONDS = 300.0
HEARTBEAT_SECONDS = 10.0


def _default_state_dir() -> Path:
    return Path(platformdirs.user_state_dir("sitesync"))


@dataclass
class EngineConfig:
    """``site`` is the site the service moves files for (a local site id or any site)."""

    site: str
    concurrency: int = 4  # worker threads; each site also bounds its own transfers at once
    claim_limit: int = CLAIM_LIMIT  # files claimed at once; the queue holds at most this many
    lease_seconds: float = LEASE_SECONDS
    log_progress_sec: float = 5.0  # how often progress (and lease renewals) reach the server
    moving_progress_sec: float = 1.0  # how often that of files moving now does
    retry_backoff_base: float = 2.0  # seconds; doubles with every retry of a file
    site_backoff_cap: float = 60.0  # longest wait before probing a site that was down again
    state_dir: Path = field(default_factory=_default_state_dir)
    heartbeat_every: float = HEARTBEAT_SECONDS  # how often the server hears this service lives
    service_id: str = ""  # empty: made unique for this process (see __post_init__)

    def __post_init__(self) -> None:
        if not self.service_id:
            # One identity per process: two services of one site on one machine (or a
            # restart) never pass for each other on the server.
            self.service_id = (f"{socket.gethostname()[:64]}:{self.site[:100]}:{os.getpid()}:"
                               f"{secrets.token_hex(3)}")

    @property
    def worker_id(self) -> str:
        """The id its leases are held under: its own, so no other service (one more of the
        same site on this machine, or a restart overlapping it) can pass for it."""
        return self.service_id

    @property
    def legacy_worker_id(self) -> str:
        """The id every service of this site on this machine used before, for leftovers."""
        return f"{socket.gethostname()}:{self.site}"
