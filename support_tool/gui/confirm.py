"""Confirmations for destructive actions, proportionate to the risk.

Clearing history destroys a round; on a production profile the operator must type the
login, which a hurried user cannot do by reflex the way they click *OK*.
"""

from __future__ import annotations

from html import escape as _esc

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


class ConfirmClear(QDialog):
    """Confirm *clear history*; with ``production`` the login must be typed to enable OK."""

    def __init__(
        self,
        login: str,
        game_id: str | None,
        profile: str,
        production: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Clear history?" if not production else "PRODUCTION: clear history?")
        self.login = login
        where = f"game {game_id}" if game_id else "all of the player's games"
        text = (
            f"<p>Close the session of <b>{_esc(login)}</b> in {_esc(where)} "
            f"on profile <b>{_esc(profile)}</b> and <b>remove the unfinished round</b>?</p>"
            "<p>Nobody will be able to complete that round. This cannot be undone.</p>"
        )
        if production:
            text += (
                "<p><b>This is a production profile with live players.</b> "
                "Type the login to confirm.</p>"
            )
        self.message = QLabel(text)
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Clear history and close")
        self.ok.setAccessibleName("Clear history and close")
        self.cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        self.typed: QLineEdit | None = None
        if production:
            self.typed = QLineEdit()
            self.typed.setAccessibleName("Type the login to confirm")
            self.typed.setPlaceholderText(login)
            self.typed.textChanged.connect(self._typed_changed)
            layout.addWidget(self.typed)
            self.ok.setEnabled(False)
        layout.addWidget(self.buttons)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._sync_default()  # the button box makes OK the default on show; undo that

    def _sync_default(self) -> None:
        """Enter by reflex cancels; it confirms only once the login has been typed."""
        deliberate = self.typed is not None and self.ok.isEnabled()
        self.ok.setDefault(deliberate)
        self.cancel.setDefault(not deliberate)

    def _typed_changed(self, text: str) -> None:
        self.ok.setEnabled(text.strip() == self.login)
        self._sync_default()
