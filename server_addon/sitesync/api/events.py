"""Events for sync services and the dashboard: a long poll and a server-sent event stream."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from server_addon.api.deps import DbDep, PrincipalDep
from server_addon.api.schemas import NO_NUL
from server_addon.errors import bad_request, forbidden
from server_addon.sitesync import events
from server_addon.sitesync.schemas import EventBatch
from server_addon.api.routing import TransactionRoute

router = APIRouter(tags=["sitesync events"], route_class=TransactionRoute)

After = Annotated[int | None, Query(ge=0, le=2**62, description="Last id seen; empty: now.")]
ProjectName = Annotated[str | None, Query(max_length=255)]
Kinds = Annotated[str | None, Query(
    max_length=1000, pattern=NO_NUL,
    description=f"Only these kinds, a comma list of {', '.join(events.KINDS)}.")]
HEARTBEAT_SECONDS = 15.0


def _check(principal, project: str | None, kinds: str | None) -> tuple[str, ...] | None:
    """The kinds asked for; refuses a project the key may not use."""
    if project is not None and not principal.may_use_project(project):
        raise forbidden(f"This key may not use project '{project}'.")
    try:
        return events.parse_kinds(kinds)
    except ValueError as exc:
        raise bad_request(str(exc)) from None


@router.get("/events", response_model=EventBatch)
async def poll_events(principal: PrincipalDep, db: DbDep, after: After = None,
                      project: ProjectName = None, kinds: Kinds = None,
                      timeout: Annotated[float, Query(ge=0, le=60)] = 25) -> dict:
    """Events after ``after``, waiting up to ``timeout`` seconds for the first one.

    Without ``project``: the events of every project the key may use, and studio-wide ones.
    """
    wanted = _check(principal, project, kinds)
    last, found = await events.wait_for_events(db, after=after, project=project,
                                               timeout=timeout, allowed=principal.projects,
                                               kinds=wanted)
    return {"last_id": last, "events": found}


@router.get("/events/stream", response_class=StreamingResponse)
async def stream_events(request: Request, principal: PrincipalDep, db: DbDep,
                        after: After = None, project: ProjectName = None,
                        kinds: Kinds = None) -> StreamingResponse:
    """The same events as server-sent events (``id`` is the event id). A reconnecting
    browser's ``Last-Event-ID`` goes on from the last event it had."""
    wanted = _check(principal, project, kinds)
    resumed = request.headers.get("last-event-id", "")
    if resumed.isdigit() and int(resumed) < 2**62:
        after = int(resumed)

    async def produce() -> AsyncIterator[str]:
        cursor = after
        while not await request.is_disconnected():
            cursor, found = await events.wait_for_events(
                db, after=cursor, project=project, timeout=HEARTBEAT_SECONDS,
                allowed=principal.projects, kinds=wanted)
            if not found:
                yield ": keep-alive\n\n"
            for event in found:
                yield f"id: {event['id']}\nevent: {event['kind']}\ndata: {json.dumps(event)}\n\n"

    return StreamingResponse(produce(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})
