"""Workfiles: how they are published and where artists work on them.

The one place that knows the workfile conventions, shared by the publish plugins and the
launch hooks:

- published as product type ``workfile``, product ``workfile<Task>``, version ``task`` = the
  task, one representation named after the file extension, links of type ``reference``;
- worked on under this machine's ``work`` root (the local site's root override, or the
  studio root when the active site is ``studio``), by ``WORK_TEMPLATE``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sitesync_addon.paths import ROOT_NAME
from sitesync_addon.sites import DEFAULT_SITE, LOCAL_SITE

if TYPE_CHECKING:
    from sitesync_addon.api import SiteSyncApi
    from sitesync_addon.client.types import Version

WORKFILE_PRODUCT_TYPE = "workfile"
REFERENCE_LINK = "reference"
WORK_DIR_TEMPLATE = "{project}/{folder}/work/{task}"
WORK_FILE_TEMPLATE = "{leaf}_{task}_v{version:03d}.{ext}"
WORK_TEMPLATE = f"{WORK_DIR_TEMPLATE}/{WORK_FILE_TEMPLATE}"


def workfile_product_name(task: str) -> str:
    """``compositing`` -> ``workfileCompositing``."""
    return WORKFILE_PRODUCT_TYPE + task[:1].upper() + task[1:]


def _folder(folder: str) -> str:
    """A folder path that stays under its root: relative, no ``..``, not empty."""
    parts = [p for p in re.split(r"[\\/]", folder) if p]
    if not parts or ".." in parts or folder.startswith(("/", "\\")) or ":" in folder:
        raise ValueError(f"folder '{folder}' must be a relative path without '..' "
                         "(e.g. shots/sh010)")
    return "/".join(parts)


def _task(task: str) -> str:
    if not re.fullmatch(r"[\w.-]+", task) or task in (".", ".."):
        raise ValueError(f"task '{task}' must be a name of letters, digits, '_', '.' or '-'")
    return task


def work_root(addon: SiteSyncApi, project: str) -> Path:
    """This machine's ``work`` root for the project."""
    if addon.get_active_site_type(project) == DEFAULT_SITE:
        roots = (addon.get_site_root_overrides(project, DEFAULT_SITE)
                 or addon.get_anatomy(project)["roots"])  # sync off: the project's roots
        where = "the project's roots"
    else:
        roots = addon.get_site_root_overrides(project, LOCAL_SITE)
        where = f"local_roots of site '{addon.local_site_id}'"
    if ROOT_NAME not in roots:
        raise ValueError(f"project '{project}' has no '{ROOT_NAME}' root in {where}; add one "
                         "in the settings")
    return Path(roots[ROOT_NAME])


def work_dir(addon: SiteSyncApi, project: str, folder: str, task: str) -> Path:
    """The folder of a task's workfiles on this machine."""
    return work_root(addon, project) / WORK_DIR_TEMPLATE.format(
        project=project, folder=_folder(folder), task=_task(task))


def workfile_name(folder: str, task: str, version: int, ext: str) -> str:
    """``sh010_compositing_v004.nk`` for folder ``shots/sh010``."""
    return WORK_FILE_TEMPLATE.format(leaf=_folder(folder).rsplit("/", 1)[-1],
                                     task=_task(task), version=version, ext=ext.lstrip("."))


def workfile_path(addon: SiteSyncApi, project: str, folder: str, task: str, version: int,
                  ext: str) -> Path:
    """Where version ``version`` of a task's workfile lives on this machine."""
    return work_dir(addon, project, folder, task) / workfile_name(folder, task, version, ext)


def local_workfiles(addon: SiteSyncApi, project: str, folder: str,
                    task: str) -> list[tuple[int, Path]]:
    """The task's workfiles on this machine (any extension), by version."""
    leaf = _folder(folder).rsplit("/", 1)[-1]
    pattern = re.compile(rf"^{re.escape(leaf)}_{re.escape(task)}_v(\d{{3,}})\.[^.]+$")
    folder_path = work_dir(addon, project, folder, task)
    if not folder_path.is_dir():
        return []
    found = [(int(match[1]), path) for path in folder_path.iterdir()
             if path.is_file() and (match := pattern.match(path.name))]
    return sorted(found)


def last_published_workfile(addon: SiteSyncApi, project: str, folder: str,
                            task: str) -> Version | None:
    """The highest published version of the task's workfile in ``folder`` (hero versions
    left out), or None; a version document with its ``links``."""
    folder = _folder(folder)
    catalog = addon.client.catalog
    folder_doc = next((f for f in catalog.folders(project) if f["path"] == folder), None)
    if folder_doc is None:
        return None
    versions = [version
                for product in catalog.products(project, folder_doc["id"])
                if product["productType"] == WORKFILE_PRODUCT_TYPE
                for version in catalog.versions(project, product["id"], _task(task))
                if version["version"] > 0]
    return max(versions, key=lambda v: v["version"], default=None)
