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
from dataclasses import dataclass, field

from sitesync_addon.client.services import Services
from sitesync_addon.errors import ServerError
from sitesync_addon.version import __version__

log = logging.getLogger(__name__)
REFUSED = (403, 409)  # a key that may not run as this site; a service id another key uses


@dataclass
class HeartbeatSender:
    services: Services
    service_id: str
    site: str
    projects: Callable[[], list[str]]  # the enabled projects the service serves now
    every: float
    _refused: str = field(default="", init=False)  # the refusal last logged

    def send(self, files_in_flight: int, bytes_per_second: float) -> bool:
        """True when the server took it."""
        try:
            self.services.heartbeat(self.service_id, self.site, socket.gethostname(),
                                    __version__, os.getpid(), self.projects(),
                                    files_in_flight, bytes_per_second)
        except ServerError as exc:
            if exc.status_code in REFUSED and str(exc) != self._refused:
                # The key may not run a service as this site: say so once, plainly.
                log.warning("the server refused this service's heartbeat: %s", exc)
            else:
                log.debug("heartbeat skipped: %s", exc)
            self._refused = str(exc) if exc.status_code in REFUSED else ""
            return False
        except Exception:  # a bug here must not stop the reports  # noqa: BLE001
            log.warning("heartbeat failed", exc_info=True)
            return False
        return True
