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
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyblish.api
import pyblish.util

from sitesync_addon.client.types import Representation, Version
from sitesync_addon.engine.temp_files import TempJournal
from sitesync_addon.engine.transfer import TransferRequest, transfer
from sitesync_addon.errors import ConfigError, PublishFailed
from sitesync_addon.paths import (HERO_VERSION, ROOT_NAME, publish_path, site_path_to_template,
                                  template_to_site_path, version_dir)
from sitesync_addon.providers.base import AbstractProvider
from sitesync_addon.providers.local_drive import LocalDriveProvider
from sitesync_addon.status import SiteSyncStatus

if TYPE_CHECKING:
    from sitesync_addon.api import SiteSyncApi

__all__ = ["ADDON_KEY", "HERO_VERSION", "PUBLISHED_KEY", "PublishFailed", "ROOT_NAME",
           "SETTINGS_KEY", "Target", "collected", "integrate", "publish_files", "run_publish",
           "stamp_sites", "version_dir"]

PLUGIN_PATH = str(Path(__file__).parent / "plugins" / "publish")
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
    links: Sequence[dict[str, Any]] = ()

    @property
    def hero(self) -> bool:
        return self.version == HERO_VERSION


def _check_representations(representations: Sequence[tuple[str, Sequence[Path]]]) -> None:
    """Refuse bad input before anything is copied or registered."""
    if not representations:
        raise ConfigError("nothing to publish: give at least one representation")
    names = [name for name, _ in representations]
    if len(set(names)) != len(names) or not all(names):
        raise ConfigError(f"representation names must be unique and not empty: {names}")
    paths = [Path(f) for _, files in representations for f in files]
    empty = [name for name, files in representations if not files]
    if empty:
        raise ConfigError(f"representation(s) {', '.join(empty)} have no files")
    missing = [str(f) for f in paths if not f.is_file()]
    if missing:
        raise ConfigError(f"cannot publish missing file(s): {', '.join(missing)}")
    file_names = [f.name for f in paths]
    clashing = sorted({n for n in file_names if file_names.count(n) > 1})
    if clashing:  # they would land on one path in the version's folder
        raise ConfigError(f"file names must be unique within a publish: {', '.join(clashing)}")


def _publish_root(addon: SiteSyncApi, project: str) -> AbstractProvider:
    """The active site's drive: the stamp "OK on the active site" must be true."""
    active = addon.get_active_site(project)
    root = addon.provider_for(project, active)
    if not root.features.local_path or ROOT_NAME not in root.roots:
        raise ConfigError(f"publishing needs a '{ROOT_NAME}' root on a local drive of this "
                         f"machine; the active site '{active}' of project '{project}' has "
                         "none (set its root or local_roots)")
    return root


def _register_version(addon: SiteSyncApi, project: str, target: Target) -> Version:
    catalog = addon.client.catalog
    folder_id = catalog.create_folder(project, target.folder)["id"]
    product_id = catalog.create_product(project, folder_id, target.product,
                                        target.product_type)["id"]
    return catalog.create_version(project, product_id, target.version, target.task,
                                  target.links)


def _copy_files(root: AbstractProvider, project: str, target: Target,
                files: Sequence[Path]) -> list[dict[str, Any]]:
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
            registered.append({"path": site_path_to_template(final),
                               "size": size, "hash": content_hash})
    return registered


def _remove_replaced(root: AbstractProvider, old: Representation,
                     new: Representation) -> None:
    """Delete the files a hero republish no longer has (the same names were overwritten)."""
    kept = {f["path"] for f in new["files"]}
    for file in old["files"]:
        if file["path"] not in kept:
            root.delete(template_to_site_path(file["path"]))


def integrate(addon: SiteSyncApi, project: str, target: Target,
              representations: Sequence[tuple[str, Sequence[Path]]]) -> Iterator[Representation]:
    """Copy the files of each ``(name, files)`` into the active site's root by
    ``PUBLISH_TEMPLATE`` and register the representation; yield each one once registered.

    Everything that can be checked first is (files, names, a name the version has already), so
    bad input copies and registers nothing. Into the hero version, a representation that exists
    gets its files replaced in place.
    """
    _check_representations(representations)
    root = _publish_root(addon, project)
    catalog = addon.client.catalog
    version = _register_version(addon, project, target)
    existing = {rep["name"]: rep for rep in catalog.representations(project, [version["id"]])}
    clashes = sorted(set(existing) & {name for name, _ in representations})
    if clashes and not target.hero:
        raise ConfigError(f"{target.folder}/{target.product} {version_dir(target.version)} has "
                         f"representation(s) {', '.join(clashes)} already; publish a new "
                         "version")
    for name, files in representations:
        registered = _copy_files(root, project, target, files)
        old = existing.get(name)
        if old is None:
            yield catalog.create_representation(project, version["id"], name, registered)
            continue
        rep = catalog.replace_files(project, old["id"], registered)
        _remove_replaced(root, old, rep)
        yield rep


def stamp_sites(addon: SiteSyncApi, project: str, representation_ids: Sequence[str],
                sites: Sequence[dict[str, Any]] | None = None) -> None:
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
    existing = addon.site_states(project, rep_ids)
    items = []
    for rep_id in rep_ids:
        statuses = dict.fromkeys(existing.get(rep_id, {}), int(SiteSyncStatus.QUEUED)) | stamped
        items += [{"representationId": rep_id, "siteName": name, "status": status,
                   "reset": True} for name, status in statuses.items()]
    addon.client.state.stamp(project, items)


def publish_files(addon: SiteSyncApi, project: str, *, folder: str, product: str,
                  version: int, representation: str, files: Sequence[Path],
                  task: str | None = None, links: Sequence[dict[str, Any]] = (),
                  product_type: str = "generic") -> Representation:
    """Publish one representation without pyblish (scripts, the demo): ``integrate`` it,
    then ``stamp_sites``. The root is the active site's: the studio root, or this machine's
    local root when its active site is ``local``."""
    target = Target(folder, product, version, product_type, task, tuple(links))
    [rep] = integrate(addon, project, target, [(representation, list(files))])
    stamp_sites(addon, project, [rep["id"]])
    return rep


def run_publish(addon: SiteSyncApi, project: str,
                instances: Sequence[dict[str, Any]]) -> pyblish.api.Context:
    """Publish ``instances`` (instance data, see IntegrateSiteSyncRepresentations) through
    the registered pyblish plugins, SiteSync's plugin path registered if it is not; raise
    ``PublishFailed`` naming the first plugin that failed."""
    if PLUGIN_PATH not in pyblish.api.registered_paths():
        pyblish.api.register_plugin_path(PLUGIN_PATH)
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


def collected(context: pyblish.api.Context) -> tuple[SiteSyncApi, str, dict[str, Any]]:
    """The addon, project and sync settings CollectSiteSync put on a pyblish context."""
    if SETTINGS_KEY not in context.data:
        raise PublishFailed("CollectSiteSync did not run or failed (see its error); the "
                           "SiteSync plugins need the project's sync settings")
    return context.data[ADDON_KEY], context.data["projectName"], context.data[SETTINGS_KEY]
