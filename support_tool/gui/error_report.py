"""The dialog that shows an unexpected error in plain words (``app.install_error_hook``).

Its own module so that its dialog classes load when there is an error to show, not before
the window's first paint."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from support_tool.config import paths


class ErrorReport(QDialog):
    """An unexpected error in plain words, with the technical report one click away."""

    def __init__(self, summary: str, report: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("support-tool: unexpected error")
        text = QLabel(
            f"Something went wrong: {summary}\n\nThe details were written to the log file "
            f"{paths.log_file()}. If it keeps happening, copy the report and send it to "
            "whoever maintains support-tool. Nothing in it is secret."
        )
        text.setWordWrap(True)
        details = QPlainTextEdit(report)
        details.setReadOnly(True)
        details.setVisible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy report", QDialogButtonBox.ButtonRole.ActionRole)
        show = buttons.addButton("Show details", QDialogButtonBox.ButtonRole.HelpRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(report))
        self.copy = copy
        show.clicked.connect(lambda: details.setVisible(not details.isVisible()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(details, 1)
        layout.addWidget(buttons)
        self.report = report
