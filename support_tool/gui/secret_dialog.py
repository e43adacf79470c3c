"""The secret key, typed twice into masked fields and never shown: what the profiles dialog
hands to the keyring (and wipes when cancelled)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)


class SecretDialog(QDialog):
    """A masked secret, typed twice; never displayed."""

    def __init__(self, profile: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Secret key for {profile}")
        self.first = QLineEdit()
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setAccessibleName("Secret key")
        self.second = QLineEdit()
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.second.setAccessibleName("Secret key again")
        self.problem = QLabel()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(
            QLabel(
                "The secret key goes straight to the system keyring; it is never "
                "shown again or written to a file."
            )
        )
        form.addRow("Secret key", self.first)
        form.addRow("Again", self.second)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.first.textChanged.connect(self._check)
        self.second.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        a, b = self.first.text().strip(), self.second.text().strip()
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(bool(a) and a == b)
        self.problem.setText("The two entries differ." if a and b and a != b else "")

    def secret(self) -> str:
        return self.first.text().strip()

    def done(self, result: int) -> None:
        super().done(result)
        if result != QDialog.DialogCode.Accepted:
            self.wipe()

    def wipe(self) -> None:
        self.first.clear()
        self.second.clear()
