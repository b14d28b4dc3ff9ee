"""Folders, products, versions and representations of a project.

Creating a folder, product or version that exists already returns it (200 instead of 201), so a
publisher can call these without checking first.
"""
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from server_addon import catalog
from server_addon.api.deps import DbDep, ProjectDep, ServiceDep
from server_addon.api.schemas import (NO_NUL, FolderCreate, FolderPublic, ProductCreate,
                                      ProductPublic, RepresentationCreate, RepresentationFiles,
                                      RepresentationPublic, VersionCreate, VersionPublic)
from server_addon.db.tables import folders, products, representations, versions
from server_addon.api.routing import TransactionRoute

router = APIRouter(prefix="/api/projects/{project}", tags=["catalog"], route_class=TransactionRoute)

IdList = Annotated[list[UUID] | None, Query(max_length=1000)]
Filter = Annotated[str | None, Query(max_length=255, pattern=NO_NUL)]


def _created(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


@router.post("/folders", response_model=FolderPublic, status_code=201)
def create_folder(body: FolderCreate, project: ProjectDep, db: DbDep, response: Response) -> dict:
    with db.write() as conn:
        record, created = catalog.create_folder(conn, project_id=project.id, path=body.path)
    _created(response, created)
    return record


@router.get("/folders", response_model=list[FolderPublic])
def list_folders(project: ProjectDep, db: DbDep) -> list[dict]:
    with db.read() as conn:
        return catalog.list_folders(conn, project_id=project.id)


@router.get("/folders/{folder_id}", response_model=FolderPublic)
def get_folder(folder_id: UUID, project: ProjectDep, db: DbDep) -> dict:
    with db.read() as conn:
        return catalog.get_folder(conn, project_id=project.id, folder_id=folder_id)


@router.post("/products", response_model=ProductPublic, status_code=201)
def create_product(body: ProductCreate, project: ProjectDep, db: DbDep,
                   response: Response) -> dict:
    with db.write() as conn:
        record, created = catalog.create_product(
            conn, project_id=project.id, folder_id=body.folder_id, name=body.name,
            product_type=body.product_type)
    _created(response, created)
    return record


@router.get("/products", response_model=list[ProductPublic])
def list_products(project: ProjectDep, db: DbDep, folder_id: Annotated[
        UUID | None, Query(alias="folderId")] = None) -> list[dict]:
    with db.read() as conn:
        return catalog.list_products(conn, project_id=project.id, folder_id=folder_id)


@router.get("/products/{product_id}", response_model=ProductPublic)
def get_product(product_id: UUID, project: ProjectDep, db: DbDep) -> dict:
    with db.read() as conn:
        return catalog.get_product(conn, project_id=project.id, product_id=product_id)


@router.post("/versions", response_model=VersionPublic, status_code=201)
def create_version(body: VersionCreate, project: ProjectDep, db: DbDep,
                   response: Response) -> dict:
    with db.write() as conn:
        record, created = catalog.create_version(
            conn, project_id=project.id, product_id=body.product_id, version=body.version,
            task=body.task, author=body.author,
            links=[(link.version_id, link.type) for link in body.links])
    _created(response, created)
    return record


@router.get("/versions", response_model=list[VersionPublic])
def list_versions(project: ProjectDep, db: DbDep,
                  product_id: Annotated[UUID | None, Query(alias="productId")] = None,
                  task: Filter = None) -> list[dict]:
    with db.read() as conn:
        return catalog.list_versions(conn, project_id=project.id, product_id=product_id,
                                     task=task)


@router.get("/versions/{version_id}", response_model=VersionPublic)
def get_version(version_id: UUID, project: ProjectDep, db: DbDep) -> dict:
    with db.read() as conn:
        return catalog.get_version(conn, project_id=project.id, version_id=version_id)


@router.post("/representations", response_model=RepresentationPublic, status_code=201)
def create_representation(body: RepresentationCreate, project: ProjectDep, db: DbDep) -> dict:
    """Register a representation and its files (path templates under the project's roots)."""
    with db.write() as conn:
        record = catalog.create_representation(
            conn, project_id=project.id, roots=project.roots, version_id=body.version_id,
            name=body.name, file_list=[f.model_dump() for f in body.files])
        return catalog.get_representation(conn, project_id=project.id,
                                          representation_id=record["id"])


@router.put("/representations/{representation_id}", response_model=RepresentationPublic)
def replace_representation_files(representation_id: UUID, body: RepresentationFiles,
                                 project: ProjectDep, db: DbDep, request: Request) -> dict:
    """Republish a representation in place (e.g. a hero version): same id, these files.

    Validated like a new representation. Sync state of the old files is dropped: every site
    that had the representation keeps its entry, holding none of the new files until a stamp
    or a reset says so.
    """
    with db.write() as conn:
        catalog.replace_representation_files(
            conn, project_id=project.id, roots=project.roots,
            representation_id=representation_id, file_list=[f.model_dump() for f in body.files])
        for addon in request.app.state.addons.values():
            addon.on_representation_files_replaced(conn, representation_id=representation_id)
        return catalog.get_representation(conn, project_id=project.id,
                                          representation_id=representation_id)


@router.get("/representations", response_model=list[RepresentationPublic])
def list_representations(project: ProjectDep, db: DbDep,
                         version_ids: Annotated[IdList, Query(alias="versionIds")] = None,
                         ids: Annotated[IdList, Query(alias="representationIds")] = None,
                         name: Filter = None
                         ) -> list[dict]:
    with db.read() as conn:
        return catalog.list_representations(conn, project_id=project.id,
                                            version_ids=version_ids, representation_ids=ids,
                                            name=name)


@router.get("/representations/{representation_id}", response_model=RepresentationPublic)
def get_representation(representation_id: UUID, project: ProjectDep, db: DbDep) -> dict:
    with db.read() as conn:
        return catalog.get_representation(conn, project_id=project.id,
                                          representation_id=representation_id)


_DELETABLE = {"folders": (folders, "Folder"), "products": (products, "Product"),
              "versions": (versions, "Version"),
              "representations": (representations, "Representation")}


def _delete_route(collection: str) -> None:
    table, kind = _DELETABLE[collection]

    def delete_item(item_id: UUID, project: ProjectDep, _service: ServiceDep,
                    db: DbDep) -> Response:
        with db.write() as conn:
            catalog.delete_item(conn, table, kind, project_id=project.id, item_id=item_id)
        return Response(status_code=204)

    delete_item.__doc__ = f"Delete a {kind.lower()} with everything under it and its sync state."
    router.add_api_route(f"/{collection}/{{item_id}}", delete_item, methods=["DELETE"],
                         status_code=204, name=f"delete_{kind.lower()}")


for _collection in _DELETABLE:
    _delete_route(_collection)
