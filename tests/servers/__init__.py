"""Live servers on 127.0.0.1 that provider tests start and stop themselves."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def session_server(request: pytest.FixtureRequest, key: pytest.StashKey[T], name: str,
                   start: Callable[[Path], T], stop: Callable[[T], None]) -> T:
    """The session's server under ``key``: started in a fresh folder named after ``name`` on
    first use, stopped when the session ends."""
    config = request.config
    if key not in config.stash:
        server = start(request.getfixturevalue("tmp_path_factory").mktemp(name))
        config.stash[key] = server
        config.add_cleanup(lambda: stop(server))
    return config.stash[key]
