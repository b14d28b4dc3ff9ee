"""Path templates in both directions, for publishing and for finding files on a site.

A file is recorded with a path template, ``{root[work]}/proj/sh010/plate/v003/a.exr``.
Providers take the same path relative to their site, with the root's name first:
``work/proj/sh010/plate/v003/a.exr``. Publishing lays files out by ``PUBLISH_TEMPLATE``;
hero versions (version ``HERO_VERSION``) live in ``hero`` where others have ``v003``.
"""
from __future__ import annotations

import posixpath
import re

from sitesync_addon.errors import PathEscapesRoot

PUBLISH_TEMPLATE = "{project}/{folder}/{product}/{version_dir}/{filename}"
ROOT_NAME = "work"
HERO_VERSION = 0
HERO_DIR = "hero"
_TEMPLATE = re.compile(r"^\{root\[(?P<root>[^\]]+)\]\}/(?P<rest>.+)$")


def relative_path(path: str) -> str:
    """Normalise a relative POSIX path; refuse ``..``, absolute and drive paths."""
    if not path or path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise PathEscapesRoot(f"path '{path}' is absolute or empty; it must be relative to "
                              "the site root")
    if "\x00" in path or any(part == ".." for part in path.replace("\\", "/").split("/")):
        raise PathEscapesRoot(f"path '{path}' leaves the site root")
    return posixpath.normpath(path.replace("\\", "/"))


def template_to_site_path(file_path: str) -> str:
    """``{root[work]}/a/b.exr`` -> ``work/a/b.exr``, the path providers take."""
    match = _TEMPLATE.match(file_path)
    if match is None:
        raise ValueError(f"'{file_path}' is not a path template like '{{root[work]}}/a/b'")
    return relative_path(f"{match['root']}/{match['rest']}")


def site_path_to_template(site_path: str) -> str:
    """``work/a/b.exr`` -> ``{root[work]}/a/b.exr``, the path a file is recorded with."""
    root, _, rest = relative_path(site_path).partition("/")
    if not rest:
        raise ValueError(f"'{site_path}' names no file below a root")
    return f"{{root[{root}]}}/{rest}"


def version_dir(version: int) -> str:
    """``v003`` for version 3, ``hero`` for the hero version."""
    if version == HERO_VERSION:
        return HERO_DIR
    if version < 1:
        raise ValueError(f"version {version} must be 1 or more ({HERO_VERSION} is the hero "
                         "version)")
    return f"v{version:03d}"


def publish_path(project: str, folder: str, product: str, version: int, filename: str) -> str:
    """The site path of a published file (``work/proj/folder/product/v003/name``)."""
    for label, value in (("folder", folder), ("product", product), ("file name", filename)):
        if ".." in re.split(r"[\\/]", value) or value.startswith(("/", "\\")):
            raise ValueError(f"{label} '{value}' must be relative and must not contain '..'")
    return f"{ROOT_NAME}/" + PUBLISH_TEMPLATE.format(
        project=project, folder=folder.strip("/"), product=product,
        version_dir=version_dir(version), filename=filename)
