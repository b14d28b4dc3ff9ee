"""A journal of temporary files in flight, so a restart after kill -9 removes leftovers.

Before a transfer creates its temporary file it writes a marker naming it; the marker goes
once the file is renamed or deleted. Whatever markers remain at start belong to transfers
that died, and their temporary files are deleted.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

TEMP_SUFFIX = ".sitesync-part"


def temp_name(final_path: str) -> str:
    """A hidden temporary name beside the final one, unique per transfer."""
    folder, _, name = final_path.rpartition("/")
    temp = f".{name}.{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}"
    return f"{folder}/{temp}" if folder else temp


class TempJournal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def add(self, site: str, path: str) -> Path:
        marker = self.folder / f"{uuid.uuid4().hex}.json"
        partial = marker.with_suffix(".tmp")
        partial.write_text(json.dumps({"site": site, "path": path}))
        os.replace(partial, marker)  # a marker is whole or absent
        return marker

    def remove(self, marker: Path) -> None:
        marker.unlink(missing_ok=True)

    def clean(self, delete: Callable[[str, str], None]) -> int:
        """Delete every journalled temporary file with ``delete(site, path)``; count them."""
        count = 0
        for leftover in self.folder.glob("*.tmp"):
            leftover.unlink(missing_ok=True)
        for marker in sorted(self.folder.glob("*.json")):
            entry = json.loads(marker.read_text())
            delete(entry["site"], entry["path"])
            marker.unlink(missing_ok=True)
            count += 1
        return count
