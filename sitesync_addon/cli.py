"""The ``sitesync`` command line."""
from __future__ import annotations

import contextlib
import errno
import importlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sitesync_addon.errors import SiteSyncError
from sitesync_addon.launch_hooks.base import DEFAULT_WAIT_TIMEOUT, LaunchError

if TYPE_CHECKING:
    from sitesync_addon.api import SiteSyncApi
    from sitesync_addon.client import ServerClient

console = Console()
err_console = Console(stderr=True, soft_wrap=True)
# Errors the CLI prints as one line.
FRIENDLY_ERRORS = (SiteSyncError, ValueError, OSError)
# Top-level modules of the `server` extra: their absence means the extra is missing.
SERVER_EXTRA_MODULES = frozenset({"fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic",
                                  "psycopg"})


def _say(message: str) -> None:
    """Print user text literally: rich markup would eat anything in square brackets."""
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def _fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.exit(1)


def friendly_errors(func: Callable) -> Callable:
    """Turn SiteSync errors into a one-line message and exit code 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FRIENDLY_ERRORS as exc:
            _fail(str(exc))

    return wrapper


def _missing_server_extra(exc: ModuleNotFoundError, command: str) -> NoReturn:
    """One line naming the extra when ``exc`` is a module of it; else the bug it is."""
    if (exc.name or "").partition(".")[0] not in SERVER_EXTRA_MODULES:
        raise exc
    _fail(f"`sitesync {command}` needs the server extra ({exc.name} is not installed): "
          "pip install 'sitesync[server]'")


def _require_server_extra(command: str) -> None:
    try:
        for module in ("server_addon.app", "server_addon.serve"):
            importlib.import_module(module)
    except ModuleNotFoundError as exc:
        _missing_server_extra(exc, command)


def _text(value: Any) -> Text:
    """A table cell shown literally (a plain str cell is parsed as markup)."""
    return value if isinstance(value, Text) else Text(str(value))


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _show_list(items: Sequence[Mapping[str, Any]], as_json: bool, columns: tuple[str, ...],
               row: Callable[[Any], tuple[str | Text, ...]]) -> None:
    """JSON for scripts, a table for people."""
    if as_json:
        _print_json(items)
        return
    table = Table(*columns)
    for item in items:
        table.add_row(*map(_text, row(item)))
    console.print(table)


@click.group()
@click.option("--server-url", envvar="SITESYNC_SERVER_URL", help="SiteSync server URL.")
@click.option("--api-key", envvar="SITESYNC_API_KEY", help="API key for the server.")
@click.pass_context
def main(ctx: click.Context, server_url: str | None, api_key: str | None) -> None:
    """SiteSync: keep published files available on every site that needs them."""
    ctx.obj = {"server_url": server_url, "api_key": api_key}


def _client(ctx: click.Context) -> ServerClient:
    from sitesync_addon.client import ServerClient

    return ServerClient(ctx.obj["server_url"], ctx.obj["api_key"])


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--database-url", envvar="SITESYNC_DATABASE_URL",
              help="SQLAlchemy URL; default: SQLite in the user data dir.")
@friendly_errors
def server(host: str, port: int, database_url: str | None) -> None:
    """Run the SiteSync server (migrates the database first)."""
    _require_server_extra("server")
    from server_addon import create_app
    from server_addon.serve import bind_socket, uvicorn_server

    # Bind first: a port in use must fail before a banner is printed or a key created.
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        _fail(_bind_error(host, port, exc))
    try:
        app = create_app(database_url)
    except ModuleNotFoundError as exc:  # e.g. psycopg for a PostgreSQL URL
        sock.close()
        _missing_server_extra(exc, "server")
    if app.state.generated_admin_key:
        console.print("[bold yellow]Created the first admin API key (shown once):[/] "
                      f"{escape(app.state.generated_admin_key)}", highlight=False,
                      soft_wrap=True)  # one line, so the key can be copied whole
    _say(f"SiteSync server on http://{host}:{port} ({app.state.db.engine.dialect.name})")
    # uvicorn re-raises the SIGINT it handled after shutting down.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn_server(app, host, port).run(sockets=[sock])
    console.print("server stopped")


def _bind_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is in use by another program; stop it or choose "
                "another port with --port")
    if exc.errno == errno.EACCES:
        return (f"not allowed to listen on port {port} on {host}; choose a port above 1023 "
                "with --port")
    return f"cannot listen on {host}:{port} ({exc.strerror}); check --host and --port"


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly_errors
def providers(as_json: bool) -> None:
    """List the installed storage providers, and plugins that failed to load."""
    from sitesync_addon.providers.registry import registry

    loaded = registry()
    items = [{"code": info.code, "title": info.title, "version": info.version,
              "origin": info.origin, "module": info.provider.__module__,
              "icon": str(info.provider.icon) if info.provider.icon else None, "error": None}
             for info in sorted(loaded.providers.values(), key=lambda i: i.code)]
    items += [{"code": None, "title": broken.name, "version": None, "origin": broken.origin,
               "module": None, "icon": None, "error": broken.error}
              for broken in loaded.broken]
    _show_list(items, as_json, ("code", "title", "version", "origin", "status"),
               lambda i: (i["code"] or "-", i["title"], i["version"] or "-", i["origin"],
                          Text(f"broken: {i['error']}", style="red") if i["error"] else "ok"))


@main.group()
def keys() -> None:
    """Manage API keys (needs an admin key)."""


@keys.command("create")
@click.option("--role", type=click.Choice(["admin", "service", "artist"]), required=True)
@click.option("--project", "projects", multiple=True,
              help="Limit the key to this project (repeat for more).")
@click.option("--name", default="api key", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def keys_create(ctx: click.Context, role: str, projects: tuple[str, ...], name: str,
                as_json: bool) -> None:
    """Create a key; the plain key is printed this once."""
    created = _client(ctx).keys.create(name, role, list(projects) or None)
    if as_json:
        _print_json(created)
    else:
        _say(created["key"])
        err_console.print(f"key {created['id']} ({role}); store it now, it is not shown again",
                          markup=False, highlight=False)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """List keys (never the keys themselves)."""
    _show_list(_client(ctx).keys.list(), as_json, ("id", "name", "role", "projects", "revoked"),
               lambda key: (key["id"], key["name"], key["role"],
                            ", ".join(key["projects"] or ["(all)"]),
                            "yes" if key["revokedAt"] else ""))


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
@friendly_errors
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key by id."""
    _client(ctx).keys.revoke(key_id)
    _say(f"revoked {key_id}")


@main.group()
def project() -> None:
    """Manage projects."""


@project.command("create")
@click.argument("name")
@click.option("--root", "roots", multiple=True, required=True, metavar="NAME=PATH",
              help="A root for this platform, e.g. work=/mnt/work (repeat for more).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def project_create(ctx: click.Context, name: str, roots: tuple[str, ...],
                   as_json: bool) -> None:
    """Create a project with its roots on this platform."""
    from sitesync_addon.platform import current_platform

    parsed: dict[str, dict[str, str]] = {}
    for item in roots:
        root_name, sep, path = item.partition("=")
        if not sep or not root_name or not path:
            raise click.BadParameter(f"'{item}' is not NAME=PATH", param_hint="--root")
        parsed[root_name] = {current_platform(): path}
    created = _client(ctx).projects.create(name, parsed)
    if as_json:
        _print_json(created)
    else:
        _say(f"created project {name} ({created['id']})")


@project.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def project_list(ctx: click.Context, as_json: bool) -> None:
    """List the projects this key may use."""
    _show_list(_client(ctx).projects.list(), as_json, ("name", "roots"),
               lambda item: (item["name"], json.dumps(item["roots"])))


def _addon(ctx: click.Context, site_id: str | None = None) -> SiteSyncApi:
    from sitesync_addon.api import SiteSyncApi

    return SiteSyncApi(ctx.obj["server_url"], ctx.obj["api_key"], site_id)


def _check_scope(project: str | None, site_id: str | None) -> None:
    if site_id and not project:
        raise click.UsageError("--site-id needs --project")


@main.group()
def settings() -> None:
    """Read and write SiteSync settings (studio, project overrides, site scope)."""


@settings.command("get")
@click.option("--project", help="That project's overrides (no --project: studio settings).")
@click.option("--site-id", help="With --project: that local site's settings.")
@click.option("--resolved", is_flag=True, help="With --project: the effective settings.")
@click.pass_context
@friendly_errors
def settings_get(ctx: click.Context, project: str | None, site_id: str | None,
                 resolved: bool) -> None:
    """Print settings as JSON."""
    settings = _client(ctx).settings
    _check_scope(project, site_id)
    if resolved:
        if not project:
            raise click.UsageError("--resolved needs --project")
        _print_json(settings.resolved(project, site_id))
    elif project and site_id:
        _print_json(settings.site(project, site_id))
    else:
        _print_json(settings.project(project) if project else settings.studio())


@settings.command("set")
@click.option("--project", help="Set that project's overrides (no --project: studio).")
@click.option("--site-id", help="With --project: the file holds that site's local_setting.")
@click.option("--file", "path", required=True, type=click.File("r"),
              help="A JSON file ('-' for standard input).")
@click.pass_context
@friendly_errors
def settings_set(ctx: click.Context, project: str | None, site_id: str | None,
                 path: Any) -> None:
    """Replace settings with the JSON in --file (validated by the server)."""
    try:
        data = json.load(path)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not valid JSON: {exc}") from None
    settings = _client(ctx).settings
    _check_scope(project, site_id)
    if project and site_id:
        settings.put_site(project, site_id, data)
    elif project:
        settings.put_project(project, data)
    else:
        settings.put_studio(data)
    _say("settings saved")


@main.command()
@click.argument("project")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--folder", required=True, help="Folder path, e.g. shots/sh010.")
@click.option("--product", required=True)
@click.option("--version", "version_number", required=True, type=int)
@click.option("--representation", required=True, help="Representation name, e.g. exr.")
@click.option("--json", "as_json", is_flag=True, help="Print the new representation as JSON.")
@click.pass_context
@friendly_errors
def publish(ctx: click.Context, project: str, files: tuple[Path, ...], folder: str,
            product: str, version_number: int, representation: str, as_json: bool) -> None:
    """Copy FILES into the active site's root, register them and stamp their sites (through
    SiteSync's pyblish publish plugins)."""
    import logging

    from sitesync_addon.publish import PUBLISHED_KEY, PublishFailed, run_publish

    for path in files:
        if path.is_dir():
            _fail(f"{path} is a directory, not a file; pass the files in it instead, "
                  f"e.g. {path / '*'}")

    logging.getLogger("pyblish").addHandler(logging.NullHandler())  # no tracebacks: one line
    try:
        context = run_publish(_addon(ctx), project, [{
            "folder": folder, "product": product, "productType": "generic",
            "version": version_number,
            "representations": [{"name": representation, "files": list(files)}]}])
    except PublishFailed as exc:
        _fail(str(exc))
    [rep] = context[0].data[PUBLISHED_KEY]
    if as_json:
        _print_json({"representationId": rep["id"], **rep})
    else:
        _say(f"published {len(rep['files'])} file(s) as representation {rep['id']}")


@main.command()
@click.argument("project")
@click.option("--local-site", help="Default: this machine's active site.")
@click.option("--remote-site", help="Default: the project's remote site.")
@click.option("--page-length", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="The server's state listing as JSON.")
@click.pass_context
@friendly_errors
def status(ctx: click.Context, project: str, local_site: str | None, remote_site: str | None,
           page_length: int, as_json: bool) -> None:
    """Show the sync state of a project's representations for a site pair."""
    from sitesync_addon.status import SiteSyncStatus

    addon = _addon(ctx)
    _require_sync_enabled(addon, project)
    local_site = local_site or addon.get_active_site(project)
    remote_site = remote_site or addon.get_remote_site(project)
    page = addon.client.state.page(project, local_site, remote_site, pageLength=page_length)
    if as_json:
        _print_json(page)
        return
    table = Table(title=_text(f"{project}: {page['total']} representations"))
    for header in ("folder", "product", "version", "representation", "files", "priority",
                   local_site, remote_site):
        table.add_column(_text(header))
    for item in page["representations"]:
        sides = [f"{SiteSyncStatus(item[k]['status']).name} "
                 f"{item[k]['progress'] * 100:.0f}%" for k in ("localStatus", "remoteStatus")]
        table.add_row(*map(_text, (item["folder"], item["product"], item["version"],
                                   item["representation"], item["fileCount"], item["priority"],
                                   *sides)))
    console.print(table)


def _sync_off(project: str, consequence: str = "") -> str:
    saved = f"{project}.json"
    return (f"site sync is not enabled for project '{project}'{consequence}; enable it with "
            f"\"enabled\": true in its settings (sitesync settings get --project {project} > "
            f"{saved}, edit it, then sitesync settings set --project {project} --file {saved})")


def _require_sync_enabled(addon: SiteSyncApi, project: str) -> dict[str, Any]:
    """The project's settings; one line and exit 1 when sync is off for it."""
    settings: dict[str, Any] = addon.get_sync_project_setting(project, cached=False)  # 404s
    if not addon.is_project_enabled(project):
        _fail(_sync_off(project))
    return settings


@main.command("add-site")
@click.argument("project")
@click.argument("representation_id")
@click.argument("site")
@click.option("--force", is_flag=True, help="Reset the site if it is there already.")
@click.pass_context
@friendly_errors
def add_site(ctx: click.Context, project: str, representation_id: str, site: str,
             force: bool) -> None:
    """Queue a representation for a site."""
    addon = _addon(ctx)
    configured = set(_require_sync_enabled(addon, project)["sites"])  # studio, local, local id
    if site not in configured:
        # Other machines' local site ids: those with site-scope settings in the project.
        configured |= set(addon.client.state.user_sites(project))
    if site not in configured:
        _fail(f"site '{site}' is not configured in project '{project}'; its sites: "
              f"{', '.join(sorted(configured))}")
    addon.add_site(project, representation_id, site, force=force)
    _say(f"queued {representation_id} for {site}")


@main.command("remove-site")
@click.argument("project")
@click.argument("representation_id")
@click.argument("site")
@click.option("--remove-local-files", is_flag=True, help="Also delete this machine's copies.")
@click.pass_context
@friendly_errors
def remove_site(ctx: click.Context, project: str, representation_id: str, site: str,
                remove_local_files: bool) -> None:
    """Remove a site from a representation."""
    _addon(ctx).remove_site(project, representation_id, site,
                            remove_local_files=remove_local_files)
    _say(f"removed {site} from {representation_id}")


@main.command()
@click.argument("project")
@click.argument("representation_id")
@click.option("--site", help="The site to queue again.")
@click.option("--side", type=click.Choice(["local", "remote"]), help="Or: the active or "
              "remote site.")
@click.option("--file-id", help="Only this file.")
@click.pass_context
@friendly_errors
def reset(ctx: click.Context, project: str, representation_id: str, site: str | None,
          side: str | None, file_id: str | None) -> None:
    """Queue a representation (or one file) on a site again, clearing its retries."""
    if not site and not side:
        raise click.UsageError("give --site or --side")
    _addon(ctx).reset_site_on_representation(project, representation_id, side=side,
                                             file_id=file_id, site_name=site)
    _say("queued again")


def _pause_command(paused: bool) -> Callable:
    verb = "pause" if paused else "unpause"

    @click.option("--project", help="Only this project.")
    @click.option("--representation", help="Only this representation (with --site).")
    @click.option("--site", help="The site of --representation.")
    @click.pass_context
    @friendly_errors
    def command(ctx: click.Context, project: str | None, representation: str | None,
                site: str | None) -> None:
        addon = _addon(ctx)
        if representation:
            if not (project and site):
                raise click.UsageError("--representation needs --project and --site")
            getattr(addon, f"{verb}_representation")(project, representation, site)
            target = f"representation {representation} on {site}"
        elif project:
            getattr(addon, f"{verb}_project")(project)
            target = f"project {project}"
        else:
            getattr(addon, f"{verb}_server")()
            target = "every transfer"
        _say(f"{verb}d {target}")

    command.__doc__ = f"{verb.capitalize()} every transfer, a project's, or a representation's."
    return main.command(verb)(command)


_pause_command(True)
_pause_command(False)


@main.command()
@click.argument("project")
@click.argument("representation_id")
@click.argument("site")
@click.argument("priority", type=click.IntRange(1, 1000))
@click.pass_context
@friendly_errors
def priority(ctx: click.Context, project: str, representation_id: str, site: str,
             priority: int) -> None:
    """Set a representation's priority on a site (higher moves first)."""
    _addon(ctx).update_db(project, representation_id, site, priority=priority)
    _say(f"priority {priority}")


@main.command()
@click.argument("project")
@click.argument("site")
@click.option("--reset-missing", is_flag=True, help="Queue files recorded OK but missing.")
@click.pass_context
@friendly_errors
def validate(ctx: click.Context, project: str, site: str, reset_missing: bool) -> None:
    """Record files present on SITE as OK (and requeue missing ones)."""
    counts = _addon(ctx).validate_project(project, site, reset_missing=reset_missing)
    _say(f"{counts['added']} file(s) recorded as present, {counts['reset']} requeued")


@main.command()
@click.argument("project")
@click.argument("site")
@click.pass_context
@friendly_errors
def clear(ctx: click.Context, project: str, site: str) -> None:
    """Remove SITE from every representation and delete its local files."""
    removed = _addon(ctx).clear_project(project, site)
    _say(f"cleared {site}: {removed} file(s) deleted")


@main.command()
@click.option("--active_site", "--active-site", "active_site", required=True,
              help="The site this service moves files for ('local': this machine).")
@click.option("--once", is_flag=True, help="Run until nothing is left to move, then exit "
              "(non-zero if anything FAILED).")
@click.option("--site-id", envvar="SITESYNC_SITE_ID", help="This machine's local site id.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--quiet", is_flag=True, help="No progress bars, only the summary.")
@click.pass_context
@friendly_errors
def syncservice(ctx: click.Context, active_site: str, once: bool, site_id: str | None,
                concurrency: int, quiet: bool) -> None:
    """Run the sync service for a site until SIGINT/SIGTERM (or, with --once, until idle)."""
    from sitesync_addon.service_runner import run_service

    addon = _addon(ctx, site_id)
    for project in _disabled_projects(addon):
        err_console.print(_sync_off(project, " (its files are not moved)"), markup=False,
                          highlight=False)
    ok = run_service(addon, active_site, once=once, concurrency=concurrency, console=console,
                     show_progress=not quiet)
    if not ok:
        sys.exit(2)


def _disabled_projects(addon: SiteSyncApi) -> list[str]:
    """Projects this key sees with sync off; none when the server cannot tell now (a service
    outlives server outages: it waits and carries on)."""
    try:
        every = addon.sync_project_settings  # resolved settings of every project, by name
    except SiteSyncError:
        return []
    return [name for name, settings in every.items()
            if not (addon.enabled and settings.get("enabled"))]


@main.command()
@click.option("--project", required=True)
@click.option("--folder", required=True, help="Folder path, e.g. shots/sh010.")
@click.option("--task", required=True)
@click.option("--app", required=True, help="Application as group/variant, e.g. nuke/15.")
@click.option("--workfile", type=click.Path(dir_okay=False, path_type=Path),
              help="Open this file (no workfile is fetched).")
@click.option("--launch-type", default="local", show_default=True)
@click.option("--timeout", "wait_timeout", default=DEFAULT_WAIT_TIMEOUT, show_default=True,
              type=click.FloatRange(min=0), help="Seconds to wait for files to download.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
@friendly_errors
def launch(ctx: click.Context, project: str, folder: str, task: str, app: str,
           workfile: Path | None, launch_type: str, wait_timeout: float,
           command: tuple[str, ...]) -> None:
    """Run the launch hooks for a task, then start COMMAND (after --) with the workfile as
    its last argument; exits with the application's exit code."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from sitesync_addon.launch_hooks.runner import launch_application, prepare_launch

    bars: dict[str, Any] = {}
    try:
        with Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                      TaskProgressColumn(),
                      console=err_console, transient=True) as shown:
            def progress(label: str, fraction: float) -> None:
                if label not in bars:
                    bars[label] = shown.add_task(label, total=1.0)
                shown.update(bars[label], completed=fraction)

            result = prepare_launch(
                _addon(ctx), project=project, folder=folder, task=task, app=app,
                workfile=workfile, launch_type=launch_type, wait_timeout=wait_timeout,
                log=lambda message: shown.console.print(message, markup=False,
                                                        highlight=False),
                progress=progress)
        if not command:
            # Plain echo: a script reads this path, and rich would wrap a long one.
            click.echo(f"ready: {result.context.workfile_path or 'no workfile'}")
            return
        sys.exit(launch_application(result, command))
    except LaunchError as exc:
        _fail(str(exc))


@main.command()
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the demo keeps its database and sites; default: a temp folder.")
@friendly_errors
def demo(workdir: Path | None) -> None:
    """Run a self-contained demo on embedded SQLite."""
    _require_server_extra("demo")
    from sitesync_addon.demo import run_demo

    run_demo(console, workdir)


if __name__ == "__main__":
    main()
