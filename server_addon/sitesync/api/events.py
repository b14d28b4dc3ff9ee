"""Events for sync services: a long poll and a server-sent event stream."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from server_addon.api.deps import DbDep, PrincipalDep
from server_addon.errors import forbidden
from server_addon.sitesync import events
from server_addon.sitesync.schemas import EventBatch

router = APIRouter(tags=["sitesync events"])

After = Annotated[int | None, Query(ge=0, le=2**62, description="Last id seen; empty: now.")]
ProjectName = Annotated[str | None, Query(max_length=255)]
HEARTBEAT_SECONDS = 15.0


def _check(principal, project: str | None) -> None:
    if project is not None and not principal.may_use_project(project):
        raise forbidden(f"This key may not use project '{project}'.")


@router.get("/events", response_model=EventBatch)
async def poll_events(principal: PrincipalDep, db: DbDep, after: After = None,
                      project: ProjectName = None,
                      timeout: Annotated[float, Query(ge=0, le=60)] = 25) -> dict:
    """Events after ``after``, waiting up to ``timeout`` seconds for the first one."""
    _check(principal, project)
    last, found = await events.wait_for_events(db, after=after, project=project,
                                               timeout=timeout)
    return {"last_id": last, "events": found}


@router.get("/events/stream", response_class=StreamingResponse)
async def stream_events(request: Request, principal: PrincipalDep, db: DbDep,
                        after: After = None, project: ProjectName = None) -> StreamingResponse:
    """The same events as server-sent events (``id`` is the event id)."""
    _check(principal, project)

    async def produce() -> AsyncIterator[str]:
        cursor = after
        while not await request.is_disconnected():
            cursor, found = await events.wait_for_events(db, after=cursor, project=project,
                                                         timeout=HEARTBEAT_SECONDS)
            if not found:
                yield ": keep-alive\n\n"
            for event in found:
                yield f"id: {event['id']}\nevent: {event['kind']}\ndata: {json.dumps(event)}\n\n"

    return StreamingResponse(produce(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})
