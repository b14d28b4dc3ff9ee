"""Sign in with an API key (the browser keeps a signed session cookie), and sign out."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from server_addon import auth
from server_addon.api.deps import DbDep
from server_addon.web.routing import PageRoute
from server_addon.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MAX_FORM_BYTES = 16_384


def safe_next(target: str | None) -> str:
    """Only a path on this server: never another site (``//host``, ``https://...``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def same_origin(request: Request) -> bool:
    """A form post from a page of this server (browsers send Origin with every POST)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.url.netloc


async def form_fields(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


def _signin_form(request: Request, next_path: str, error: str | None = None,
                 status_code: int = 200) -> Response:
    return render(request, "signin.html", title="Sign in",
                  data={"next": next_path, "error": error}, status_code=status_code)


@router.get("/signin")
def signin_page(request: Request) -> Response:
    return _signin_form(request, safe_next(request.query_params.get("next")))


@router.post("/signin")
async def signin(request: Request, db: DbDep) -> Response:
    fields = await form_fields(request)
    next_path = safe_next(fields.get("next"))
    if not same_origin(request):
        return _signin_form(request, next_path, "Sign in from this server's own page.", 403)
    key = fields.get("key", "").strip()
    principal = None
    if key:
        with db.read() as conn:
            principal = auth.find_principal(conn, key)
    if principal is None:
        return _signin_form(request, next_path,
                            "That API key is unknown or revoked. Paste the whole key, "
                            "e.g. ssk_…; an admin creates keys with `sitesync keys create`.",
                            401)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(auth.SESSION_COOKIE,
                        auth.issue_session(request.app.state.session_secret,
                                           principal.key_id),
                        max_age=auth.SESSION_MAX_AGE, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    fields = await form_fields(request)
    cookie = request.cookies.get(auth.SESSION_COOKIE)
    if cookie and not auth.csrf_matches(request.app.state.session_secret, cookie,
                                        fields.get("csrf")):
        from server_addon.web.routing import error_page

        return error_page(request, 403, "Sign out from this server's own page.")
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
