"""Who is looking at a page: the dashboard session (or an API key, for the JSON twins)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from server_addon import auth
from server_addon.api.deps import DbDep, session_principal
from server_addon.errors import forbidden
from server_addon.sitesync import events


class SignInRequired(Exception):
    """No valid session: the page sends the browser to the sign-in form."""


@dataclass(frozen=True)
class PageSession:
    principal: auth.Principal
    csrf: str | None  # None when the page was asked for with an API key instead


def page_session(request: Request, db: DbDep) -> PageSession:
    """Who asks; also notes the newest event id before the page reads its data, so the
    page's live updates start from there and miss nothing that happens meanwhile."""
    with db.read() as conn:
        request.state.events_after = events.last_id(conn)
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else \
        request.headers.get("x-api-key")
    if key:
        with db.read() as conn:
            principal = auth.find_principal(conn, key)
        if principal is None:
            raise SignInRequired
        return PageSession(principal, None)
    cookie = request.cookies.get(auth.SESSION_COOKIE)
    if cookie:
        principal = session_principal(request, db, cookie)
        if principal is not None:
            return PageSession(principal, auth.csrf_token(request.app.state.session_secret,
                                                          cookie))
    raise SignInRequired


PageDep = Annotated[PageSession, Depends(page_session)]


def admin_page(session: PageDep) -> PageSession:
    if not session.principal.is_admin:
        raise forbidden("This page is for admin keys only.")
    return session


AdminPageDep = Annotated[PageSession, Depends(admin_page)]
