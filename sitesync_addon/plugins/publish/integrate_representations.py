"""Integrate an instance's files as representations: copy into the project's root, register."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pyblish.api

from sitesync_addon.publish import HERO_VERSION, PUBLISHED_KEY, Target, collected, integrate


class IntegrateSiteSyncRepresentations(pyblish.api.InstancePlugin):
    """Copy an instance's files into the project's root (the active site's, by
    ``PUBLISH_TEMPLATE``) with verified transfers and register its representations, each
    file with its size and content hash.

    Instance data: ``folder``, ``product``, ``productType``, ``version``, ``task``
    (optional), ``links`` (optional, ``[{"versionId": id, "type": "reference"}]``),
    ``representations`` (``[{"name": "exr", "files": [paths]}]``) and ``hero`` (optional).

    ``hero: True`` publishes into the product's hero version: version number 0, laid out as
    ``hero`` instead of ``v001`` (leave ``version`` out). A representation the hero version
    has already keeps its id and gets the new files; files it no longer has are deleted from
    the root. Every other version refuses a representation name it has already.

    Each registered representation document is appended to
    ``instance.data["published_representations"]`` as soon as it is registered. Everything
    is checked before anything is copied (missing files fail the instance with nothing
    registered). Skipped: instances that have ``published_representations`` already (a
    studio's own integrator did the work; it must run before this one, e.g. at
    ``IntegratorOrder - 0.1``) and instances without ``representations`` (not ours).
    """

    order = pyblish.api.IntegratorOrder
    label = "Integrate representations (SiteSync)"

    def process(self, instance: pyblish.api.Instance) -> None:
        if PUBLISHED_KEY in instance.data:
            self.log.info("%s was integrated by another plugin", instance)
            return
        if "representations" not in instance.data:
            self.log.info("%s has no representations to integrate", instance)
            return
        addon, project, _settings = collected(instance.context)
        target = target_of(instance.name, instance.data)
        representations = representations_of(instance.name, instance.data["representations"])
        for rep in integrate(addon, project, target, representations):
            instance.data.setdefault(PUBLISHED_KEY, []).append(rep)
            self.log.info("registered %s %s (%s)", target.product, rep["name"], rep["id"])


def target_of(name: str, data: dict[str, Any]) -> Target:
    """The version an instance publishes into, from its data."""
    hero = bool(data.get("hero"))
    required = ("folder", "product", "productType") + (() if hero else ("version",))
    missing = [key for key in required if data.get(key) in (None, "")]
    if missing:
        raise ValueError(f"instance '{name}' lacks {', '.join(missing)} in its data")
    version = data.get("version")
    if hero:
        if version not in (None, HERO_VERSION):
            raise ValueError(f"instance '{name}' is a hero publish (version {HERO_VERSION}) "
                             f"but has version {version}; leave it out")
        version = HERO_VERSION
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError(f"instance '{name}': version must be a whole number, not {version!r}")
    return Target(folder=data["folder"], product=data["product"], version=version,
                  product_type=data["productType"], task=data.get("task"),
                  links=tuple(data.get("links") or ()))


def representations_of(name: str, items: Any) -> list[tuple[str, list[Path]]]:
    """``[(name, files)]`` from ``[{"name": ..., "files": [...]}]``."""
    if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get("files"), list) for item in items):
        raise TypeError(f"instance '{name}': representations must be a list of "
                        '{"name", "files": [paths]}')
    return [(str(item.get("name") or ""), [Path(f) for f in item["files"]]) for item in items]
