"""Fetch the task's last published workfile before the application starts."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from sitesync_addon.client.types import Representation
from sitesync_addon.launch_hooks.base import LaunchContext, LaunchError, PreLaunchHook
from sitesync_addon.workfiles import (REFERENCE_LINK, last_published_workfile, local_workfiles,
                                      workfile_path)

LAUNCH_PRIORITY = 900  # an artist waits for these: ahead of the default 50
POLL_SECONDS = 0.2


def describe(rep: Representation) -> str:
    return f"{rep['folder']}/{rep['product']} v{rep['version']:03d} '{rep['name']}' ({rep['id']})"


class CopyLastPublishedWorkfile(PreLaunchHook):
    """With no local workfile for the task, download the last published one and its
    references to this machine first (high priority), then open a copy of it as the next
    version in the work area."""

    order = -100  # early: later hooks see the workfile it sets

    def execute(self, context: LaunchContext) -> None:
        addon, project = context.addon, context.project
        skip = f"{type(self).__name__}: skipped,"
        if context.workfile_path is not None:
            context.log(f"{skip} a workfile was given: {context.workfile_path}")
            return
        if not addon.is_project_enabled(project, single=True):
            context.log(f"{skip} site sync is off for project '{project}'")
            return
        existing = local_workfiles(addon, project, context.folder, context.task)
        if existing:
            context.log(f"{skip} a local workfile exists: {existing[-1][1]}")
            return
        version = last_published_workfile(addon, project, context.folder, context.task)
        if version is None:
            context.log(f"{skip} task '{context.task}' of '{context.folder}' has no "
                        "published workfile")
            return
        catalog = addon.client.catalog
        workfiles = catalog.representations(project, [version["id"]])
        linked = [link["versionId"] for link in version["links"]
                  if link["type"] == REFERENCE_LINK]
        references = catalog.representations(project, linked) if linked else []
        source = _workfile_representation(context, workfiles)
        site = addon.get_active_site(project)
        self._fetch(context, site, workfiles + references)
        local = Path(addon.get_local_file_path(project, site, source["files"][0]["path"]))
        target = workfile_path(addon, project, context.folder, context.task,
                               version["version"] + 1, source["name"])
        _copy_new(local, target)
        context.workfile_path = target
        context.log(f"copied {describe(source)} to {target}")

    def _fetch(self, context: LaunchContext, site: str, reps: list[Representation]) -> None:
        """Request what ``site`` lacks at high priority, wake the sync service, and wait."""
        addon, project = context.addon, context.project
        requested = []
        for rep in reps:
            if not _on_site(context, site, rep):
                addon.add_site(project, rep["id"], site, force=True)
                addon.update_db(project, rep["id"], site, priority=LAUNCH_PRIORITY)
                requested.append(rep)
        if not requested:
            return
        context.log(f"downloading {len(requested)} representation(s) to site '{site}'")
        addon.reset_timer()
        retry_cnt = int(addon.get_sync_project_setting(project)["config"]["retry_cnt"])
        deadline = time.monotonic() + context.wait_timeout
        while requested:
            for rep in list(requested):
                try:
                    arrived = addon.is_representation_on_site(project, rep["id"], site,
                                                              max_retries=retry_cnt)
                except ValueError as exc:  # FAILED: the server counted retry_cnt tries
                    raise LaunchError(f"cannot download {describe(rep)} to site '{site}': "
                                      f"{exc}") from None
                fraction = 1.0 if arrived else max(0.0, addon.get_progress_for_repre(
                    project, rep["id"], site)[site])
                context.progress(describe(rep), fraction)
                if arrived:
                    requested.remove(rep)
            if requested and time.monotonic() >= deadline:
                raise LaunchError(
                    f"timed out after {context.wait_timeout:g} s waiting for "
                    f"{describe(requested[0])} to reach site '{site}'; is SiteSync (tray or "
                    "sync service) running for it? Raise the timeout or launch again later")
            if requested:
                time.sleep(POLL_SECONDS)


def _on_site(context: LaunchContext, site: str, rep: Representation) -> bool:
    """Recorded on the site and every file really there."""
    addon, project = context.addon, context.project
    return addon.is_representation_on_site(project, rep["id"], site) and all(
        Path(addon.get_local_file_path(project, site, item["path"])).is_file()
        for item in rep["files"])


def _workfile_representation(context: LaunchContext,
                             reps: list[Representation]) -> Representation:
    """The representation holding the workfile: one file named after its extension."""
    found = [rep for rep in reps if len(rep["files"]) == 1
             and Path(rep["files"][0]["path"]).suffix == f".{rep['name']}"]
    if not found:
        names = ", ".join(describe(rep) for rep in reps) or "none"
        raise LaunchError(f"the last published workfile of task '{context.task}' has no "
                          f"representation with one file named after its extension ({names})")
    found.sort(key=lambda rep: rep["name"])
    if len(found) > 1:
        context.log(f"several workfile representations; opening {describe(found[0])}")
    return found[0]


def _copy_new(source: Path, target: Path) -> None:
    """Copy to a new file; an existing file is never overwritten."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        out = target.open("xb")
    except FileExistsError:
        raise LaunchError(f"{target} exists already and is never overwritten; open it or "
                          "remove it") from None
    try:
        with out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
