"""The main window: close form, answer panel, history, and the safety around them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QPaintEvent, QShortcut
from PySide6.QtWidgets import QMainWindow, QTabWidget, QVBoxLayout, QWidget

from support_tool.gui import qt_scan  # noqa: F401 - first: spares what follows Qt's source scan

# isort: split
from support_tool.config import paths
from support_tool.config.profiles import Profile, ProfileSet
from support_tool.errors import AuditUnavailable, SupportToolError
from support_tool.gui.answer_panel import AnswerPanel, Asked
from support_tool.gui.banners import demo_banner, profile_state, warning_banner
from support_tool.gui.busy_row import BusyRow
from support_tool.gui.close_form import CloseForm, CloseInput
from support_tool.gui.jobs import Jobs
from support_tool.gui.screen_fit import MINIMUM_SIZE, first_size
from support_tool.gui.send_gate import SendGate
from support_tool.gui.store_watch import RECOVERED, StoreWatch
from support_tool.gui.window_menus import build_menus
from support_tool.ops.runtime import Runtime

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog, QMessageBox

    # Built after the first paint (the tabs) or when asked for (the dialogs): their
    # modules and what those import (CSV export, the batch runner) wait until then.
    from support_tool.audit.events import ChainReport
    from support_tool.audit.records import AuditRecord
    from support_tool.gui.confirm import ConfirmClear
    from support_tool.gui.history_view import HistoryView
    from support_tool.gui.profiles_dialog import ProfilesDialog
    from support_tool.gui.terminals_tab import TerminalsTab
    from support_tool.ops.close import CloseAttempt  # with the first close

log = logging.getLogger(__name__)

TERMINALS_TAB, HISTORY_TAB = 1, 2
VERIFY_DELAY_MS = 1500  # after start-up work, so that it never slows the first close


def window_settings() -> QSettings:
    """Window state in the tool's own config folder (follows SUPPORT_TOOL_HOME)."""
    return QSettings(str(paths.window_state_file()), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    first_painted = Signal()  # once, right after the first paint: deferred start-up work

    def __init__(self, runtime: Runtime, settings: QSettings | None = None) -> None:
        super().__init__()
        self.runtime = runtime
        self.settings = settings or window_settings()
        self.jobs = Jobs(workers=4, parent=self)
        self.profile_set = ProfileSet()
        self.in_flight = False
        self.closing = False
        self._close_when_idle = False
        self.confirmation: ConfirmClear | None = None
        self.stop_question: QMessageBox | None = None
        self.profiles_dialog: ProfilesDialog | None = None
        self.verify_dialog: QDialog | None = None
        self.setWindowTitle("Close session — support-tool")
        self.setMinimumSize(*MINIMUM_SIZE)
        self.history_report: ChainReport | None = None
        self.production_banner = warning_banner("Production warning")
        self.tamper_banner = warning_banner("Audit history warning", word_wrap=True)
        self.demo_banner = demo_banner(runtime.demo, runtime.embedded is not None)
        self.store_watch = StoreWatch(runtime.history, self.jobs, self)
        self.form = CloseForm()
        # The demo's provider starts after the first paint: sending waits for it, saying so.
        starting = runtime.embedded is not None and runtime.sandbox is None
        self.gate = SendGate(self.form.set_blocked, self.form.profile, starting)
        self.store_watch.blocks(self.gate.store)
        self.answer = AnswerPanel()
        # Built right after the first paint: hidden at start, so the window paints sooner.
        self.history: HistoryView | None = None
        self.terminals: TerminalsTab | None = None
        self.tabs = self._build_tabs(self._build_close_tab())
        self._build_central()
        build_menus(self)
        self._build_timers()
        self._connect()
        self._restore()
        self._painted = False  # the History and Terminals tabs are built once it is

    def _build_close_tab(self) -> QWidget:
        """The close form, the busy row under it, and the answer."""
        self.busy_row = BusyRow(self.current_profile, self)
        self.busy = self.busy_row.bar
        self.busy_label = self.busy_row.label
        close_tab = QWidget()
        close_layout = QVBoxLayout(close_tab)
        close_layout.addWidget(self.form)
        close_layout.addLayout(self.busy_row.layout)
        close_layout.addWidget(self.answer, 1)
        return close_tab

    @staticmethod
    def _build_tabs(close_tab: QWidget) -> QTabWidget:
        """The tabs, the Terminals and History ones as placeholders until the first paint."""
        tabs = QTabWidget()
        tabs.addTab(close_tab, "&Close session")
        tabs.addTab(QWidget(), "&Terminals")
        tabs.addTab(QWidget(), "&History")
        return tabs

    def _build_central(self) -> None:
        """The banners above the tabs, the most serious warning first."""
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.tamper_banner)
        layout.addWidget(self.store_watch.banner)
        layout.addWidget(self.production_banner)
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _build_timers(self) -> None:
        self._verify_timer = QTimer(self)
        self._verify_timer.setSingleShot(True)
        self._verify_timer.timeout.connect(self.verify_history)

    def _connect(self) -> None:
        self.form.submitted.connect(self.submit)
        self.form.not_sent.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        self.form.profile_changed.connect(self._profile_changed)
        self.form.edited.connect(lambda: self.answer.form_changed(self.form.shown_action()))
        self.tabs.currentChanged.connect(self._profile_changed)
        self.store_watch.changed.connect(self._store_changed)
        QShortcut(QKeySequence("Ctrl+L"), self).activated.connect(self._focus_login)  # Qt owns it

    def _restore(self) -> None:
        """Last session's size and profile name (its profiles load after the first paint);
        the login field ready for typing."""
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(*first_size(self.screen().availableGeometry().size().toTuple()))
        self._last_profile = str(self.settings.value("last_profile", "") or "")
        self.form.login.setFocus()

    def paintEvent(self, event: QPaintEvent) -> None:
        """The first paint starts the deferred work. A zero timer set in ``__init__`` would
        run *before* the first paint (Qt handles timers ahead of the expose that paints),
        so the window would still wait for the tabs it does not show yet."""
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.first_painted.emit()
        # On a worker, once the form is on screen: the profiles file's TOML (~17 M
        # instructions) or the demo's provider start. Close is enabled once one is chosen.
        self.load_profiles(self._last_profile)
        self.store_watch.check()  # opens the audit store, on a worker
        self.history_view()
        self.terminals_view()
        self._warm_up()
        self._verify_timer.start(VERIFY_DELAY_MS)

    def verify_history(self, *, report_intact: bool = False) -> None:
        """Check the audit history's hash chain on a worker; warn if it was altered (its
        module, with the store's types, loads when the check is due, after the paint)."""
        from support_tool.gui.verify_dialog import verify_history

        verify_history(self, report_intact)

    def _install_tab(self, index: int, widget: QWidget, title: str) -> None:
        current = self.tabs.currentIndex()
        placeholder = self.tabs.widget(index)
        self.tabs.removeTab(index)
        if placeholder is not None:
            placeholder.deleteLater()
        self.tabs.insertTab(index, widget, title)
        self.tabs.setCurrentIndex(current)

    def history_view(self) -> HistoryView:
        """The History tab, built on first need."""
        if self.history is None:
            from support_tool.gui.history_view import HistoryView

            view = HistoryView(self.runtime.history, self.jobs)
            view.close_again.connect(self.close_again)
            view.message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
            self._install_tab(HISTORY_TAB, view, "&History")
            self.history = view
        return self.history

    def terminals_view(self) -> TerminalsTab:
        """The Terminals tab (batches), built on first need."""
        if self.terminals is None:
            from support_tool.gui.terminals_tab import TerminalsTab

            tab = TerminalsTab(self.runtime, self.jobs)
            tab.message.connect(lambda text: self.statusBar().showMessage(text, 15_000))
            tab.recorded.connect(lambda: self.history_view().model.refresh())
            tab.show_batch.connect(self.show_batch)
            tab.running_changed.connect(self._batch_running)
            tab.audit_failed.connect(self.store_watch.report)
            self.store_watch.blocks(tab.set_audit_block)
            self._install_tab(TERMINALS_TAB, tab, "&Terminals")
            self.terminals = tab
            tab.set_profiles(self.profile_set, self.form.profile.currentText())
            tab.profile.currentTextChanged.connect(self._profile_changed)
            tab.lists.load()
        return self.terminals

    def show_batch(self, batch_id: str) -> None:
        self.history_view().show_batch(batch_id)
        self.tabs.setCurrentIndex(HISTORY_TAB)

    def _batch_running(self, running: bool) -> None:
        if not running and self.closing:
            self.close()

    def _warm_up(self) -> None:
        """After the first paint: load the network stack and check the keyring, off the
        GUI thread, so that the first close is quick and a missing keyring shows at once."""
        secrets = self.runtime.secrets

        def work() -> None:
            import support_tool.provider.transport  # noqa: F401 - imported for its cost, not its names

            if hasattr(secrets, "backend"):
                secrets.backend()

        self.jobs.submit(work, None, self._background_error)

    # --- profiles -------------------------------------------------------------------------

    def load_profiles(self, prefer: str = "") -> None:
        self.jobs.submit(
            self.runtime.profiles.load,
            lambda s: self._profiles_loaded(s, prefer),
            self._profiles_failed,
        )

    def _profiles_failed(self, error: BaseException) -> None:
        self.gate.provider_failed(error)
        self._background_error(error)

    def _profiles_loaded(self, profile_set: ProfileSet, prefer: str) -> None:
        self.gate.provider_started()  # the demo's first profiles: its provider answers
        self.profile_set = profile_set
        names = profile_set.names()
        chosen = prefer if prefer in names else profile_set.default or (names[0] if names else "")
        self.form.set_profiles(names, chosen)
        if self.terminals is not None:
            self.terminals.set_profiles(profile_set, chosen)
        self._show_profile_state()
        if not names:
            self.answer.headline.setText("No profile yet")
            self.answer.description.setText(
                "Add the provider's API URL and store its secret key: File → Profiles and secrets."
            )

    def current_profile(self) -> Profile | None:
        return self.profile_set.get(self.form.profile.currentText())

    def _profile_changed(self, _name: str = "") -> None:
        self._show_profile_state()
        self.answer.form_changed(self.form.shown_action())  # a reload may change the profile

    def action_profile(self) -> tuple[str, Profile | None]:
        """The tab in front of the user and the profile *its own* action would use.

        The History tab sends nothing, so it names no profile: a profile named there would
        be a claim about an action that the tab does not have (*Close again* switches to the
        Close tab, which then shows its own profile).
        """
        index = self.tabs.currentIndex()
        if index == TERMINALS_TAB:
            if self.terminals is None:
                return "Terminals", None
            return "Terminals", self.terminals.current_profile()
        if index == HISTORY_TAB:
            return "History", None
        return "Close session", self.current_profile()

    def _show_profile_state(self) -> None:
        """Banner and title follow the current tab's profile, never another tab's. The
        title ends with the application's name, so the window system adds it only once."""
        place, profile = self.action_profile()
        state = profile_state(place, profile, self.runtime.demo)
        self.production_banner.setVisible(state.production)
        if state.banner:
            self.production_banner.setText(state.banner)
        self.store_watch.show_for(place, profile.name if profile else None)
        self.setWindowTitle(state.title)

    def _store_changed(self) -> None:
        """The banner follows the audit store; the status bar says when it is back."""
        self._show_profile_state()
        if not self.store_watch.down and not self.store_watch.just_opened:
            self.statusBar().showMessage(RECOVERED, 15_000)

    def open_profiles(self) -> None:
        from support_tool.gui.profiles_dialog import ProfilesDialog

        dialog = ProfilesDialog(self.runtime, self.jobs, self)
        dialog.changed.connect(lambda: self.load_profiles(self.form.profile.currentText()))
        self.profiles_dialog = dialog
        dialog.open()

    # --- closing a session ----------------------------------------------------------------

    def _focus_login(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.form.focus_login()

    def submit(self, request: CloseInput) -> None:
        if self.in_flight or self.confirmation is not None:
            return  # one action at a time: no double submit, no second confirmation
        if not request.clear_history:
            self.send(request)
            return
        from support_tool.gui.confirm import ConfirmClear

        profile = self.current_profile()
        dialog = ConfirmClear(
            request.login,
            request.game_id,
            request.profile,
            bool(profile and profile.production),
            self,
        )
        dialog.accepted.connect(lambda: self.send(request))
        dialog.rejected.connect(lambda: self.answer.show_cancelled(self._asked(request)))
        dialog.finished.connect(lambda _: setattr(self, "confirmation", None))
        self.confirmation = dialog
        dialog.open()

    def _asked(self, r: CloseInput) -> Asked:
        production = bool((profile := self.profile_set.get(r.profile)) and profile.production)
        from datetime import UTC, datetime  # with the first close, not before the first paint

        return Asked(r.profile, r.login, r.game_id, r.clear_history, datetime.now(UTC), production)

    def send(self, request: CloseInput) -> None:
        self.in_flight = True
        self.form.set_busy(True)
        asked = self._asked(request)
        self.answer.show_busy(asked)
        self.busy_row.start()
        service = self.runtime.service
        self.jobs.submit(
            lambda: service.close(
                request.login,
                request.game_id,
                request.clear_history,
                reason=request.reason,
                profile=request.profile,
            ),
            lambda closed: self._finished(closed, asked),
            lambda error: self._failed(error, asked),
        )

    def _settle(self) -> None:
        self.in_flight = False
        self.busy_row.stop()
        self.form.set_busy(False)
        self.history_view().model.refresh()
        if self.closing:
            self.close()

    def _finished(self, closed: CloseAttempt, asked: Asked | None = None) -> None:
        self.answer.show_result(closed, asked)
        self.statusBar().showMessage(closed.result.headline, 15_000)
        self._settle()
        if closed.result.ok:
            self.form.focus_login()

    def _failed(self, error: BaseException, asked: Asked | None = None) -> None:
        if not isinstance(error, SupportToolError):
            self._settle()
            raise error  # unexpected: logged and shown by the application's error hook
        from support_tool.provider.outcome import CloseResult, Outcome

        result = CloseResult(Outcome.CONFIGURATION, str(error), "Fix the problem and try again.")
        if isinstance(error, AuditUnavailable):  # nothing went out: say so, and fail closed
            self.store_watch.report(str(error))
            result = self.store_watch.refusal(str(error))
        self.answer.show_failure(result, self.current_profile(), asked)
        self._settle()

    def _background_error(self, error: BaseException) -> None:
        self.statusBar().showMessage(str(error), 15_000)
        if not isinstance(error, SupportToolError):
            raise error

    def close_again(self, record: AuditRecord) -> None:
        self.tabs.setCurrentIndex(0)
        self.form.fill(record.login, record.game_id, record.clear_history, record.profile)

    # --- shutting down --------------------------------------------------------------------

    def _ask_stop_batch(self) -> None:
        """Quitting mid-batch: ask, then cancel, let requests in flight be recorded, quit."""
        from support_tool.gui.stop_batch import ask_stop_batch

        self.stop_question = ask_stop_batch(self, self._stop_answer)

    def _stop_answer(self, stop: bool) -> None:
        self.stop_question = None
        if stop:
            self._stop_batch_and_quit()

    def _stop_batch_and_quit(self) -> None:
        terminals = self.terminals
        if terminals is None or not terminals.running:
            self.close()
            return
        self.closing = True
        terminals.cancel()
        self.statusBar().showMessage("Stopping the batch: waiting for requests in flight…")
        self.setEnabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.terminals is not None and self.terminals.running:
            event.ignore()
            if not self.closing:
                self._ask_stop_batch()
            return
        if self.in_flight or self.jobs.pending:
            # Never lose a history row, and never block the GUI thread on a worker: wait,
            # bounded by the deadline, for work in flight to finish, then close.
            self.closing = True
            if not self._close_when_idle:
                self._close_when_idle = True
                self.jobs.idle.connect(self.close)
            self.statusBar().showMessage("Waiting for the provider's answer to be recorded…")
            self.setEnabled(False)
            event.ignore()
            return
        self._verify_timer.stop()
        self.store_watch.stop()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("last_profile", self.form.profile.currentText())
        self.settings.sync()
        self.jobs.shutdown()
        event.accept()
