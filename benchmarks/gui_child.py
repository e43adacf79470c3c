"""A fresh process that shows a window and reports its first paint, then exits.

``bare``: a plain PySide6 ``QMainWindow``; ``widgets``: the widget classes the tool's
first screen uses, laid out, with none of the tool's code (what PySide6 alone costs for
such a screen); ``app``: support-tool's window in demo mode.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow


class FirstPaint(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            print("painted", flush=True)
            os._exit(0)  # measured: start to first paint; nothing after matters
        return False


def _widgets_only() -> QMainWindow:
    from PySide6.QtGui import QAction, QKeySequence, QShortcut
    from PySide6.QtWidgets import (
        QCheckBox,
        QComboBox,
        QFormLayout,
        QFrame,
        QLabel,
        QLineEdit,
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


def main() -> None:
    app = QApplication(sys.argv[:1])
    spy = FirstPaint()
    if sys.argv[1] == "bare":
        window = QMainWindow()
        window.resize(980, 720)
        window.installEventFilter(spy)
        window.show()
        app.exec()
        return
    if sys.argv[1] == "widgets":
        window = _widgets_only()
        window.installEventFilter(spy)
        window.show()
        app.exec()
        return
    from support_tool.gui.main_window import MainWindow
    from support_tool.ops.runtime import open_runtime

    with open_runtime(demo=True) as runtime:
        window = MainWindow(runtime)
        window.installEventFilter(spy)
        window.show()
        app.exec()


if __name__ == "__main__":
    main()
