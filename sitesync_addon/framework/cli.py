"""The ``sitesync`` command: SiteSync's commands and those of every installed addon."""
from __future__ import annotations

import sys

import click

from sitesync_addon.errors import SiteSyncError
from sitesync_addon.framework.manager import AddonManager


def build(manager: AddonManager) -> click.Group:
    root = manager.build_cli()

    @root.command()
    def tray() -> None:
        """Run the tray: every addon's tray part, with SiteSync syncing this machine."""
        try:
            from sitesync_addon.framework.tray import run_tray
        except ImportError:
            raise click.ClickException("the tray needs Qt: pip install 'sitesync[tray]'") \
                from None
        manager.initialize()
        for broken in manager.broken:
            click.echo(f"addon '{broken.name}' skipped ({broken.stage}): {broken.error}",
                       err=True)
        sys.exit(run_tray(manager))

    return root


def main() -> None:
    try:
        build(AddonManager())()
    except SiteSyncError as exc:
        # Any addon's command: one line, never a traceback (click.echo prints it literally).
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
