"""A fresh process that shows a window and reports its first paint, then exits.

``bare``: a plain PySide6 ``QMainWindow``; ``widgets``: the widget classes the tool's
first screen uses, laid out, with none of the tool's code (what PySide6 alone costs for
such a screen: the floor); ``app``: ``support-tool`` itself, its whole start from the
command line, with the profiles in ``SUPPORT_TOOL_HOME``; ``demo``: ``support-tool --demo``.

For the tool, "painted" counts only when the Close session form is live at that paint:
the login field shown, enabled, editable and holding the focus, so that a key typed then
lands in it; otherwise the child says ``painted unusable`` and the benchmark fails.

Qt is imported inside the functions: for the tool, Qt must load when ``support-tool``
loads it (after its Qt-free core), or the figure would measure another start.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow


def _first_paint_spy(window: Any = None) -> Any:
    """An event filter that prints ``painted`` at the window's first paint and exits; given
    the tool's window, it checks first that the form is live."""
    from PySide6.QtCore import QEvent, QObject

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                print("painted" if window is None or _live(window) else "painted unusable")
                sys.stdout.flush()
                os._exit(0)  # measured: start to first paint; nothing after matters
            return False

    return FirstPaint()


def _live(window: Any) -> bool:
    login = window.form.login
    return bool(
        login.isVisible()
        and login.isEnabled()
        and not login.isReadOnly()
        and window.focusWidget() is login
    )


def _widgets_only() -> QMainWindow:
    from PySide6.QtGui import QAction, QKeySequence, QShortcut
    from PySide6.QtWidgets import (
        QCheckBox,
        QComboBox,
        QFormLayout,
        QFrame,
        QLabel,
        QLineEdit,
        QMainWindow,
        QPlainTextEdit,
        QProgressBar,
        QPushButton,
        QTabWidget,
        QToolButton,
        QVBoxLayout,
        QWidget,
    )

    window = QMainWindow()
    central = QWidget()
    column = QVBoxLayout(central)
    tabs = QTabWidget()
    page = QWidget()
    form = QFormLayout(page)
    for n in range(4):
        form.addRow(QLabel(f"Field {n}"), QLineEdit())
    for widget in (QComboBox(), QCheckBox("Clear history"), QPushButton("Close session")):
        form.addRow(widget)
    for widget in (QProgressBar(), QFrame(), QPlainTextEdit(), QToolButton()):
        form.addRow(widget)
    tabs.addTab(page, "Close session")
    tabs.addTab(QWidget(), "Terminals")
    tabs.addTab(QWidget(), "History")
    column.addWidget(QLabel("banner"))
    column.addWidget(tabs)
    window.setCentralWidget(central)
    menu = window.menuBar().addMenu("File")
    quit_action = QAction("Quit", window)
    quit_action.setShortcut(QKeySequence("Ctrl+Q"))
    menu.addAction(quit_action)
    QShortcut(QKeySequence("Ctrl+L"), window)
    window.statusBar()
    window.resize(980, 720)
    return window


def _spy_on_the_tool(demo: bool) -> int:
    """Run ``support-tool [--demo]`` with the spy on its main window, importing in the
    order the tool's own start does (its Qt-free core, then Qt and the window)."""
    from support_tool.cli import commands, window

    window.load_core_before_qt(demo)
    from support_tool.gui.main_window import MainWindow

    show = MainWindow.show
    spies = []

    def show_with_spy(window: MainWindow) -> None:
        spies.append(_first_paint_spy(window))
        window.installEventFilter(spies[-1])
        show(window)

    MainWindow.show = show_with_spy  # type: ignore[method-assign]
    return commands.main(["--demo"] if demo else [])


def main() -> None:
    mode = sys.argv[1]
    if mode in ("app", "demo"):
        sys.exit(_spy_on_the_tool(demo=mode == "demo"))
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    spy = _first_paint_spy()
    if mode == "bare":
        window = QMainWindow()
        window.resize(980, 720)
    else:
        window = _widgets_only()
    window.installEventFilter(spy)
    window.show()
    app.exec()


if __name__ == "__main__":
    main()
