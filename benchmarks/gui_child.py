"""A fresh process that shows a window and reports its first paint, then exits.

``bare``: a plain PySide6 ``QMainWindow``; ``app``: support-tool's window in demo mode.
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
    from support_tool.gui.main_window import MainWindow
    from support_tool.runtime import open_runtime

    with open_runtime(demo=True) as runtime:
        window = MainWindow(runtime)
        window.installEventFilter(spy)
        window.show()
        app.exec()


if __name__ == "__main__":
    main()
