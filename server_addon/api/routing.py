"""API routes that run a request again when PostgreSQL rolled its transaction back to break a
deadlock (or a serialization failure). Two writers that lock rows of the same tables in
another order can meet so under load; the victim's transaction is undone whole, so running
the request again is safe, and PostgreSQL's advice is to do exactly that."""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
ATTEMPTS = 4
RETRYABLE = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def is_retryable(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) in RETRYABLE


class TransactionRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def run(request: Request) -> Response:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    return await handle(request)  # the body is read once and kept
                except OperationalError as exc:
                    if attempt == ATTEMPTS or not is_retryable(exc):
                        raise
                    log.info("%s %s: %s; running it again", request.method,
                             request.url.path, exc.orig)
                    await asyncio.sleep(random.uniform(0, 0.02 * 2 ** attempt))
            raise AssertionError("unreachable")

        return run
