"""One exception tree for SiteSync; providers translate their SDKs' errors into it."""
from __future__ import annotations


class SiteSyncError(Exception):
    """Base of every SiteSync error."""


class SiteAlreadyPresentError(SiteSyncError, ValueError):
    """The representation has state on that site already (pass ``force=True`` to reset it)."""


class ResumableError(SiteSyncError):
    """Skip this now and try again on the next loop (e.g. a site that is offline for a while)."""


class ProviderError(SiteSyncError):
    """A storage operation failed."""


class FileNotFoundOnSite(ProviderError, FileNotFoundError):
    """The file or folder does not exist on the site."""


class AuthenticationFailed(ProviderError):
    """The site refused the credentials."""


class TransientProviderError(ProviderError):
    """A failure that may pass: a timeout, a dropped connection, a rate limit."""


class PathEscapesRoot(ProviderError, ValueError):
    """A path would leave its site root (``..``, an absolute path, a symlink pointing out)."""


class VerificationFailed(SiteSyncError):
    """The bytes written do not have the expected size or hash."""


class TransferCancelled(SiteSyncError):
    """The transfer stopped because the service stops or the file was paused."""
