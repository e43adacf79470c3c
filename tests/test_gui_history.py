"""The history model (with and without a view) and the History tab."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QStringListModel, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from support_tool.audit.identity import operator_name, workstation_name
from support_tool.audit.log import AuditFilter, AuditLog
from support_tool.gui.column_model import column_of
from support_tool.gui.history_model import COLUMNS, PAGE_SIZE, HistoryModel
from support_tool.gui.history_view import HistoryView, RecordDialog
from support_tool.gui.jobs import Jobs
from support_tool.ops.runtime import open_runtime
from support_tool.provider.outcome import CloseResult, Outcome
from tests.gui_fixtures import window_for
from tests.history_seed import seed_history

pytestmark = [pytest.mark.gui, pytest.mark.keyring]  # keyring: real Secret Service

LOGIN = column_of(COLUMNS, "Login")  # by header: a new column moves the others
OUTCOME = column_of(COLUMNS, "Outcome")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditLog]:
    path = tmp_path / "history.sqlite3"
    seed_history(path, 1_000)
    with AuditLog(path) as opened:
        yield opened


@pytest.fixture
def jobs(qtbot: QtBot) -> Iterator[Jobs]:
    runner = Jobs()
    yield runner
    runner.shutdown()


def loaded(model: HistoryModel) -> bool:
    return not model.busy


def test_model_passes_qt_model_tester_and_fetches_lazily(
    qtbot: QtBot, qtmodeltester: ModelTester, store: AuditLog, jobs: Jobs
) -> None:
    model = HistoryModel(store, jobs)
    model.set_filter(AuditFilter())
    qtbot.waitUntil(lambda: loaded(model))
    assert model.rowCount() == PAGE_SIZE  # one page, not the whole history
    assert model.data(model.index(0, LOGIN)) == "terminal-0000999"  # newest first
    assert model.canFetchMore(QModelIndex())
    qtmodeltester.check(model)
    while model.canFetchMore(QModelIndex()) or model.busy:
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: loaded(model))
    assert model.rowCount() == 1_000
    assert model.data(model.index(999, LOGIN)) == "terminal-0000000"
    assert model.headerData(OUTCOME, Qt.Orientation.Horizontal) == "Outcome"


def test_filter_is_applied_by_the_database_not_only_to_loaded_rows(
    qtbot: QtBot, store: AuditLog, jobs: Jobs
) -> None:
    model = HistoryModel(store, jobs)
    model.set_filter(AuditFilter(text="terminal-0000007"))  # the 993rd newest: not loaded yet
    qtbot.waitUntil(lambda: loaded(model))
    assert [model.data(model.index(r, LOGIN)) for r in range(model.rowCount())] == [
        "terminal-0000007"
    ]
    model.set_filter(AuditFilter(outcome="refused", text="Round not"))
    qtbot.waitUntil(lambda: loaded(model))
    assert model.rowCount() == 250
    assert {model.record(r).error_code for r in range(model.rowCount())} == {4}
    model.set_filter(AuditFilter(text="100%_\\"))  # LIKE wildcards are taken literally
    qtbot.waitUntil(lambda: loaded(model))
    assert model.rowCount() == 0


def test_a_stale_answer_from_an_old_filter_is_dropped(
    qtbot: QtBot, store: AuditLog, jobs: Jobs
) -> None:
    model = HistoryModel(store, jobs)
    model.set_filter(AuditFilter())
    model.set_filter(AuditFilter(text="terminal-0000500"))
    qtbot.waitUntil(lambda: loaded(model) and jobs.pending == 0)  # the stale answer too
    assert model.rowCount() == 1


def test_history_tab_live_update_close_again_details_and_export(
    qtbot: QtBot, home: Path, tmp_path: Path
) -> None:
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        for login in ("terminal-0001", "nobody", "player-001"):
            window.form.fill(login, "", False)
            window.form.submit()
            qtbot.waitUntil(lambda: not window.in_flight)
        view: HistoryView = window.history_view()
        qtbot.waitUntil(lambda: view.model.rowCount() == 3)
        assert view.model.data(view.model.index(0, LOGIN)) == "player-001"
        assert view.model.data(view.model.index(1, OUTCOME)) == "Refused by provider"
        assert "3 rows shown" in view.count.text()

        qtbot.keyClicks(view.search, "nobo")
        qtbot.waitUntil(lambda: view.model.rowCount() == 1)
        view.search.clear()
        view.outcome.setCurrentIndex(view.outcome.findData("success"))
        qtbot.waitUntil(lambda: view.model.rowCount() == 2 and not view.model.busy)

        view.table.selectRow(1)
        view.again.click()
        assert window.tabs.currentIndex() == 0
        assert window.form.login.text() == "terminal-0001"

        window.tabs.setCurrentIndex(2)
        view.table.doubleClicked.emit(view.model.index(0, 0))
        assert isinstance(view.dialog, RecordDialog)
        assert "Login: player-001" in view.dialog.text
        view.dialog.close()

        target = tmp_path / "export.csv"
        view.export_to(target)
        qtbot.waitUntil(lambda: "Exported 2 rows" in window.statusBar().currentMessage())
        with target.open(encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        assert [r["login"] for r in rows] == ["player-001", "terminal-0001"]


def test_export_neutralises_spreadsheet_formulas(qtbot: QtBot, home: Path, tmp_path: Path) -> None:
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        runtime.service.history.record(
            CloseResult(Outcome.REFUSED, '=HYPERLINK("http://evil")'),
            profile="Sandbox",
            api_host="h",
            login="-x",
            game_id=None,
            clear_history=False,
        )
        target = tmp_path / "x.csv"
        window.history_view().export_to(target)
        qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage())
        row = next(csv.DictReader(target.open(encoding="utf-8-sig")))
        assert row["description"].startswith("'=")
        assert row["login"] == "'-x"


def test_record_dialog_speaks_in_words(qtbot: QtBot, home: Path) -> None:
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        runtime.service.history.record(
            CloseResult(Outcome.REFUSED, "Player not found", error_code=17, http_status=200),
            profile="Sandbox",
            api_host="h",
            login="nobody",
            game_id=None,
            clear_history=False,
        )
        view = window.history_view()
        view.apply_filter()
        qtbot.waitUntil(lambda: view.model.rowCount() == 1)
        view.table.doubleClicked.emit(view.model.index(0, 0))
        assert isinstance(view.dialog, RecordDialog)
        fields = dict(view.dialog.fields)
        assert fields["HTTP status"] == "200"
        assert fields["Clear history"] == "no"
        assert fields["Game ID"] == "all games"
        assert fields["Outcome"] == "Refused by provider"
        assert "Started (UTC)" in fields
        assert "Started (local time)" in fields
        assert fields["Operator"] == operator_name()  # who acted, at which desk
        assert fields["Workstation"] == workstation_name()
        text = view.dialog.text
        assert "False" not in text
        assert "Http status" not in text
        assert "_" not in "".join(fields)  # no raw field names
        view.dialog.close()


def test_every_history_column_fits_a_1366_pixel_screen(qtbot: QtBot, home: Path) -> None:
    from PySide6.QtWidgets import QHeaderView

    from support_tool.gui.history_model import COLUMNS

    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        window.resize(1366, 740)
        window.tabs.setCurrentIndex(2)
        view = window.history_view()
        qtbot.waitUntil(lambda: window.width() == 1366 and view.table.isVisible())
        header = view.table.horizontalHeader()
        names = [name for name, _ in COLUMNS]
        assert "Reason" in names
        visible = view.table.viewport().width()
        for column, name in enumerate(names):
            right = header.sectionViewportPosition(column) + header.sectionSize(column)
            assert right <= visible, f"{name} ends at {right} px of {visible}"
            assert header.sectionSize(column) >= 40, name
        reason = names.index("Reason")
        assert header.sectionResizeMode(reason) == QHeaderView.ResizeMode.Interactive
        assert view.table.textElideMode() == Qt.TextElideMode.ElideRight


def test_outcome_is_whole_and_batch_ids_keep_their_tail_at_1366_pixels(
    qtbot: QtBot, home: Path
) -> None:
    """QA at 1366 px: Outcome was cut ("Refused by pro…") and Batch to "20261130-15…",
    hiding the tail that tells batches apart, while Description took the spare width."""
    from PySide6.QtWidgets import QStyleOptionViewItem

    from support_tool.gui.history_view import BATCH_COLUMN, OUTCOME_COLUMN, ElideMiddle

    batch = "20261130-152412-b2e9.r152500-a3"
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        runtime.service.history.record(
            CloseResult(Outcome.TRANSPORT_FAILURE, "Connection refused"),
            profile="Sandbox",
            api_host="h",
            login="terminal-0001",
            game_id=None,
            clear_history=False,
            batch_id=batch,
        )
        window.resize(1366, 740)
        window.tabs.setCurrentIndex(2)
        view = window.history_view()
        view.apply_filter()
        qtbot.waitUntil(lambda: window.width() == 1366 and view.model.rowCount() == 1)
        header = view.table.horizontalHeader()
        metrics = view.table.fontMetrics()
        for words in [o.label for o in Outcome] + ["Nothing to clear"]:
            assert metrics.horizontalAdvance(words) + 8 <= header.sectionSize(OUTCOME_COLUMN)
        assert header.sectionSize(BATCH_COLUMN) < metrics.horizontalAdvance(batch)  # cut...
        option = QStyleOptionViewItem()
        delegate = view.table.itemDelegateForColumn(BATCH_COLUMN)
        assert isinstance(delegate, ElideMiddle)
        delegate.initStyleOption(option, view.model.index(0, BATCH_COLUMN))
        assert option.textElideMode == Qt.TextElideMode.ElideMiddle  # ...in the middle


def test_a_teams_history_shows_and_filters_by_operator_and_workstation(
    qtbot: QtBot, tmp_path: Path, jobs: Jobs
) -> None:
    """Many desks write one trail: who acted and where are columns, exact-match filters
    (offering the names already loaded), and the export keeps to the rows shown."""
    with AuditLog(tmp_path / "history.sqlite3") as team:
        for operator, workstation, login in (
            ("ana", "desk-1", "terminal-0001"),
            ("ana", "desk-2", "terminal-0002"),
            ("bo", "desk-2", "terminal-0003"),
            ("anabel", "desk-1", "terminal-0004"),  # a prefix is not a match
        ):
            team.operator, team.workstation = operator, workstation
            team.record(OK, login=login, **ROW)
        view = HistoryView(team, jobs)
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: view.model.rowCount() == 4 and not view.model.busy)
        station = column_of(COLUMNS, "Workstation")
        assert view.model.data(view.model.index(0, station)) == "desk-1"
        assert view.model.data(view.model.index(0, column_of(COLUMNS, "Operator"))) == "anabel"
        offered = view.operator.completer().model()
        assert isinstance(offered, QStringListModel)
        assert offered.stringList() == ["ana", "anabel", "bo"]

        view.operator.setText("ana")
        qtbot.waitUntil(lambda: logins(view) == ["terminal-0002", "terminal-0001"])
        assert view.current_filter().operator == "ana"
        view.workstation.setText("desk-2")
        qtbot.waitUntil(lambda: logins(view) == ["terminal-0002"])

        target = tmp_path / "export.csv"
        view.export_to(target)
        qtbot.waitUntil(view.export.isEnabled)
        with target.open(encoding="utf-8-sig") as handle:
            assert [r["login"] for r in csv.DictReader(handle)] == ["terminal-0002"]

        view.show_batch("20261130-000000-0000")  # Show in history: only the batch filter
        assert view.operator.text() == view.workstation.text() == ""


def test_columns_can_be_hidden_from_the_headers_menu(
    qtbot: QtBot, store: AuditLog, jobs: Jobs
) -> None:
    """At 200 % a 1366-pixel screen is 683 pixels wide: people hide what they do not need."""
    view = HistoryView(store, jobs)
    qtbot.addWidget(view)
    menu = view.column_menu()
    names = [action.text() for action in menu.actions()]
    assert "Description" not in names  # what people read stays
    assert "Workstation" in names
    menu.actions()[names.index("Workstation")].setChecked(False)
    assert view.table.isColumnHidden(column_of(COLUMNS, "Workstation"))
    assert view.column_menu().actions()[names.index("Workstation")].isChecked() is False


def logins(view: HistoryView) -> list[str]:
    return [view.model.record(r).login for r in range(view.model.rowCount())]


OK = CloseResult(Outcome.SUCCESS, "Success", error_code=0)
ROW = {"profile": "live", "api_host": "api.example.com", "game_id": None, "clear_history": False}


def test_exact_filters_show_their_whole_placeholder_at_the_minimum_size(
    qtbot: QtBot, home: Path
) -> None:
    """At 200% the window's 880 logical pixels cut 'Workstation (exact)' to 'Workstation (e…'."""
    from support_tool.gui.main_window import HISTORY_TAB
    from support_tool.gui.screen_fit import MINIMUM_SIZE

    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        window.resize(*MINIMUM_SIZE)
        window.tabs.setCurrentIndex(HISTORY_TAB)
        view = window.history_view()
        qtbot.waitUntil(lambda: view.isVisible() and window.size().toTuple() == MINIMUM_SIZE)
        for edit in (view.operator, view.workstation):
            text = edit.placeholderText()
            assert "(exact)" in text
            assert edit.width() >= edit.fontMetrics().horizontalAdvance(text) + 20, text
