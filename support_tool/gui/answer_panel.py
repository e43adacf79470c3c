"""The answer panel: what happened, in words and colour, and what to do next.

*Details* shows the request as sent (the secret replaced by •••) and the raw answer;
*Copy details* puts the same redacted text on the clipboard for a ticket to the provider.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from support_tool.gui.style import outcome_colour
from support_tool.ops.close import Closed
from support_tool.provider.outcome import Outcome

_HEADLINES = {
    Outcome.SUCCESS: "Session closed",
    Outcome.REFUSED: "Refused by the provider",
    Outcome.TRANSPORT_FAILURE: "Could not reach the provider",
    Outcome.INVALID_INPUT: "Not sent: invalid input",
    Outcome.CONFIGURATION: "Not sent: configuration problem",
}


def details_text(closed: Closed) -> str:
    """A redacted, plain-text account of one close, fit for a ticket to the provider."""
    result, request, profile = closed.result, closed.request, closed.profile
    lines = [
        f"Outcome: {result.outcome.label}",
        f"Provider code: {'' if result.error_code is None else result.error_code}",
        f"Description: {result.description}",
        f"Next step: {result.next_step or '-'}",
        f"HTTP status: {result.http_status or '-'}",
        f"Elapsed: {result.elapsed_ms} ms, attempts: {result.attempts}",
        f"History record: #{closed.history_id}",
    ]
    if profile is not None:
        lines.append(f"Profile: {profile.name} ({profile.api_host})")
    if request is not None:
        lines.append(
            f"Login: {request.login}; game: {request.game_id or 'all games'}; "
            f"clear history: {'yes' if request.clear_history else 'no'}"
        )
    if result.extra:
        lines += [
            "",
            "Request as sent:",
            f"POST {result.extra.get('url', '')}",
            f"Proxy: {result.extra.get('proxy', 'none (direct connection)')}",
            "Content-Type: application/json",
            result.extra.get("body", ""),
            "",
            f"String hashed (secret key shown as •••): {result.extra.get('signed_string', '')}",
        ]
    lines += ["", "Raw response:", result.raw_response or "(none)"]
    return "\n".join(lines)


class AnswerPanel(QFrame):
    """Shows the last result; empty until the first close."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Answer")
        self.headline = QLabel("No session closed yet.")
        self.headline.setAccessibleName("Outcome")
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.headline.setFont(font)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description.setAccessibleName("Provider description")
        self.next_step = QLabel()
        self.next_step.setWordWrap(True)
        self.next_step.setAccessibleName("Next step")
        self.facts = QLabel()
        self.facts.setAccessibleName("Facts")
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.toggle = QToolButton()
        self.toggle.setText("Details")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAccessibleName("Show details")
        self.toggle.toggled.connect(self._show_details)
        self.copy = QPushButton("Copy details")
        self.copy.setAccessibleName("Copy details")
        self.copy.setToolTip("Copy a redacted account of this close, for a ticket to the provider")
        self.copy.clicked.connect(self.copy_details)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Details")
        self.details.setVisible(False)
        self.details.setMinimumHeight(160)

        buttons = QHBoxLayout()
        buttons.addWidget(self.toggle)
        buttons.addStretch(1)
        buttons.addWidget(self.copy)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.description)
        layout.addWidget(self.next_step)
        layout.addWidget(self.facts)
        layout.addLayout(buttons)
        layout.addWidget(self.details, 1)
        layout.addStretch(1)  # keeps the lines together at the top while Details is closed
        self._layout = layout
        self._closed: Closed | None = None
        self.toggle.setEnabled(False)
        self.copy.setEnabled(False)

    @property
    def shown(self) -> Closed | None:
        return self._closed

    def show_result(self, closed: Closed) -> None:
        self._closed = closed
        result = closed.result
        self.headline.setText(_HEADLINES.get(result.outcome, result.outcome.label))
        colour = outcome_colour(result.outcome).name()
        self.headline.setStyleSheet(f"color: {colour};")
        code = f"Code {result.error_code}: " if result.error_code is not None else ""
        self.description.setText(code + result.description)
        self.next_step.setText(f"Next step: {result.next_step}" if result.next_step else "")
        self.next_step.setVisible(bool(result.next_step))
        facts = []
        if result.http_status is not None:
            facts.append(f"HTTP {result.http_status}")
        if result.attempts:
            facts.append(f"{result.elapsed_ms:,} ms")
            facts.append(f"{result.attempts} attempt{'s' if result.attempts != 1 else ''}")
        if closed.history_id is not None:
            facts.append(f"history #{closed.history_id}")
        if closed.history_error:
            facts.append("WARNING: " + closed.history_error)
        self.facts.setText(" · ".join(facts))
        self.details.setPlainText(details_text(closed))
        self.toggle.setEnabled(True)
        self.copy.setEnabled(True)

    def show_busy(self, login: str) -> None:
        self.headline.setText(f"Closing the session of {login}…")
        self.headline.setStyleSheet("")
        self.description.setText("Waiting for the provider's answer.")
        self.next_step.setVisible(False)
        self.facts.setText("")

    def _show_details(self, on: bool) -> None:
        self.details.setVisible(on)
        self._layout.setStretch(self._layout.count() - 1, 0 if on else 1)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def copy_details(self) -> None:
        if self._closed is not None:
            QGuiApplication.clipboard().setText(details_text(self._closed))
