"""The row under the close form while a request is out: a moving bar and the seconds so far,
against the profile's deadline, so a slow provider never looks like a frozen window."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QElapsedTimer, QObject, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar

from support_tool.config.profiles import Profile

BUSY_TICK_MS = 100


class BusyRow:
    """The bar and its label, laid out in ``layout``; hidden until :meth:`start`."""

    def __init__(self, profile: Callable[[], Profile | None], parent: QObject) -> None:
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(160)
        self.label = QLabel()
        self.label.setAccessibleName("Request progress")
        self.layout = QHBoxLayout()
        self.layout.addWidget(self.bar)
        self.layout.addWidget(self.label, 1)
        self.bar.setVisible(False)
        self._profile = profile
        self._elapsed = QElapsedTimer()
        self._tick = QTimer(parent)
        self._tick.setInterval(BUSY_TICK_MS)
        self._tick.timeout.connect(self.update)

    def start(self) -> None:
        self.bar.setVisible(True)
        self._elapsed.start()
        self._tick.start()
        self.update()

    def stop(self) -> None:
        self._tick.stop()
        self.bar.setVisible(False)
        self.label.setText("")

    def update(self) -> None:
        seconds = self._elapsed.elapsed() / 1000
        profile = self._profile()
        limit = f" (gives up after {profile.timeout:g} s)" if profile else ""
        self.label.setText(f"Waiting for the provider… {seconds:.1f} s{limit}")
