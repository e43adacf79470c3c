"""The Profiles and secrets dialog: real profile file, real Secret Service, real sandbox."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from support_tool.config.profiles import make_profile
from support_tool.config.secret_store import KeyringSecrets
from support_tool.gui.error_report import ErrorReport
from support_tool.gui.main_window import MainWindow
from support_tool.gui.profiles_dialog import ProfilesDialog
from support_tool.ops.runtime import open_runtime
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET
from tests.gui_fixtures import window_for

pytestmark = [pytest.mark.gui, pytest.mark.keyring]  # keyring: real Secret Service


def open_dialog(qtbot: QtBot, window: MainWindow) -> ProfilesDialog:
    window.open_profiles()
    dialog = window.profiles_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: not window.jobs.pending)
    return dialog


def test_add_profile_store_secret_and_test_connection(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with open_runtime() as runtime, window_for(qtbot, runtime) as window:
        dialog = open_dialog(qtbot, window)
        assert dialog.list.count() == 0
        dialog.name.setText("venue")
        dialog.url.setText("venue.example.com")  # no scheme: explained, not saved
        dialog.save.click()
        assert "must start with https://" in dialog.message.text()
        dialog.url.setText(sandbox.url)
        dialog.production.setChecked(True)
        dialog.concurrency.setValue(6)
        dialog.save.click()
        qtbot.waitUntil(
            lambda: dialog.list.count() == 1 and dialog.secret_state.text() == "missing"
        )
        saved = tomllib.loads((home / "profiles.toml").read_text())
        assert saved["profiles"]["venue"]["production"] is True
        assert saved["profiles"]["venue"]["concurrency"] == 6
        qtbot.waitUntil(lambda: window.terminals is not None)
        assert window.terminals is not None
        tab = window.terminals
        qtbot.waitUntil(lambda: tab.concurrency.value() == 6)
        qtbot.waitUntil(lambda: window.form.profile.currentText() == "venue")
        assert window.production_banner.isVisibleTo(window)

        dialog.set_secret.click()
        secret_dialog = dialog.secret_dialog
        assert secret_dialog is not None
        qtbot.keyClicks(secret_dialog.first, SANDBOX_SECRET)
        qtbot.keyClicks(secret_dialog.second, "typo")
        assert "differ" in secret_dialog.problem.text()
        secret_dialog.second.setText(SANDBOX_SECRET)
        secret_dialog.accept()
        assert secret_dialog.first.text() == ""  # wiped from the widget at once
        qtbot.waitUntil(lambda: dialog.secret_state.text() == "stored")
        assert KeyringSecrets().get("venue") == SANDBOX_SECRET
        for path in home.rglob("*"):
            if path.is_file():
                assert SANDBOX_SECRET.encode() not in path.read_bytes(), path

        dialog.test.click()
        qtbot.waitUntil(
            lambda: dialog.test.isEnabled() and "Testing" not in dialog.test_result.text()
        )
        assert "Connection works" in dialog.test_result.text()

        KeyringSecrets().set("venue", "wrong")
        dialog.test.click()
        qtbot.waitUntil(
            lambda: dialog.test.isEnabled() and "Testing" not in dialog.test_result.text()
        )
        assert "refused the signature" in dialog.test_result.text()
        records = list(runtime.service.history.query())
        assert {r.reason for r in records} == {"Connection test"}
        KeyringSecrets().delete("venue")


def test_no_keyring_says_how_to_fix_and_offers_no_plaintext(
    qtbot: QtBot, home: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_runtime() as runtime:
        runtime.secrets = KeyringSecrets(backend=fail.Keyring())
        runtime.profiles.save(runtime.profiles.load().with_profile(make_profile("p", sandbox.url)))
        with window_for(qtbot, runtime) as window:
            dialog = open_dialog(qtbot, window)
            qtbot.waitUntil(lambda: "No working keyring" in dialog.secret_state.text())
            assert "never stores secret keys in a file" in dialog.secret_state.text()
            assert not dialog.set_secret.isEnabled()
            assert not dialog.test.isEnabled()


def test_unexpected_error_dialog_offers_a_copyable_report(qtbot: QtBot, home: Path) -> None:
    report = ErrorReport("boom", "Traceback (most recent call last):\nValueError: boom")
    qtbot.addWidget(report)
    assert "boom" in report.findChildren(QLabel)[0].text()
    assert report.report.startswith("Traceback")


def test_edit_and_remove_a_profile(qtbot: QtBot, home: Path, sandbox: SandboxServer) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    with open_runtime() as runtime:
        runtime.profiles.save(
            runtime.profiles.load().with_profile(make_profile("old", sandbox.url))
        )
        KeyringSecrets().set("old", "k")
        with window_for(qtbot, runtime) as window:
            dialog = open_dialog(qtbot, window)
            qtbot.waitUntil(lambda: dialog.name.text() == "old")
            dialog.name.setText("renamed")
            dialog.timeout.setValue(7)
            dialog.save.click()
            qtbot.waitUntil(
                lambda: (
                    [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["renamed"]
                )
            )
            saved = tomllib.loads((home / "profiles.toml").read_text())
            assert list(saved["profiles"]) == ["renamed"]
            assert saved["profiles"]["renamed"]["timeout"] == 7.0

            def confirm() -> None:
                box = QApplication.activeModalWidget()
                assert isinstance(box, QMessageBox)
                box.button(QMessageBox.StandardButton.Yes).click()

            QTimer.singleShot(0, confirm)
            dialog.remove.click()
            qtbot.waitUntil(lambda: dialog.list.count() == 0)
            assert tomllib.loads((home / "profiles.toml").read_text()).get("profiles", {}) == {}
            qtbot.waitUntil(lambda: window.form.profile.count() == 0)
    KeyringSecrets().delete("old")


def test_error_hook_logs_and_shows_a_plain_dialog(qtbot: QtBot, home: Path) -> None:
    import sys

    from PySide6.QtGui import QGuiApplication

    from support_tool.config.logsetup import configure_logging
    from support_tool.gui import app as gui_app

    configure_logging()
    saved = sys.excepthook
    gui_app.install_error_hook()
    try:
        try:
            raise ValueError("the provider list could not be drawn")
        except ValueError as error:
            sys.excepthook(type(error), error, error.__traceback__)
    finally:
        sys.excepthook = saved
    (report,) = gui_app._open_reports
    qtbot.addWidget(report)
    assert report.isVisible()
    assert "the provider list could not be drawn" in report.findChildren(QLabel)[0].text()
    report.copy.click()
    assert "Traceback" in QGuiApplication.clipboard().text()
    log = (home / "logs" / "support-tool.log").read_text()
    assert "ValueError: the provider list could not be drawn" in log
    report.close()
    assert not gui_app._open_reports


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://[::1", "not a valid address"),
        ("https://[zz]", "not a valid address"),
        ("https://venue.example:0", "between 1 and 65535"),
        ("https://venue.example/gs/V4/closesession", "without it: https://venue.example/gs"),
    ],
)
def test_the_url_field_is_checked_like_profile_add(
    qtbot: QtBot, home: Path, url: str, words: str
) -> None:
    """The same rules as the command line, as plain words under the form (no traceback)."""
    with open_runtime() as runtime, window_for(qtbot, runtime) as window:
        dialog = open_dialog(qtbot, window)
        dialog.name.setText("venue")
        dialog.url.setText(url)
        dialog.save.click()
        assert words in dialog.message.text()
        assert not (home / "profiles.toml").exists()


def test_the_proxy_field_is_saved_and_ignored_variables_are_named(
    qtbot: QtBot, home: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://10.0.0.1:3128")
    with open_runtime() as runtime, window_for(qtbot, runtime) as window:
        dialog = open_dialog(qtbot, window)
        assert dialog.environment_notice.isVisibleTo(dialog)
        assert (
            "HTTPS_PROXY is set in the environment and ignored: support-tool uses only the "
            "profile's proxy." in dialog.environment_notice.text()
        )
        dialog.name.setText("venue")
        dialog.url.setText(sandbox.url)
        dialog.proxy.setText("socks5://127.0.0.1:1080")
        dialog.save.click()
        assert "socks5:// is not supported" in dialog.message.text()
        dialog.proxy.setText("http://127.0.0.1:3128")
        dialog.save.click()
        qtbot.waitUntil(lambda: dialog.list.count() == 1)
        saved = tomllib.loads((home / "profiles.toml").read_text())
        assert saved["profiles"]["venue"]["proxy"] == "http://127.0.0.1:3128"
        dialog._new()
        assert dialog.proxy.text() == ""
        dialog._select("venue")  # what choosing it in the list does
        assert dialog.proxy.text() == "http://127.0.0.1:3128"


def _names(dialog: ProfilesDialog) -> list[str]:
    return [dialog.list.item(i).text() for i in range(dialog.list.count())]


def test_new_then_save_adds_a_profile_and_keeps_the_selected_one(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    """With 'Local two' selected, New, typing 'Third' and Save used to replace 'Local two'
    in profiles.toml and leave its secret orphaned in the keyring."""
    keyring = KeyringSecrets()
    with open_runtime() as runtime:
        runtime.profiles.save(
            runtime.profiles.load()
            .with_profile(make_profile("Local one", sandbox.url))
            .with_profile(make_profile("Local two", sandbox.url))
        )
        keyring.set("Local two", "two-secret")
        try:
            with window_for(qtbot, runtime) as window:
                dialog = open_dialog(qtbot, window)
                dialog.list.setCurrentRow(_names(dialog).index("Local two"))
                qtbot.waitUntil(lambda: dialog.secret_state.text() == "stored")
                dialog.new.click()
                qtbot.keyClicks(dialog.name, "Third")
                qtbot.keyClicks(dialog.url, sandbox.url)
                dialog.save.click()
                qtbot.waitUntil(lambda: "Third" in _names(dialog))
                qtbot.waitUntil(lambda: not window.jobs.pending)
                saved = tomllib.loads((home / "profiles.toml").read_text())
                assert sorted(saved["profiles"]) == ["Local one", "Local two", "Third"]
                assert keyring.get("Local two") == "two-secret"
                assert not keyring.has("Third")
        finally:
            keyring.delete("Local two")


def test_renaming_moves_the_secret_and_removing_deletes_it(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    keyring = KeyringSecrets()
    with open_runtime() as runtime:
        runtime.profiles.save(
            runtime.profiles.load().with_profile(make_profile("before", sandbox.url))
        )
        keyring.set("before", "moving-secret")
        try:
            with window_for(qtbot, runtime) as window:
                dialog = open_dialog(qtbot, window)
                qtbot.waitUntil(lambda: dialog.secret_state.text() == "stored")
                dialog.name.setText("after")
                dialog.save.click()
                qtbot.waitUntil(lambda: _names(dialog) == ["after"])
                qtbot.waitUntil(lambda: dialog.secret_state.text() == "stored")
                assert keyring.get("after") == "moving-secret"
                assert not keyring.has("before")
                assert dialog.message.text() == ""

                def confirm() -> None:
                    box = QApplication.activeModalWidget()
                    assert isinstance(box, QMessageBox)
                    box.button(QMessageBox.StandardButton.Yes).click()

                QTimer.singleShot(0, confirm)
                dialog.remove.click()
                qtbot.waitUntil(lambda: dialog.list.count() == 0)
                assert not keyring.has("after")
        finally:
            keyring.delete("before")
            keyring.delete("after")


def test_a_rename_that_cannot_move_the_secret_says_so(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    from support_tool.gui.profiles_dialog import move_secret

    secrets = KeyringSecrets(backend=fail.Keyring())
    note = move_secret(secrets, "old", "new")
    assert "could not be moved" in note
    assert "Set the secret key again" in note
