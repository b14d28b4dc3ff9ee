"""The platform names roots are keyed by."""
import sys


def current_platform() -> str:
    """``windows``, ``darwin`` or ``linux``."""
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"
