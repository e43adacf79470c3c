"""The window fails closed when the audit store cannot take an attempt (issue 13): a banner
naming the store and the reason, *Close session* and *Start batch* disabled, nothing sent,
and the store asked again in the background until it can record, without a restart."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from support_tool.audit import log as history_module
from support_tool.audit.log import AuditLog
from support_tool.config import paths
from support_tool.config.profiles import ProfileStore, make_profile
from support_tool.config.secret_store import KeyringSecrets
from support_tool.gui import main_window, store_watch
from support_tool.gui.jobs import Jobs
from support_tool.gui.main_window import TERMINALS_TAB, MainWindow
from support_tool.gui.store_watch import RECOVERED, StoreWatch
from support_tool.ops.runtime import open_runtime
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET
from tests.gui_fixtures import sandbox_window, window_for
from tests.test_gui_batch import confirm, paste, terminals_tab
from tests.test_gui_close import wait_answer
from tests.test_history_robust import filled, garbage_in_the_middle

pytestmark = [pytest.mark.gui, pytest.mark.keyring]  # keyring: real Secret Service

FAST_MS = 40  # the first pause before asking again, shortened so the tests are quick


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_watch, "FIRST_RETRY_MS", FAST_MS)
    monkeypatch.setattr(store_watch, "LONGEST_RETRY_MS", FAST_MS * 8)


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` cannot be written, whoever asks. Root ignores permission bits, so as root
    it is a read-only bind mount over the folder (what a remounted or full disk looks
    like); anyone else gets the permission bits."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    bind = subprocess.run(["mount", "--bind", folder, folder], capture_output=True, check=False)
    if bind.returncode:
        pytest.skip(f"running as root but cannot mount: {bind.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", folder], check=True, timeout=30)
        assert not os.access(folder, os.W_OK)  # the premise, as the store sees it
        yield
    finally:
        subprocess.run(["umount", "--lazy", folder], check=True, timeout=30)


def rows(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM actions").fetchone()[0])
    finally:
        db.close()


def test_a_read_only_history_at_start_stops_sending_until_it_is_writable_again(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    store = ProfileStore()
    store.save(store.load().with_profile(make_profile("sandbox", sandbox.url), make_default=True))
    path = home / "history.sqlite3"
    paths.window_state_file()  # a desk that has run before (the window cannot create it)
    with sandbox_profile_secret(), open_runtime() as runtime, ExitStack() as unwritable:
        unwritable.enter_context(read_only(home))
        with window_for(qtbot, runtime) as window:
            banner = window.store_watch.banner
            qtbot.waitUntil(banner.isVisible)
            assert "Close session (profile “sandbox”)" in banner.text()
            assert f"{path} cannot be written (its folder is read-only)" in banner.text()
            assert "nothing can be sent" in banner.text()
            assert not window.form.button.isEnabled()
            assert "read-only" in window.form.button.toolTip()
            assert window.form.login.isEnabled()  # the next login can still be typed

            qtbot.keyClicks(window.form.login, "terminal-0001")
            qtbot.keyClick(window.form.login, Qt.Key.Key_Return)
            said = window.statusBar().currentMessage()  # Enter is never dropped silently
            assert said.startswith("Not sent. Nothing can be sent while"), said
            assert "read-only" in said
            assert said.endswith("Press Enter again once Close session is enabled.")
            qtbot.mouseClick(window.form.button, Qt.MouseButton.LeftButton)
            assert not window.in_flight

            tab = terminals_tab(qtbot, window)
            paste(qtbot, tab, "terminal-0002\nterminal-0003")
            assert not tab.start_button.isEnabled()
            assert "read-only" in tab.start_button.toolTip()
            assert "Terminals (profile “sandbox”)" in banner.text()
            tab.confirm_start()
            assert tab.confirmation is None
            assert sandbox.request_count == 0
            assert rows(path) == 0

            unwritable.close()  # the folder is writable again: no restart needed
            qtbot.waitUntil(lambda: not banner.isVisible())
            qtbot.waitUntil(tab.start_button.isEnabled)
            assert window.statusBar().currentMessage() == RECOVERED
            window.tabs.setCurrentIndex(0)
            window.form.submit()
            wait_answer(qtbot, window)
            assert window.answer.headline.text().startswith("Session closed")
    assert sandbox.request_count == 1
    assert rows(path) == 1


@contextmanager
def sandbox_profile_secret() -> Iterator[None]:
    KeyringSecrets().set("sandbox", SANDBOX_SECRET)
    try:
        yield
    finally:
        KeyringSecrets().delete("sandbox")


def damaged_window_history(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A history large enough to skip the check at open, damaged where only ``verify`` and
    the next write read (the head pointer: the History tab's pages, read from the events,
    would find damage in those), and a window that would verify only in ten minutes."""
    path = filled(home / "history.sqlite3")
    monkeypatch.setattr(history_module, "QUICK_CHECK_AT_OPEN_BYTES", 0)
    monkeypatch.setattr(main_window, "VERIFY_DELAY_MS", 600_000)
    garbage_in_the_middle(path, "events_head")
    return path


def meet_the_damage(window: MainWindow) -> None:
    """Another part of the program (``history verify`` here) meets the damage: the store
    now refuses every write, while the window, which has not asked since, offers *Close*."""
    history = window.runtime.service.history
    assert not history.verify().ok
    assert history.problem() is not None
    assert not window.store_watch.down
    window.form.login.setText("terminal-0001")
    assert window.form.button.isEnabled()


def test_a_close_the_store_cannot_record_says_nothing_was_sent_and_fails_closed(
    qtbot: QtBot, home: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = damaged_window_history(home, monkeypatch)
    with sandbox_window(qtbot, home, sandbox) as window:
        qtbot.waitUntil(lambda: window.terminals is not None and not window.jobs.pending)
        meet_the_damage(window)
        window.form.submit()
        wait_answer(qtbot, window)
        said = window.answer.description.text()
        assert f"The audit history at {path} is damaged" in said
        assert "Nothing was sent" in said
        assert said.count(str(path)) == 1  # the store named once
        assert "red banner" in window.answer.next_step.text()
        assert window.store_watch.banner.isVisible()
        assert "is damaged" in window.store_watch.banner.text()
        assert not window.form.button.isEnabled()
        assert window.terminals is not None
        assert not window.terminals.start_button.isEnabled()
    assert sandbox.request_count == 0


def test_a_batch_the_store_cannot_record_disables_close_too(
    qtbot: QtBot, home: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged_window_history(home, monkeypatch)
    with sandbox_window(qtbot, home, sandbox) as window:
        tab = terminals_tab(qtbot, window)
        meet_the_damage(window)
        paste(qtbot, tab, "terminal-0001\nterminal-0002")
        confirm(qtbot, tab).accept()
        qtbot.waitUntil(lambda: not tab.running and window.store_watch.down, timeout=30_000)
        assert window.tabs.currentIndex() == TERMINALS_TAB
        assert "Terminals (profile “sandbox”)" in window.store_watch.banner.text()
        assert not tab.start_button.isEnabled()
        assert not window.form.button.isEnabled()
    assert sandbox.request_count == 0


def test_the_store_is_asked_again_with_a_growing_pause_then_not_at_all(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked after FIRST_RETRY_MS, doubling to LONGEST_RETRY_MS while it cannot record;
    once it can, the pause starts again from the first and the asking stops."""
    folder = tmp_path / "audit"
    folder.mkdir()
    jobs = Jobs()
    asked = [0]
    with AuditLog(folder / "history.sqlite3") as store, ExitStack() as unwritable:
        real = store.problem

        def counted() -> str | None:  # on a worker
            asked[0] += 1
            return real()

        monkeypatch.setattr(store, "problem", counted)
        watch = StoreWatch(store, jobs)
        pauses: list[int] = []
        watch._timer.timeout.connect(lambda: pauses.append(watch._timer.interval()))
        unwritable.enter_context(read_only(folder))
        watch.check()
        qtbot.waitUntil(lambda: len(pauses) >= 5, timeout=10_000)
        assert watch.down
        assert "read-only" in watch.blocked
        assert pauses[:5] == [FAST_MS, FAST_MS * 2, FAST_MS * 4, FAST_MS * 8, FAST_MS * 8]
        unwritable.close()
        qtbot.waitUntil(lambda: not watch.down, timeout=10_000)
        assert watch.next_delay_ms == FAST_MS
        assert watch.blocked == ""
        seen = asked[0]
        watch.check()  # asked on purpose: answered at once, and no timer follows
        qtbot.waitUntil(lambda: asked[0] == seen + 1 and not jobs.pending)
        assert not watch._timer.isActive()
    jobs.shutdown()


def test_a_refusal_says_once_that_nothing_was_sent_and_names_the_store() -> None:
    where = "the team audit store postgresql://audit/db"
    assert store_watch.refusal_text(where, "connection refused.") == (
        "Nothing was sent: the attempt could not be recorded. "
        "The team audit store postgresql://audit/db: connection refused."
    )
    own = "The team audit store postgresql://audit/db is down. Nothing was sent: retry."
    assert store_watch.refusal_text(where, own) == own
