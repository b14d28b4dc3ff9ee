"""How SiteSync's server is served by uvicorn."""
from __future__ import annotations

import uvicorn
from fastapi import FastAPI

# Listings name up to 1,000 ids in a query string (~40 KB); h11's default limit is 16 KB.
MAX_REQUEST_HEAD_BYTES = 1024 * 1024


def uvicorn_server(app: FastAPI, host: str, port: int, log_level: str = "warning",
                   graceful_shutdown: float = 5.0) -> uvicorn.Server:
    """``graceful_shutdown``: seconds requests in flight get to finish when the server stops;
    sync services hold long polls open, which would otherwise delay every stop."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level,
                            h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
                            timeout_graceful_shutdown=graceful_shutdown)
    return uvicorn.Server(config)
