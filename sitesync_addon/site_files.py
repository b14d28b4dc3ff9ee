"""Whole-site work on a project's files: validate what a site holds, delete its copies.

Used by the contract (``validate_project``, ``clear_project``, ``remove_site`` with its files)
and by a sync service carrying out the commands people ask for on the dashboard. A site's
state is changed only after its files are: a file that cannot be deleted keeps its state.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from sitesync_addon.client import ServerClient
from sitesync_addon.client.types import Representation
from sitesync_addon.errors import ServerNotFound
from sitesync_addon.paths import template_to_site_path
from sitesync_addon.providers.local_drive import prune_empty_folders
from sitesync_addon.sites import SiteResolver
from sitesync_addon.status import SiteSyncStatus

log = logging.getLogger(__name__)
STATE_BATCH = 500  # representations whose states are read in one request


def validate_site(client: ServerClient, sites: SiteResolver, project: str, site: str,
                  reset_missing: bool = False) -> dict[str, int]:
    """Record files present on the site (right size) as OK; with ``reset_missing`` queue
    again those recorded OK that are missing. ``{"added": n, "reset": m}``."""
    provider = sites.provider(project, site)
    representations = client.catalog.representations(project)
    counts = {"added": 0, "reset": 0}
    for start in range(0, len(representations), STATE_BATCH):
        batch = representations[start:start + STATE_BATCH]
        states = client.state.sites(project, [r["id"] for r in batch], [site])
        for rep in batch:
            site_state = states.get(rep["id"], {}).get(site)
            recorded = site_state["files"] if site_state else {}
            present_new, missing = [], []
            for item in rep["files"]:
                stat = provider.stat(template_to_site_path(item["path"]))
                held = recorded.get(item["id"])
                is_ok = held is not None and held["status"] == SiteSyncStatus.OK
                if stat is not None and stat.size == item["size"] and not is_ok:
                    present_new.append(item["id"])
                elif stat is None and is_ok:
                    missing.append(item["id"])
            changes = [{"id": f, "status": int(SiteSyncStatus.OK)} for f in present_new]
            if reset_missing:
                changes += [{"id": f, "status": int(SiteSyncStatus.QUEUED)} for f in missing]
                counts["reset"] += len(missing)
            counts["added"] += len(present_new)
            if changes:
                client.state.change(project, rep["id"], site, {"files": changes})
    log.info("validated site '%s' of %s: %d files added as OK, %d queued again", site,
             project, counts["added"], counts["reset"])
    return counts


def delete_files(sites: SiteResolver, project: str, site: str,
                 representations: Sequence[Representation]) -> int:
    """Delete the site's copies of these representations' files (and, on a local drive, the
    folders left empty); the number deleted."""
    provider = sites.provider(project, site)
    removed = 0
    for rep in representations:
        for item in rep["files"]:
            path = template_to_site_path(item["path"])
            if provider.stat(path) is not None:
                provider.delete(path)
                removed += 1
            if provider.features.local_path:
                prune_empty_folders(provider.real_path(path),
                                    Path(provider.roots[path.partition("/")[0]]))
    return removed


def remove_from_site(client: ServerClient, sites: SiteResolver, project: str, site: str,
                     representation_ids: Sequence[str]) -> dict[str, int]:
    """Delete these representations' files on the site, then forget the site's state of
    each. ``{"files": deleted, "representations": forgotten}``."""
    forgotten = deleted = 0
    for rep_id in representation_ids:
        try:
            rep = client.catalog.representation(project, rep_id)
        except ServerNotFound:  # deleted from the catalog meanwhile: nothing is left to do
            continue
        deleted += delete_files(sites, project, site, [rep])
        forgotten += _forget(client, project, rep_id, site)
    return {"files": deleted, "representations": forgotten}


def clear_site(client: ServerClient, sites: SiteResolver, project: str, site: str
               ) -> dict[str, int]:
    """Delete the site's copies of every file of the project, then remove the site from
    every representation. ``{"files": deleted, "representations": forgotten}``."""
    representations = client.catalog.representations(project)
    deleted = delete_files(sites, project, site, representations)
    forgotten = 0
    for start in range(0, len(representations), STATE_BATCH):
        ids = [r["id"] for r in representations[start:start + STATE_BATCH]]
        for rep_id, held in client.state.sites(project, ids, [site]).items():
            if site in held:
                forgotten += _forget(client, project, rep_id, site)
    log.info("cleared site '%s' of %s: %d files deleted, %d representations", site, project,
             deleted, forgotten)
    return {"files": deleted, "representations": forgotten}


def _forget(client: ServerClient, project: str, representation_id: str, site: str) -> int:
    try:
        client.state.remove(project, representation_id, site)
    except ServerNotFound:  # no state there: nothing to forget
        return 0
    return 1
