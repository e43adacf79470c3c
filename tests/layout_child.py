"""Run in a child process (Qt reads QT_SCALE_FACTOR once, at start): lay out the window's
Terminals tab at its minimum size and at a 1366x768 screen, and print every button whose
text does not fit (JSON). ``python -m tests.layout_child``; a screenshot path is optional."""

from __future__ import annotations

import json
import os
import sys
import time

from PySide6.QtWidgets import QApplication, QPushButton


def clipped(tab: object) -> list[list[object]]:
    from support_tool.gui.terminals_tab import TerminalsTab

    assert isinstance(tab, TerminalsTab)
    found: list[list[object]] = []
    for button in tab.findChildren(QPushButton):
        if button.isVisibleTo(tab) and button.width() < button.sizeHint().width():
            found.append([button.text(), button.width(), button.sizeHint().width()])
    return found


def settle(app: QApplication) -> None:
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        app.processEvents()


def main() -> int:
    from support_tool.gui.main_window import MainWindow
    from support_tool.ops.runtime import open_runtime

    app = QApplication(sys.argv)
    scale = float(os.environ.get("QT_SCALE_FACTOR", "1"))
    report: dict[str, object] = {"scale": scale}
    with open_runtime(demo=True) as runtime:
        window = MainWindow(runtime)
        window.show()
        tab = window.terminals_view()
        window.tabs.setCurrentWidget(tab)
        # the widest texts the buttons ever show
        tab.start_button.setText("Close 100,000 sessions…")
        tab.retry_button.setText("Retry failed (100,000)")
        settle(app)
        window.resize(window.minimumSize())
        settle(app)
        report["minimum"] = [window.width(), window.height()]
        report["clipped_at_minimum"] = clipped(tab)
        window.resize(int(1366 / scale), int(768 / scale))
        settle(app)
        report["screen"] = [window.width(), window.height()]
        report["clipped_at_1366x768"] = clipped(tab)
        if len(sys.argv) > 1:
            window.grab().save(sys.argv[1])
        window.close()
        settle(app)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
