"""The close form: what a support agent fills in, checked as they type.

The same validation functions as the command line decide what is acceptable, so the
window never sends what ``support-tool close`` would refuse, and vice versa.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from support_tool.errors import InvalidInput
from support_tool.gui.style import outcome_colour
from support_tool.provider.validation import clean_game_id, clean_login, clean_reason

CLEAR_EXPLANATION = (
    "Removes the player's unfinished round for good, so that nobody can complete it on this "
    "terminal. It cannot be undone."
)


class CloseInput(NamedTuple):
    """A validated request from the form (a NamedTuple: cheaper to define than a frozen
    dataclass, before the first paint; see ``gui.banners.ProfileState``)."""

    profile: str
    login: str
    game_id: str | None
    clear_history: bool
    reason: str


class _Field(QWidget):
    """An input with its error message right under it."""

    def __init__(self, editor: QLineEdit) -> None:
        super().__init__()
        self.editor = editor
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        layout.addWidget(self.error)

    def show_error(self, message: str) -> None:
        if message and not self.error.styleSheet():
            # Coloured at its first message: a style sheet (and the palette read to pick
            # the colour) on each of the form's fields is work before the first paint.
            colour = outcome_colour("transport_failure").name()
            self.error.setStyleSheet(f"color: {colour};")
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.editor.setAccessibleDescription(message)


class CloseForm(QWidget):
    """Emits ``submitted(CloseInput)`` on the button or Enter in any field, when valid."""

    submitted = Signal(object)
    profile_changed = Signal(str)
    edited = Signal()  # any field that decides what a close does changed
    not_sent = Signal(str)  # Enter while nothing can be sent: why, so it is never silent

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build_fields()
        self._build_form()
        self._connect()
        self._busy = False
        self._blocked = ""  # why nothing can be sent now (the audit store), or ""
        self._revalidate()

    def _build_fields(self) -> None:
        self.profile = QComboBox()
        self.profile.setAccessibleName("Profile")
        self.profile.setToolTip("Which provider endpoint to use")
        self.login = QLineEdit()
        self.login.setAccessibleName("Login")
        self.login.setPlaceholderText("Player or terminal login, e.g. terminal-0007")
        self.login.setMaxLength(10_000)
        self.game = QLineEdit()
        self.game.setAccessibleName("Game ID")
        self.game.setPlaceholderText("Optional: leave blank to close the sessions of all games")
        self.clear = QCheckBox("Clear history (remove the unfinished round)")
        self.clear.setAccessibleName("Clear history")
        self.clear.setAccessibleDescription(CLEAR_EXPLANATION)
        self.clear_note = QLabel(CLEAR_EXPLANATION)
        self.clear_note.setWordWrap(True)
        note_font = self.clear_note.font()
        note_font.setItalic(True)
        self.clear_note.setFont(note_font)  # full-contrast text: it warns of data loss
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason or ticket")
        self.reason.setPlaceholderText("Optional: reason or ticket reference, kept in the history")
        self.button = QPushButton("Close session")
        self.button.setAccessibleName("Close session")
        self.button.setDefault(True)
        self.button.setAutoDefault(True)
        self.button.clicked.connect(self.submit)

    def _build_form(self) -> None:
        """The fields in a form, each label's mnemonic reaching its input, in tab order."""
        self._login_field = _Field(self.login)
        self._game_field = _Field(self.game)
        self._reason_field = _Field(self.reason)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Profile", self.profile)
        form.addRow("&Login", self._login_field)
        form.addRow("&Game ID", self._game_field)
        form.addRow("", self.clear)
        form.addRow("", self.clear_note)
        form.addRow("&Reason", self._reason_field)
        form.addRow("", self.button)
        for field in (self._login_field, self._game_field, self._reason_field):
            label = form.labelForField(field)
            if isinstance(label, QLabel):
                label.setBuddy(field.editor)  # Alt+L, Alt+G, Alt+R reach the input itself
        for first, second in (
            (self.profile, self.login),
            (self.login, self.game),
            (self.game, self.clear),
            (self.clear, self.reason),
            (self.reason, self.button),
        ):
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        # Enter submits from any field. An event filter on the fields (not a shortcut) so
        # that only keys really typed into this form count, never keys meant for a dialog.
        for widget in (self.profile, self.login, self.game, self.clear, self.reason):
            widget.installEventFilter(self)
        self.login.textChanged.connect(self._revalidate)
        self.game.textChanged.connect(self._revalidate)
        self.reason.textChanged.connect(self._revalidate)
        self.profile.currentTextChanged.connect(self._profile_chosen)
        for signal in (
            self.login.textChanged,
            self.game.textChanged,
            self.clear.toggled,
            self.profile.currentTextChanged,
        ):
            signal.connect(self.edited)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.submit()
            return True
        return super().eventFilter(watched, event)

    # --- state ----------------------------------------------------------------------------

    def set_profiles(self, names: list[str], selected: str) -> None:
        self.profile.blockSignals(True)
        self.profile.clear()
        self.profile.addItems(names)
        if selected in names:
            self.profile.setCurrentText(selected)
        self.profile.blockSignals(False)
        self._profile_chosen(self.profile.currentText())

    def _profile_chosen(self, name: str) -> None:
        self._revalidate()
        self.profile_changed.emit(name)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in (self.profile, self.login, self.game, self.clear, self.reason):
            widget.setEnabled(not busy)
        self._revalidate()

    def set_blocked(self, reason: str) -> None:
        """Disable *Close session* (and Enter) while ``reason`` says why nothing can be sent;
        the fields stay usable, so the next login can be typed while the store is away."""
        self._blocked = reason
        self.button.setToolTip(reason)
        self.button.setAccessibleDescription(reason)
        self._revalidate()

    def fill(self, login: str, game_id: str, clear_history: bool, profile: str = "") -> None:
        """Re-fill from a history row (*Close again*)."""
        if profile and self.profile.findText(profile) >= 0:
            self.profile.setCurrentText(profile)
        self.login.setText(login)
        self.game.setText(game_id)
        self.clear.setChecked(clear_history)
        self.login.setFocus()

    def shown_action(self) -> tuple[str, str, str, bool]:
        """(profile, login, game, clear history) as the form shows them now, to compare
        with the action an answer refers to."""
        return (
            self.profile.currentText(),
            self.login.text().strip(),
            self.game.text().strip(),
            self.clear.isChecked(),
        )

    def focus_login(self) -> None:
        self.login.setFocus()
        self.login.selectAll()

    # --- validation -------------------------------------------------------------------------

    def _check(self, field: _Field, check: Callable[[str], object], show_empty: bool) -> bool:
        text = field.editor.text()
        try:
            check(text)
        except InvalidInput as exc:
            field.show_error(str(exc) if (text.strip() or show_empty) else "")
            return False
        field.show_error("")
        return True

    def _revalidate(self) -> bool:
        ok = self._check(self._login_field, clean_login, show_empty=False)
        ok = self._check(self._game_field, clean_game_id, show_empty=False) and ok
        ok = self._check(self._reason_field, clean_reason, show_empty=False) and ok
        ok = ok and bool(self.profile.currentText())
        self.button.setEnabled(ok and not self._busy and not self._blocked)
        return ok

    def current_input(self) -> CloseInput | None:
        """The validated input, or None (with the reasons shown next to the fields)."""
        if self._busy or self._blocked:
            return None
        if not self._revalidate():
            self._check(self._login_field, clean_login, show_empty=True)
            for field in (self._login_field, self._game_field, self._reason_field):
                if field.error.isVisible():
                    field.editor.setFocus()
                    break
            return None
        return CloseInput(
            profile=self.profile.currentText(),
            login=clean_login(self.login.text()),
            game_id=clean_game_id(self.game.text()),
            clear_history=self.clear.isChecked(),
            reason=clean_reason(self.reason.text()),
        )

    def submit(self) -> None:
        """Send what the form holds; when nothing can be sent yet, say why instead of
        dropping the key (a login typed or scanned with Enter while the window is still
        starting, or while the audit store is away, must not vanish without a word)."""
        if self._blocked or not self.profile.currentText():
            why = self._blocked.removeprefix("Disabled: ") or (
                "No profile is chosen (in a window just opened, the profiles are still loading)."
            )
            why = why[:1].upper() + why[1:]
            self.not_sent.emit(f"Not sent. {why} Press Enter again once Close session is enabled.")
            return
        request = self.current_input()
        if request is not None:
            self.submitted.emit(request)
