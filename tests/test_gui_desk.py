"""At the desk: production visible on every tab, an answer that cannot be misread, details
that carry their time, and a window whose keys and sizes hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from support_tool.config.profiles import ProfileStore, make_profile
from support_tool.gui.main_window import HISTORY_TAB, TERMINALS_TAB, MainWindow
from support_tool.ops.runtime import open_runtime
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET
from tests.gui_fixtures import live_and_test_window, sandbox_window, window_for

pytestmark = [pytest.mark.gui, pytest.mark.keyring]  # keyring: real Secret Service


def wait_answer(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.in_flight and window.answer.shown is not None)


def test_banner_and_title_follow_the_profile_of_the_tab_in_front(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    """The Terminals tab with a production profile chosen there used to show no banner and
    a title naming the Close tab's sandbox profile; and the reverse."""
    store = ProfileStore()
    store.save(
        store.load()
        .with_profile(make_profile("sandbox", sandbox.url), make_default=True)
        .with_profile(make_profile("live", sandbox.url, production=True))
    )
    with open_runtime() as runtime, window_for(qtbot, runtime) as window:
        qtbot.waitUntil(lambda: window.terminals is not None)
        terminals = window.terminals
        assert terminals is not None
        assert window.form.profile.currentText() == "sandbox"
        assert not window.production_banner.isVisibleTo(window)

        window.tabs.setCurrentIndex(TERMINALS_TAB)
        terminals.profile.setCurrentText("live")
        assert window.production_banner.isVisibleTo(window)
        assert "live" in window.production_banner.text()
        assert "Terminals" in window.production_banner.text()
        assert "live — PRODUCTION" in window.windowTitle()
        assert "sandbox" not in window.windowTitle()

        window.tabs.setCurrentIndex(0)  # the Close tab still uses sandbox
        assert not window.production_banner.isVisibleTo(window)
        assert "sandbox" in window.windowTitle()
        assert "live" not in window.windowTitle()
        assert "PRODUCTION" not in window.windowTitle()

        window.form.profile.setCurrentText("live")
        window.tabs.setCurrentIndex(TERMINALS_TAB)
        terminals.profile.setCurrentText("sandbox")
        assert not window.production_banner.isVisibleTo(window)
        assert "PRODUCTION" not in window.windowTitle()
        window.tabs.setCurrentIndex(0)
        assert window.production_banner.isVisibleTo(window)
        assert "live — PRODUCTION" in window.windowTitle()

        window.tabs.setCurrentIndex(HISTORY_TAB)  # sends nothing: claims no profile
        assert not window.production_banner.isVisibleTo(window)
        assert "live" not in window.windowTitle()
        assert "sandbox" not in window.windowTitle()
        assert window.windowTitle().startswith("History")


def test_title_names_the_application_once(qtbot: QtBot, home: Path) -> None:
    """Qt appends the display name unless the title already ends with it."""
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        qtbot.waitUntil(lambda: window.form.profile.count() > 0)
        title = window.windowTitle()
        assert title.count("support-tool") == 1
        assert title.endswith("support-tool")


def test_answer_names_its_action_and_greys_out_when_the_form_moves_on(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with sandbox_window(qtbot, home, sandbox) as window:
        answer = window.answer
        window.form.fill("terminal-0007", "", False)
        window.form.submit()
        wait_answer(qtbot, window)
        assert answer.headline.text() == "Session closed — terminal-0007"
        subject = answer.subject.text()
        for words in ("terminal-0007", "all games", "clear history: no", "profile sandbox"):
            assert words in subject
        assert re.search(r"\d\d:\d\d:\d\d", subject)
        assert not answer.stale
        assert not answer.stale_note.isVisibleTo(window)
        green = answer.headline.styleSheet()

        qtbot.keyClicks(window.form.login, "terminal-0008")  # typed over the selected login
        assert answer.stale
        assert answer.stale_note.isVisibleTo(window)
        assert answer.stale_note.text() == (
            "This answer was for terminal-0007 on profile sandbox; the form now shows "
            "terminal-0008."
        )
        assert answer.headline.styleSheet() != green  # no longer green: greyed
        window.form.login.setText(" terminal-0007 ")
        assert not answer.stale  # the form shows that action again
        assert answer.headline.styleSheet() == green

        window.form.clear.setChecked(True)  # another clear-history choice
        assert answer.stale
        window.form.clear.setChecked(False)
        window.form.game.setText("vs20olympgate")  # another game
        assert answer.stale


def test_a_profile_change_is_named_as_what_changed(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    """QA: after switching the Close tab's profile the note said "the form now shows
    another close" though the login was the same. It names the profile change."""
    with live_and_test_window(qtbot, home, sandbox) as window:
        window.form.profile.setCurrentText("live")
        window.form.fill("terminal-0007", "", False)
        window.form.submit()
        wait_answer(qtbot, window)
        window.form.profile.setCurrentText("test")
        assert window.answer.stale
        assert window.answer.stale_note.text() == (
            "This answer was for terminal-0007 on profile live (PRODUCTION); the form now "
            "uses profile test."
        )
        window.form.profile.setCurrentText("live")
        assert not window.answer.stale


def test_close_again_with_another_row_greys_the_answer(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with sandbox_window(qtbot, home, sandbox) as window:
        window.form.fill("terminal-0007", "", False)
        window.form.submit()
        wait_answer(qtbot, window)
        window.form.fill("terminal-0008", "", False)
        window.form.submit()
        wait_answer(qtbot, window)
        history = window.history_view()
        qtbot.waitUntil(lambda: history.model.rowCount() == 2)
        older = history.model.record(1)
        assert older.login == "terminal-0007"
        window.close_again(older)
        assert window.answer.stale
        assert "terminal-0008" in window.answer.stale_note.text()


def test_a_cancelled_confirmation_replaces_the_previous_answer(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with sandbox_window(qtbot, home, sandbox) as window:
        window.form.fill("terminal-0007", "", False)
        window.form.submit()
        wait_answer(qtbot, window)
        window.form.fill("terminal-0007", "", True)
        window.form.submit()
        dialog = window.confirmation
        assert dialog is not None
        dialog.cancel.click()
        assert window.answer.headline.text() == "Not sent — terminal-0007"
        assert "clear history: yes" in window.answer.subject.text()
        assert "Nothing was sent" in window.answer.description.text()
        assert not window.answer.copy.isEnabled()
        assert "Session closed" not in window.answer.headline.text()


def test_copy_details_carries_the_request_time_and_says_it_copied(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with sandbox_window(qtbot, home, sandbox) as window:
        before = datetime.now(UTC).replace(microsecond=0)
        window.form.fill("terminal-0012", "", False)
        window.form.submit()
        wait_answer(qtbot, window)
        window.answer.copy.click()
        copied = QGuiApplication.clipboard().text()
        match = re.search(r"Requested at: (\S+ \S+) UTC \((\S+ \S+) local time", copied)
        assert match, copied
        at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        assert before <= at <= datetime.now(UTC)
        local = at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        assert match.group(2) == local
        assert "Login: terminal-0012" in copied
        assert SANDBOX_SECRET not in copied
        assert window.answer.copy.text().startswith("Copied")
        qtbot.waitUntil(lambda: window.answer.copy.text() == "Copy details", timeout=10_000)


def visible_mnemonics(window: MainWindow) -> list[tuple[str, str]]:
    """(letter, text) for every mnemonic the user can reach at once on the current tab:
    the menu bar's menus, the tab titles, and visible buttons, labels and group boxes."""
    from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel

    texts = [action.text() for action in window.menuBar().actions() if action.isVisible()]
    texts += [window.tabs.tabText(i) for i in range(window.tabs.count())]
    for widget in window.findChildren(QAbstractButton):
        if widget.isVisibleTo(window):
            texts.append(widget.text())
    for label in window.findChildren(QLabel):
        if label.isVisibleTo(window) and "<" not in label.text():  # rich text has no mnemonic
            texts.append(label.text())
    for box in window.findChildren(QGroupBox):
        if box.isVisibleTo(window):
            texts.append(box.title())
    found = []
    for text in texts:
        match = re.search(r"&([^&])", text.replace("&&", ""))
        if match:
            found.append((match.group(1).lower(), text))
    return found


def test_mnemonics_are_unique_on_every_tab(qtbot: QtBot, home: Path) -> None:
    """Alt+H opened the Help menu instead of the History tab."""
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        qtbot.waitUntil(lambda: window.terminals is not None and window.history is not None)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            found = visible_mnemonics(window)
            letters = [letter for letter, _ in found]
            clashes = sorted({(key, text) for key, text in found if letters.count(key) > 1})
            assert not clashes, f"tab {window.tabs.tabText(index)}: {clashes}"
            assert ("h", "&History") in found


def test_every_label_mnemonic_moves_the_focus(qtbot: QtBot, home: Path) -> None:
    """Alt+L, Alt+G and Alt+R did nothing: their labels' buddies were containers."""
    from PySide6.QtWidgets import QLabel

    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        qtbot.waitUntil(lambda: window.terminals is not None and window.history is not None)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            for label in window.findChildren(QLabel):
                text = label.text()
                if not label.isVisibleTo(window) or not re.search(r"&[^&]", text):
                    continue
                buddy = label.buddy()
                assert buddy is not None, text
                window.tabs.tabBar().setFocus()  # away from the buddy first
                assert not buddy.hasFocus()
                mnemonic = re.search(r"&([^&])", text)
                assert mnemonic is not None
                qtbot.keyClick(
                    window,
                    mnemonic.group(1).lower(),
                    Qt.KeyboardModifier.AltModifier,
                )
                qtbot.waitUntil(buddy.hasFocus)


OPEN_AND_REPORT = """
import sys
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from support_tool.cli.commands import main
from support_tool.gui import main_window

show = main_window.MainWindow.show


def show_and_report(self):
    # Observe the real window being opened by main(), say what Qt made of the options, quit.
    show(self)
    app = QApplication.instance()
    rtl = app.layoutDirection() == Qt.LayoutDirection.RightToLeft
    print("opened", app.style().name(), "rtl" if rtl else "ltr", flush=True)
    QTimer.singleShot(0, app.quit)


main_window.MainWindow.show = show_and_report
sys.exit(main(sys.argv[1:]))
"""


def test_qt_standard_options_reach_the_window(home: Path) -> None:
    """'support-tool --demo -style fusion' was refused by the argument parser."""
    import os
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-c", OPEN_AND_REPORT, "--demo", "-style", "fusion", "-reverse"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"},
    )
    assert completed.returncode == 0, completed.stderr
    assert "opened fusion rtl" in completed.stdout
    assert "Traceback" not in completed.stderr


def test_qt_options_are_split_from_ours_and_refused_for_commands(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from support_tool.cli.commands import main, split_qt_arguments

    assert split_qt_arguments(["--demo", "-style", "fusion", "-reverse", "-stylesheet=a.qss"]) == (
        ["--demo"],
        ["-style", "fusion", "-reverse", "-stylesheet=a.qss"],
    )
    assert split_qt_arguments(["close", "terminal-07", "--game", "g"]) == (
        ["close", "terminal-07", "--game", "g"],
        [],
    )
    with pytest.raises(SystemExit) as refused:
        main(["--demo", "close", "terminal-07", "-style", "fusion"])
    assert refused.value.code == 2
    assert "unrecognized arguments: -style fusion" in capsys.readouterr().err


def clipped_texts(window: QWidget) -> list[str]:
    """Visible labels and buttons whose text does not fit the room they were given."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    found = []
    for label in window.findChildren(QLabel):
        if not label.isVisibleTo(window) or not label.text():
            continue
        hint = label.sizeHint()
        need = label.heightForWidth(label.width()) if label.wordWrap() else hint.height()
        narrow = not label.wordWrap() and label.width() < hint.width()
        if label.height() < need or narrow:
            found.append(f"label {label.text()[:50]!r} {label.size().toTuple()}")
    for button in window.findChildren(QAbstractButton):
        if button.isVisibleTo(window) and button.text():
            hint = button.sizeHint()
            if button.width() < hint.width() or button.height() < hint.height():
                found.append(f"button {button.text()!r} {button.size().toTuple()}")
    return found


def test_nothing_is_clipped_at_the_minimum_size_which_fits_a_small_screen(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    """At 700×500 the warning text was clipped."""
    from support_tool.gui.screen_fit import MINIMUM_SIZE

    width, height = MINIMUM_SIZE
    assert width <= 1366
    assert height <= 768 - 40 - 40  # a taskbar and a title bar on a 1366×768 screen
    with sandbox_window(qtbot, home, sandbox, production=True) as window:
        window.form.fill("terminal-0007", "vs20olympgate", False)
        window.form.submit()
        wait_answer(qtbot, window)
        window.answer.toggle.click()  # Details open
        window.form.login.setText("terminal-0008")  # the answer greys, with its note
        window.tamper_banner.setText(
            "The audit history was altered outside support-tool: sealed record 2 was changed "
            "(record #2). (1 records before it verified.) Keep the file as evidence and tell "
            "your supervisor."
        )
        window.tamper_banner.setVisible(True)
        window.store_watch.reason = (  # as a team store's does, its reason names it
            "The team audit store postgresql://audit.casino.example/support cannot be "
            "reached: connection refused (is the server running?)."
        )
        window._show_profile_state()
        window.resize(100, 100)
        qtbot.waitUntil(lambda: window.size().toTuple() == MINIMUM_SIZE)
        qtbot.waitUntil(lambda: window.terminals is not None and window.history is not None)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            qtbot.waitUntil(lambda: window.tabs.currentWidget().isVisible())
            QGuiApplication.processEvents()  # let the layouts settle
            assert window.store_watch.banner.isVisible()
            problems = clipped_texts(window)
            assert not problems, f"tab {window.tabs.tabText(index)}: {problems}"


def test_the_verify_dialog_shows_all_its_text_at_its_smallest(qtbot: QtBot, home: Path) -> None:
    from support_tool.audit.seals import ChainReport
    from support_tool.gui.verify_dialog import VerifyDialog

    report = ChainReport(False, 3, "ab" * 32, "sealed record 2 was changed (record #2).", 2)
    dialog = VerifyDialog(report, str(home / "a" / "long" / "path" / "history.sqlite3"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.resize(10, 10)
    qtbot.waitUntil(lambda: dialog.size() == dialog.minimumSize())
    QGuiApplication.processEvents()  # let the layout settle at that size
    assert not clipped_texts(dialog)
    labels = [label.text() for label in dialog.findChildren(QLabel)]
    assert any("altered outside support-tool" in text for text in labels)


def test_the_first_size_fits_the_screen_it_opens_on() -> None:
    """At 200% on 1366×768 the window opened at 2480×1440 device pixels, its Close button
    off-screen: the first size is the screen's free area where that is smaller."""
    from support_tool.gui.screen_fit import MINIMUM_SIZE, first_size

    assert first_size((1920, 1040)) == (1240, 720)
    assert first_size((1000, 700)) == (1000, 700)
    assert first_size((683, 360)) == MINIMUM_SIZE  # nothing smaller is usable
