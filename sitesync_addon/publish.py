"""Publishing files: copy them into the project's root on this machine, register them as
representations, stamp their sites.

One code path each: ``integrate`` copies with verified transfers and registers (SiteSync's
pyblish integrator and ``publish_files`` use it), ``stamp_sites`` stamps (IntegrateSiteSync
and ``publish_files`` use it). ``run_publish`` runs instances through the pyblish plugins.

Hero versions: version number ``HERO_VERSION`` (0) of a product is its hero version, laid out
as ``hero`` where other versions have ``v001``. Publishing a representation into it again
replaces that representation's files in place (same id, new files); any other version refuses
a representation name it has already.
"""
from __future__ import annotations

import contextlib
import io
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyblish.api
import pyblish.util

from sitesync_addon.engine.temp_files import TempJournal
from sitesync_addon.engine.transfer import TransferRequest, transfer
from sitesync_addon.providers.local_drive import LocalDriveProvider
from sitesync_addon.status import SiteSyncStatus

if TYPE_CHECKING:
    from sitesync_addon.addon import SiteSyncAddon

PUBLISH_TEMPLATE = "{project}/{folder}/{product}/{version_dir}/{filename}"
ROOT_NAME = "work"
HERO_VERSION = 0
HERO_DIR = "hero"
# pyblish context and instance keys the SiteSync plugins share
ADDON_KEY = "sitesync_addon"
SETTINGS_KEY = "sitesync"
PUBLISHED_KEY = "published_representations"


@dataclass(frozen=True)
class Target:
    """The version a publish goes into."""

    folder: str
    product: str
    version: int
    product_type: str = "generic"
    task: str | None = None
    links: Sequence[dict] = ()

    @property
    def hero(self) -> bool:
        return self.version == HERO_VERSION


def version_dir(version: int) -> str:
    """``v003`` for version 3, ``hero`` for the hero version."""
    if version == HERO_VERSION:
        return HERO_DIR
    if version < 1:
        raise ValueError(f"version {version} must be 1 or more ({HERO_VERSION} is the hero "
                         "version)")
    return f"v{version:03d}"


def publish_path(project: str, folder: str, product: str, version: int, filename: str) -> str:
    """The path of a published file under the project's root (``work/...``)."""
    for label, value in (("folder", folder), ("product", product), ("file name", filename)):
        if ".." in re.split(r"[\\/]", value) or value.startswith(("/", "\\")):
            raise ValueError(f"{label} '{value}' must be relative and must not contain '..'")
    return f"{ROOT_NAME}/" + PUBLISH_TEMPLATE.format(
        project=project, folder=folder.strip("/"), product=product,
        version_dir=version_dir(version), filename=filename)


def _check_representations(representations: Sequence[tuple[str, Sequence[Path]]]) -> None:
    """Refuse bad input before anything is copied or registered."""
    if not representations:
        raise ValueError("nothing to publish: give at least one representation")
    names = [name for name, _ in representations]
    if len(set(names)) != len(names) or not all(names):
        raise ValueError(f"representation names must be unique and not empty: {names}")
    paths = [Path(f) for _, files in representations for f in files]
    empty = [name for name, files in representations if not files]
    if empty:
        raise ValueError(f"representation(s) {', '.join(empty)} have no files")
    missing = [str(f) for f in paths if not f.is_file()]
    if missing:
        raise ValueError(f"cannot publish missing file(s): {', '.join(missing)}")
    file_names = [f.name for f in paths]
    clashing = sorted({n for n in file_names if file_names.count(n) > 1})
    if clashing:  # they would land on one path in the version's folder
        raise ValueError(f"file names must be unique within a publish: {', '.join(clashing)}")


def _publish_root(addon: SiteSyncAddon, project: str) -> LocalDriveProvider:
    """The active site's drive: the stamp "OK on the active site" must be true."""
    active = addon.get_active_site(project)
    root = addon.provider_for(project, active)
    if not isinstance(root, LocalDriveProvider) or ROOT_NAME not in root.roots:
        raise ValueError(f"publishing needs a '{ROOT_NAME}' root on a local drive of this "
                         f"machine; the active site '{active}' of project '{project}' has "
                         "none (set its root or local_roots)")
    return root


def _register_version(addon: SiteSyncAddon, project: str, target: Target) -> dict:
    api = addon.api
    folder_id = api.post(f"/api/projects/{project}/folders", json={"path": target.folder})["id"]
    product_id = api.post(f"/api/projects/{project}/products", json={
        "folderId": folder_id, "name": target.product, "productType": target.product_type})["id"]
    return api.post(f"/api/projects/{project}/versions", json={
        "productId": product_id, "version": target.version, "task": target.task,
        "links": list(target.links)})


def _copy_files(root: LocalDriveProvider, project: str, target: Target,
                files: Sequence[Path]) -> list[dict]:
    """Copy to a temporary name, rename once size and hash are verified; the file records."""
    registered = []
    with tempfile.TemporaryDirectory() as state:
        journal = TempJournal(Path(state))
        for path in map(Path, files):
            source = LocalDriveProvider("publish-source", {}, {"src": str(path.parent)})
            final = publish_path(project, target.folder, target.product, target.version,
                                 path.name)
            size = path.stat().st_size
            content_hash = transfer(TransferRequest(source, root, f"src/{path.name}", size,
                                                    None, target_path=final), journal)
            registered.append({"path": "{root[work]}/" + final.partition("/")[2],
                               "size": size, "hash": content_hash})
    return registered


def _remove_replaced(root: LocalDriveProvider, old: dict, new: dict) -> None:
    """Delete the files a hero republish no longer has (the same names were overwritten)."""
    kept = {f["path"] for f in new["files"]}
    for file in old["files"]:
        if file["path"] not in kept:
            root.delete(f"{ROOT_NAME}/" + file["path"].partition("/")[2])


def integrate(addon: SiteSyncAddon, project: str, target: Target,
              representations: Sequence[tuple[str, Sequence[Path]]]) -> Iterator[dict]:
    """Copy the files of each ``(name, files)`` into the active site's root by
    ``PUBLISH_TEMPLATE`` and register the representation; yield each one once registered.

    Everything that can be checked first is (files, names, a name the version has already), so
    bad input copies and registers nothing. Into the hero version, a representation that exists
    gets its files replaced in place.
    """
    _check_representations(representations)
    root = _publish_root(addon, project)
    api = addon.api
    version = _register_version(addon, project, target)
    existing = {rep["name"]: rep for rep in api.get(
        f"/api/projects/{project}/representations", params={"versionIds": version["id"]})}
    clashes = sorted(set(existing) & {name for name, _ in representations})
    if clashes and not target.hero:
        raise ValueError(f"{target.folder}/{target.product} {version_dir(target.version)} has "
                         f"representation(s) {', '.join(clashes)} already; publish a new "
                         "version")
    for name, files in representations:
        registered = _copy_files(root, project, target, files)
        old = existing.get(name)
        if old is None:
            yield api.post(f"/api/projects/{project}/representations", json={
                "versionId": version["id"], "name": name, "files": registered})
            continue
        rep = api.put(f"/api/projects/{project}/representations/{old['id']}",
                      json={"files": registered})
        _remove_replaced(root, old, rep)
        yield rep


def stamp_sites(addon: SiteSyncAddon, project: str, representation_ids: Sequence[str],
                sites: Sequence[dict] | None = None) -> None:
    """Stamp ``sites`` (default: ``compute_resource_sync_sites``) on representations in one
    bulk call.

    Every site is stamped with ``reset``, so its file map is rebuilt from the representation's
    current files. A representation that has sites already (a hero republished in place) gets
    every one of them reset in the same call: the computed sites with their status, every
    other existing site QUEUED, so the copies there refresh.
    """
    rep_ids = list(dict.fromkeys(representation_ids))
    if not rep_ids:
        return
    if sites is None:
        sites = addon.compute_resource_sync_sites(project)
    stamped = {site["name"]: int(site["status"]) for site in sites}
    existing = addon._site_states(project, rep_ids)
    items = []
    for rep_id in rep_ids:
        statuses = dict.fromkeys(existing.get(rep_id, {}), int(SiteSyncStatus.QUEUED)) | stamped
        items += [{"representationId": rep_id, "siteName": name, "status": status,
                   "reset": True} for name, status in statuses.items()]
    addon.api.post(f"/api/{addon.endpoint_prefix}/{project}/state/bulk", json={"items": items})


def publish_files(addon: SiteSyncAddon, project: str, *, folder: str, product: str,
                  version: int, representation: str, files: Sequence[Path],
                  task: str | None = None, links: Sequence[dict] = (),
                  product_type: str = "generic") -> dict[str, Any]:
    """Publish one representation without pyblish (scripts, the demo): ``integrate`` it,
    then ``stamp_sites``. The root is the active site's: the studio root, or this machine's
    local root when its active site is ``local``."""
    target = Target(folder, product, version, product_type, task, tuple(links))
    [rep] = integrate(addon, project, target, [(representation, list(files))])
    stamp_sites(addon, project, [rep["id"]])
    return rep


class PublishFailed(RuntimeError):
    """A pyblish plugin failed; the message names it."""


def run_publish(addon: SiteSyncAddon, project: str,
                instances: Sequence[dict[str, Any]]) -> pyblish.api.Context:
    """Publish ``instances`` (instance data, see IntegrateSiteSyncRepresentations) through
    the registered pyblish plugins, SiteSync's plugin path registered if it is not; raise
    ``PublishFailed`` naming the first plugin that failed."""
    for path in addon.get_plugin_paths()["publish"]:
        if path not in pyblish.api.registered_paths():
            pyblish.api.register_plugin_path(path)
    context = pyblish.api.Context()
    context.data.update({"projectName": project, ADDON_KEY: addon})
    for data in instances:
        instance = context.create_instance(data.get("product") or "instance",
                                           family=data.get("productType", "generic"))
        instance.data.update(data)
    with contextlib.redirect_stdout(io.StringIO()):  # pyblish prints every error there
        pyblish.util.publish(context)
    for result in context.data.get("results", []):
        if result["error"] is not None:
            message = " ".join(str(result["error"]).split())
            raise PublishFailed(f"{result['plugin'].__name__} failed: {message}")
    return context


def collected(context: pyblish.api.Context) -> tuple[SiteSyncAddon, str, dict]:
    """The addon, project and sync settings CollectSiteSync put on a pyblish context."""
    if SETTINGS_KEY not in context.data:
        raise RuntimeError("CollectSiteSync did not run or failed (see its error); the "
                           "SiteSync plugins need the project's sync settings")
    return context.data[ADDON_KEY], context.data["projectName"], context.data[SETTINGS_KEY]
