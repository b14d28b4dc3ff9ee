"""Page routes answer in HTML: a sign-in redirect, or an error page, never a stack trace."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError

from server_addon import auth
from server_addon.errors import ApiError
from server_addon.web.session import SignInRequired

log = logging.getLogger(__name__)
TITLES = {400: "Bad request", 401: "Sign-in needed", 403: "Not allowed", 404: "Not found",
          409: "Conflict", 422: "Invalid input", 500: "Server error",
          503: "Service unavailable"}


def error_page(request: Request, status_code: int, message: str) -> Response:
    from server_addon.web.session import page_session
    from server_addon.web.templating import render

    session = None
    with contextlib.suppress(SignInRequired, ApiError, OperationalError):
        session = page_session(request, request.app.state.db)
    return render(request, "error.html", title=TITLES.get(status_code, "Error"),
                  data={"status": status_code, "detail": message},
                  principal=session.principal if session else None,
                  csrf=session.csrf if session else None, status_code=status_code)


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    if request.cookies.get(auth.SESSION_COOKIE):  # an ended session: forget it
        response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired:
                if request.query_params.get("format") == "json":
                    return error_page(request, 401, "Sign in, or send an API key.")
                return sign_in_redirect(request)
            except ApiError as exc:
                return error_page(request, exc.status_code, exc.detail)
            except RequestValidationError:
                return error_page(request, 400, "The address has a parameter that is not "
                                                "valid here.")
            except OperationalError as exc:
                log.error("database unavailable: %s", exc.orig)
                return error_page(request, 503, "The database is unavailable; try again "
                                                "shortly.")
            except Exception:
                log.exception("unexpected error on page %s", request.url.path)
                return error_page(request, 500, "Unexpected server error; the server log has "
                                                "details.")

        return page
