"""The tray: an icon whose menu gathers every tray addon's entries, and their lifecycle.

``tray_init`` and ``tray_menu`` run as the tray is built, ``tray_start`` once it shows, and
``tray_exit`` when the application quits, so addons stop their threads cleanly.
"""
from __future__ import annotations

from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from sitesync_addon.framework.manager import AddonManager
from sitesync_addon.providers.local_drive import LocalDriveProvider


class Tray:
    def __init__(self, manager: AddonManager, app: QApplication) -> None:
        self.manager = manager
        self.app = app
        self.menu = QMenu()
        manager.tray_init()
        manager.tray_menu(self.menu)
        self.menu.addSeparator()
        self.quit_action = QAction("Quit", self.menu)
        self.quit_action.triggered.connect(app.quit)
        self.menu.addAction(self.quit_action)
        self.icon = QSystemTrayIcon(QIcon(str(LocalDriveProvider.icon)))
        self.icon.setToolTip("SiteSync")
        self.icon.setContextMenu(self.menu)
        app.aboutToQuit.connect(self.exit)
        self._exited = False

    def start(self) -> None:
        self.icon.show()
        self.manager.tray_start()

    def exit(self) -> None:
        if not self._exited:
            self._exited = True
            self.manager.tray_exit()
            self.icon.hide()


def run_tray(manager: AddonManager) -> int:
    """Show the tray until Quit; returns the application's exit code."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([])
    app.setQuitOnLastWindowClosed(False)
    tray = Tray(manager, app)
    tray.start()
    return app.exec()
