"""Sync state of the SiteSyncAddon contract (a mixin of SiteSyncAddon)."""
from __future__ import annotations

import logging
import uuid
from typing import Any

from sitesync_addon.client.state import IDS_PER_REQUEST, chunks
from sitesync_addon.client.types import SideStatus, StateItem
from sitesync_addon.contract.base import ApiBase
from sitesync_addon.errors import ConfigError, ServerNotFound, SiteAlreadyPresentError
from sitesync_addon.sites import DEFAULT_SITE
from sitesync_addon.status import SiteSyncStatus, SyncStatus

log = logging.getLogger(__name__)


def representation_id_of(representation: Any) -> str:
    """An id from a string, UUID, or a dict with ``id`` / ``representationId``."""
    if isinstance(representation, dict):
        representation = representation.get("representationId") or representation.get("id")
    try:
        return str(uuid.UUID(str(representation)))
    except ValueError:
        raise ValueError(f"'{representation}' is not a representation id") from None


def side_progress(side: SideStatus) -> float:
    """1 when OK, the mean file progress while in progress, else 0."""
    if side["status"] == SiteSyncStatus.OK:
        return 1.0
    if side["status"] == SiteSyncStatus.IN_PROGRESS:
        return float(side["progress"])
    return 0.0


class StateMixin(ApiBase):
    def _require_enabled(self, project_name: str) -> None:
        if not self.is_project_enabled(project_name, single=True):
            raise ConfigError(f"site sync is not enabled for project '{project_name}'; enable "
                              "it in the project's settings ('enabled': true)")

    # -- writing -----------------------------------------------------------------------------

    def add_site(self, project_name: str, representation_id: str, site_name: str | None = None,
                 file_id: str | None = None, force: bool = False,
                 status: int = SiteSyncStatus.QUEUED) -> None:
        """Put a site on a representation (every file with ``status``)."""
        self._require_enabled(project_name)
        representation_id = representation_id_of(representation_id)
        site_name = self._as_local_id(site_name or DEFAULT_SITE)
        representation = self._representation(project_name, representation_id)
        if not representation["files"]:
            return
        existing = self.site_states(project_name, [representation_id], [site_name]).get(
            representation_id, {}).get(site_name)
        if file_id is not None:
            held = existing["files"].get(str(file_id)) if existing else None
            if held is not None and held["status"] == SiteSyncStatus.OK and not force:
                raise SiteAlreadyPresentError(f"site '{site_name}' holds file {file_id} of "
                                              f"representation {representation_id} already")
            self._post_state(project_name, representation_id, site_name,
                             {"files": [{"id": str(file_id), "status": int(status)}]})
            return
        if existing and not force:
            raise SiteAlreadyPresentError(f"representation {representation_id} is on site "
                                          f"'{site_name}' already; pass force=True to reset it")
        self._post_state(project_name, representation_id, site_name, {"status": int(status)})

    def remove_site(self, project_name: str, representation_id: str, site_name: str,
                    remove_local_files: bool = False) -> None:
        """Delete a site's state; with ``remove_local_files`` also this machine's copies.

        Files are deleted only for this machine's local site; for any other site that
        option only logs.
        """
        self._require_enabled(project_name)
        representation_id = representation_id_of(representation_id)
        site_name = self._as_local_id(site_name)
        try:
            self.client.state.remove(project_name, representation_id, site_name)
        except ServerNotFound as exc:
            log.info("remove_site: %s", exc)
        if remove_local_files and site_name != self.local_site_id:
            log.warning("remove_site: files on site '%s' are not this machine's (%s); kept",
                        site_name, self.local_site_id)
        elif remove_local_files:
            self._remove_local_files(project_name, [representation_id], site_name)

    def reset_site_on_representation(self, project_name: str, representation_id: str,
                                     side: str | None = None, file_id: str | None = None,
                                     site_name: str | None = None) -> None:
        """Queue a site again: ``side`` 'local' (active) or 'remote', or a ``site_name``."""
        if side and site_name:
            raise ValueError("give either side or site_name, not both")
        representation_id = representation_id_of(representation_id)
        self._representation(project_name, representation_id)
        if site_name is None:
            if side not in ("local", "remote"):
                raise ValueError(f"side must be 'local' or 'remote', not {side!r}")
            site_name = (self.get_active_site(project_name) if side == "local"
                         else self.get_remote_site(project_name))
        site_name = self._as_local_id(site_name)
        if file_id is not None:
            self._post_state(project_name, representation_id, site_name, {
                "files": [{"id": str(file_id), "status": int(SiteSyncStatus.QUEUED)}]})
        else:
            self._post_state(project_name, representation_id, site_name, {}, reset=True)

    def update_db(self, project_name: str, repre_status: Any, site_name: str | None,
                  new_file_id: str | None = None, file: dict[str, Any] | None = None,
                  side: str | None = None, error: str | None = None,
                  progress: float | None = None, priority: int | None = None,
                  pause: bool | None = None) -> None:
        """Write the outcome for one file of a representation on a site."""
        representation_id = representation_id_of(repre_status)
        if site_name is None:
            if side not in ("local", "remote"):
                raise ValueError("update_db needs site_name or side ('local' or 'remote')")
            site_name = (self.get_active_site(project_name) if side == "local"
                         else self.get_remote_site(project_name))
        site_name = self._as_local_id(site_name)
        file_id = (file or {}).get("id") or new_file_id
        change: dict[str, Any] = {}
        if new_file_id is not None:
            change["status"] = int(SiteSyncStatus.OK)
        if progress is not None:
            change["progress"] = float(progress)
        if error is not None:
            change["error"] = str(error)
        if pause is not None:
            change["paused"] = bool(pause)
        body: dict[str, Any] = {}
        if change:
            if file_id is None:
                raise ValueError("update_db needs the file (or new_file_id) for this change")
            body["files"] = [{"id": str(file_id), **change}]
        if priority is not None:
            body["priority"] = int(priority)
        if body:
            self._post_state(project_name, representation_id, site_name, body)

    def handle_alternate_site(self, project_name: str, representation_id: str,
                              processed_site: str, file_id: str) -> None:
        """Give every alternative of ``processed_site`` the state that file has there."""
        self.sites.mirror_to_alternatives(project_name, representation_id_of(representation_id),
                                          processed_site, str(file_id))

    # -- reading -----------------------------------------------------------------------------

    def get_repre_sync_state(self, project_name: str, representation_id: str,
                             local_site_name: str, remote_site_name: str | None = None,
                             **kwargs: Any) -> StateItem | None:
        """The listing item of one representation for a site pair, None without local state."""
        representation_id = representation_id_of(representation_id)
        remote_site_name = remote_site_name or local_site_name
        states = self.site_states(project_name, [representation_id], [local_site_name])
        if local_site_name not in states.get(representation_id, {}):
            return None
        items = list(self.client.state.listing(project_name, local_site_name, remote_site_name,
                                   representationIds=[representation_id]))
        return items[0] if items else None

    def get_representations_sync_state(self, project_name: str, representation_ids: list[str],
                                       local_site_name: str,
                                       remote_site_name: str | None = None,
                                       **kwargs: Any) -> dict[str, tuple[float, float]]:
        ids = [representation_id_of(r) for r in representation_ids]
        remote_site_name = remote_site_name or local_site_name
        result: dict[str, tuple[float, float]] = {}
        for chunk in chunks(ids, IDS_PER_REQUEST):
            for item in self.client.state.listing(project_name, local_site_name, remote_site_name,
                                      representationIds=chunk):
                result[item["representationId"]] = (side_progress(item["localStatus"]),
                                                    side_progress(item["remoteStatus"]))
        return result

    def _versions_listing(self, project_name: str, version_ids: list[str], local_site: str,
                          remote_site: str) -> dict[str, list[StateItem]]:
        by_version: dict[str, list[StateItem]] = {str(v): [] for v in version_ids}
        for chunk in chunks([str(v) for v in version_ids], IDS_PER_REQUEST):
            for item in self.client.state.listing(project_name, local_site, remote_site,
                                      versionIdsFilter=chunk):
                by_version[item["versionId"]].append(item)
        return by_version

    def get_version_availability(self, project_name: str, version_ids: list[str],
                                 local_site_name: str, remote_site_name: str,
                                 **kwargs: Any) -> dict[str, tuple[int, int]]:
        """``{version id: (representations OK locally, OK remotely)}``."""
        result: dict[str, tuple[int, int]] = {}
        for version_id, items in self._versions_listing(project_name, version_ids,
                                                        local_site_name,
                                                        remote_site_name).items():
            result[version_id] = (
                sum(i["localStatus"]["status"] == SiteSyncStatus.OK for i in items),
                sum(i["remoteStatus"]["status"] == SiteSyncStatus.OK for i in items))
        return result

    def get_repre_info_for_versions(self, project_name: str, version_ids: list[str],
                                    active_site: str, remote_site: str) -> list[dict[str, Any]]:
        listing = self._versions_listing(project_name, version_ids, active_site, remote_site)
        return [{"id": version_id, "repre_count": len(items),
                 "avail_repre_local": sum(i["localStatus"]["status"] == SiteSyncStatus.OK
                                          for i in items),
                 "avail_repre_remote": sum(i["remoteStatus"]["status"] == SiteSyncStatus.OK
                                           for i in items)}
                for version_id, items in listing.items()]

    def get_progress_for_repre(self, project_name: Any, representation: Any = None,
                               local_site_name: str | None = None,
                               remote_site_name: str | None = None) -> dict[str, float]:
        """``{local site: p, remote site: p}``: the available fraction of files, -1 without
        state. The old form ``(representation, local, remote)`` works too."""
        if isinstance(project_name, dict):  # old form: the project comes from the context
            project_name, representation, local_site_name, remote_site_name = (
                _project_of(project_name), project_name, representation, local_site_name)
        if local_site_name is None:
            raise ValueError("get_progress_for_repre needs local_site_name")
        representation_id = representation_id_of(representation)
        sites = [s for s in (local_site_name, remote_site_name) if s]
        states = self.site_states(project_name, [representation_id], sites).get(
            representation_id, {})
        result: dict[str, float] = {}
        for site in sites:
            state = states.get(site)
            if state is None or not state["files"]:
                result[site] = -1
                continue
            files = state["files"].values()
            result[site] = sum(1.0 if f["status"] == SiteSyncStatus.OK else f["progress"]
                               for f in files) / len(files)
        return result

    def is_representation_on_site(self, project_name: str, representation_id: str,
                                  site_name: str, max_retries: int | None = None) -> bool:
        """All files OK on the site; with ``max_retries``, ValueError once retries reach it."""
        representation_id = representation_id_of(representation_id)
        state = self.site_states(project_name, [representation_id], [site_name]).get(
            representation_id, {}).get(site_name)
        if state is None or not state["files"]:
            return False
        files = list(state["files"].values())
        if max_retries is not None:
            worst = max(f["retries"] for f in files)
            if worst >= max_retries:
                messages = {f["message"] for f in files if f["message"]}
                raise ValueError(f"representation {representation_id} failed {worst} times on "
                                 f"site '{site_name}': {'; '.join(sorted(messages))}")
        return all(f["status"] == SiteSyncStatus.OK for f in files)

    def get_sync_representations(self, project_name: str, active_site: str, remote_site: str,
                                 limit: int = 10) -> list[StateItem]:
        """Work: uploads (local OK, remote QUEUED), topped up with downloads (the mirror)."""
        ok, queued = int(SiteSyncStatus.OK), int(SiteSyncStatus.QUEUED)
        found: list[StateItem] = []
        for local_status, remote_status in ((ok, queued), (queued, ok)):
            if len(found) >= limit:
                break
            page = self.client.state.page(
                project_name, active_site, remote_site, localStatusFilter=local_status,
                remoteStatusFilter=remote_status, pageLength=limit - len(found))
            found.extend(page["representations"])
        return found

    def check_status(self, file_state: dict[str, Any], local_site: str, remote_site: str,
                     config_preset: dict[str, Any]) -> SyncStatus:
        """The decision for one file of the state listing (``localStatus`` and
        ``remoteStatus``, each with ``status`` and ``retries``); a map of site name to status
        works too."""
        if not ({local_site, remote_site} & self.acting_sites):
            return SyncStatus.DO_NOTHING
        config = config_preset.get("config", config_preset)
        retry_cnt = int(config.get("retry_cnt", 3))
        local, remote = _sides(file_state, local_site, remote_site)
        if (local["status"] != SiteSyncStatus.OK and remote["status"] == SiteSyncStatus.OK
                and local.get("retries", 0) < retry_cnt):
            return SyncStatus.DO_DOWNLOAD
        if (remote["status"] != SiteSyncStatus.OK and local["status"] == SiteSyncStatus.OK
                and remote.get("retries", 0) < retry_cnt):
            return SyncStatus.DO_UPLOAD
        return SyncStatus.DO_NOTHING


def _sides(file_state: dict[str, Any], local_site: str,
           remote_site: str) -> tuple[dict[str, Any], dict[str, Any]]:
    na = {"status": SiteSyncStatus.NA, "retries": 0}
    if "localStatus" in file_state or "remoteStatus" in file_state:
        return file_state.get("localStatus") or na, file_state.get("remoteStatus") or na
    return file_state.get(local_site) or na, file_state.get(remote_site) or na


def _project_of(representation: dict[str, Any]) -> str:
    context = representation.get("context") or {}
    project = context.get("project")
    name = project.get("name") if isinstance(project, dict) else project
    name = name or representation.get("project_name") or representation.get("projectName")
    if not name:
        raise ValueError("the representation does not name its project; pass project_name")
    return str(name)
