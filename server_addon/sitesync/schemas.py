"""Request and response models of SiteSync's endpoints (camelCase on the wire)."""
from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from server_addon.api.schemas import NO_NUL, SITE_ID_PATTERN, ApiModel, ApiRequest
from server_addon.api.schemas import Name as ProjectName
from server_addon.sitesync.listing import COUNT_CAP
from sitesync_addon.status import SiteSyncStatus

SiteName = Annotated[str, StringConstraints(pattern=SITE_ID_PATTERN, min_length=1,
                                            max_length=255)]
# Stored with the key's id (37 characters) before it as the lease holder, in 255.
WorkerId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
ClaimId = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                           pattern=r"^[A-Za-z0-9_.:-]+$")]
ErrorText = Annotated[str, StringConstraints(max_length=4000, pattern=NO_NUL)]
Priority = Annotated[int, Field(ge=1, le=1000)]
MAX_PAGE_LENGTH = 1000


class SideStatus(ApiModel):
    status: SiteSyncStatus
    size: int
    total_size: int
    progress: float
    timestamp: float | None
    message: str | None
    retries: int
    paused: bool


class FileStateItem(ApiModel):
    id: UUID
    path: str
    size: int
    hash: str | None
    local_status: SideStatus
    remote_status: SideStatus


class StateItem(ApiModel):
    folder: str
    product: str
    version: int
    version_id: UUID
    representation: str
    representation_id: UUID
    file_count: int
    size: int
    priority: int
    local_status: SideStatus
    remote_status: SideStatus
    files: list[FileStateItem]


class StatePage(ApiModel):
    total: int = Field(description=(
        f"How many representations match, over all pages; counted at most {COUNT_CAP:,} past "
        "the start of this page (see totalExact), so paging until total still reaches the end."))
    total_exact: bool = Field(description=(
        "False when total is a lower bound: more representations match than were counted."))
    page: int
    page_length: int
    representations: list[StateItem]


class FileChange(ApiRequest):
    id: UUID
    status: SiteSyncStatus | None = None
    progress: float | None = Field(None, ge=0, le=1, description="Sets IN_PROGRESS.")
    size: int | None = Field(None, ge=0, le=2**62)
    error: ErrorText | None = Field(
        None, description="Adds a retry; FAILED once retries reach retry_cnt.")
    retry_after: float = Field(0, ge=0, le=86_400, description="Backoff before a retry.")
    paused: bool | None = None


class SiteStateChange(ApiRequest):
    status: SiteSyncStatus | None = Field(None, description="Set for every file.")
    priority: Priority | None = None
    paused: bool | None = None
    files: list[FileChange] = Field(default_factory=list, max_length=100_000)


class StampItem(ApiRequest):
    representation_id: UUID
    site_name: SiteName
    status: SiteSyncStatus = SiteSyncStatus.QUEUED
    priority: Priority | None = None
    reset: bool = Field(False, description="Re-queue a site that exists already.")


class BulkStamp(ApiRequest):
    items: list[StampItem] = Field(min_length=1, max_length=100_000)


class FileSiteState(ApiModel):
    id: UUID
    status: SiteSyncStatus
    size: int
    progress: float
    retries: int
    message: str | None
    paused: bool
    timestamp: float


class SiteState(ApiModel):
    name: str
    priority: int
    status: SiteSyncStatus
    paused: bool
    created_at: float
    updated_at: float
    files: list[FileSiteState]


class RepresentationSites(ApiModel):
    representation_id: UUID
    sites: list[SiteState]


class ClaimRequest(ApiRequest):
    local_site: SiteName
    remote_site: SiteName
    worker_id: WorkerId
    limit: int = Field(100, ge=1, le=1000)
    lease_seconds: float = Field(300, ge=1, le=86_400)
    claim_id: ClaimId | None = Field(None, description=(
        "The caller's id for this call: if its answer is lost, release with the same "
        "claimId returns the files it leased to the queue at once."))


class WorkItem(ApiModel):
    representation_id: UUID
    file_id: UUID
    path: str
    size: int
    hash: str | None
    source_site: str
    target_site: str
    direction: Literal["download", "upload"]
    priority: int
    retries: int
    lease_expires_at: float


class ReportItem(ApiRequest):
    representation_id: UUID
    file_id: UUID
    site: SiteName = Field(description="The target site of the claimed file.")
    outcome: Literal["progress", "done", "error", "release"]
    progress: float | None = Field(None, ge=0, le=1)
    size: int | None = Field(None, ge=0, le=2**62)
    error: ErrorText | None = None
    retry_after: float = Field(0, ge=0, le=86_400)


class ReportRequest(ApiRequest):
    worker_id: WorkerId
    lease_seconds: float = Field(300, ge=1, le=86_400)
    reports: list[ReportItem] = Field(max_length=10_000)


class ReportResult(ApiModel):
    accepted: bool
    detail: str | None = None
    status: SiteSyncStatus | None = None
    paused: bool = Field(False, description="The file (or its project, or the server) is "
                                            "paused: stop the transfer and release it.")


class ReleaseRequest(ApiRequest):
    worker_id: WorkerId
    claim_id: ClaimId | None = Field(None, description=(
        "Only the files leased by the claim of this id (one whose answer was lost); "
        "without it, every file the worker holds."))


class ReleaseResult(ApiModel):
    released: int


class PauseState(ApiRequest):
    paused: bool


class EventItem(ApiModel):
    id: int
    kind: str
    project: str | None
    payload: dict
    created_at: float


class EventBatch(ApiModel):
    last_id: int = Field(description="Pass as 'after' to get the next events.")
    events: list[EventItem]


class Params(ApiModel):
    sites: list[str]
    representation_names: list[str]
    statuses: dict[str, int]
    sort_by: list[str]
    page_length_max: int


class SiteSummary(ApiModel):
    site: str
    ok: int
    queued: int
    in_progress: int
    failed: int
    paused: int = Field(description="Representations paused on the site (not yet OK).")
    bytes_queued: int = Field(description="Bytes still to move for files queued or moving "
                                          "(not paused): size minus bytes already there.")


class ProjectSummary(ApiModel):
    name: str
    enabled: bool = Field(description="SiteSync is enabled in the project's settings.")
    paused: bool = Field(description="The project is paused.")
    sites: list[SiteSummary]


class FailureGroup(ApiModel):
    message: str = Field(description="The failure message ('' for files failed without one).")
    site: str
    files: int
    representations: int
    last_update: float


class RetryFailures(ApiRequest):
    message: ErrorText = Field(description="A failure group's message, as listed.")
    site: SiteName


class RetryResult(ApiModel):
    requeued: int


class HeartbeatIn(ApiRequest):
    service_id: WorkerId
    site: SiteName
    host: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
    pid: int = Field(ge=0, le=2**62)
    projects: list[ProjectName] = Field(max_length=1000)
    files_in_flight: int = Field(ge=0, le=2**31 - 1)
    bytes_per_second: float = Field(ge=0, le=1e15, allow_inf_nan=False)


class ServiceInfo(ApiModel):
    service_id: str
    site: str
    host: str
    version: str
    pid: int
    projects: list[str]
    files_in_flight: int
    bytes_per_second: float
    started_at: float
    last_seen: float
    stale: bool = Field(description="No heartbeat for 30 seconds.")


class CommandIn(ApiRequest):
    action: Literal["validate", "clear", "remove"] = Field(description=(
        "validate: record the files present on the site as OK; clear: delete the site's "
        "copies of every file of the project and remove the site from every representation; "
        "remove: the same for representationIds only."))
    reset_missing: bool = Field(False, description="validate: queue again files recorded OK "
                                                   "but missing on the site.")
    representation_ids: list[UUID] = Field(default_factory=list, max_length=1000)


class CommandClaim(ApiRequest):
    service_id: WorkerId


class CommandFinish(ApiRequest):
    service_id: WorkerId
    ok: bool
    result: dict[Annotated[str, StringConstraints(max_length=64)],
                 Annotated[int, Field(ge=0)]] = Field(default_factory=dict, max_length=20)
    message: ErrorText | None = None


class CommandInfo(ApiModel):
    id: UUID
    project: str
    site: str
    action: str
    reset_missing: bool
    representation_ids: list[str]
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    requested_at: float
    service_id: str | None
    started_at: float | None
    finished_at: float | None
    result: dict[str, int] | None
    message: str | None
