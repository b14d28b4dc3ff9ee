"""One exception tree for SiteSync.

Everything SiteSync raises on purpose is a ``SiteSyncError``; the message is one line that
names the thing and says what to do. Providers translate their SDK's exceptions into this tree
at the boundary, so the engine can decide what happens next by class alone::

    SiteSyncError
    ├── ConfigError (ValueError)          settings or input that cannot be used
    │   └── ProviderNotInstalled          a site's provider (or its extra) is not installed
    ├── SiteAlreadyPresentError (ValueError)
    ├── ServerError                       the SiteSync server refused a call
    │   ├── ServerNotFound                ... it does not know what was named (404)
    │   └── ServerUnreachable             ... it could not be reached or did not answer
    ├── PublishFailed                     a publish plugin failed
    ├── TransferCancelled                 the service stops, or the file was paused / leased away
    ├── ResumableError                    skip it now, try again later; no retry is counted
    │   ├── Transient                     network, 5xx, throttling: back off the site
    │   └── SiteUnavailable               the whole site cannot be used now: hold it, probe it
    │       └── AuthFailed                the site refused the credentials
    └── ProviderError                     a storage operation failed for this file: a retry
        ├── NotFound (FileNotFoundError)
        ├── PermissionDenied (PermissionError)
        ├── NoSpace
        │   └── DiskFull (SiteUnavailable)  a disk this machine mounts is full: hold the site
        ├── PathEscapesRoot (ValueError)
        └── VerificationFailed            the bytes written have another size or hash

``Transient``, ``SiteUnavailable`` and ``AuthFailed`` are ``ProviderError`` too, so a provider
may catch its own errors by that one base.
"""
from __future__ import annotations


class SiteSyncError(Exception):
    """Base of every SiteSync error."""


class ConfigError(SiteSyncError, ValueError):
    """Settings or arguments are wrong: they name something that is not configured, or
    input that cannot be used."""


class ProviderNotInstalled(ConfigError):
    """A site uses a provider whose package (or extra) is not installed."""


class SiteAlreadyPresentError(SiteSyncError, ValueError):
    """The representation has state on that site already (pass ``force=True`` to reset it)."""


class ServerError(SiteSyncError):
    """The server refused a call or could not be reached; the message says what to do."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ServerNotFound(ServerError):
    """The server does not know the project, representation, site or file named."""


class PublishFailed(SiteSyncError):
    """A publish plugin failed; the message names it."""


class TransferCancelled(SiteSyncError):
    """The transfer stopped: the service stops, or the file was paused or leased away."""


class ResumableError(SiteSyncError):
    """Skip this now and try again later; it costs the file no retry."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds the far side asked to wait, when it said


class ServerUnreachable(ServerError, ResumableError):
    """The server could not be reached or did not answer in time."""


class ProviderError(SiteSyncError):
    """A storage operation failed for one file; the engine counts a retry."""


class Transient(ProviderError, ResumableError):
    """A failure that may pass: a timeout, a dropped connection, a 5xx, a rate limit."""


class SiteUnavailable(ProviderError, ResumableError):
    """The whole site cannot be used now (unreachable, offline); the engine holds it."""


class AuthFailed(SiteUnavailable):
    """The site refused the credentials."""


class NotFound(ProviderError, FileNotFoundError):
    """The file or folder does not exist on the site."""


class PermissionDenied(ProviderError, PermissionError):
    """The site does not let this key or user read or write the path."""


class NoSpace(ProviderError):
    """The site has no room (disk full, quota reached)."""


class DiskFull(NoSpace, SiteUnavailable):
    """A disk this machine mounts has no room: a condition of the site, not of the file, so
    the engine holds the site (no retry counted) and probes it until space frees."""


class PathEscapesRoot(ProviderError, ValueError):
    """A path would leave its site root (``..``, an absolute path, a symlink pointing out)."""


class VerificationFailed(ProviderError):
    """The bytes written do not have the expected size or hash."""


# Names of 0.1, kept so provider packages written against them still import.
FileNotFoundOnSite = NotFound
AuthenticationFailed = AuthFailed
TransientProviderError = Transient
