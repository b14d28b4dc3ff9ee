"""Publishing files: copy into the studio root, register the representation, stamp its sites."""
from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitesync_addon.engine.temp_files import TempJournal
from sitesync_addon.engine.transfer import TransferRequest, transfer
from sitesync_addon.providers.local_drive import LocalDriveProvider

if TYPE_CHECKING:
    from sitesync_addon.addon import SiteSyncAddon

PUBLISH_TEMPLATE = "{project}/{folder}/{product}/v{version:03d}/{filename}"
ROOT_NAME = "work"


def publish_path(project: str, folder: str, product: str, version: int, filename: str) -> str:
    """The path of a published file under the studio root (``work/...``)."""
    for label, value in (("folder", folder), ("product", product), ("file name", filename)):
        if ".." in re.split(r"[\\/]", value) or value.startswith(("/", "\\")):
            raise ValueError(f"{label} '{value}' must be relative and must not contain '..'")
    return f"{ROOT_NAME}/" + PUBLISH_TEMPLATE.format(
        project=project, folder=folder.strip("/"), product=product, version=version,
        filename=filename)


def publish_files(addon: SiteSyncAddon, project: str, *, folder: str, product: str,
                  version: int, representation: str, files: Sequence[Path],
                  task: str | None = None, links: Sequence[dict] = (),
                  product_type: str = "generic") -> dict[str, Any]:
    """Copy ``files`` into the project's root as this machine sees it, register them, and
    stamp the representation's sites.

    The root is the active site's: the studio root, or this machine's local root when its
    active site is ``local`` (root overrides), so the stamp that says "OK on the active
    site" is true. Files are copied to a temporary name and renamed once their bytes are
    verified, so a failing publish leaves no partial file and registers nothing.
    """
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        raise ValueError(f"cannot publish missing file(s): {', '.join(missing)}")
    active = addon.get_active_site(project)
    studio = addon.provider_for(project, active)
    if not isinstance(studio, LocalDriveProvider) or ROOT_NAME not in studio.roots:
        raise ValueError(f"publishing needs a '{ROOT_NAME}' root on a local drive of this "
                         f"machine; the active site '{active}' of project '{project}' has "
                         "none (set its root or local_roots)")
    api = addon.api
    folder_id = api.post(f"/api/projects/{project}/folders", json={"path": folder})["id"]
    product_id = api.post(f"/api/projects/{project}/products",
                          json={"folderId": folder_id, "name": product,
                                "productType": product_type})["id"]
    version_doc = api.post(f"/api/projects/{project}/versions", json={
        "productId": product_id, "version": version, "task": task, "links": list(links)})
    clash = api.get(f"/api/projects/{project}/representations",
                    params={"versionIds": version_doc["id"], "name": representation})
    if clash:
        raise ValueError(f"{folder}/{product} v{version:03d} has a '{representation}' "
                         "representation already; publish a new version")
    registered = []
    with tempfile.TemporaryDirectory() as state:
        journal = TempJournal(Path(state))
        for path in map(Path, files):
            source = LocalDriveProvider("publish-source", {}, {"src": str(path.parent)})
            target = publish_path(project, folder, product, version, path.name)
            size = path.stat().st_size
            content_hash = transfer(TransferRequest(source, studio, f"src/{path.name}", size,
                                                    None, target_path=target), journal)
            registered.append({"path": "{root[work]}/" + target.partition("/")[2],
                               "size": size, "hash": content_hash})
    rep = api.post(f"/api/projects/{project}/representations", json={
        "versionId": version_doc["id"], "name": representation, "files": registered})
    stamp_sites(addon, project, [rep["id"]])
    return rep


def stamp_sites(addon: SiteSyncAddon, project: str, representation_ids: Sequence[str]) -> None:
    """Stamp ``compute_resource_sync_sites`` on new representations in one call."""
    sites = addon.compute_resource_sync_sites(project)
    items = [{"representationId": rep_id, "siteName": site["name"],
              "status": int(site["status"]), "reset": True}
             for rep_id in representation_ids for site in sites]
    addon.api.post(f"/api/{addon.endpoint_prefix}/{project}/state/bulk", json={"items": items})
