"""The platform names roots are keyed by."""
import sys
from typing import Literal


def current_platform() -> Literal["windows", "linux", "darwin"]:
    """``windows``, ``darwin`` or ``linux``."""
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"
