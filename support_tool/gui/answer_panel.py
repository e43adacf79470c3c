"""The answer panel: what happened, in words and colour, and what to do next.

It names the action it answers (login, game, clear history, profile, time), because an
answer read beside another login is worse than none: as soon as the form no longer shows
that action the panel greys out and says so. *Details* shows the request as sent (the
secret replaced by •••) and the raw answer; *Copy details* puts the same redacted text,
with the request's UTC and local time, on the clipboard for a ticket to the provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import Qt, QTimer
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

from support_tool.gui.style import greyed, note_label, outcome_colour

if TYPE_CHECKING:  # datetime loads with the first close, not before the first paint
    from datetime import datetime

    from support_tool.config.profiles import Profile
    from support_tool.ops.close import CloseAttempt  # its module loads after the first paint
    from support_tool.provider.outcome import CloseResult

COPIED_FEEDBACK_MS = 2000


class Asked(NamedTuple):
    """The action an answer refers to, as the operator asked for it (a NamedTuple: cheaper
    to define than a frozen dataclass, before the first paint)."""

    profile: str
    login: str
    game_id: str | None
    clear_history: bool
    at: datetime  # when the request was made, UTC
    production: bool = False  # the profile was production when it was asked

    def describe(self) -> str:
        """'terminal-07 · all games · clear history: no · profile live · 15:05:42'"""
        return " · ".join(
            [
                self.login,
                f"game {self.game_id}" if self.game_id else "all games",
                f"clear history: {'yes' if self.clear_history else 'no'}",
                f"profile {self.profile}",
                self.at.astimezone().strftime("%H:%M:%S"),
            ]
        )

    def key(self) -> tuple[str, str, str, bool]:
        """What must match the form for this answer to be the form's answer."""
        return (self.profile, self.login, self.game_id or "", self.clear_history)

    def changed_to(self, key: tuple[str, str, str, bool]) -> str:
        """'This answer was for terminal-07 on profile live (PRODUCTION); the form now uses
        profile test': names what differs, so a changed profile is not read as another
        login."""
        profile, login, game, clear = key
        now = []
        if profile != self.profile:
            now.append(f"uses profile {profile}")
        if login != self.login:
            now.append(f"shows {login or 'no login'}")
        if game != (self.game_id or ""):
            now.append(f"game {game}" if game else "all games")
        if clear != self.clear_history:
            now.append(f"clear history: {'yes' if clear else 'no'}")
        production = " (PRODUCTION)" if self.production else ""
        return (
            f"This answer was for {self.login} on profile {self.profile}{production}; "
            f"the form now {', '.join(now) or 'shows another close'}."
        )


def time_lines(at: datetime) -> list[str]:
    from datetime import UTC  # with the first answer, not before the first paint

    local = at.astimezone()
    return [
        f"Requested at: {at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC "
        f"({local:%Y-%m-%d %H:%M:%S} local time, UTC{local:%z})"
    ]


def details_text(closed: CloseAttempt, asked: Asked | None = None) -> str:
    """A redacted, plain-text account of one close, fit for a ticket to the provider."""
    result, request, profile = closed.result, closed.request, closed.profile
    lines = time_lines(asked.at) if asked is not None else []
    lines += [
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
    elif asked is not None:
        lines.append(f"Profile: {asked.profile}")
    if request is not None or asked is not None:
        login, game, clear = (
            (request.login, request.game_id, request.clear_history)
            if request is not None
            else (asked.login, asked.game_id, asked.clear_history)  # type: ignore[union-attr]
        )
        lines.append(
            f"Login: {login}; game: {game or 'all games'}; "
            f"clear history: {'yes' if clear else 'no'}"
        )
    sent = result.request_as_sent
    if sent:
        lines += [
            "",
            "Request as sent:",
            f"POST {sent.get('url', '')}",
            f"Proxy: {sent.get('proxy', 'none (direct connection)')}",
            "Content-Type: application/json",
            sent.get("body", ""),
            "",
            f"String hashed (secret key shown as •••): {sent.get('signed_string', '')}",
        ]
    lines += ["", "Raw response:", result.raw_response or "(none)"]
    return "\n".join(lines)


class AnswerPanel(QFrame):
    """Shows the last result; empty until the first close."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Answer")
        self._build_lines()
        self._build_details()
        self._lay_out()
        self._closed: CloseAttempt | None = None
        self._asked: Asked | None = None
        self._form_key: tuple[str, str, str, bool] | None = None  # the form, as last told
        self._colour = ""
        self.stale = False
        self.toggle.setEnabled(False)
        self.copy.setEnabled(False)

    def _build_lines(self) -> None:
        """The answer in words: headline, what it answers, the provider's words, facts."""
        self.headline = QLabel("No session closed yet.")
        self.headline.setAccessibleName("Outcome")
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.headline.setFont(font)
        self.headline.setWordWrap(True)
        self.subject = QLabel()
        self.subject.setAccessibleName("Answer for")
        self.subject.setWordWrap(True)
        self.subject.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        subject_font = self.subject.font()
        subject_font.setBold(True)
        self.subject.setFont(subject_font)
        self.stale_note = note_label("Answer no longer matches the form")
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

    def _build_details(self) -> None:
        """The *Details* toggle, *Copy details* and the redacted request/answer text."""
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
        self._copied = QTimer(self)
        self._copied.setSingleShot(True)
        self._copied.setInterval(COPIED_FEEDBACK_MS)
        self._copied.timeout.connect(lambda: self.copy.setText("Copy details"))
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Details")
        self.details.setVisible(False)
        self.details.setMinimumHeight(160)

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.toggle)
        buttons.addStretch(1)
        buttons.addWidget(self.copy)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stale_note)
        layout.addWidget(self.headline)
        layout.addWidget(self.subject)
        layout.addWidget(self.description)
        layout.addWidget(self.next_step)
        layout.addWidget(self.facts)
        layout.addLayout(buttons)
        layout.addWidget(self.details, 1)
        layout.addStretch(1)  # keeps the lines together at the top while Details is closed
        self._layout = layout

    @property
    def shown(self) -> CloseAttempt | None:
        return self._closed

    @property
    def asked(self) -> Asked | None:
        return self._asked

    def show_failure(
        self, result: CloseResult, profile: Profile | None, asked: Asked | None
    ) -> None:
        """A close that failed before the service answered (nothing recorded by it)."""
        from support_tool.ops.close import CloseAttempt  # loaded by the close that failed

        self.show_result(CloseAttempt(result, None, profile, None), asked)

    def show_result(self, closed: CloseAttempt, asked: Asked | None = None) -> None:
        self._closed, self._asked = closed, asked
        result = closed.result
        headline = result.outcome.headline
        self.headline.setText(f"{headline} — {asked.login}" if asked else headline)
        self.subject.setText(asked.describe() if asked else "")
        self._colour = outcome_colour(result.outcome).name()
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
        self.details.setPlainText(details_text(closed, asked))
        self.toggle.setEnabled(True)
        self.copy.setEnabled(True)
        self.set_stale(False)

    def show_busy(self, asked: Asked) -> None:
        self._forget()
        self._asked = asked
        self.headline.setText(f"Closing the session of {asked.login}…")
        self.subject.setText(asked.describe())
        self.description.setText("Waiting for the provider's answer.")

    def show_cancelled(self, asked: Asked) -> None:
        """A confirmation was cancelled: nothing was sent, and no older answer stays up."""
        self._forget()
        self._asked = asked
        self.headline.setText(f"Not sent — {asked.login}")
        self.subject.setText(asked.describe())
        self.description.setText("You cancelled the confirmation. Nothing was sent.")

    def _forget(self) -> None:
        self._closed = None
        self._colour = ""
        self.next_step.setVisible(False)
        self.facts.setText("")
        self.details.clear()
        self.toggle.setChecked(False)
        self.toggle.setEnabled(False)
        self.copy.setEnabled(False)
        self.set_stale(False)

    def form_changed(self, key: tuple[str, str, str, bool]) -> None:
        """The form now shows ``key``: grey this answer out unless it is the form's."""
        if self._asked is not None:
            self._form_key = key
            self.set_stale(key != self._asked.key())

    def set_stale(self, stale: bool) -> None:
        """Greyed, with a line saying whose answer it is and what the form changed, so it
        cannot be read as the answer for the close now in the form."""
        self.stale = stale
        asked = self._asked
        if stale and asked is not None:
            self.stale_note.setText(asked.changed_to(self._form_key or asked.key()))
        self.stale_note.setVisible(stale)
        style = f"color: {greyed(self).name()};" if stale else ""
        self.headline.setStyleSheet(style or (f"color: {self._colour};" if self._colour else ""))
        for label in (self.subject, self.description, self.next_step, self.facts):
            label.setStyleSheet(style)

    def _show_details(self, on: bool) -> None:
        self.details.setVisible(on)
        self._layout.setStretch(self._layout.count() - 1, 0 if on else 1)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def copy_details(self) -> None:
        if self._closed is not None:
            QGuiApplication.clipboard().setText(details_text(self._closed, self._asked))
            self.copy.setText("Copied ✓")
            self._copied.start()
