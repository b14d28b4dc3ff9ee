"""What a launch hook is and what it gets: ``PreLaunchHook`` and ``LaunchContext``."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from sitesync_addon.errors import SiteSyncError

if TYPE_CHECKING:
    from sitesync_addon.api import SiteSyncApi

log = logging.getLogger("sitesync.launch")
DEFAULT_WAIT_TIMEOUT = 600.0  # seconds a hook may wait for files before the launch fails


class LaunchError(SiteSyncError):
    """The application was not launched; the message says why and what to do."""


def log_message(message: str) -> None:
    """Hook messages go to logging unless the caller shows them."""
    log.info(message)


def no_progress(label: str, fraction: float) -> None:
    """Progress goes nowhere unless the caller shows it."""


@dataclass
class LaunchContext:
    """One launch of an application for a task; hooks read and change it."""

    addon: SiteSyncApi
    project: str
    folder: str
    task: str
    app: str  # ``group/variant``, e.g. ``maya/2025``
    launch_type: str = "local"
    env: dict[str, str] = field(default_factory=dict)  # the launched process's environment
    workfile_path: Path | None = None  # the file the application opens; hooks may set it
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    log: Callable[[str], None] = log_message
    progress: Callable[[str, float], None] = no_progress  # (what, fraction 0-1)

    @property
    def app_group(self) -> str:
        """``maya/2025`` -> ``maya``."""
        return self.app.split("/", 1)[0]


class PreLaunchHook:
    """Runs before an application starts. Subclass it in a module of a launch-hook folder.

    ``hosts`` / ``app_groups`` name the application groups it applies to and
    ``launch_types`` the kinds of launch; empty means all. Lower ``order`` runs first.
    """

    order: ClassVar[int] = 0
    hosts: ClassVar[tuple[str, ...]] = ()
    app_groups: ClassVar[tuple[str, ...]] = ()
    launch_types: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def applies_to(cls, context: LaunchContext) -> bool:
        groups = set(cls.hosts) | set(cls.app_groups)
        return ((not groups or context.app_group in groups)
                and (not cls.launch_types or context.launch_type in cls.launch_types))

    def execute(self, context: LaunchContext) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement execute(context)")
