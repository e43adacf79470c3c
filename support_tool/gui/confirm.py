"""Confirmations for destructive actions, proportionate to the risk.

Clearing history destroys a round; on a production profile the operator must type the
login, which a hurried user cannot do by reflex the way they click *OK*.
"""

from __future__ import annotations

from html import escape as _esc

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


class _Confirm(QDialog):
    """OK/Cancel where Enter by reflex cancels; with ``expected``, OK needs it typed."""

    def __init__(
        self, title: str, html: str, ok_text: str, expected: str | None, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.expected = expected
        self.message = QLabel(html)
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(ok_text)
        self.ok.setAccessibleName(ok_text)
        self.cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        self.typed: QLineEdit | None = None
        if expected is not None:
            self.typed = QLineEdit()
            self.typed.setAccessibleName("Type to confirm")
            self.typed.setPlaceholderText(expected)
            self.typed.textChanged.connect(self._typed_changed)
            layout.addWidget(self.typed)
            self.ok.setEnabled(False)
        layout.addWidget(self.buttons)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._sync_default()  # the button box makes OK the default on show; undo that

    def _sync_default(self) -> None:
        """Enter by reflex cancels; it confirms only once the expected text is typed."""
        deliberate = self.typed is not None and self.ok.isEnabled()
        self.ok.setDefault(deliberate)
        self.cancel.setDefault(not deliberate)

    def _typed_changed(self, text: str) -> None:
        self.ok.setEnabled(text.strip().replace(",", "") == (self.expected or "").replace(",", ""))
        self._sync_default()


class ConfirmClear(_Confirm):
    """Confirm *clear history*; with ``production`` the login must be typed to enable OK."""

    def __init__(
        self,
        login: str,
        game_id: str | None,
        profile: str,
        production: bool,
        parent: QWidget | None = None,
    ) -> None:
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
        title = "Clear history?" if not production else "PRODUCTION: clear history?"
        expected = login if production else None
        super().__init__(title, text, "Clear history and close", expected, parent)


def _sessions(count: int) -> str:
    return f"{count:,} session{'s' if count != 1 else ''}"


def _batch_html(
    count: int, profile: str, clear_history: bool, production: bool, skipped: int
) -> str:
    text = f"<p>Close <b>{_sessions(count)}</b> on profile <b>{_esc(profile)}</b>"
    if clear_history:
        text += " and <b>remove every unfinished round</b>?</p>"
        text += "<p>Nobody will be able to complete those rounds. This cannot be undone.</p>"
    else:
        text += "?</p><p>Unfinished rounds are kept (clear history is off).</p>"
    if skipped:
        text += f"<p>{skipped:,} invalid line{'s' if skipped != 1 else ''} will not be sent.</p>"
    if production:
        text += (
            "<p><b>This is a production profile with live players.</b> "
            f"Type the number of sessions ({count:,}) to confirm.</p>"
        )
    return text


class ConfirmBatch(_Confirm):
    """Confirm a batch: the count, the profile and the clear-history choice, stated plainly;
    on production the number of sessions must be typed."""

    def __init__(
        self,
        count: int,
        profile: str,
        clear_history: bool,
        production: bool,
        skipped: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        text = _batch_html(count, profile, clear_history, production, skipped)
        title = "PRODUCTION: close sessions?" if production else "Close sessions?"
        super().__init__(
            title, text, f"Close {_sessions(count)}", f"{count}" if production else None, parent
        )


class ConfirmRetry(ConfirmBatch):
    """Confirm *Retry failed*: the rows that may close on a second try, and, only when the
    operator ticks it, those the provider refused for good (named by reason), which would
    most likely be refused again."""

    def __init__(
        self,
        count: int,
        refused: int,
        refused_reasons: str,
        profile: str,
        clear_history: bool,
        production: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(count, profile, clear_history, production, 0, parent)
        self.setWindowTitle("PRODUCTION: retry failed?" if production else "Retry failed?")
        self._count, self._refused = count, refused
        self._args = (profile, clear_history, production)
        self.left_out = QLabel(
            f"<p>Left out: {refused:,} refused by the provider for good, which would fail "
            f"again ({_esc(refused_reasons)}).</p>"
        )
        self.left_out.setWordWrap(True)
        self.include_refused = QCheckBox(f"Also send the {refused:,} refused again")
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, self.left_out)
        layout.insertWidget(2, self.include_refused)
        self.left_out.setVisible(refused > 0)
        self.include_refused.setVisible(refused > 0)
        self.include_refused.toggled.connect(self._recount)
        self._recount()

    @property
    def total(self) -> int:
        return self._count + (self._refused if self.include_refused.isChecked() else 0)

    def _recount(self) -> None:
        profile, clear_history, production = self._args
        total = self.total
        self.message.setText(_batch_html(total, profile, clear_history, production, 0))
        self.ok.setText(f"Close {_sessions(total)}")
        self.ok.setAccessibleName(self.ok.text())
        if self.typed is not None:
            self.expected = str(total)
            self.typed.setPlaceholderText(self.expected)
            self._typed_changed(self.typed.text())
            if total == 0:
                self.ok.setEnabled(False)
                self._sync_default()
        else:
            self.ok.setEnabled(total > 0)
            self._sync_default()
