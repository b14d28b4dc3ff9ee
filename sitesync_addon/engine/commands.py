"""Carries out the site commands people ask for (validate, clear, remove files) on the sites
this service serves: the server cannot reach a site's storage, its service can.

One thread: it looks for commands when the service starts, when a ``command`` event comes and
once a minute (for commands whose service died while running them), takes one at a time from
the server and reports how it ended. Taking needs this service's heartbeat on the server,
so a service that has not sent one yet simply looks again soon.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sitesync_addon import site_files
from sitesync_addon.client import ServerClient
from sitesync_addon.client.types import SiteCommand
from sitesync_addon.engine.policy import fit_message, jittered
from sitesync_addon.errors import ResumableError, ServerError, SiteSyncError
from sitesync_addon.sites import SiteResolver

log = logging.getLogger(__name__)
LOOK_EVERY = 60.0
RETRY_SOON = 3.0


class CommandRunner(threading.Thread):
    def __init__(self, client: ServerClient, sites: SiteResolver, service_id: str,
                 served_sites: Callable[[], list[str]], stopping: threading.Event,
                 on_done: Callable[[], None] = lambda: None) -> None:
        super().__init__(name="sitesync-commands", daemon=True)
        self.client = client
        self.sites = sites
        self.service_id = service_id
        self.served_sites = served_sites
        self.stopping = stopping
        self.on_done = on_done  # the service claims again: states changed
        self._due = threading.Event()
        self._due.set()

    def look_now(self) -> None:
        self._due.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            self._due.wait(LOOK_EVERY)
            self._due.clear()
            if self.stopping.is_set():
                return
            try:
                self.run_pending()
            except ServerError as exc:  # refused or away: look again soon
                log.debug("site commands: %s", exc)
                self.stopping.wait(RETRY_SOON)
                self._due.set()
            except Exception:  # a bug must not end the thread quietly  # noqa: BLE001
                log.exception("site commands failed; looking again in %.0f s", LOOK_EVERY)

    def run_pending(self) -> int:
        """Take and carry out every command waiting on this service's sites; how many ran."""
        sites = self.served_sites()
        if not sites:
            return 0
        ran = 0
        for command in self.client.commands.claimable(sites):
            if self.stopping.is_set():
                break
            try:
                taken = self.client.commands.claim(command["id"], self.service_id)
            except ServerError as exc:  # another service took it, or no heartbeat yet
                log.debug("command %s not taken: %s", command["id"], exc)
                if "heartbeat" in str(exc):
                    raise
                continue
            self._carry_out(taken)
            ran += 1
        return ran

    def _carry_out(self, command: SiteCommand) -> None:
        project, site, action = command["project"], command["site"], command["action"]
        log.info("site command: %s site '%s' of %s", action, site, project)
        try:
            if action == "validate":
                result = site_files.validate_site(self.client, self.sites, project, site,
                                                  command["resetMissing"])
            elif action == "clear":
                result = site_files.clear_site(self.client, self.sites, project, site)
            else:
                result = site_files.remove_from_site(self.client, self.sites, project, site,
                                                     command["representationIds"])
        except Exception as exc:  # noqa: BLE001 - it ends failed, never left running
            if isinstance(exc, (SiteSyncError, OSError)):
                log.warning("site command %s on '%s' failed: %s", action, site, exc)
            else:
                log.exception("site command %s on '%s' failed", action, site)
            self._finish(command, ok=False, message=fit_message(f"{type(exc).__name__}: {exc}"))
        else:
            self._finish(command, ok=True, result=result)
        self.on_done()

    def _finish(self, command: SiteCommand, ok: bool, result: dict[str, int] | None = None,
                message: str | None = None) -> None:
        """Report the end, trying again while the server is away: a command left running
        under a live service would never be taken again."""
        attempt = 0
        while True:
            try:
                self.client.commands.finish(command["id"], self.service_id, ok, result,
                                            message)
                return
            except ResumableError as exc:
                delay = jittered(1.0, attempt, 30.0)
                attempt += 1
                log.warning("reporting command %s: %s; again in %.0f s", command["id"], exc,
                            delay)
                if self.stopping.wait(delay):
                    return  # the next service takes it again once this one is quiet
            except ServerError as exc:  # taken again or cancelled meanwhile
                log.warning("command %s: %s", command["id"], exc)
                return
