"""Jinja2 for the dashboard: autoescaped templates, display filters, pages and their JSON twin."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response

from server_addon.auth import Principal
from sitesync_addon.status import SiteSyncStatus
from sitesync_addon.version import __version__

TEMPLATES = Path(__file__).parent / "templates"
STATUS_NAMES = {int(s): s.name.replace("_", " ").lower() for s in SiteSyncStatus}
STATUS_NAMES[int(SiteSyncStatus.NA)] = "not on site"
PAGE_LENGTHS_CHOICES = (25, 50, 100, 200, 500)
STATUS_CLASSES = {int(s): s.name.lower().replace("_", "-") for s in SiteSyncStatus}


def filesize(value: int | float | None) -> str:
    """Bytes as a short binary size: 0 B, 1000 B, 1.5 KiB, 12.0 MiB."""
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def rate(value: float | None) -> str:
    return f"{filesize(value)}/s" if value else ""


def when(timestamp: float | None) -> str:
    """A time as UTC text, to the second."""
    if not timestamp:
        return ""
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def percent(value: float | None) -> str:
    return f"{(value or 0) * 100:.0f}%"


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every name, path, message and filter is text, never markup
    undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
environment.filters.update(filesize=filesize, rate=rate, when=when, percent=percent,
                           status_name=lambda s: STATUS_NAMES.get(s, str(s)),
                           status_class=lambda s: STATUS_CLASSES.get(s, "na"))
environment.globals.update(version=__version__, STATUS_NAMES=STATUS_NAMES,
                           STATUS_CLASSES=STATUS_CLASSES, Status=SiteSyncStatus)


def nav_items(principal: Principal | None) -> list[tuple[str, str]]:
    """(path, label) of the pages this key may open; admin pages only for admins."""
    if principal is None:
        return []
    items = [("/", "Projects"), ("/sites", "Sites and services")]
    if principal.is_admin:
        items += [("/settings", "Settings"), ("/keys", "API keys")]
    return items


def render(request: Request, template: str, *, title: str, data: Any,
           principal: Principal | None = None, csrf: str | None = None,
           status_code: int = 200, **context: Any) -> Response:
    """The page, or with ``?format=json`` its JSON twin: the data the page renders."""
    encoded = jsonable_encoder(data)
    if request.query_params.get("format") == "json":
        return JSONResponse(encoded, status_code=status_code)
    from server_addon.sitesync.config import ADDON_NAME
    addon = request.app.state.addons.get(ADDON_NAME)
    html = environment.get_template(template).render(
        request=request, title=title, data=encoded, principal=principal, csrf=csrf,
        nav=nav_items(principal), path=request.url.path,
        api_prefix=addon.prefix() if addon else "",
        events_after=getattr(request.state, "events_after", ""), **context)
    return HTMLResponse(html, status_code=status_code,
                        headers={"Cache-Control": "no-store",
                                 "Content-Security-Policy": CSP,
                                 "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "same-origin"})


# Scripts and styles come from this server only, never inline: an injected tag cannot run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
