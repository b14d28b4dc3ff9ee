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

from sitesync_addon.server_api import ServerApi, ServerError

console = Console()
err_console = Console(stderr=True)


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
        import uvicorn

        from server_addon import create_app
    except ImportError:
        _fail("the server needs its extra: pip install 'sitesync[server]'")
    app = create_app(database_url)
    if app.state.generated_admin_key:
        console.print("[bold yellow]Created the first admin API key (shown once):[/] "
                      f"{app.state.generated_admin_key}", highlight=False)
    console.print(f"SiteSync server on http://{host}:{port} "
                  f"({app.state.db.engine.dialect.name})", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


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
    found = _api(ctx).get("/api/keys")
    if as_json:
        _print_json(found)
        return
    table = Table("id", "name", "role", "projects", "revoked")
    for key in found:
        table.add_row(key["id"], key["name"], key["role"],
                      ", ".join(key["projects"] or ["(all)"]),
                      "yes" if key["revokedAt"] else "")
    console.print(table)


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
    found = _api(ctx).get("/api/projects")
    if as_json:
        _print_json(found)
        return
    table = Table("name", "roots")
    for item in found:
        table.add_row(item["name"], json.dumps(item["roots"]))
    console.print(table)


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
