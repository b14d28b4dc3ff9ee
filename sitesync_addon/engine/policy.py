"""The error policy: what a failed transfer costs, and which sites wait.

- ``Transient`` (network, 5xx, throttling) and a server that is away: release the file and
  back the site off, exponentially with jitter; no retry is counted.
- ``SiteUnavailable`` / ``AuthFailed`` / a provider that is not installed: hold the whole site
  with one message and probe it with ``is_active()`` until it is back; no retry is counted.
- Anything else is the file's own problem (not found, verification, permission, disk full):
  count a retry; the server marks it FAILED at ``retry_cnt``.
"""
from __future__ import annotations

import enum
import random
import threading
import time
from dataclasses import dataclass

from sitesync_addon.errors import (ConfigError, ResumableError, SiteUnavailable,
                                   TransferCancelled)


class Action(enum.Enum):
    RELEASE = "release"  # back to the queue as it is (cancelled, paused, lease lost)
    BACK_OFF = "back off"  # transient: release, and the site waits a little
    HOLD = "hold"  # the site is down: release with a message, hold the site, probe it
    RETRY = "retry"  # the file's own failure: a retry is counted


def decide(error: BaseException) -> Action:
    if isinstance(error, TransferCancelled):
        return Action.RELEASE
    if isinstance(error, (SiteUnavailable, ConfigError)):
        return Action.HOLD
    if isinstance(error, ResumableError):
        return Action.BACK_OFF
    return Action.RETRY


MESSAGE_LIMIT = 4000  # characters of an error message the server keeps


def fit_message(message: str) -> str:
    """An error message cut to what the server keeps (a longer one would be refused)."""
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT - 1] + "…"


def jittered(base: float, attempt: int, cap: float) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, base * 2 ** attempt))


@dataclass
class _SiteState:
    until: float = 0.0  # monotonic time the site may be used again
    attempts: int = 0
    held: str | None = None  # why the site is held, while it is


class SiteHealth:
    """Which sites may be used now; thread-safe."""

    def __init__(self, base: float = 1.0, cap: float = 60.0) -> None:
        self.base = base
        self.cap = cap
        self._lock = threading.Lock()
        self._sites: dict[str, _SiteState] = {}

    def back_off(self, site: str, retry_after: float | None = None) -> float:
        """The site had a transient failure; return how long it waits."""
        with self._lock:
            state = self._sites.setdefault(site, _SiteState())
            delay = retry_after if retry_after else jittered(self.base, state.attempts,
                                                             self.cap)
            state.attempts += 1
            state.until = max(state.until, time.monotonic() + delay)
            return delay

    def hold(self, site: str, message: str) -> float:
        """The site is down: hold it until a probe finds it back; return the probe delay."""
        delay = self.back_off(site)
        with self._lock:
            self._sites[site].held = message
        return delay

    def recovered(self, site: str) -> None:
        """A probe found the site back: usable again; its backoff keeps growing until a
        transfer succeeds (a site that answers probes but fails transfers is not hammered)."""
        with self._lock:
            state = self._sites.get(site)
            if state is not None:
                state.held, state.until = None, 0.0

    def succeeded(self, site: str) -> None:
        """A transfer to or from the site worked: forget its failures."""
        with self._lock:
            self._sites.pop(site, None)

    def usable(self, site: str) -> bool:
        with self._lock:
            state = self._sites.get(site)
            return state is None or (state.held is None and time.monotonic() >= state.until)

    def held(self) -> dict[str, str]:
        """Held sites with why."""
        with self._lock:
            return {site: s.held for site, s in self._sites.items() if s.held is not None}

    def due_for_probe(self) -> list[str]:
        """Held sites whose wait is over: probe them."""
        now = time.monotonic()
        with self._lock:
            return [site for site, s in self._sites.items()
                    if s.held is not None and now >= s.until]

    def next_change(self) -> float | None:
        """Monotonic time of the next site that may be used or probed again."""
        with self._lock:
            times = [s.until for s in self._sites.values() if s.until > time.monotonic()]
            return min(times, default=None)
