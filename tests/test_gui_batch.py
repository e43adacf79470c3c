"""The Terminals tab: a floor manager's batch, under pytest-qt, against the real sandbox."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from support_tool.gui.batch_model import RowProgress
from support_tool.gui.confirm import ConfirmBatch, ConfirmRetry
from support_tool.gui.history_model import OUTCOME_COLUMN
from support_tool.gui.main_window import HISTORY_TAB, MainWindow
from support_tool.gui.style import outcome_colour
from support_tool.gui.terminals_tab import TerminalsTab
from support_tool.ops.runtime import open_runtime
from support_tool.provider.outcome import Outcome
from support_tool.sandbox import SandboxServer
from tests.gui_fixtures import live_and_test_window, sandbox_window, window_for
from tests.test_gui_close import tick_counter

pytestmark = [pytest.mark.gui, pytest.mark.keyring]  # keyring: real Secret Service


@pytest.fixture
def demo(qtbot: QtBot, home: Path) -> Iterator[MainWindow]:
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        yield window


def terminals_tab(qtbot: QtBot, window: MainWindow) -> TerminalsTab:
    qtbot.waitUntil(lambda: window.terminals is not None)
    tab = window.terminals
    assert tab is not None
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.profile.count() > 0 and not window.jobs.pending)
    return tab


def paste(qtbot: QtBot, tab: TerminalsTab, text: str) -> None:
    tab.editor.setPlainText(text)
    qtbot.waitUntil(lambda: tab.checked)


def confirm(qtbot: QtBot, tab: TerminalsTab) -> ConfirmBatch:
    tab.start_button.click()
    dialog = tab.confirmation
    assert isinstance(dialog, ConfirmBatch)
    return dialog


def wait_done(qtbot: QtBot, tab: TerminalsTab, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: not tab.running and tab.summary is not None, timeout=timeout)


def test_a_demo_group_runs_and_shows_in_history(qtbot: QtBot, demo: MainWindow) -> None:
    tab = terminals_tab(qtbot, demo)
    tab.group.setCurrentIndex(tab.group.findText("Demo bank A"))
    tab.group.activated.emit(tab.group.currentIndex())
    qtbot.waitUntil(lambda: tab.checked)
    assert tab.start_button.text() == "Close 40 sessions…"
    assert "40 terminals" in tab.list_status.text()
    dialog = confirm(qtbot, tab)
    assert "Close <b>40 sessions</b> on profile <b>Sandbox</b>" in dialog.message.text()
    assert "remove every unfinished round" in dialog.message.text()
    assert dialog.typed is None  # not production
    dialog.ok.click()
    wait_done(qtbot, tab)
    assert tab.summary is not None
    assert tab.summary.succeeded == 40
    assert "40 closed" in tab.progress_label.text()
    assert tab.progress.value() == 40
    assert {tab.model.row(n).state for n in range(40)} == {RowProgress.DONE}
    assert tab.model.data(tab.model.index(0, 3)) == "Closed"
    assert not tab.retry_button.isEnabled()

    tab.history_button.click()
    assert demo.tabs.currentIndex() == HISTORY_TAB
    view = demo.history_view()
    assert view.batch.text() == tab.summary.batch_id
    qtbot.waitUntil(lambda: view.model.rowCount() == 40 and not view.model.busy)


def test_timers_keep_firing_while_1000_requests_run(qtbot: QtBot, demo: MainWindow) -> None:
    assert demo.runtime.sandbox is not None
    demo.runtime.sandbox.latency_s = 0.005
    tab = terminals_tab(qtbot, demo)
    paste(qtbot, tab, "\n".join(f"terminal-{n:04d}" for n in range(1, 1001)))
    tab.concurrency.setValue(8)
    confirm(qtbot, tab).ok.click()
    ticks, timer = tick_counter()
    timer.start()
    qtbot.waitUntil(lambda: tab.run is not None and tab.run.progress().done >= 100)
    during = len(ticks)
    wait_done(qtbot, tab, timeout=60_000)
    timer.stop()
    assert tab.summary is not None
    assert tab.summary.succeeded == 1000
    assert during >= 2  # the loop ran while the batch was under way
    assert len(ticks) >= 20


def test_production_batch_needs_the_count_typed(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    with sandbox_window(qtbot, home, sandbox, production=True) as window:
        tab = terminals_tab(qtbot, window)
        paste(qtbot, tab, "terminal-0001\nterminal-0002\nterminal-0003\n")
        dialog = confirm(qtbot, tab)
        assert dialog.windowTitle() == "PRODUCTION: close sessions?"
        assert dialog.typed is not None
        assert not dialog.ok.isEnabled()
        qtbot.keyClick(dialog.typed, Qt.Key.Key_Return)  # reflex: cancels
        assert not dialog.isVisible()
        assert sandbox.request_count == 0
        dialog = confirm(qtbot, tab)
        assert dialog.typed is not None
        qtbot.keyClicks(dialog.typed, "3")
        assert dialog.ok.isEnabled()
        assert dialog.ok.isDefault()
        qtbot.keyClick(dialog.typed, Qt.Key.Key_Return)
        wait_done(qtbot, tab)
        assert sandbox.request_count == 3


def test_invalid_and_duplicate_lines_are_explained_and_recorded(
    qtbot: QtBot, demo: MainWindow
) -> None:
    tab = terminals_tab(qtbot, demo)
    paste(qtbot, tab, "login\nterminal-0001\nbad login\nterminal-0001\nterminal-0002\n")
    text = tab.list_status.text()
    assert "2 terminals" in text
    assert "1 duplicate line removed" in text
    assert "1 invalid line will not be sent (first on line 3" in text
    assert not tab.save_group.isEnabled()  # a group is saved only without invalid lines
    dialog = confirm(qtbot, tab)
    assert "1 invalid line will not be sent" in dialog.message.text()
    dialog.ok.click()
    wait_done(qtbot, tab)
    assert tab.run is not None
    records = list(demo.runtime.service.history.query(batch_id=tab.run.batch_id))
    assert sorted(r.outcome for r in records) == ["invalid_input", "success", "success"]


def test_mixed_outcomes_cancel_and_retry_failed(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    sandbox.fault_for_login["terminal-0002"] = "http500"
    sandbox.latency_s = 0.05
    with sandbox_window(qtbot, home, sandbox) as window:
        tab = terminals_tab(qtbot, window)
        paste(
            qtbot,
            tab,
            "\n".join(["terminal-0002", "nobody"] + [f"terminal-{n:04d}" for n in range(3, 203)]),
        )
        tab.concurrency.setValue(2)
        confirm(qtbot, tab).ok.click()
        qtbot.waitUntil(lambda: tab.cancel_button.isEnabled())
        qtbot.waitUntil(lambda: tab.run is not None and tab.run.progress().done >= 6)
        tab.cancel_button.click()
        assert "Cancelling" in tab.progress_label.text()
        wait_done(qtbot, tab)
        summary = tab.summary
        assert summary is not None
        assert summary.cancelled
        assert summary.not_sent > 0
        assert "1 refused by provider, 1 could not reach provider" in tab.progress_label.text()
        statuses = {tab.model.row(n).state for n in range(tab.model.rowCount())}
        assert RowProgress.WAITING in statuses  # rows never sent say so
        assert tab.model.data(tab.model.index(1, 3)) == "Refused by provider"
        retry_count = len(summary.retry)
        assert [t.login for t in summary.left_out] == ["nobody"]  # 17 would fail again
        assert tab.retry_button.text() == f"Retry failed ({retry_count:,})"
        # one obvious next action after a cancel: retry, not the same list again
        assert not tab.start_button.isEnabled()
        assert tab.next_action is tab.retry_button
        assert "Player not found" in tab.progress_label.text()

        del sandbox.fault_for_login["terminal-0002"]
        sandbox.latency_s = 0
        tab.retry_button.click()
        dialog = tab.confirmation
        assert isinstance(dialog, ConfirmRetry)
        assert f"Close <b>{retry_count:,} sessions" in dialog.message.text()
        assert "1 × error 17: Player not found" in dialog.left_out.text()
        dialog.include_refused.setChecked(True)  # offered, on request only
        assert f"Close <b>{retry_count + 1:,} sessions" in dialog.message.text()
        dialog.include_refused.setChecked(False)
        dialog.ok.click()
        wait_done(qtbot, tab)
        retried = tab.summary
        assert retried is not None
        assert retried.batch_id.startswith(summary.batch_id + ".r")  # linked to its parent
        assert retried.counts_text() == f"{retry_count:,} closed"
        # one table: each terminal's latest status across the batch and its retry
        assert tab.model.rowCount() == 202
        assert tab.model.data(tab.model.index(0, 3)) == "Closed"
        assert tab.model.row(0).batch_id == retried.batch_id
        assert tab.model.data(tab.model.index(1, 3)) == "Refused by provider"
        assert tab.model.row(1).batch_id == summary.batch_id
        assert not tab.start_button.isEnabled()
        assert tab.next_action is tab.export_results
        assert tab.retry_button.isEnabled()  # the refused one, on request
        tab.editor.setPlainText("terminal-0300\n")  # a new list makes starting the default
        qtbot.waitUntil(lambda: tab.checked)
        assert tab.next_action is tab.start_button


def test_groups_import_save_export_and_delete(
    qtbot: QtBot, demo: MainWindow, tmp_path: Path
) -> None:
    tab = terminals_tab(qtbot, demo)
    source = tmp_path / "bank.csv"
    source.write_bytes(
        "\ufefflogin,gameId\r\nterminal-0001\r\nterminal-0002,vs20olympgate\r\n".encode()
    )
    tab.lists.import_file(source)
    qtbot.waitUntil(
        lambda: tab.checked and tab.parsed is not None and len(tab.parsed.terminals) == 2
    )
    tab.lists.save_as("Bank B")
    qtbot.waitUntil(lambda: tab.group.findText("Bank B") >= 0)
    assert "Bank B" in demo.runtime.groups.load()
    exported = tmp_path / "out.csv"
    tab.lists.export_to(exported)
    qtbot.waitUntil(
        lambda: exported.exists() and "Exported 2 terminals" in demo.statusBar().currentMessage()
    )
    assert exported.read_text(encoding="utf-8-sig").splitlines() == [
        "login,gameId",
        "terminal-0001",
        "terminal-0002,vs20olympgate",
    ]
    tab.group.setCurrentIndex(tab.group.findText("Bank B"))
    assert tab.delete_group.isEnabled()
    tab.lists.delete("Bank B")
    qtbot.waitUntil(lambda: tab.group.findText("Bank B") < 0)
    assert "Bank B" not in demo.runtime.groups.load()


def test_results_export_lists_every_row(qtbot: QtBot, demo: MainWindow, tmp_path: Path) -> None:
    tab = terminals_tab(qtbot, demo)
    paste(qtbot, tab, "terminal-0001\nnobody\n=SUM(A1)\n")
    tab.reason.setText("shift end")
    confirm(qtbot, tab).ok.click()
    wait_done(qtbot, tab)
    target = tmp_path / "results.csv"
    tab.export_results_to(target)
    qtbot.waitUntil(lambda: "Exported 3 rows" in demo.statusBar().currentMessage())
    with target.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["outcome"] for r in rows] == ["success", "refused", "refused"]
    assert rows[1]["error"] == "17"
    assert rows[1]["next_step"].startswith("Check the login")
    assert rows[1]["reason"] == "shift end"
    assert rows[1]["finished_at_utc"].endswith("Z")  # UTC, as the history stores it
    assert rows[2]["login"] == "'=SUM(A1)"  # inert in a spreadsheet
    assert tab.run is not None
    assert {r["batch_id"] for r in rows} == {tab.run.batch_id}


def test_quitting_mid_batch_asks_then_stops_and_records(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    sandbox.latency_s = 0.1
    with sandbox_window(qtbot, home, sandbox) as window:
        tab = terminals_tab(qtbot, window)
        paste(qtbot, tab, "\n".join(f"terminal-{n:04d}" for n in range(1, 301)))
        confirm(qtbot, tab).ok.click()
        qtbot.waitUntil(lambda: sandbox.request_count >= 4)
        window.close()
        assert window.isVisible()  # not yet: it asks first
        question = window.stop_question
        assert isinstance(question, QMessageBox)
        question.button(QMessageBox.StandardButton.Yes).click()
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
        assert tab.summary is not None
        assert tab.summary.cancelled
        sent = sandbox.request_count
        assert tab.summary.done == sent
        records = list(window.runtime.service.history.query(batch_id=tab.summary.batch_id))
        assert len(records) == sent
        assert {r.outcome for r in records} == {"success"}


def test_one_terminal_and_a_stray_separator_are_said_plainly(
    qtbot: QtBot, demo: MainWindow
) -> None:
    tab = terminals_tab(qtbot, demo)
    paste(qtbot, tab, "terminal-0001\tvs20olympgate\nplayer-006;vs10bbbonanza\n")
    said = tab.list_status.text()
    assert "<b>1 terminal</b> to close." in said
    assert "contains a semicolon (';') at position 11" in said
    assert tab.start_button.text() == "Close 1 session…"


def run_on_live_with_one_failure(qtbot: QtBot, tab: TerminalsTab, sandbox: SandboxServer) -> str:
    """A production batch of three with clear history and a reason; one row cannot reach
    the provider. Returns the batch id."""
    sandbox.fault_for_login["terminal-0002"] = "http500"
    tab.profile.setCurrentText("live")
    tab.clear_history.setChecked(True)
    tab.reason.setText("INC-1")
    paste(qtbot, tab, "terminal-0001\nterminal-0002\nterminal-0003\n")
    dialog = confirm(qtbot, tab)
    assert dialog.typed is not None
    dialog.typed.setText("3")
    dialog.ok.click()
    wait_done(qtbot, tab)
    del sandbox.fault_for_login["terminal-0002"]
    assert tab.summary is not None
    return tab.summary.batch_id


def test_retry_failed_goes_to_the_batch_profile_with_its_options(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    """QA: after a production batch the operator switched the combo to 'test'; Retry
    failed then ran on 'test' under the production batch's id. A retry goes where the
    batch went, with its clear-history choice and reason, and says so."""
    with live_and_test_window(qtbot, home, sandbox) as window:
        tab = terminals_tab(qtbot, window)
        parent = run_on_live_with_one_failure(qtbot, tab, sandbox)
        said = tab.progress_label.text()
        assert f"Batch {parent} on profile live (PRODUCTION), clear history: yes" in said
        tab.profile.setCurrentText("test")
        tab.clear_history.setChecked(False)
        tab.reason.setText("something else")
        tab.retry_button.click()
        dialog = tab.confirmation
        assert isinstance(dialog, ConfirmRetry)
        assert dialog.windowTitle() == "PRODUCTION: retry failed?"
        assert "on profile <b>live</b>" in dialog.message.text()
        assert "remove every unfinished round" in dialog.message.text()
        assert dialog.typed is not None
        dialog.typed.setText("1")
        dialog.ok.click()
        wait_done(qtbot, tab)
        records = list(window.runtime.service.history.query(batch_id=parent))
        assert len(records) == 4
        assert {(r.profile, r.clear_history, r.reason) for r in records} == {
            ("live", True, "INC-1")
        }


def test_results_grey_out_once_the_list_or_profile_changes(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    """QA: after a batch, editing the list or switching the profile left the results
    looking current. They grey out under a line naming the batch, its profile and its
    clear-history choice, and come back when the inputs match again."""
    with live_and_test_window(qtbot, home, sandbox) as window:
        tab = terminals_tab(qtbot, window)
        parent = run_on_live_with_one_failure(qtbot, tab, sandbox)
        assert not tab.stale_note.isVisible()
        assert not tab.model.stale
        closed = tab.model.data(tab.model.index(0, 3), Qt.ItemDataRole.ForegroundRole)
        tab.profile.setCurrentText("test")
        assert tab.stale_note.isVisible()
        assert tab.stale_note.text() == (
            f"These results are for batch {parent} on profile live (PRODUCTION), clear "
            "history: yes — the profile has changed since."
        )
        grey = tab.model.data(tab.model.index(0, 3), Qt.ItemDataRole.ForegroundRole)
        assert grey != closed
        assert tab.model.data(tab.model.index(0, 1), Qt.ItemDataRole.ForegroundRole) == grey
        tab.profile.setCurrentText("live")
        assert not tab.stale_note.isVisible()
        assert tab.model.data(tab.model.index(0, 3), Qt.ItemDataRole.ForegroundRole) == closed
        paste(qtbot, tab, "terminal-0001\nterminal-0002\nterminal-0003\nterminal-0004\n")
        assert tab.stale_note.isVisible()
        assert "— the list has changed since." in tab.stale_note.text()
        tab.clear_history.setChecked(False)
        assert "— the list and the clear-history choice have changed since." in (
            tab.stale_note.text()
        )


def test_inputs_a_running_batch_was_started_with_are_frozen(qtbot: QtBot, demo: MainWindow) -> None:
    """QA unticked Clear history mid-batch: the screen said "no clear" while every row
    was sent with it. Every input the batch started with is disabled until it ends."""
    assert demo.runtime.sandbox is not None
    demo.runtime.sandbox.latency_s = 0.05
    tab = terminals_tab(qtbot, demo)
    paste(qtbot, tab, "\n".join(f"terminal-{n:04d}" for n in range(1, 201)))
    tab.concurrency.setValue(2)
    confirm(qtbot, tab).ok.click()
    qtbot.waitUntil(lambda: tab.run is not None)
    inputs = (
        tab.editor,
        tab.group,
        tab.import_button,
        tab.delete_group,
        tab.profile,
        tab.game,
        tab.clear_history,
        tab.reason,
        tab.concurrency,
        tab.max_rps,
    )
    assert [w.accessibleName() or w.objectName() for w in inputs if w.isEnabled()] == []
    assert tab.cancel_button.isEnabled()
    tab.cancel_button.click()
    wait_done(qtbot, tab)
    assert all(w.isEnabled() for w in inputs if w is not tab.delete_group)


def test_nothing_to_clear_reads_as_done_in_the_table_and_the_history(
    qtbot: QtBot, demo: MainWindow
) -> None:
    """QA: 4 *Round not found* in a clear-history batch was 'done' in the summary but an
    orange 'Refused by provider' in its row and in the History tab. It reads *Nothing to
    clear*, in the success colour, while the history still records refused, code 4."""
    tab = terminals_tab(qtbot, demo)
    tab.clear_history.setChecked(True)
    paste(qtbot, tab, "terminal-0001\nplayer-001\n")  # player-001 has no unfinished round
    confirm(qtbot, tab).ok.click()
    wait_done(qtbot, tab)
    green = outcome_colour(Outcome.SUCCESS)
    assert tab.model.data(tab.model.index(1, 3)) == "Nothing to clear"
    assert tab.model.data(tab.model.index(1, 3), Qt.ItemDataRole.ForegroundRole) == green
    assert tab.summary is not None
    [stored] = demo.runtime.service.history.query(batch_id=tab.summary.batch_id, login="player-001")
    assert (stored.outcome, stored.error_code) == ("refused", 4)

    tab.history_button.click()
    view = demo.history_view()
    qtbot.waitUntil(lambda: view.model.rowCount() == 2 and not view.model.busy)
    [row] = [n for n in range(2) if view.model.record(n).login == "player-001"]
    cell = view.model.index(row, OUTCOME_COLUMN)
    assert view.model.data(cell) == "Nothing to clear"
    assert view.model.data(cell, Qt.ItemDataRole.ForegroundRole) == green
