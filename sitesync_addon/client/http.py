"""The one HTTP connection to the SiteSync server: auth, timeouts, errors, safe retries."""
from __future__ import annotations

import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sitesync_addon.errors import ServerError, ServerNotFound, ServerUnreachable

SERVER_URL_ENV = "SITESYNC_SERVER_URL"
API_KEY_ENV = "SITESYNC_API_KEY"
DEFAULT_SERVER_URL = "http://127.0.0.1:5000"
_UNAVAILABLE = (502, 503, 504)


class Http:
    """Requests to the server; every failure becomes a ``ServerError`` naming the call.

    Only idempotent methods are retried after the request was sent (urllib3's default set:
    GET, PUT, DELETE...). A connection that could not be made is retried for every method,
    since nothing reached the server. POSTs are never repeated behind the caller's back.
    """

    def __init__(self, url: str | None = None, api_key: str | None = None,
                 timeout: float = 30.0) -> None:
        self.url = (url or os.environ.get(SERVER_URL_ENV) or DEFAULT_SERVER_URL).rstrip("/")
        self.api_key = api_key or os.environ.get(API_KEY_ENV)
        self.timeout = timeout
        self.session = requests.Session()
        retry = Retry(total=2, connect=2, read=1, status=2, backoff_factor=0.2,
                      status_forcelist=_UNAVAILABLE, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=32)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if self.api_key:
            self.session.headers["Authorization"] = f"Bearer {self.api_key}"

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None,
                timeout: float | None = None) -> Any:
        call = f"{method} {path}"
        try:
            response = self.session.request(method, f"{self.url}/{path.lstrip('/')}",
                                            params=params, json=json,
                                            timeout=timeout or self.timeout)
        except requests.ConnectionError:
            raise ServerUnreachable(
                f"{call}: cannot reach the SiteSync server at {self.url}; start it with "
                f"`sitesync server` or set {SERVER_URL_ENV}") from None
        except requests.Timeout:
            raise ServerUnreachable(
                f"{call}: the server at {self.url} did not answer in time") from None
        except requests.RequestException as exc:
            raise ServerUnreachable(f"{call}: {exc}") from None
        if response.status_code >= 400:
            raise _error_for(call, response)
        if response.status_code == 204:
            return None
        if not response.content:
            if response.headers.get("content-length") == "0":
                return None
            # The connection closed before the body: an answer lost on the way, not "nothing".
            raise ServerUnreachable(f"{call}: the answer from {self.url} was cut off before "
                                    "its body")
        try:
            return response.json()
        except ValueError:  # a proxy's HTML page, a cut answer
            raise ServerUnreachable(f"{call}: the answer from {self.url} is not JSON "
                                    f"({response.headers.get('content-type', 'no type')}); "
                                    "is SITESYNC_SERVER_URL the SiteSync server?") from None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()


def _error_for(call: str, response: requests.Response) -> ServerError:
    try:
        detail = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        detail = response.text or response.reason
    if isinstance(detail, list):  # a validation error list
        detail = "; ".join(f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}"
                           for d in detail)
    status = response.status_code
    if status == 401:
        detail = f"{detail} (set {API_KEY_ENV} to a valid key)"
    message = f"{call} failed ({status}): {detail}"
    if status in _UNAVAILABLE:
        return ServerUnreachable(message, status)
    return (ServerNotFound if status == 404 else ServerError)(message, status)
