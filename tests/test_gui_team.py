"""The window on a team audit store (issue 13), against a real PostgreSQL server: the
History tab shows many desks' actions with operator and workstation filters, and a server
stopped under the window disables *Close* until it is started again, with nothing sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from support_tool.audit import team_admin
from support_tool.audit.team_log import TeamLog
from support_tool.config import team_settings
from support_tool.gui import store_watch
from support_tool.gui.column_model import column_of
from support_tool.gui.history_model import COLUMNS
from support_tool.gui.main_window import HISTORY_TAB, MainWindow
from support_tool.gui.store_watch import RECOVERED
from support_tool.gui.verify_dialog import VerifyDialog
from support_tool.provider.outcome import CloseResult, Outcome
from support_tool.sandbox import SandboxServer
from tests.gui_fixtures import sandbox_window
from tests.postgres_server import PostgresServer, TeamDatabase, private_team_server
from tests.test_gui_close import wait_answer

pytestmark = [pytest.mark.postgres, pytest.mark.gui, pytest.mark.keyring]

PASSWORD = "desk-Pw-Gui-7!"
OK = CloseResult(Outcome.SUCCESS, "Success", error_code=0)


def point_desk_at(monkeypatch: pytest.MonkeyPatch, url: str, operator: str) -> None:
    """A managed desk: the store's URL in the environment, libpq's password beside it."""
    monkeypatch.setenv(team_settings.URL_ENV, url)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    for name in ("USER", "LOGNAME"):
        monkeypatch.setenv(name, operator)
    monkeypatch.setattr(store_watch, "FIRST_RETRY_MS", 50)
    monkeypatch.setattr(store_watch, "LONGEST_RETRY_MS", 400)


@pytest.fixture
def desk_url(team_database: TeamDatabase) -> str:
    db = team_database
    team_admin.init_db(db.owner_url, db.owner_password, db.desk_role, db.auditor_role)
    return db.login(db.desk_role, PASSWORD)[1]


@pytest.fixture
def own_server(postgres_server: PostgresServer) -> Iterator[tuple[PostgresServer, str]]:
    """A team store on a server of its own, which the test stops and starts again."""
    with private_team_server("gui07", PASSWORD) as server:
        yield server, server.conninfo("gui07", "audit")


def other_desks_close(url: str) -> None:
    """Closes made at other desks, by other operators, into the same store."""
    for operator, workstation, login in (
        ("bo", "floor-desk-07", "terminal-0101"),
        ("chen", "cage-desk-02", "terminal-0102"),
        ("bo", "cage-desk-02", "terminal-0103"),
    ):
        with TeamLog(url, PASSWORD, "team") as desk:
            desk.operator, desk.workstation = operator, workstation
            attempt = desk.begin(
                profile="live",
                api_host="api.example.com",
                login=login,
                game_id=None,
                clear_history=False,
            )
            desk.finish(attempt, OK)


def shown(window: MainWindow, header: str) -> list[str]:
    view = window.history_view()
    column = column_of(COLUMNS, header)
    return [str(view.model.data(view.model.index(r, column))) for r in range(view.model.rowCount())]


def test_history_tab_shows_a_teams_actions_filtered_by_operator_and_workstation(
    qtbot: QtBot,
    home: Path,
    sandbox: SandboxServer,
    desk_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other_desks_close(desk_url)
    point_desk_at(monkeypatch, desk_url, "anna")
    with sandbox_window(qtbot, home, sandbox) as window:
        assert window.runtime.where.startswith("the team audit store")
        window.form.login.setText("terminal-0007")
        window.form.submit()
        wait_answer(qtbot, window)
        window.tabs.setCurrentIndex(HISTORY_TAB)
        view = window.history_view()
        qtbot.waitUntil(lambda: view.model.rowCount() == 4)
        assert shown(window, "Operator") == ["anna", "bo", "chen", "bo"]
        assert shown(window, "Login")[0] == "terminal-0007"

        view.operator.setText("bo")
        qtbot.waitUntil(lambda: shown(window, "Login") == ["terminal-0103", "terminal-0101"])
        view.workstation.setText("cage-desk-02")
        qtbot.waitUntil(lambda: shown(window, "Login") == ["terminal-0103"])
        view.operator.clear()
        qtbot.waitUntil(lambda: shown(window, "Login") == ["terminal-0103", "terminal-0102"])
        assert set(shown(window, "Workstation")) == {"cage-desk-02"}

        window.verify_history(report_intact=True)
        qtbot.waitUntil(lambda: isinstance(window.verify_dialog, VerifyDialog))
        assert isinstance(window.verify_dialog, VerifyDialog)
        assert "Audit store: the team audit store" in window.verify_dialog.text
        assert "Result: intact" in window.verify_dialog.text
        window.verify_dialog.close()
    assert sandbox.request_count == 1


def test_a_stopped_team_store_disables_close_until_it_is_started_again(
    qtbot: QtBot,
    home: Path,
    sandbox: SandboxServer,
    own_server: tuple[PostgresServer, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, url = own_server
    point_desk_at(monkeypatch, url, "anna")
    with sandbox_window(qtbot, home, sandbox) as window:
        qtbot.waitUntil(lambda: window.terminals is not None and not window.jobs.pending)
        banner = window.store_watch.banner
        assert not banner.isVisible()
        server.halt()
        window.form.login.setText("terminal-0007")
        window.form.submit()  # the window has not noticed yet: the core refuses it
        wait_answer(qtbot, window)
        said = window.answer.description.text()
        assert said.startswith("The team audit store")
        assert "Nothing was sent" in said
        assert banner.isVisible()
        assert "The team audit store" in banner.text()
        assert "Close session (profile “sandbox”)" in banner.text()
        assert not window.form.button.isEnabled()
        assert "the team audit store" in window.form.button.toolTip()
        assert window.form.login.isEnabled()
        assert sandbox.request_count == 0

        server.resume()
        qtbot.waitUntil(lambda: not banner.isVisible(), timeout=30_000)
        assert window.form.button.isEnabled()
        assert window.statusBar().currentMessage() == RECOVERED
        window.form.submit()
        wait_answer(qtbot, window)
        assert window.answer.headline.text().startswith("Session closed")
    assert sandbox.request_count == 1
    with server.admin("audit") as conn:
        logins = conn.execute(
            "SELECT body::jsonb ->> 'login' FROM support_tool.events WHERE kind = 'attempt'"
        ).fetchall()
    assert logins == [("terminal-0007",)]
