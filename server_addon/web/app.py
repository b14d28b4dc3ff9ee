"""Mount the dashboard on the server app: its pages, static files and HTML error pages."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Serve the dashboard at ``/`` (``app.state.session_secret`` signs its sessions)."""
    from server_addon.web import pages, signin

    app.include_router(signin.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def _favicon() -> Response:  # browsers ask for it on pages without a link, e.g. JSON
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown addresses outside the API get a page; the API keeps its JSON answers.
        path = request.url.path
        if not path.startswith(("/api/", "/static/", "/docs", "/openapi")) and \
                "text/html" in request.headers.get("accept", ""):
            from server_addon.web.routing import error_page

            return error_page(request, exc.status_code,
                              "There is no page at this address." if exc.status_code == 404
                              else str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
