"""What the standalone app needed from the package, checked on the package itself:
the icon as package data, the window's error hook in place before anything can fail,
``--version`` without Qt, and the secret-key size every keyring can hold."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from support_tool import resources as bundled
from support_tool.config.secret_store import MAX_SECRET_BYTES, KeyringSecrets, check_secret_size
from support_tool.errors import InvalidInput
from tests.conftest import BINARY_ENV, CliProcessRunner, CliRunner

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


def test_icon_is_package_data_of_a_real_subpackage() -> None:
    icon = resources.files(bundled).joinpath("support-tool.svg")
    assert icon.read_text(encoding="utf-8").lstrip().startswith("<")
    assert Path(bundled.__file__).parent.name == "resources"
    assert Path(bundled.__file__).parent.parent.name == "support_tool"


@pytest.mark.gui
def test_window_start_failure_is_shown_in_words_not_raised(
    qtbot: QtBot, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while the window is being set up (here the icon, as in the first frozen
    build) reaches the operator as the error dialog, and run() returns a status."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from support_tool.gui import app as gui_app
    from support_tool.gui.error_report import ErrorReport

    def broken_icon() -> None:
        raise ModuleNotFoundError("No module named 'support_tool.resources'")

    monkeypatch.setattr(gui_app, "app_icon", broken_icon)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    seen: list[str] = []

    def read_and_close() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, read_and_close)
            return
        assert isinstance(dialog, ErrorReport)
        seen.append(dialog.report)
        dialog.reject()

    QTimer.singleShot(0, read_and_close)
    assert gui_app.run(demo=True) == gui_app.EXIT_STARTUP_FAILED
    assert "support_tool.resources" in seen[0]
    assert sys.excepthook is not sys.__excepthook__  # the hook went in first


def test_version_without_qt(home: Path) -> None:
    code = (
        "import sys\nfrom support_tool.cli.commands import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit as exit:\n    assert exit.code == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0].startswith("support-tool 0.")
    assert "from source" in out[0] or "installed package" in out[0]
    assert out[1].startswith("Python 3.")
    assert "PySide6 6." in out[1]
    assert out[2] == "[]"


def test_version_of_the_command_being_tested(cli_process: CliProcessRunner) -> None:
    done = cli_process("--version")
    assert done.status == 0
    bundle = bool(os.environ.get(BINARY_ENV))
    assert ("standalone app built" in done.out) is bundle


def test_secret_size_limit_is_windows_credential_managers() -> None:
    check_secret_size("k" * (MAX_SECRET_BYTES // 2))  # 1,280 characters fit
    with pytest.raises(InvalidInput, match=r"too long \(1,281 characters\).*at most 1,280"):
        check_secret_size("k" * (MAX_SECRET_BYTES // 2 + 1))
    with pytest.raises(InvalidInput):  # UTF-16 counts: outside the BMP a character is 4 bytes
        check_secret_size("\U0001f511" * 641)


@pytest.mark.keyring
def test_too_long_secret_is_refused_in_words_and_not_stored(
    cli: CliRunner, cli_process: CliProcessRunner
) -> None:
    assert cli("profile", "add", "long", "--url", "http://localhost:9").status == 0
    done = cli_process("secret", "set", "long", stdin="k" * 3000 + "\n")
    assert done.status == 2
    assert "too long (3,000 characters)" in done.err
    assert "Traceback" not in done.text
    assert not KeyringSecrets().has("long")


def test_the_apps_import_analysis_finds_every_module_of_ours() -> None:
    """The standalone app ships only what an import *statement* names (the spec has no
    hidden imports): commands imported from a string ("support_tool.cli.{name}") were left
    out, and `support-tool --version` in the app stopped with ModuleNotFoundError. Python's
    own bytecode scan (what PyInstaller's analysis does) must reach every module from the
    app's entry point."""
    import modulefinder
    import pkgutil

    import support_tool

    root = Path(__file__).resolve().parent.parent
    third_party = ["PySide6", "shiboken6", "requests", "keyring", "psycopg", "urllib3"]
    finder = modulefinder.ModuleFinder(path=[str(root)], excludes=third_party)
    finder.run_script(str(root / "packaging" / "entry.py"))
    ours = {m.name for m in pkgutil.walk_packages(support_tool.__path__, "support_tool.")}
    not_reached = ours - set(finder.modules) - {"support_tool.__main__"}  # `python -m` only
    assert not not_reached, sorted(not_reached)
