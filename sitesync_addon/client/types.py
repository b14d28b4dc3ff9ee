"""The shapes the server answers with (camelCase, as on the wire)."""
from __future__ import annotations

from typing import Any, Literal, TypedDict


class Project(TypedDict):
    id: str
    name: str
    roots: dict[str, dict[str, str]]


class FileRecord(TypedDict):
    id: str
    path: str  # a path template: {root[work]}/proj/...
    size: int
    hash: str | None


class Representation(TypedDict):
    id: str
    versionId: str
    name: str
    files: list[FileRecord]
    folder: str | None  # the version's folder path, product and number, for people
    product: str | None
    version: int | None
    task: str | None


class Folder(TypedDict):
    id: str
    path: str


class Product(TypedDict):
    id: str
    folderId: str
    name: str
    productType: str


class Version(TypedDict):
    id: str
    productId: str
    version: int
    task: str | None
    author: str | None
    links: list[dict[str, Any]]


class SideStatus(TypedDict):
    status: int
    size: int
    totalSize: int
    progress: float
    timestamp: float | None
    message: str | None
    retries: int
    paused: bool


class StateItem(TypedDict):
    """One representation of the state listing, for a local and a remote site."""

    folder: str
    product: str
    version: int
    versionId: str
    representation: str
    representationId: str
    fileCount: int
    size: int
    priority: int
    localStatus: SideStatus
    remoteStatus: SideStatus
    files: list[dict[str, Any]]


class StatePage(TypedDict):
    total: int
    totalExact: bool
    page: int
    pageLength: int
    representations: list[StateItem]


class FileSiteState(TypedDict):
    id: str
    status: int
    size: int
    progress: float
    retries: int
    message: str | None
    paused: bool
    timestamp: float


class SiteState(TypedDict):
    """A representation's state on one site, its files by file id."""

    name: str
    priority: int
    status: int
    paused: bool
    createdAt: float
    updatedAt: float
    files: dict[str, FileSiteState]


class WorkItem(TypedDict):
    """A claimed file: move ``path`` from ``sourceSite`` to ``targetSite`` under a lease."""

    representationId: str
    fileId: str
    path: str
    size: int
    hash: str | None
    sourceSite: str
    targetSite: str
    direction: Literal["download", "upload"]
    priority: int
    retries: int
    leaseExpiresAt: float


Outcome = Literal["progress", "done", "error", "release"]


class Report(TypedDict, total=False):
    representationId: str
    fileId: str
    site: str
    outcome: Outcome
    progress: float
    size: int
    error: str
    retryAfter: float


class ReportResult(TypedDict, total=False):
    accepted: bool
    detail: str | None
    status: int | None
    paused: bool


class Event(TypedDict):
    id: int
    kind: str
    project: str | None
    payload: dict[str, Any]
    createdAt: float


class EventBatch(TypedDict):
    lastId: int
    events: list[Event]


class SiteSummary(TypedDict):
    """Representations per aggregated status on one site, and bytes still to move there."""

    site: str
    ok: int
    queued: int
    inProgress: int
    failed: int
    paused: int
    bytesQueued: int


class ProjectSummary(TypedDict):
    name: str
    enabled: bool
    paused: bool
    sites: list[SiteSummary]


class FailureGroup(TypedDict):
    """FAILED files of one site with one message."""

    message: str
    site: str
    files: int
    representations: int
    lastUpdate: float


class ServiceInfo(TypedDict):
    """A running sync service, from its heartbeats."""

    serviceId: str
    site: str
    host: str
    version: str
    pid: int
    projects: list[str]
    filesInFlight: int
    bytesPerSecond: float
    startedAt: float
    lastSeen: float
    stale: bool


class SiteCommand(TypedDict):
    """Work on a site's files that the site's sync service carries out."""

    id: str
    project: str
    site: str
    action: Literal["validate", "clear", "remove"]
    resetMissing: bool
    representationIds: list[str]
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    requestedAt: float
    serviceId: str | None
    startedAt: float | None
    finishedAt: float | None
    result: dict[str, int] | None
    message: str | None
