"""The close flow in the real window, offscreen, against the real sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from support_tool.gui.confirm import ConfirmClear
from support_tool.gui.main_window import MainWindow
from support_tool.gui.style import outcome_colour
from support_tool.ops.runtime import open_runtime
from support_tool.provider.outcome import Outcome
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET
from tests.gui_fixtures import sandbox_window, window_for

pytestmark = [pytest.mark.gui, pytest.mark.keyring]  # keyring: real Secret Service


@pytest.fixture
def demo(qtbot: QtBot, home: Path) -> Iterator[MainWindow]:
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        yield window


def tick_counter(interval_ms: int = 20) -> tuple[list[int], QTimer]:
    """A timer that records each time it fires: proof that the event loop keeps running."""
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: ticks.append(1))
    return ticks, timer


def wait_answer(qtbot: QtBot, window: MainWindow, timeout: int = 10_000) -> None:
    qtbot.waitUntil(
        lambda: not window.in_flight and window.answer.shown is not None, timeout=timeout
    )


def test_login_has_focus_and_tab_order_follows_reading_order(
    qtbot: QtBot, demo: MainWindow
) -> None:
    form = demo.form
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.login)
    order: list[QWidget] = []
    widget: QWidget | None = form.profile
    for _ in range(5):
        assert widget is not None
        order.append(widget)
        widget = widget.nextInFocusChain()
        while widget is not None and (
            widget.focusPolicy() == Qt.FocusPolicy.NoFocus or not widget.isVisible()
        ):
            widget = widget.nextInFocusChain()
    assert order == [form.profile, form.login, form.game, form.clear, form.reason]
    assert widget is form.button
    form.game.setFocus()
    qtbot.keyClick(demo, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is form.login


def test_every_field_has_an_accessible_name(demo: MainWindow) -> None:
    form = demo.form
    for widget in (form.profile, form.login, form.game, form.clear, form.reason, form.button):
        assert widget.accessibleName()
    assert "blank" in form.game.placeholderText()
    assert "cannot be undone" in form.clear_note.text()


def test_enter_in_the_login_field_closes_the_session(qtbot: QtBot, demo: MainWindow) -> None:
    qtbot.keyClicks(demo.form.login, "terminal-0005")
    qtbot.keyClick(demo.form.login, Qt.Key.Key_Return)
    wait_answer(qtbot, demo)
    assert demo.answer.headline.text() == "Session closed — terminal-0005"
    assert "Code 0: Success" in demo.answer.description.text()
    assert "HTTP 200" in demo.answer.facts.text()
    assert QApplication.focusWidget() is demo.form.login  # ready for the next one
    qtbot.waitUntil(lambda: demo.history_view().model.rowCount() == 1)  # live history update


@pytest.mark.parametrize("field", ["game", "reason", "profile"])
def test_enter_submits_from_any_field(qtbot: QtBot, demo: MainWindow, field: str) -> None:
    demo.form.login.setText("player-004")
    getattr(demo.form, field).setFocus()
    qtbot.keyClick(getattr(demo.form, field), Qt.Key.Key_Enter)
    wait_answer(qtbot, demo)
    assert demo.runtime.sandbox is not None
    assert demo.runtime.sandbox.request_count == 1


@pytest.mark.parametrize(
    ("login", "game", "words"),
    [
        ("pl ayer", "", "a space at position 3"),
        ("x" * 200, "", "too long"),
        ("ok", "vs 20", "game id contains a space"),
        ("a\u200bb", "", "U+200B"),
    ],
)
def test_invalid_input_is_explained_as_you_type_and_never_sent(
    qtbot: QtBot, demo: MainWindow, login: str, game: str, words: str
) -> None:
    for editor, text in ((demo.form.login, login), (demo.form.game, game)):
        if text.isascii():
            qtbot.keyClicks(editor, text)
        else:
            editor.insert(text)  # non-ASCII arrives by paste (QTest cannot type it)
    errors = [demo.form._login_field.error, demo.form._game_field.error]
    assert any(words in e.text() and e.isVisibleTo(demo) for e in errors)
    assert not demo.form.button.isEnabled()
    qtbot.keyClick(demo.form.login, Qt.Key.Key_Return)
    assert not demo.in_flight
    assert demo.runtime.sandbox is not None
    assert demo.runtime.sandbox.connections == 0


def test_enter_before_anything_can_be_sent_says_why_and_sends_nothing(qtbot: QtBot) -> None:
    """A login typed (or scanned, with its Enter) while no profile is chosen yet, as in a
    window just opened whose profiles are still loading, or while sending is disabled, is
    not sent and not dropped without a word: the form says why and what to do."""
    from support_tool.gui.close_form import CloseForm

    form = CloseForm()
    qtbot.addWidget(form)
    sent: list[object] = []
    said: list[str] = []
    form.submitted.connect(sent.append)
    form.not_sent.connect(said.append)
    qtbot.keyClicks(form.login, "terminal-0042")
    qtbot.keyClick(form.login, Qt.Key.Key_Return)
    assert said == [
        "Not sent. No profile is chosen (in a window just opened, the profiles are still "
        "loading). Press Enter again once Close session is enabled."
    ]
    form.set_profiles(["live"], "live")
    form.set_blocked("Disabled: nothing can be sent while the audit history is away.")
    qtbot.keyClick(form.login, Qt.Key.Key_Return)
    assert said[-1] == (
        "Not sent. Nothing can be sent while the audit history is away. "
        "Press Enter again once Close session is enabled."
    )
    assert sent == []
    form.set_blocked("")
    qtbot.keyClick(form.login, Qt.Key.Key_Return)
    assert len(sent) == 1
    assert len(said) == 2


def test_empty_login_disables_the_button_without_scolding(demo: MainWindow) -> None:
    assert not demo.form.button.isEnabled()
    assert not demo.form._login_field.error.isVisibleTo(demo)


def test_clear_history_asks_naming_login_and_game(qtbot: QtBot, demo: MainWindow) -> None:
    sandbox = demo.runtime.sandbox
    assert sandbox is not None
    demo.form.fill("terminal-0009", "vs20olympgate", True)
    demo.form.submit()
    dialog = demo.confirmation
    assert isinstance(dialog, ConfirmClear)
    assert "terminal-0009" in dialog.message.text()
    assert "vs20olympgate" in dialog.message.text()
    assert dialog.typed is None  # not production: a plain confirmation
    dialog.reject()
    assert sandbox.request_count == 0
    assert not demo.in_flight
    demo.form.submit()
    assert demo.confirmation is not None
    demo.confirmation.ok.click()
    wait_answer(qtbot, demo)
    assert json.loads(sandbox.received[0].body)["clearHistory"] == "1"
    assert sandbox.provider.sessions("terminal-0009") == {}


def test_production_clear_history_needs_the_login_typed(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with sandbox_window(qtbot, home, sandbox, production=True) as window:
        assert window.production_banner.isVisibleTo(window)
        assert "PRODUCTION" in window.production_banner.text()
        assert "PRODUCTION" in window.windowTitle()
        window.form.fill("terminal-0011", "", True)
        window.form.submit()
        dialog = window.confirmation
        assert dialog is not None
        assert dialog.typed is not None
        assert not dialog.ok.isEnabled()
        window.form.submit()  # a second Enter on the form opens no second confirmation
        assert window.confirmation is dialog
        qtbot.keyClick(dialog.typed, Qt.Key.Key_Return)  # a reflexive Enter cancels
        assert not dialog.isVisible()
        assert not sandbox.received
        window.form.submit()
        dialog = window.confirmation
        assert dialog is not None
        assert dialog.typed is not None
        qtbot.keyClicks(dialog.typed, "terminal-001")
        assert not dialog.ok.isEnabled()
        qtbot.keyClicks(dialog.typed, "1")
        assert dialog.ok.isEnabled()
        qtbot.keyClick(dialog.typed, Qt.Key.Key_Return)
        wait_answer(qtbot, window)
        assert window.answer.shown is not None
        assert window.answer.shown.result.ok


def test_button_is_disabled_while_in_flight_no_double_submit(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    sandbox.latency_s = 0.6
    with sandbox_window(qtbot, home, sandbox) as window:
        window.form.login.setText("player-010")
        qtbot.keyClick(window.form.login, Qt.Key.Key_Return)
        assert window.in_flight
        assert not window.form.button.isEnabled()
        assert not window.form.login.isEnabled()
        assert window.busy.isVisibleTo(window)
        qtbot.keyClick(window, Qt.Key.Key_Return)
        window.form.button.click()
        window.form.submit()
        qtbot.waitUntil(lambda: "Waiting for the provider" in window.busy_label.text())
        wait_answer(qtbot, window)
        assert sandbox.request_count == 1
        assert window.form.button.isEnabled()


@pytest.mark.parametrize(
    ("login", "fault", "headline", "words"),
    [
        ("nobody", "none", "Refused by the provider", "Code 17: Player not found"),
        ("player-001", "ratelimit", "Refused by the provider", "Code 99"),
        ("player-001", "http500", "Could not reach the provider", "HTTP 500"),
        ("player-001", "redirect", "Could not reach the provider", "not followed"),
    ],
)
def test_answer_panel_for_each_outcome(
    qtbot: QtBot,
    home: Path,
    sandbox: SandboxServer,
    login: str,
    fault: str,
    headline: str,
    words: str,
) -> None:
    sandbox.fault = fault
    with sandbox_window(qtbot, home, sandbox) as window:
        window.form.login.setText(login)
        window.form.submit()
        wait_answer(qtbot, window)
        assert window.answer.headline.text() == f"{headline} — {login}"
        assert words in window.answer.description.text()
        assert window.answer.next_step.text().startswith("Next step: ")


def test_missing_secret_is_shown_as_configuration_problem(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with sandbox_window(qtbot, home, sandbox, secret=None) as window:
        window.form.login.setText("player-001")
        window.form.submit()
        wait_answer(qtbot, window)
        assert window.answer.headline.text() == "Not sent: configuration problem — player-001"
        assert "support-tool secret set sandbox" in window.answer.description.text()
        assert not sandbox.received


def test_details_show_the_request_and_copy_is_redacted(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with sandbox_window(qtbot, home, sandbox) as window:
        window.form.fill("terminal-0012", "vs20olympgate", False)
        window.form.submit()
        wait_answer(qtbot, window)
        window.answer.toggle.click()
        assert window.answer.details.isVisibleTo(window)
        text = window.answer.details.toPlainText()
        assert "POST http://127.0.0.1" in text
        assert "MEMB_ID=terminal-0012" in text
        assert "clearHistory=0&gameId=vs20olympgate&secureLogin=terminal-0012•••" in text
        assert '{"error": 0, "description": "Success"}' in text
        window.answer.copy.click()
        copied = QGuiApplication.clipboard().text()
        assert copied == text
        assert SANDBOX_SECRET not in copied


def test_event_loop_keeps_running_while_the_provider_hangs(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    sandbox.fault = "hang"
    ticks, timer = tick_counter()
    with sandbox_window(qtbot, home, sandbox, timeout=1.5) as window:
        timer.start()
        window.form.login.setText("player-001")
        window.form.submit()
        wait_answer(qtbot, window)
        timer.stop()
        assert "within 1.5 s" in window.answer.description.text()
        assert window.answer.headline.text() == "Could not reach the provider — player-001"
    # 1.5 s of a 20 ms timer: it fired throughout (a frozen loop would give ~0).
    assert len(ticks) >= 20


def test_closing_the_window_mid_request_keeps_the_history_row(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    sandbox.fault = "hang"
    with sandbox_window(qtbot, home, sandbox, timeout=1.0) as window:
        window.form.login.setText("player-002")
        window.form.submit()
        assert sandbox.wait_for_requests(1, timeout=5)
        window.close()
        assert window.isVisible()  # waits for the answer to be recorded
        assert "Waiting for the provider's answer" in window.statusBar().currentMessage()
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
        records = list(window.runtime.service.history.query())
    assert [r.outcome for r in records] == ["transport_failure"]


def test_profile_and_geometry_are_remembered(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with sandbox_window(qtbot, home, sandbox) as window:
        window.resize(880, 697)  # the minimum width (the offscreen screen is 800 px wide)
    assert (home / "window.ini").exists()
    with sandbox_window(qtbot, home, sandbox) as window:
        assert window.size().toTuple() == (880, 697)  # not the default 1240 x 720
        assert window.form.profile.currentText() == "sandbox"


def test_line_edits_do_not_show_secrets(demo: MainWindow) -> None:
    for edit in demo.findChildren(QLineEdit):
        assert SANDBOX_SECRET not in edit.text()


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def test_every_outcome_has_its_own_colours() -> None:
    """The colours are keyed by the outcome's stored value (so that the window's first
    screen does not load the outcome's module): none may fall back to the unknown's."""
    from support_tool.gui.style import _COLOURS

    assert set(_COLOURS) == {outcome.value for outcome in Outcome}


@pytest.mark.parametrize("background", ["#ffffff", "#f0f0f0", "#2b2b2b", "#1e1e1e"])
def test_outcome_colours_are_readable_in_light_and_dark_themes(
    qapp: QApplication, background: str
) -> None:
    original = qapp.palette()
    palette = QPalette(original)
    palette.setColor(QPalette.ColorRole.Window, QColor(background))
    palette.setColor(QPalette.ColorRole.Base, QColor(background))
    qapp.setPalette(palette)
    try:
        for outcome in Outcome:
            fg, bg = _luminance(outcome_colour(outcome)), _luminance(QColor(background))
            ratio = (max(fg, bg) + 0.05) / (min(fg, bg) + 0.05)
            assert ratio >= 4.5, (outcome, background, ratio)  # WCAG AA for normal text
    finally:
        qapp.setPalette(original)


def test_closing_during_a_connection_test_waits_without_freezing(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    sandbox.fault = "hang"
    ticks, timer = tick_counter()
    with sandbox_window(qtbot, home, sandbox, timeout=1.0) as window:
        service = window.runtime.service
        window.jobs.submit(lambda: service.close("support-tool-connection-test", profile="sandbox"))
        assert sandbox.wait_for_requests(1, timeout=5)
        timer.start()
        window.close()
        assert window.isVisible()  # not blocked in close(): the loop goes on
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
        timer.stop()
        records = list(window.runtime.service.history.query())
    assert [r.outcome for r in records] == ["transport_failure"]
    assert len(ticks) >= 10
