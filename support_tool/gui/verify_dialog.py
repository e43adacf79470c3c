"""The result of *Verify audit history*, kept on screen with a *Copy* button.

The chain head's seal is only worth something when it is noted somewhere else (a ticket),
so it must be copyable from the window, not flash by in the status bar; the anchor line is
the same head in the form ``support-tool history verify --anchor`` checks later.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from support_tool.audit.events import ChainReport
from support_tool.gui.style import outcome_colour
from support_tool.provider.outcome import Outcome

if TYPE_CHECKING:
    from support_tool.gui.main_window import MainWindow

log = logging.getLogger(__name__)

COPIED_FEEDBACK_MS = 2000


def verify_history(window: MainWindow, report_intact: bool) -> None:
    """Check the audit history's hash chain on a worker; the window warns if it was
    altered, and shows the result when asked for (``report_intact``)."""
    store = window.runtime.history

    def done(report: ChainReport) -> None:
        window.history_report = report
        window.tamper_banner.setVisible(not report.ok)
        if not report.ok:
            window.tamper_banner.setText(report.describe())
            window.store_watch.check()  # a damaged file takes no more attempts
            log.error("audit history verification failed: %s", report.problem)
        if report_intact:  # asked for: the result stays up, with the seal to copy
            window.statusBar().showMessage(report.describe(), 20_000)
            dialog = VerifyDialog(report, window.runtime.where, window)
            window.verify_dialog = dialog
            dialog.open()

    window.jobs.submit(store.verify, done, window._background_error)


def verify_text(report: ChainReport, history: str, at: datetime) -> str:
    """What *Copy* puts on the clipboard: enough for a ticket on its own. ``history`` is
    the store in words (the embedded file, or the team store)."""
    verdict = "intact" if report.ok else "ALTERED"
    lines = [
        f"Audit store: {history}",
        f"Verified at: {at:%Y-%m-%d %H:%M:%S} UTC ({at.astimezone():%Y-%m-%d %H:%M:%S} local time)",
        f"Result: {verdict}",
        f"Sealed events verified: {report.checked:,}",
        f"Chain head seal: {report.head_seal}",
    ]
    if report.anchor():
        lines.append(f"Anchor: {report.anchor()}")
    if not report.ok:
        lines.append(f"Problem: {report.problem}")
    return "\n".join(lines)


class VerifyDialog(QDialog):
    def __init__(self, report: ChainReport, history: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit history verified" if report.ok else "Audit history ALTERED")
        self.report = report
        self.text = verify_text(report, history, datetime.now(UTC))
        verdict = QLabel(report.describe() if not report.ok else "The audit history is intact.")
        verdict.setWordWrap(True)
        colour = outcome_colour(Outcome.SUCCESS if report.ok else Outcome.TRANSPORT_FAILURE)
        verdict.setStyleSheet(f"color: {colour.name()}; font-weight: bold;")
        self.seal = QLineEdit(report.head_seal)
        self.seal.setReadOnly(True)
        self.seal.setAccessibleName("Chain head seal")
        self.seal.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.seal.setMinimumWidth(self.seal.fontMetrics().horizontalAdvance("0" * 66))
        self.anchor = _selectable(report.anchor())  # wrapped: the whole line stays in view
        self.anchor.setAccessibleName("Anchor line")
        self.anchor.setFont(self.seal.font())
        self.count = QLabel(f"{report.checked:,}")
        self.count.setAccessibleName("Sealed events verified")
        form = QFormLayout()
        form.addRow("Audit store", _selectable(history))
        form.addRow("Sealed events verified", self.count)
        form.addRow("Chain head seal", self.seal)
        form.addRow("Anchor line", self.anchor)
        hint = QLabel(
            "Paste the anchor line somewhere else (a ticket): "
            "support-tool history verify --anchor LINE later reveals even a rewrite of "
            "every seal up to it."
        )
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy = buttons.addButton("&Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy.setAccessibleName("Copy")
        self.copy.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        self._copied = QTimer(self)
        self._copied.setSingleShot(True)
        self._copied.setInterval(COPIED_FEEDBACK_MS)
        self._copied.timeout.connect(lambda: self.copy.setText("&Copy"))
        layout = QVBoxLayout(self)
        layout.addWidget(verdict)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        # Wrapped lines need their height at this width; Qt's minimum would ignore it.
        self.setMinimumSize(self.sizeHint())

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)
        self.copy.setText("Copied ✓")
        self._copied.start()


def _selectable(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
