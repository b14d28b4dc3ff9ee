"""How SiteSync's server is served by uvicorn."""
from __future__ import annotations

import socket

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


def bind_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, for ``uvicorn_server(...).run(sockets=[...])``.

    Binding before the app is built makes a port in use fail before anything else happens;
    the OSError says why (``errno.EADDRINUSE``, ``errno.EACCES``, ...).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn picks it
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock
