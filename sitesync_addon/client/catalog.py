"""The catalog of a project: folders, products, versions, representations."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sitesync_addon.client.http import Http
from sitesync_addon.client.types import Folder, Product, Representation, Version


class Catalog:
    def __init__(self, http: Http) -> None:
        self.http = http

    @staticmethod
    def _url(project: str, kind: str) -> str:
        return f"/api/projects/{project}/{kind}"

    def folders(self, project: str) -> list[Folder]:
        return cast("list[Folder]", self.http.get(self._url(project, "folders")))

    def create_folder(self, project: str, path: str) -> Folder:
        return cast(Folder, self.http.post(self._url(project, "folders"), json={"path": path}))

    def products(self, project: str, folder_id: str) -> list[Product]:
        return cast("list[Product]", self.http.get(self._url(project, "products"),
                                                   params={"folderId": folder_id}))

    def create_product(self, project: str, folder_id: str, name: str,
                       product_type: str) -> Product:
        return cast(Product, self.http.post(self._url(project, "products"), json={
            "folderId": folder_id, "name": name, "productType": product_type}))

    def versions(self, project: str, product_id: str, task: str | None = None) -> list[Version]:
        params: dict[str, Any] = {"productId": product_id}
        if task is not None:
            params["task"] = task
        return cast("list[Version]", self.http.get(self._url(project, "versions"),
                                                   params=params))

    def create_version(self, project: str, product_id: str, version: int, task: str | None,
                       links: Sequence[dict[str, Any]]) -> Version:
        return cast(Version, self.http.post(self._url(project, "versions"), json={
            "productId": product_id, "version": version, "task": task, "links": list(links)}))

    def representations(self, project: str,
                        version_ids: Sequence[str] | None = None) -> list[Representation]:
        params = {"versionIds": list(version_ids)} if version_ids is not None else None
        return cast("list[Representation]",
                    self.http.get(self._url(project, "representations"), params=params))

    def representation(self, project: str, representation_id: str) -> Representation:
        return cast(Representation, self.http.get(
            f"{self._url(project, 'representations')}/{representation_id}"))

    def create_representation(self, project: str, version_id: str, name: str,
                              files: Sequence[dict[str, Any]]) -> Representation:
        return cast(Representation, self.http.post(self._url(project, "representations"), json={
            "versionId": version_id, "name": name, "files": list(files)}))

    def replace_files(self, project: str, representation_id: str,
                      files: Sequence[dict[str, Any]]) -> Representation:
        return cast(Representation, self.http.put(
            f"{self._url(project, 'representations')}/{representation_id}",
            json={"files": list(files)}))
