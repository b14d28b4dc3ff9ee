"""The heartbeat a sync service sends: who it is, what it serves, how busy it is.

The reporter thread decides when and measures the numbers; this sends them. A server that is
away, or too old to know heartbeats, only costs a debug line: heartbeats never hold up
reports.
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from sitesync_addon.client.services import Services
from sitesync_addon.errors import ServerError
from sitesync_addon.version import __version__

log = logging.getLogger(__name__)


@dataclass
class HeartbeatSender:
    services: Services
    service_id: str
    site: str
    projects: Callable[[], list[str]]  # the enabled projects the service serves now
    every: float

    def send(self, files_in_flight: int, bytes_per_second: float) -> bool:
        """True when the server took it."""
        try:
            self.services.heartbeat(self.service_id, self.site, socket.gethostname(),
                                    __version__, os.getpid(), self.projects(),
                                    files_in_flight, bytes_per_second)
        except ServerError as exc:
            log.debug("heartbeat skipped: %s", exc)
            return False
        except Exception:  # a bug here must not stop the reports  # noqa: BLE001
            log.warning("heartbeat failed", exc_info=True)
            return False
        return True
