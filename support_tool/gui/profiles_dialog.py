"""Add, edit and remove profiles; store secrets in the keyring; test a connection.

The secret is typed into a masked field and handed straight to the keyring on a worker
thread; afterwards the dialog only ever says *stored* or *missing*. When no keyring works
the dialog says how to fix it and offers no other place to keep the secret.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from support_tool.config.profiles import ProfileSet, make_profile
from support_tool.config.secret_store import KeyringSecrets, MemorySecrets
from support_tool.errors import ConfigurationError, InvalidInput
from support_tool.gui.jobs import Jobs
from support_tool.gui.secret_dialog import SecretDialog
from support_tool.gui.style import outcome_colour
from support_tool.ops.close import CloseAttempt
from support_tool.ops.runtime import Runtime
from support_tool.provider import contract
from support_tool.provider.environment import environment_notices
from support_tool.provider.outcome import Outcome

CONNECTION_TEST_LOGIN = "support-tool-connection-test"


def connection_verdict(closed: CloseAttempt) -> tuple[bool, str]:
    """Whether a test close proved the URL and secret right, in words."""
    result = closed.result
    if result.error_code == 17:
        return True, (
            "Connection works: the provider accepted the signature and answered "
            f"“{result.description}” for a test login that cannot exist."
        )
    if result.error_code == 1:
        return False, (
            f"The provider refused the signature (“{result.description}”). "
            "Check the secret key and the API URL."
        )
    if result.outcome in (Outcome.CONFIGURATION, Outcome.TRANSPORT_FAILURE):
        return False, f"{result.description} {result.next_step}".strip()
    return False, f"Unexpected answer: {result.headline}. {result.next_step}".strip()


def move_secret(secrets: KeyringSecrets | MemorySecrets, old: str, new: str) -> str:
    """Move a renamed profile's secret key to its new name in the keyring (runs on a worker).

    Returns a sentence for the operator when it could not be moved, so that a rename never
    silently leaves the key orphaned under the old name and the profile without one.
    """
    try:
        if not secrets.has(old):
            return ""
        secrets.set(new, secrets.get(old))
        secrets.delete(old)
    except ConfigurationError as exc:
        return (
            f"The profile was renamed, but its secret key could not be moved from {old!r} to "
            f"{new!r} in the keyring: {exc} Set the secret key again."
        )
    return ""


class ProfilesDialog(QDialog):
    """Profiles and their secrets. Emits ``changed`` after the profile set is saved."""

    changed = Signal()

    def __init__(self, runtime: Runtime, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Profiles and secrets")
        self.resize(760, 420)
        self._runtime = runtime
        self._jobs = jobs
        self._set = ProfileSet()
        ca_row = self._build_connection_fields()
        self._build_state_fields()
        self._build_layout(self._build_form(ca_row))
        self._connect()
        self.secret_dialog: SecretDialog | None = None
        self.editing: str | None = None  # the saved profile the fields show; None for *New*
        if runtime.demo:
            self.message.setText("Demo mode: changes last until the window closes.")
        self._reload()

    def _build_connection_fields(self) -> QHBoxLayout:
        """The list and where the provider is (name, URL, limits, CA, proxy); returns the
        CA bundle's row (its field and *Browse…*)."""
        self.list = QListWidget()
        self.list.setAccessibleName("Profiles")
        self.name = QLineEdit()
        self.name.setAccessibleName("Profile name")
        self.url = QLineEdit()
        self.url.setAccessibleName("API URL")
        self.url.setPlaceholderText("https://… (the address the provider gave you)")
        self.timeout = QDoubleSpinBox()
        self.timeout.setAccessibleName("Timeout in seconds")
        self.timeout.setRange(contract.MIN_DEADLINE_S, contract.MAX_DEADLINE_S)
        self.timeout.setValue(contract.DEFAULT_DEADLINE_S)
        self.timeout.setSuffix(" s")
        self.concurrency = QSpinBox()
        self.concurrency.setAccessibleName("Batch requests at a time")
        self.concurrency.setRange(contract.MIN_BATCH_CONCURRENCY, contract.MAX_BATCH_CONCURRENCY)
        self.concurrency.setValue(contract.DEFAULT_BATCH_CONCURRENCY)
        self.concurrency.setToolTip(
            "How many requests a batch sends at once to this provider (Terminals tab)"
        )
        self.ca_bundle = QLineEdit()
        self.ca_bundle.setAccessibleName("CA bundle")
        self.ca_bundle.setPlaceholderText("Optional: PEM file, if the provider uses a private CA")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(browse)
        self.proxy = QLineEdit()
        self.proxy.setAccessibleName("Proxy")
        self.proxy.setPlaceholderText("Optional: http://proxy:3128 (direct connection if empty)")
        # The environment's proxy and CA variables are ignored; say so where the proxy is set.
        self.environment_notice = QLabel("\n".join(environment_notices()))
        self.environment_notice.setAccessibleName("Ignored environment settings")
        self.environment_notice.setWordWrap(True)
        # A wrapped label in a form is given the height of its unwrapped hint; let it grow.
        self.environment_notice.setSizePolicy(
            QSizePolicy.Policy.Preferred, QSizePolicy.Policy.MinimumExpanding
        )
        self.environment_notice.setVisible(bool(self.environment_notice.text()))
        return ca_row

    def _build_state_fields(self) -> None:
        """Production and default flags, the secret's state and test, the message line."""
        self.production = QCheckBox("Production (live players: ask before risky actions)")
        self.production.setAccessibleName("Production")
        self.default = QCheckBox("Default profile")
        self.default.setAccessibleName("Default profile")
        self.secret_state = QLabel("–")
        self.secret_state.setAccessibleName("Secret key status")
        self.secret_state.setWordWrap(True)
        self.set_secret = QPushButton("Set secret…")
        self.test = QPushButton("Test connection")
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setAccessibleName("Connection test result")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {outcome_colour(Outcome.TRANSPORT_FAILURE).name()};")

    def _build_form(self, ca_row: QHBoxLayout) -> QFormLayout:
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("API URL", self.url)
        form.addRow("Timeout", self.timeout)
        form.addRow("Batch concurrency", self.concurrency)
        form.addRow("CA bundle", ca_row)
        form.addRow("Proxy", self.proxy)
        form.addRow("", self.environment_notice)
        form.addRow("", self.production)
        form.addRow("", self.default)
        form.addRow("Secret key", self.secret_state)
        secret_row = QHBoxLayout()
        secret_row.addWidget(self.set_secret)
        secret_row.addWidget(self.test)
        secret_row.addStretch(1)
        form.addRow("", secret_row)
        form.addRow("", self.test_result)
        form.addRow(self.message)
        return form

    def _build_layout(self, form: QFormLayout) -> None:
        """The list on the left; the form and the buttons on the right."""
        self.new = QPushButton("New")
        self.save = QPushButton("Save")
        self.save.setDefault(True)
        self.remove = QPushButton("Remove")
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.new, self.save, self.remove):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addStretch(1)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(right, 3)

    def _connect(self) -> None:
        self.list.currentTextChanged.connect(self._select)
        self.new.clicked.connect(self._new)
        self.save.clicked.connect(self._save)
        self.remove.clicked.connect(self._remove)
        self.set_secret.clicked.connect(self._ask_secret)
        self.test.clicked.connect(self._test)

    # --- loading and selection ----------------------------------------------------------

    def _reload(self, select: str = "") -> None:
        self._jobs.submit(
            self._runtime.profiles.load, lambda s: self._loaded(s, select), self._show_error
        )

    def _loaded(self, profile_set: ProfileSet, select: str) -> None:
        self._set = profile_set
        item = self.list.currentItem()
        current = select or (item.text() if item is not None else "")
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems(profile_set.names())
        self.list.blockSignals(False)
        names = profile_set.names()
        if names:
            target = current if current in names else names[0]
            self.list.setCurrentRow(names.index(target))
        else:
            self._new()

    def _select(self, name: str) -> None:
        profile = self._set.get(name)
        if profile is None:
            return
        self.editing = profile.name
        self.name.setText(profile.name)
        self.url.setText(profile.url)
        self.timeout.setValue(profile.timeout)
        self.concurrency.setValue(profile.concurrency)
        self.ca_bundle.setText(profile.ca_bundle)
        self.proxy.setText(profile.proxy)
        self.production.setChecked(profile.production)
        self.default.setChecked(self._set.default == profile.name)
        self.test_result.setText("")
        self._refresh_secret_state(profile.name)

    def _new(self) -> None:
        """Empty fields for a new profile: *Save* then adds one and never replaces the
        profile that was selected before."""
        self.editing = None
        self.list.blockSignals(True)
        self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        for field in (self.name, self.url, self.ca_bundle, self.proxy):
            field.clear()
        self.timeout.setValue(contract.DEFAULT_DEADLINE_S)
        self.concurrency.setValue(contract.DEFAULT_BATCH_CONCURRENCY)
        self.production.setChecked(False)
        self.default.setChecked(not self._set.profiles)
        self.secret_state.setText("Save the profile first.")
        self.set_secret.setEnabled(False)
        self.test.setEnabled(False)
        self.name.setFocus()

    def _refresh_secret_state(self, name: str) -> None:
        self.secret_state.setText("checking…")
        secrets = self._runtime.secrets

        def done(stored: bool) -> None:
            self.secret_state.setText("stored" if stored else "missing")
            self.set_secret.setEnabled(True)
            self.test.setEnabled(True)

        def failed(error: BaseException) -> None:
            self.secret_state.setText(str(error))
            self.set_secret.setEnabled(False)
            self.test.setEnabled(False)

        self._jobs.submit(lambda: secrets.has(name), done, failed)

    # --- actions --------------------------------------------------------------------------

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "CA bundle", "", "PEM files (*.pem *.crt);;All files (*)"
        )
        if path:
            self.ca_bundle.setText(path)

    def _save(self) -> None:
        try:
            profile = make_profile(
                self.name.text(),
                self.url.text(),
                self.timeout.value(),
                self.ca_bundle.text(),
                self.production.isChecked(),
                self.concurrency.value(),
                self.proxy.text(),
            )
        except InvalidInput as exc:
            self.message.setText(str(exc))
            return
        editing = self.editing or ""
        updated = self._set.without(editing) if editing and editing != profile.name else self._set
        if editing != profile.name and updated.get(profile.name):
            self.message.setText(f"A profile named {profile.name!r} already exists.")
            return
        updated = updated.with_profile(profile, make_default=self.default.isChecked())
        if not self.default.isChecked() and updated.default == profile.name:
            updated = ProfileSet(updated.profiles, "")
        self.message.setText("")
        profiles, secrets = self._runtime.profiles, self._runtime.secrets
        renamed_from = editing if editing and editing != profile.name else ""

        def work() -> str:
            profiles.save(updated)
            return move_secret(secrets, renamed_from, profile.name) if renamed_from else ""

        def saved(note: str) -> None:
            self.message.setText(note)
            self.changed.emit()
            self._reload(select=profile.name)

        self._jobs.submit(work, saved, self._show_error)

    def _remove(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        name = item.text()
        answer = QMessageBox.question(
            self,
            "Remove profile?",
            f"Remove profile {name!r} and delete its secret key from the keyring?",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        updated = self._set.without(name)
        profiles, secrets = self._runtime.profiles, self._runtime.secrets

        def work() -> str:
            profiles.save(updated)
            try:
                secrets.delete(name)
            except ConfigurationError as exc:  # the profile is gone; say where the key stayed
                return (
                    f"Profile {name!r} was removed, but its secret key could not be deleted "
                    f"from the keyring: {exc} Delete it there by hand (service support-tool, "
                    f"user {name})."
                )
            return ""

        def done(note: str) -> None:
            self.message.setText(note)
            self.editing = None
            self.changed.emit()
            self._reload()

        self._jobs.submit(work, done, self._show_error)

    def _ask_secret(self) -> None:
        name = self.name.text().strip()
        dialog = SecretDialog(name, self)
        self.secret_dialog = dialog
        secrets = self._runtime.secrets

        def accepted() -> None:
            secret = dialog.secret()
            dialog.wipe()
            self.secret_state.setText("storing…")
            self._jobs.submit(
                lambda: secrets.set(name, secret),
                lambda _: self._refresh_secret_state(name),
                self._show_error,
            )

        dialog.accepted.connect(accepted)
        dialog.open()

    def _test(self) -> None:
        name = self.name.text().strip()
        self.test.setEnabled(False)
        self.test_result.setText("Testing…")
        service = self._runtime.service

        def done(closed: CloseAttempt) -> None:
            ok, words = connection_verdict(closed)
            colour = outcome_colour(Outcome.SUCCESS if ok else Outcome.TRANSPORT_FAILURE).name()
            self.test_result.setStyleSheet(f"color: {colour};")
            self.test_result.setText(words)
            self.test.setEnabled(True)

        self._jobs.submit(
            lambda: service.close(CONNECTION_TEST_LOGIN, profile=name, reason="Connection test"),
            done,
            self._show_error,
        )

    def _show_error(self, error: BaseException) -> None:
        self.message.setText(str(error))
        self.test.setEnabled(True)
