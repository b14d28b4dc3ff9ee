"""Finding launch hooks in folders, running them, then starting the application.

The workfile reaches the application as the LAST argument of its command (how Maya, Nuke,
Houdini and Blender open a file); the context travels in ``SITESYNC_*`` variables.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sitesync_addon.launch_hooks.base import (DEFAULT_WAIT_TIMEOUT, LaunchContext, LaunchError,
                                              PreLaunchHook, log_message, no_progress)

if TYPE_CHECKING:
    from sitesync_addon.api import SiteSyncApi

HOOKS_PATH = str(Path(__file__).parent)  # SiteSync's own launch hooks


@dataclass(frozen=True)
class BrokenHook:
    name: str  # the module's file, e.g. ``my_hook.py``
    path: str
    error: str


@dataclass
class Discovery:
    hooks: list[type[PreLaunchHook]] = field(default_factory=list)
    broken: list[BrokenHook] = field(default_factory=list)


@dataclass
class LaunchResult:
    context: LaunchContext
    hooks: list[str]  # the hooks that ran, in order
    broken: list[BrokenHook]
    command: list[str]  # what was started, workfile included (empty: nothing yet)
    returncode: int | None  # the application's exit code; None without a command


def _package_name(folder: Path) -> str | None:
    """The dotted name under which ``folder`` is an importable package, if it is one."""
    parts: list[str] = []
    current = folder
    while (current / "__init__.py").is_file():
        parts.insert(0, current.name)
        current = current.parent
    if not parts:
        return None
    name = ".".join(parts)
    try:
        spec = importlib.util.find_spec(name)
    except Exception:  # noqa: BLE001 - a parent that fails to import: load by file path
        return None
    locations = spec.submodule_search_locations if spec else None
    if not locations or folder not in {Path(p).resolve() for p in locations}:
        return None  # another package of that name, or not on sys.path
    return name


def _import_from_file(path: Path) -> ModuleType:
    """Import a module by its file, under a name unique to its folder (imported once)."""
    digest = hashlib.sha1(str(path.parent).encode()).hexdigest()[:12]
    name = f"sitesync_launch_hooks_{digest}.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: dataclasses and pickling look it up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _folders(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    return list(dict.fromkeys(Path(p).resolve() for p in items))


def discover_hooks(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> Discovery:
    """Every ``PreLaunchHook`` subclass defined in the modules of the folders ``paths``.

    A folder that is an importable package (the built-in one) is imported by its package
    name, any other folder by file path; either way a module is imported once per process.
    A module that fails to import is reported in ``broken`` and skipped.
    """
    found = Discovery()
    for folder in _folders(paths):
        if not folder.is_dir():
            found.broken.append(BrokenHook(folder.name, str(folder), "not a folder"))
            continue
        package = _package_name(folder)
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                module = (importlib.import_module(f"{package}.{path.stem}") if package
                          else _import_from_file(path))
            except Exception as exc:  # noqa: BLE001 - one broken hook must not stop a launch
                found.broken.append(BrokenHook(path.name, str(path),
                                               f"{type(exc).__name__}: {exc}"))
                continue
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (issubclass(cls, PreLaunchHook) and cls is not PreLaunchHook
                        and cls.__module__ == module.__name__ and cls not in found.hooks):
                    found.hooks.append(cls)
    return found


def prepare_launch(addon: SiteSyncApi, *, project: str, folder: str, task: str, app: str,
                   workfile: str | os.PathLike | None = None, launch_type: str = "local",
                   hook_paths: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
                   env: dict[str, str] | None = None,
                   wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
                   log: Callable[[str], None] = log_message,
                   progress: Callable[[str, float], None] = no_progress) -> LaunchResult:
    """Run the launch hooks that apply to ``app`` and ``launch_type``, by order.

    ``hook_paths`` defaults to SiteSync's own hooks (``HOOKS_PATH``); ``env`` to this process's
    environment. A hook that raises stops the launch with a ``LaunchError`` naming it.
    """
    if not app.split("/", 1)[0]:
        raise LaunchError("give the application as group/variant, e.g. maya/2025")
    context = LaunchContext(
        addon=addon, project=project, folder=folder, task=task, app=app,
        launch_type=launch_type, env={**(os.environ if env is None else env),
                                      "SITESYNC_PROJECT": project, "SITESYNC_FOLDER": folder,
                                      "SITESYNC_TASK": task, "SITESYNC_APP": app},
        workfile_path=Path(workfile) if workfile else None, wait_timeout=wait_timeout,
        log=log, progress=progress)
    found = discover_hooks(HOOKS_PATH if hook_paths is None else hook_paths)
    for broken in found.broken:
        log(f"launch hook {broken.name} is broken and skipped: {broken.error}")
    hooks = sorted((cls for cls in found.hooks if cls.applies_to(context)),
                   key=lambda cls: (cls.order, cls.__name__))
    for cls in hooks:
        try:
            cls().execute(context)
        except LaunchError:
            raise
        except Exception as exc:
            raise LaunchError(f"launch hook {cls.__name__} failed: {exc}") from exc
    return LaunchResult(context, [cls.__name__ for cls in hooks], found.broken, [], None)


def launch_application(result: LaunchResult, command: Sequence[str]) -> int:
    """Start ``command`` with the context's env and workfile, wait, return its exit code."""
    context = result.context
    result.command = [*command, *([str(context.workfile_path)] if context.workfile_path
                                  else [])]
    try:
        process = subprocess.Popen(result.command, env=context.env)
    except OSError as exc:
        raise LaunchError(f"cannot start {command[0]!r}: {exc.strerror or exc}; check the "
                          "application's command") from None
    result.returncode = process.wait()
    return result.returncode


def run_launch(addon: SiteSyncApi, *, command: Sequence[str] = (),
               **options: Any) -> LaunchResult:
    """``prepare_launch(addon, **options)``, then start ``command`` (if given) and wait.

    ``options``: project, folder, task, app (required), workfile, launch_type, hook_paths,
    env, wait_timeout, log, progress.
    """
    result = prepare_launch(addon, **options)
    if command:
        launch_application(result, command)
    return result
