"""The main window's menus: File (profiles, export, verify, quit) and Help (logs, about)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from support_tool.config import paths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from support_tool.gui.main_window import MainWindow


def build_menus(window: MainWindow) -> None:
    """The File and Help menus, their actions connected to the window's."""
    file_menu = window.menuBar().addMenu("&File")
    profiles = QAction("&Profiles and secrets…", window)
    profiles.setShortcut(QKeySequence("Ctrl+,"))
    profiles.triggered.connect(window.open_profiles)
    verify = QAction("&Verify audit history", window)
    verify.triggered.connect(lambda: window.verify_history(report_intact=True))
    export = QAction("&Export history…", window)
    export.triggered.connect(lambda: window.history_view().ask_export())
    quit_action = QAction("&Quit", window)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(window.close)
    for action in (profiles, export, verify):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(quit_action)
    help_menu = window.menuBar().addMenu("H&elp")  # Alt+H is the History tab
    logs = QAction("Open &log folder", window)
    logs.triggered.connect(lambda: open_log_folder())
    about = QAction("&About", window)
    about.triggered.connect(lambda: show_about(window, window.runtime.where))
    help_menu.addAction(logs)
    help_menu.addAction(about)


def open_log_folder() -> None:
    """The log folder in the desktop's file manager. QUrl and QDesktopServices (and their
    enums, ~5 ms) load when it is asked for, not before the window's first paint."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir())))


def show_about(parent: QWidget, where: str) -> None:
    """The version, the audit store in use (the embedded file or the team store) and the
    logs: what support asks for first."""
    from PySide6.QtWidgets import QMessageBox  # when asked for, not before the first paint

    from support_tool import __version__

    QMessageBox.about(
        parent,
        "About support-tool",
        f"support-tool {__version__}\nCloses stuck player game sessions through the "
        f"provider's Close Session API.\n\nAudit trail: {where}\n"
        f"Logs: {paths.log_dir()}",
    )
