"""SiteSync's publish plugins through a real ``pyblish.util.publish``: live server, real files."""
from __future__ import annotations

import pyblish.api

from sitesync_addon import SiteSyncApi
from sitesync_addon.hashing import hash_file
from sitesync_addon.status import SiteSyncStatus
from sitesync_addon.workfiles import REFERENCE_LINK, WORKFILE_PRODUCT_TYPE, workfile_product_name
from tests.conftest import ADMIN_KEY, both_databases
from tests.publish.conftest import errors, incoming, publish, published, sites_of
from tests.studio import PROJECT, Studio

OK, QUEUED = SiteSyncStatus.OK, SiteSyncStatus.QUEUED
TASK = "compositing"


def configure_sites(studio: Studio) -> None:
    """Remote ``cloud``; ``sftp`` exposes the studio storage, ``cloudmirror`` the cloud; every
    file must also reach ``backup``."""
    def drive(name: str, *aliases: str) -> dict:
        return {"name": name, "provider": "local_drive", "alternative_sites": list(aliases),
                "root": {"work": {"linux": str(studio.tmp / name)}}}

    admin = studio.publisher
    admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings/{PROJECT}", json={
        "enabled": True,
        "config": {"remote_site": "cloud", "always_accessible_on": ["backup"]},
        "sites": [drive("sftp", "studio"), drive("cloud", "cloudmirror"), drive("cloudmirror"),
                  drive("backup")]})
    admin.clear_caches()


def product(folder: str, name: str, product_type: str, ext: str, *files, **data) -> dict:
    return {"folder": folder, "product": name, "productType": product_type, "version": 1,
            "representations": [{"name": ext, "files": list(files)}], **data}


@both_databases
def test_workfile_with_references_is_integrated_and_stamped(studio):
    configure_sites(studio)
    model, texture = incoming(studio, "chair.abc", 40_000), incoming(studio, "chair.png", 9_000)
    references = publish(
        product("assets/chair", "modelMain", "model", "abc", model, task="modeling"),
        product("assets/chair", "textureMain", "texture", "png", texture, task="texturing"),
        addon=studio.publisher)
    assert errors(references) == []
    [abc], [png] = published(references).values()
    workfile = incoming(studio, f"sh010_{TASK}_v001.nk", 30_000)
    context = publish(product(
        "shots/sh010", workfile_product_name(TASK), WORKFILE_PRODUCT_TYPE, "nk", workfile,
        task=TASK, links=[{"versionId": ref["versionId"], "type": REFERENCE_LINK}
                          for ref in (abc, png)]), addon=studio.publisher)
    assert errors(context) == []

    expected_sites = [{"name": "studio", "status": OK}, {"name": "cloud", "status": QUEUED},
                      {"name": "sftp", "status": OK}, {"name": "cloudmirror", "status": QUEUED},
                      {"name": "backup", "status": QUEUED}]
    assert context.data["sitesync"] == {"enabled": True, "sites": expected_sites,
                                        "active_site": "studio"}
    [nk] = context[0].data["published_representations"]
    # the catalog
    api = studio.publisher.client.http
    version = api.get(f"/api/projects/{PROJECT}/versions/{nk['versionId']}")
    assert version["version"] == 1 and version["task"] == TASK
    assert sorted(version["links"], key=lambda link: link["versionId"]) == sorted(
        [{"versionId": abc["versionId"], "type": "reference"},
         {"versionId": png["versionId"], "type": "reference"}],
        key=lambda link: link["versionId"])
    types = {p["name"]: p["productType"] for p in api.get(f"/api/projects/{PROJECT}/products")}
    assert types == {"workfileCompositing": "workfile", "modelMain": "model",
                     "textureMain": "texture"}
    assert (nk["name"], nk["folder"], nk["product"], nk["task"]) == (
        "nk", "shots/sh010", "workfileCompositing", TASK)
    # the files in the studio root, with their content hashes
    for rep, source, path in (
            (nk, workfile, f"shots/sh010/workfileCompositing/v001/sh010_{TASK}_v001.nk"),
            (abc, model, "assets/chair/modelMain/v001/chair.abc"),
            (png, texture, "assets/chair/textureMain/v001/chair.png")):
        [file] = rep["files"]
        assert file["path"] == f"{{root[work]}}/{PROJECT}/{path}"
        assert file["size"] == source.stat().st_size
        assert file["hash"] == hash_file(source) == hash_file(studio.studio_path(file))
    # the stamped states: active OK, remote QUEUED, aliases as their site, backup QUEUED
    for rep in (nk, abc, png):
        assert sites_of(studio, rep) == {s["name"]: s["status"] for s in expected_sites}
        states = studio.publisher.site_states(PROJECT, [rep["id"]])[rep["id"]]
        assert all(set(state["files"]) == {rep["files"][0]["id"]} for state in states.values())


def test_a_studio_integrator_only_puts_published_representations(studio, tmp_path):
    plugins = tmp_path / "studio_plugins"
    plugins.mkdir()
    (plugins / "integrate_studio.py").write_text('''
import shutil
from pathlib import Path

import pyblish.api


class IntegrateStudio(pyblish.api.InstancePlugin):
    """The studio's own integrator: its layout, its registration."""

    order = pyblish.api.IntegratorOrder - 0.1

    def process(self, instance):
        api = instance.context.data["sitesync_addon"].client.http
        project = instance.context.data["projectName"]
        [source] = instance.data["representations"][0]["files"]
        target = Path(instance.data["studioRoot"], project, "studio_layout", source.name)
        target.parent.mkdir(parents=True)
        shutil.copyfile(source, target)
        folder = api.post(f"/api/projects/{project}/folders", json={"path": "shots/sh010"})
        product = api.post(f"/api/projects/{project}/products",
                           json={"folderId": folder["id"], "name": "plate"})
        version = api.post(f"/api/projects/{project}/versions",
                           json={"productId": product["id"], "version": 1})
        rep = api.post(f"/api/projects/{project}/representations", json={
            "versionId": version["id"], "name": "exr", "files": [{
                "path": f"{{root[work]}}/{project}/studio_layout/{source.name}",
                "size": source.stat().st_size}]})
        instance.data["published_representations"] = [rep]
''')
    pyblish.api.register_plugin_path(str(plugins))
    source = incoming(studio, "plate.exr")
    context = publish(product("shots/sh010", "plate", "plate", "exr", source,
                              studioRoot=str(studio.root)), addon=studio.publisher)
    assert errors(context) == []
    reps = studio.publisher.client.http.get(f"/api/projects/{PROJECT}/representations")
    assert [r["id"] for r in reps] == [r["id"] for r in published(context)["plate"]]
    assert reps[0]["files"][0]["path"].endswith("/studio_layout/plate.exr")  # not ours
    assert not (studio.root / PROJECT / "shots").exists()
    assert sites_of(studio, reps[0]) == {"studio": OK}


def test_a_failing_instance_stamps_nothing_and_the_others_publish(studio):
    missing = studio.tmp / "gone.exr"
    good = incoming(studio, "sh020.exr")
    context = publish(product("shots/sh010", "plate", "plate", "exr", missing),
                      product("shots/sh020", "render", "render", "exr", good),
                      addon=studio.publisher)
    assert errors(context) == [("IntegrateSiteSyncRepresentations", "plate",
                                f"cannot publish missing file(s): {missing}")]
    api = studio.publisher.client.http
    assert [f["path"] for f in api.get(f"/api/projects/{PROJECT}/folders")] == ["shots/sh020"]
    [rep] = api.get(f"/api/projects/{PROJECT}/representations")
    assert published(context) == {"plate": [], "render": [rep]}
    assert sites_of(studio, rep) == {"studio": OK}
    assert not (studio.root / PROJECT / "shots" / "sh010").exists()


def test_a_failed_validation_integrates_nothing(studio, tmp_path):
    plugins = tmp_path / "validators"
    plugins.mkdir()
    (plugins / "validate_naming.py").write_text('''
import pyblish.api


class ValidateNaming(pyblish.api.InstancePlugin):
    order = pyblish.api.ValidatorOrder

    def process(self, instance):
        if instance.name != instance.name.lower():
            raise ValueError(f"{instance.name} is not lower case")
''')
    pyblish.api.register_plugin_path(str(plugins))
    context = publish(product("shots/sh010", "plate", "plate", "exr", incoming(studio, "a.exr")),
                      product("shots/sh010", "Render", "render", "exr", incoming(studio, "b.exr")),
                      addon=studio.publisher)
    assert errors(context) == [("ValidateNaming", "Render", "Render is not lower case")]
    assert studio.publisher.client.http.get(f"/api/projects/{PROJECT}/representations") == []
    assert not (studio.root / PROJECT).exists()


def test_a_version_that_has_the_representation_refuses_it(studio):
    first = publish(product("shots/sh010", "plate", "plate", "exr", incoming(studio, "a.exr")),
                    addon=studio.publisher)
    assert errors(first) == []
    again = incoming(studio, "a.exr")
    context = publish(product("shots/sh010", "plate", "plate", "exr", again),
                      addon=studio.publisher)
    [(plugin, _instance, message)] = errors(context)
    assert plugin == "IntegrateSiteSyncRepresentations"
    assert "shots/sh010/plate v001 has representation(s) exr already" in message
    [rep] = published(first)["plate"]
    assert hash_file(studio.studio_path(rep["files"][0])) == rep["files"][0]["hash"]


def test_sync_disabled_publishes_with_studio_ok_only(studio, monkeypatch):
    admin = studio.publisher
    admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings/{PROJECT}",
                          json={"enabled": False})
    # no addon on the context: the collector builds one from the environment
    monkeypatch.setenv("SITESYNC_SERVER_URL", studio.url)
    monkeypatch.setenv("SITESYNC_API_KEY", ADMIN_KEY)
    monkeypatch.setenv("SITESYNC_SITE_ID", "ws1")  # its local settings no longer apply
    source = incoming(studio, "a.exr")
    context = publish(product("shots/sh010", "plate", "plate", "exr", source), addon=None)
    assert errors(context) == []
    assert isinstance(context.data["sitesync_addon"], SiteSyncApi)
    assert context.data["sitesync"] == {"enabled": False, "active_site": "studio",
                                        "sites": [{"name": "studio", "status": OK}]}
    [rep] = published(context)["plate"]
    assert hash_file(studio.studio_path(rep["files"][0])) == hash_file(source)
    assert sites_of(studio, rep) == {"studio": OK}


def test_bad_instances_fail_with_a_clear_message(studio):
    context = publish(
        {"product": "a", "productType": "plate", "representations": []},
        product("shots/sh010", "b", "plate", "exr", incoming(studio, "b.exr"), hero=True),
        product("shots/sh010", "c", "plate", "exr", incoming(studio, "c.exr"), version="2"),
        {**product("shots/sh010", "d", "plate", "exr"), "representations": "d.exr"},
        addon=studio.publisher)
    assert [(instance, message) for _plugin, instance, message in errors(context)] == [
        ("a", "instance 'a' lacks folder, version in its data"),
        ("b", "instance 'b' is a hero publish (version 0) but has version 1; leave it out"),
        ("c", "instance 'c': version must be a whole number, not '2'"),
        ("d", """instance 'd': representations must be a list of {"name", "files": [paths]}""")]
    assert studio.publisher.client.http.get(f"/api/projects/{PROJECT}/representations") == []
