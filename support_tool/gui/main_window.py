"""The main window: close form, answer panel, history, and the safety around them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, QSettings, QTimer, QUrl
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QKeySequence,
    QPaintEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from support_tool.audit.log import AuditRecord
from support_tool.config import paths
from support_tool.config.profiles import Profile, ProfileSet
from support_tool.errors import SupportToolError
from support_tool.gui.answer_panel import AnswerPanel, Asked
from support_tool.gui.close_form import CloseForm, CloseInput
from support_tool.gui.confirm import ConfirmClear
from support_tool.gui.history_view import HistoryView
from support_tool.gui.jobs import Jobs
from support_tool.gui.profiles_dialog import ProfilesDialog
from support_tool.gui.style import PRODUCTION_BANNER
from support_tool.ops.close import CloseAttempt
from support_tool.ops.runtime import Runtime
from support_tool.provider.outcome import CloseResult, Outcome

if TYPE_CHECKING:  # built after the first paint; its imports (batch runner) wait too
    from support_tool.audit.events import ChainReport
    from support_tool.gui.terminals_tab import TerminalsTab

log = logging.getLogger(__name__)

BUSY_TICK_MS = 100
TERMINALS_TAB, HISTORY_TAB = 1, 2
# Smallest size at which no text is clipped on any tab with every banner shown (checked by
# tests/test_gui_desk.py); it fits a 1366×768 screen with a taskbar and title bar.
MINIMUM_SIZE = (880, 640)
VERIFY_DELAY_MS = 1500  # after start-up work, so that it never slows the first close


def window_settings() -> QSettings:
    """Window state in the tool's own config folder (follows SUPPORT_TOOL_HOME)."""
    return QSettings(str(paths.window_state_file()), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
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

        self.production_banner = QLabel()
        self.production_banner.setAccessibleName("Production warning")
        background, text = PRODUCTION_BANNER
        self.production_banner.setStyleSheet(
            f"background: {background}; color: {text}; font-weight: bold; padding: 8px;"
        )
        self.production_banner.setVisible(False)
        self.tamper_banner = QLabel()
        self.tamper_banner.setAccessibleName("Audit history warning")
        self.tamper_banner.setWordWrap(True)
        self.tamper_banner.setStyleSheet(
            f"background: {background}; color: {text}; font-weight: bold; padding: 8px;"
        )
        self.tamper_banner.setVisible(False)
        self.history_report: ChainReport | None = None
        self.demo_banner = QLabel()
        self.demo_banner.setWordWrap(True)
        self.demo_banner.setStyleSheet("padding: 6px; border: 1px solid palette(mid);")
        self.demo_banner.setVisible(runtime.demo)
        if runtime.sandbox is not None:
            self.demo_banner.setText(
                "<b>Demo</b>: an embedded sandbox provider on this computer, no real players. "
                "Try <i>terminal-0001</i> … <i>terminal-1000</i> (unfinished rounds) or "
                "<i>player-001</i> … <i>player-100</i>; any other login is unknown."
            )

        self.form = CloseForm()
        self.answer = AnswerPanel()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumWidth(160)
        self.busy_label = QLabel()
        self.busy_label.setAccessibleName("Request progress")
        busy_row = QHBoxLayout()
        busy_row.addWidget(self.busy)
        busy_row.addWidget(self.busy_label, 1)
        self.busy.setVisible(False)
        close_tab = QWidget()
        close_layout = QVBoxLayout(close_tab)
        close_layout.addWidget(self.form)
        close_layout.addLayout(busy_row)
        close_layout.addWidget(self.answer, 1)

        # Built right after the first paint: hidden at start, so the window paints sooner.
        self.history: HistoryView | None = None
        self.terminals: TerminalsTab | None = None
        self.tabs = QTabWidget()
        self.tabs.addTab(close_tab, "&Close session")
        self.tabs.addTab(QWidget(), "&Terminals")
        self.tabs.addTab(QWidget(), "&History")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.tamper_banner)
        layout.addWidget(self.production_banner)
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._build_menus()

        self._verify_timer = QTimer(self)
        self._verify_timer.setSingleShot(True)
        self._verify_timer.timeout.connect(self.verify_history)
        self._elapsed = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(BUSY_TICK_MS)
        self._tick.timeout.connect(self._update_busy)
        self.form.submitted.connect(self.submit)
        self.form.profile_changed.connect(self._profile_changed)
        self.form.edited.connect(lambda: self.answer.form_changed(self.form.shown_action()))
        self.tabs.currentChanged.connect(self._profile_changed)
        focus = QShortcut(QKeySequence("Ctrl+L"), self)
        focus.activated.connect(self._focus_login)

        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1240, 720)  # every History column visible; fits a 1366×768 screen
        self.load_profiles(str(self.settings.value("last_profile", "") or ""))
        self.form.login.setFocus()
        self._painted = False  # the History and Terminals tabs are built once it is

    def paintEvent(self, event: QPaintEvent) -> None:
        """The first paint starts the deferred work. A zero timer set in ``__init__`` would
        run *before* the first paint (Qt handles timers ahead of the expose that paints),
        so the window would still wait for the tabs it does not show yet."""
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.history_view()
        self.terminals_view()
        self._warm_up()
        self._verify_timer.start(VERIFY_DELAY_MS)

    def verify_history(self, *, report_intact: bool = False) -> None:
        """Check the audit history's hash chain on a worker; warn if it was altered."""
        store = self.runtime.service.history

        def done(report: ChainReport) -> None:
            self.history_report = report
            self.tamper_banner.setVisible(not report.ok)
            if not report.ok:
                self.tamper_banner.setText(report.describe())
                log.error("audit history verification failed: %s", report.problem)
            if report_intact:  # asked for: the result stays up, with the seal to copy
                self.statusBar().showMessage(report.describe(), 20_000)
                self.show_verify_result(report)

        self.jobs.submit(store.verify, done, self._background_error)

    def show_verify_result(self, report: ChainReport) -> None:
        from support_tool.gui.verify_dialog import VerifyDialog

        dialog = VerifyDialog(report, str(self.runtime.history_path), self)
        self.verify_dialog = dialog
        dialog.open()

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
            view = HistoryView(self.runtime.service.history, self.jobs)
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

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        profiles = QAction("&Profiles and secrets…", self)
        profiles.setShortcut(QKeySequence("Ctrl+,"))
        profiles.triggered.connect(self.open_profiles)
        verify = QAction("&Verify audit history", self)
        verify.triggered.connect(lambda: self.verify_history(report_intact=True))
        export = QAction("&Export history…", self)
        export.triggered.connect(lambda: self.history_view().ask_export())
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (profiles, export, verify):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("H&elp")  # Alt+H is the History tab
        logs = QAction("Open &log folder", self)
        logs.triggered.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir())))
        )
        about = QAction("&About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(logs)
        help_menu.addAction(about)

    def _about(self) -> None:
        from support_tool import __version__

        QMessageBox.about(
            self,
            "About support-tool",
            f"support-tool {__version__}\nCloses stuck player game sessions through the "
            f"provider's Close Session API.\n\nHistory: {self.runtime.history_path}\n"
            f"Logs: {paths.log_dir()}",
        )

    # --- profiles -------------------------------------------------------------------------

    def load_profiles(self, prefer: str = "") -> None:
        self.jobs.submit(
            self.runtime.profiles.load,
            lambda s: self._profiles_loaded(s, prefer),
            self._background_error,
        )

    def _profiles_loaded(self, profile_set: ProfileSet, prefer: str) -> None:
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
        production = bool(profile and profile.production)
        self.production_banner.setVisible(production)
        if profile is not None and production:
            self.production_banner.setText(
                f"PRODUCTION — {place}: profile “{profile.name}” ({profile.api_host}) "
                "reaches live players."
            )
        parts = [place]
        if profile is not None:
            parts.append(f"profile {profile.name}" + (" — PRODUCTION" if production else ""))
        if self.runtime.demo:
            parts.append("DEMO (sandbox)")
        self.setWindowTitle(" — ".join([*parts, "support-tool"]))

    def open_profiles(self) -> None:
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
        return Asked(r.profile, r.login, r.game_id, r.clear_history, datetime.now(UTC), production)

    def send(self, request: CloseInput) -> None:
        self.in_flight = True
        self.form.set_busy(True)
        asked = self._asked(request)
        self.answer.show_busy(asked)
        self.busy.setVisible(True)
        self._elapsed.start()
        self._tick.start()
        self._update_busy()
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

    def _update_busy(self) -> None:
        seconds = self._elapsed.elapsed() / 1000
        profile = self.current_profile()
        limit = f" (gives up after {profile.timeout:g} s)" if profile else ""
        self.busy_label.setText(f"Waiting for the provider… {seconds:.1f} s{limit}")

    def _settle(self) -> None:
        self.in_flight = False
        self._tick.stop()
        self.busy.setVisible(False)
        self.busy_label.setText("")
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
        result = CloseResult(Outcome.CONFIGURATION, str(error), "Fix the problem and try again.")
        self.answer.show_result(CloseAttempt(result, None, self.current_profile(), None), asked)
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
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "A batch is running",
            "A batch is still closing sessions. Stop it and quit? Requests already sent "
            "finish and are recorded; the rest are not sent.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        stop = box.button(QMessageBox.StandardButton.Yes)
        stop.setText("Stop and quit")
        yes = QMessageBox.StandardButton.Yes
        box.buttonClicked.connect(
            lambda button: self._stop_answer(box.standardButton(button) == yes)
        )
        self.stop_question = box
        box.open()

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
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("last_profile", self.form.profile.currentText())
        self.settings.sync()
        self.jobs.shutdown()
        event.accept()
