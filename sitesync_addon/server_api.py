"""The one HTTP client of the SiteSync server: a requests session with auth and retries."""
from __future__ import annotations

import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

SERVER_URL_ENV = "SITESYNC_SERVER_URL"
API_KEY_ENV = "SITESYNC_API_KEY"
DEFAULT_SERVER_URL = "http://127.0.0.1:5000"


class ServerError(RuntimeError):
    """The server refused a call or could not be reached; the message says what to do."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class NotFoundError(ServerError):
    """The server does not know the project, representation, site or file named."""


class ServerApi:
    """Calls to the server; every failure becomes a ``ServerError`` naming the call."""

    def __init__(self, url: str | None = None, api_key: str | None = None,
                 timeout: float = 30.0) -> None:
        self.url = (url or os.environ.get(SERVER_URL_ENV) or DEFAULT_SERVER_URL).rstrip("/")
        self.api_key = api_key or os.environ.get(API_KEY_ENV)
        self.timeout = timeout
        self.session = requests.Session()
        retry = Retry(total=3, connect=3, backoff_factor=0.2, allowed_methods=None,
                      status_forcelist=(502, 503, 504))
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=32)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if self.api_key:
            self.session.headers["Authorization"] = f"Bearer {self.api_key}"

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None,
                timeout: float | None = None) -> Any:
        url = f"{self.url}/{path.lstrip('/')}"
        call = f"{method} {path}"
        try:
            response = self.session.request(method, url, params=params, json=json,
                                            timeout=timeout or self.timeout)
        except requests.ConnectionError:
            raise ServerError(f"{call}: cannot reach the SiteSync server at {self.url}; start "
                              f"it with `sitesync server` or set {SERVER_URL_ENV}.") from None
        except requests.Timeout:
            raise ServerError(f"{call}: the server at {self.url} did not answer in time.") \
                from None
        if response.status_code >= 400:
            raise _error_for(call, response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


def _error_for(call: str, response: requests.Response) -> ServerError:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text or response.reason
    if isinstance(detail, list):  # a validation error list
        detail = "; ".join(f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}"
                           for d in detail)
    status = response.status_code
    if status == 401:
        detail = f"{detail} (set {API_KEY_ENV} to a valid key)"
    error_type = NotFoundError if status == 404 else ServerError
    return error_type(f"{call} failed ({status}): {detail}", status)
