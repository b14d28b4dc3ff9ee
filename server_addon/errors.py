"""One error type for the API, and handlers that turn every failure into a clear JSON body."""
from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a client caused or can act on; ``detail`` says what and what to do."""

    def __init__(self, status_code: int, detail: str,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.errors = errors  # per field: {"loc": [...], "msg": "..."}, for forms to show


def not_found(kind: str, name: object, hint: str = "") -> ApiError:
    return ApiError(404, f"{kind} {name!s} not found." + (f" {hint}" if hint else ""))


def bad_request(detail: str) -> ApiError:
    return ApiError(400, detail)


def forbidden(detail: str) -> ApiError:
    return ApiError(403, detail)


def conflict(detail: str) -> ApiError:
    return ApiError(409, detail)


class ErrorResponse(JSONResponse):
    """An error body that always encodes: the client text it quotes may hold lone surrogates
    (a JSON body can spell them as escapes), which UTF-8 cannot carry."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        body: dict[str, Any] = {"detail": exc.detail}
        if exc.errors:
            body["errors"] = exc.errors
        return ErrorResponse(body, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's answer without the echoed input, which can be large, NaN or not Unicode;
        # "loc" and "msg" name the problem.
        errors = [{key: value for key, value in error.items() if key != "input"}
                  for error in exc.errors()]
        return ErrorResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value (NUL byte, out-of-range number) the schema let through.
        return JSONResponse({"detail": f"A value was refused by the database: {exc.orig}"},
                            status_code=400)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", exc.orig)
        return JSONResponse({"detail": "The change conflicts with existing data."},
                            status_code=409)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "Unexpected server error; the server log has details."},
                            status_code=500)

    @app.exception_handler(OperationalError)
    async def _operational_error(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc.orig)
        return JSONResponse({"detail": "The database is unavailable; try again shortly."},
                            status_code=503)
