"""The ``sitesync`` command line."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from sitesync_addon.launch_hooks.base import DEFAULT_WAIT_TIMEOUT, LaunchError
from sitesync_addon.server_api import ServerApi, ServerError

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    sys.exit(1)


def friendly_errors(func: Callable) -> Callable:
    """Turn SiteSync errors into a one-line message and exit code 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ServerError, ValueError, OSError) as exc:
            _fail(str(exc))

    return wrapper


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _show_list(items: list[dict], as_json: bool, columns: tuple[str, ...],
               row: Callable[[dict], tuple[str, ...]]) -> None:
    """JSON for scripts, a table for people."""
    if as_json:
        _print_json(items)
        return
    table = Table(*columns)
    for item in items:
        table.add_row(*row(item))
    console.print(table)


@click.group()
@click.option("--server-url", envvar="SITESYNC_SERVER_URL", help="SiteSync server URL.")
@click.option("--api-key", envvar="SITESYNC_API_KEY", help="API key for the server.")
@click.pass_context
def main(ctx: click.Context, server_url: str | None, api_key: str | None) -> None:
    """SiteSync: keep published files available on every site that needs them."""
    ctx.obj = {"server_url": server_url, "api_key": api_key}


def _api(ctx: click.Context) -> ServerApi:
    return ServerApi(ctx.obj["server_url"], ctx.obj["api_key"])


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--database-url", envvar="SITESYNC_DATABASE_URL",
              help="SQLAlchemy URL; default: SQLite in the user data dir.")
@friendly_errors
def server(host: str, port: int, database_url: str | None) -> None:
    """Run the SiteSync server (migrates the database first)."""
    try:
        from server_addon import create_app
        from server_addon.serve import uvicorn_server
    except ImportError:
        _fail("the server needs its extra: pip install 'sitesync[server]'")
    app = create_app(database_url)
    if app.state.generated_admin_key:
        console.print("[bold yellow]Created the first admin API key (shown once):[/] "
                      f"{app.state.generated_admin_key}", highlight=False)
    console.print(f"SiteSync server on http://{host}:{port} "
                  f"({app.state.db.engine.dialect.name})", highlight=False)
    try:
        uvicorn_server(app, host, port).run()
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it handled after shutting down
        pass
    console.print("server stopped")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
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
                          f"[red]broken: {i['error']}[/]" if i["error"] else "ok"))


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
    created = _api(ctx).post("/api/keys", json={"name": name, "role": role,
                                               "projects": list(projects) or None})
    if as_json:
        _print_json(created)
    else:
        console.print(f"{created['key']}", highlight=False)
        err_console.print(f"key {created['id']} ({role}); store it now, it is not shown again")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """List keys (never the keys themselves)."""
    _show_list(_api(ctx).get("/api/keys"), as_json, ("id", "name", "role", "projects", "revoked"),
               lambda key: (key["id"], key["name"], key["role"],
                            ", ".join(key["projects"] or ["(all)"]),
                            "yes" if key["revokedAt"] else ""))


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
@friendly_errors
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key by id."""
    _api(ctx).delete(f"/api/keys/{key_id}")
    console.print(f"revoked {key_id}")


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
    created = _api(ctx).post("/api/projects", json={"name": name, "roots": parsed})
    if as_json:
        _print_json(created)
    else:
        console.print(f"created project [bold]{name}[/] ({created['id']})")


@project.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def project_list(ctx: click.Context, as_json: bool) -> None:
    """List the projects this key may use."""
    _show_list(_api(ctx).get("/api/projects"), as_json, ("name", "roots"),
               lambda item: (item["name"], json.dumps(item["roots"])))


def _addon(ctx: click.Context, site_id: str | None = None) -> Any:
    from sitesync_addon.addon import SiteSyncAddon

    return SiteSyncAddon(ctx.obj["server_url"], ctx.obj["api_key"], site_id)


def _settings_url(addon: Any, project: str | None, site_id: str | None) -> str:
    url = f"/api/{addon.endpoint_prefix}/settings"
    if site_id and not project:
        raise click.UsageError("--site-id needs --project")
    if project:
        url += f"/{project}"
    if site_id:
        url += f"/site/{site_id}"
    return url


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
    addon = _addon(ctx)
    if resolved:
        if not project:
            raise click.UsageError("--resolved needs --project")
        params = {"siteId": site_id} if site_id else None
        _print_json(addon.api.get(f"/api/{addon.endpoint_prefix}/settings/{project}/resolved",
                                  params=params))
        return
    _print_json(addon.api.get(_settings_url(addon, project, site_id)))


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
    addon = _addon(ctx)
    addon.api.put(_settings_url(addon, project, site_id), json=data)
    console.print("settings saved")


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
    """Copy FILES into the studio root, register them and stamp their sites (through
    SiteSync's pyblish publish plugins)."""
    import logging

    from sitesync_addon.publish import PUBLISHED_KEY, PublishFailed, run_publish

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
        console.print(f"published {len(rep['files'])} file(s) as representation {rep['id']}")


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
    local_site = local_site or addon.get_active_site(project)
    remote_site = remote_site or addon.get_remote_site(project)
    page = addon.api.get(f"/api/{addon.endpoint_prefix}/{project}/state", params={
        "localSite": local_site, "remoteSite": remote_site, "pageLength": page_length})
    if as_json:
        _print_json(page)
        return
    table = Table("folder", "product", "version", "representation", "files", "priority",
                  local_site, remote_site, title=f"{project}: {page['total']} representations")
    for item in page["representations"]:
        sides = [f"{SiteSyncStatus(item[k]['status']).name} "
                 f"{item[k]['progress'] * 100:.0f}%" for k in ("localStatus", "remoteStatus")]
        table.add_row(item["folder"], item["product"], str(item["version"]),
                      item["representation"], str(item["fileCount"]), str(item["priority"]),
                      *sides)
    console.print(table)


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
    _addon(ctx).add_site(project, representation_id, site, force=force)
    console.print(f"queued {representation_id} for {site}")


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
    console.print(f"removed {site} from {representation_id}")


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
    console.print("queued again")


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
        console.print(f"{verb}d {target}")

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
    console.print(f"priority {priority}")


@main.command()
@click.argument("project")
@click.argument("site")
@click.option("--reset-missing", is_flag=True, help="Queue files recorded OK but missing.")
@click.pass_context
@friendly_errors
def validate(ctx: click.Context, project: str, site: str, reset_missing: bool) -> None:
    """Record files present on SITE as OK (and requeue missing ones)."""
    counts = _addon(ctx).validate_project(project, site, reset_missing=reset_missing)
    console.print(f"{counts['added']} file(s) recorded as present, {counts['reset']} requeued")


@main.command()
@click.argument("project")
@click.argument("site")
@click.pass_context
@friendly_errors
def clear(ctx: click.Context, project: str, site: str) -> None:
    """Remove SITE from every representation and delete its local files."""
    removed = _addon(ctx).clear_project(project, site)
    console.print(f"cleared {site}: {removed} file(s) deleted")


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
    from sitesync_addon.engine.runner import run_service

    addon = _addon(ctx, site_id)
    ok = run_service(addon, active_site, once=once, concurrency=concurrency, console=console,
                     show_progress=not quiet)
    if not ok:
        sys.exit(2)


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
        with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                      console=err_console, transient=True) as shown:
            def progress(label: str, fraction: float) -> None:
                if label not in bars:
                    bars[label] = shown.add_task(label, total=1.0)
                shown.update(bars[label], completed=fraction)

            result = prepare_launch(
                _addon(ctx), project=project, folder=folder, task=task, app=app,
                workfile=workfile, launch_type=launch_type, wait_timeout=wait_timeout,
                log=lambda message: shown.console.print(message, highlight=False),
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
    from sitesync_addon.demo import run_demo

    run_demo(console, workdir)


if __name__ == "__main__":
    main()
