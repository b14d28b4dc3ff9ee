"""Status numbers of the contract and the rule that aggregates file statuses."""
from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class SiteSyncStatus(IntEnum):
    """State of a file (or, aggregated, a representation) on one site."""

    NA = -1
    IN_PROGRESS = 0
    QUEUED = 1
    FAILED = 2
    PAUSED = 3
    OK = 4


class SyncStatus(IntEnum):
    """What to do with one file for a site pair."""

    DO_NOTHING = 0
    DO_UPLOAD = 1
    DO_DOWNLOAD = 2


_PRECEDENCE = (SiteSyncStatus.FAILED, SiteSyncStatus.IN_PROGRESS, SiteSyncStatus.PAUSED,
               SiteSyncStatus.QUEUED)


def effective_status(status: int, paused: bool) -> SiteSyncStatus:
    """A paused file that is not yet OK shows as PAUSED."""
    if paused and status != SiteSyncStatus.OK:
        return SiteSyncStatus.PAUSED
    return SiteSyncStatus(status)


def aggregate_status(statuses: Iterable[int]) -> SiteSyncStatus:
    """The representation status from its files' statuses; the first matching rule wins."""
    present = {SiteSyncStatus(s) for s in statuses}
    if not present or present == {SiteSyncStatus.NA}:
        return SiteSyncStatus.NA
    if present == {SiteSyncStatus.OK}:
        return SiteSyncStatus.OK
    for status in _PRECEDENCE:
        if status in present:
            return status
    return SiteSyncStatus.NA
