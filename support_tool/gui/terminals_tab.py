"""The Terminals tab: pick or paste a list, confirm, watch it run, retry what failed.

Everything slow happens off the GUI thread: parsing a pasted list (100,000 lines take a
moment), reading and saving groups, and the batch itself, whose results come back through
queued signals and are painted a few times a second (``BatchModel``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QPushButton, QWidget

from support_tool.config.profiles import Profile, ProfileSet
from support_tool.errors import AuditUnavailable, SupportToolError
from support_tool.gui.batch_controller import BatchController
from support_tool.gui.batch_words import (
    changed_since,
    list_status_text,
    progress_text,
    stale_text,
    summary_text,
)
from support_tool.gui.confirm import ConfirmBatch, ConfirmRetry
from support_tool.gui.jobs import Jobs
from support_tool.gui.list_actions import ListActions
from support_tool.gui.style import greyed
from support_tool.gui.terminals_widgets import TerminalsWidgets
from support_tool.ops.batch import BatchRun
from support_tool.ops.batch_results import result_lines, write_results_csv
from support_tool.ops.batch_summary import BatchOptions, BatchSummary, left_out_text
from support_tool.ops.runtime import Runtime
from support_tool.ops.terminals import (
    SkippedLine,
    Terminal,
    TerminalList,
    parse_terminals,
    plural,
)

PARSE_DELAY_MS = 250


class TerminalsTab(TerminalsWidgets):
    message = Signal(str)
    show_batch = Signal(str)
    recorded = Signal()  # rows reached the history: views may refresh
    running_changed = Signal(bool)
    audit_failed = Signal(str)  # the audit store could not record: the window fails closed

    def __init__(self, runtime: Runtime, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)  # builds the widgets: see TerminalsWidgets
        self.runtime = runtime
        self.jobs = jobs
        self.profile_set = ProfileSet()
        self.parsed: TerminalList | None = None
        self.parse_error = ""
        self._parse_generation = 0
        self.confirmation: ConfirmBatch | None = None
        # After a batch, the next action is its follow-up (retry, export), not the same list
        # again: starting needs the list to change first.
        self._list_fresh = True
        self._audit_block = ""  # why no batch may start now (the audit store), or ""
        self.batches = BatchController(runtime.service, self.model, self)
        self._connect()
        self._update_buttons()

    def _connect(self) -> None:
        self._parse_timer = QTimer(self)
        self._parse_timer.setSingleShot(True)
        self._parse_timer.setInterval(PARSE_DELAY_MS)
        self._parse_timer.timeout.connect(self.check_list)
        self.editor.textChanged.connect(self._list_edited)
        self.game.textChanged.connect(self._list_edited)
        lists = self.lists = ListActions(
            self,
            self.group,
            self.editor,
            self.runtime.groups,
            self.jobs,
            lambda: self.parsed,
            self._error,
        )
        lists.message.connect(self.message)
        lists.changed.connect(self._update_buttons)
        lists.chosen.connect(self._group_chosen)
        self.group.activated.connect(lists.choose)
        self.profile.currentTextChanged.connect(self._profile_chosen)
        self.clear_history.toggled.connect(self._update_buttons)
        self.import_button.clicked.connect(lists.ask_import)
        self.save_group.clicked.connect(lists.ask_save)
        self.delete_group.clicked.connect(lists.ask_delete)
        self.export_list.clicked.connect(lists.ask_export)
        self.start_button.clicked.connect(self.confirm_start)
        start = QShortcut(QKeySequence("Ctrl+Return"), self)
        start.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        start.activated.connect(self.confirm_start)
        self.cancel_button.clicked.connect(self.cancel)
        self.retry_button.clicked.connect(self.retry_failed)
        self.export_results.clicked.connect(self.ask_export_results)
        self.history_button.clicked.connect(self._show_in_history)
        self.batches.started.connect(self._update_buttons)
        self.batches.ticked.connect(self._update_progress)
        self.batches.recorded.connect(self.recorded)
        self.batches.finished.connect(self._finished)
        self.batches.failed.connect(self._failed)

    # --- profiles and groups ------------------------------------------------------------

    def set_profiles(self, profile_set: ProfileSet, chosen: str) -> None:
        self.profile_set = profile_set
        self.profile.blockSignals(True)
        self.profile.clear()
        self.profile.addItems(profile_set.names())
        if chosen:
            self.profile.setCurrentText(chosen)
        self.profile.blockSignals(False)
        self._profile_chosen(self.profile.currentText())

    def current_profile(self) -> Profile | None:
        return self.profile_set.get(self.profile.currentText())

    def _profile_chosen(self, name: str) -> None:
        profile = self.profile_set.get(name)
        if profile is not None:
            self.concurrency.setValue(profile.concurrency)
        self._update_buttons()

    def _group_chosen(self) -> None:
        self._list_fresh = True
        self._update_buttons()

    # --- checking the list --------------------------------------------------------------

    def _list_edited(self) -> None:
        self._list_fresh = True
        self._parse_generation += 1
        self.parsed = None
        self._update_buttons()
        self._parse_timer.start()

    def check_list(self) -> None:
        """Parse the list on a worker (100,000 pasted lines take a moment)."""
        self._parse_timer.stop()
        generation = self._parse_generation
        text, game = self.editor.toPlainText(), self.game.text()
        self.jobs.submit(
            lambda: parse_terminals(text, game),
            lambda parsed: self._checked(generation, parsed, ""),
            lambda error: self._checked(generation, None, str(error)),
        )

    def _checked(self, generation: int, parsed: TerminalList | None, error: str) -> None:
        if generation != self._parse_generation:
            return
        if parsed is None and not error:
            return
        self.parsed, self.parse_error = parsed, error
        self.list_status.setText(list_status_text(parsed, error))
        self._update_buttons()

    @property
    def checked(self) -> bool:
        return self.parsed is not None and not self._parse_timer.isActive()

    # --- running ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.batches.running

    @property
    def run(self) -> BatchRun | None:
        return self.batches.run

    @property
    def summary(self) -> BatchSummary | None:
        return self.batches.summary

    def set_audit_block(self, reason: str) -> None:
        """No batch or retry starts while the audit store cannot record (``reason``)."""
        self._audit_block = reason
        self.start_button.setToolTip(reason or "Ctrl+Enter")
        self.retry_button.setToolTip(reason)
        self._update_buttons()

    def _update_buttons(self) -> None:
        """Enable what can be done now, and make exactly one enabled button the default:
        the obvious next action (start, cancel, retry what may close, or export)."""
        running = self.running
        count = len(self.parsed.terminals) if self.parsed else 0
        ready = self.checked and count > 0 and self.current_profile() is not None
        ready = ready and not self._audit_block
        self.start_button.setEnabled(
            ready and not running and self.confirmation is None and self._list_fresh
        )
        self.start_button.setText(
            f"Close {count:,} session{'s' if count != 1 else ''}…" if count else "Close sessions…"
        )
        self.cancel_button.setEnabled(running and not self.batches.cancel_asked)
        retry, refused = self.batches.plan.again, self.batches.plan.refused
        self.retry_button.setEnabled(bool(retry or refused) and not (running or self._audit_block))
        self.retry_button.setText(f"Retry failed ({len(retry):,})" if retry else "Retry failed")
        has_rows = self.model.rowCount() > 0
        self.export_results.setEnabled(has_rows and not running)
        self.history_button.setEnabled(bool(self.batches.batch_root))
        self._choose_default(
            self.cancel_button if running else None,
            self.start_button,
            self.retry_button if retry else None,
            self.export_results,
        )
        self.save_group.setEnabled(bool(count) and not (self.parsed and self.parsed.invalid))
        self.delete_group.setEnabled(self.group.currentText() in self.lists.groups and not running)
        self.export_list.setEnabled(bool(count))
        for widget in self._batch_inputs():
            widget.setEnabled(not running)
        self._show_staleness()

    def _batch_inputs(self) -> tuple[QWidget, ...]:
        """What a running batch was started with: frozen until it ends, so the screen
        cannot say one thing (no clear history) while the rows are sent with another."""
        lists = (self.editor, self.group, self.import_button, self.profile, self.game)
        options = (self.clear_history, self.reason, self.concurrency, self.max_rps)
        return lists + options

    def _changed_since_batch(self) -> list[str]:
        """What the inputs changed since the table's batch ran ([] while it still matches)."""
        if self.running or not self.batches.batch_root:
            return []
        profile, clear = self.profile.currentText() or None, self.clear_history.isChecked()
        return changed_since(self.batches.options, self._list_fresh, profile, clear)

    def _show_staleness(self) -> None:
        """Greys the results out, under a line naming the batch, its profile and its
        clear-history choice, once the inputs no longer match them: an old result never
        looks like the answer for the list now on screen (as the Close tab's answer)."""
        changed = self._changed_since_batch()
        stale = bool(changed)
        if stale:
            batches = self.batches
            note = stale_text(batches.batch_root, batches.options, batches.production, changed)
            self.stale_note.setText(note)
        self.stale_note.setVisible(stale)
        grey = greyed(self)
        self.progress_label.setStyleSheet(f"color: {grey.name()};" if stale else "")
        self.model.set_stale(grey if stale else None)

    def _choose_default(self, *candidates: QPushButton | None) -> None:
        """The first enabled candidate is the default action; no other button is."""
        chosen = next((b for b in candidates if b is not None and b.isEnabled()), None)
        for button in (
            self.start_button,
            self.cancel_button,
            self.retry_button,
            self.export_results,
            self.history_button,
        ):
            button.setAutoDefault(button is chosen)
            button.setDefault(button is chosen)

    @property
    def next_action(self) -> QPushButton | None:
        """The one default button (the obvious next step), for the operator and tests."""
        defaults = [
            b
            for b in (self.start_button, self.cancel_button, self.retry_button, self.export_results)
            if b.isDefault() and b.isEnabled()
        ]
        return defaults[0] if len(defaults) == 1 else None

    def options(self) -> BatchOptions:
        return BatchOptions(
            profile=self.profile.currentText() or None,
            clear_history=self.clear_history.isChecked(),
            reason=self.reason.text(),
            concurrency=self.concurrency.value(),
            max_rps=self.max_rps.value() or None,
        )

    def confirm_start(self) -> None:
        if not self.start_button.isEnabled() or self.parsed is None:
            return
        self._confirm(list(self.parsed.terminals), list(self.parsed.invalid))

    def retry_failed(self) -> None:
        """Confirm sending again what may close on a second try; the rows refused for good
        are named with their reasons and sent only if the operator ticks them in."""
        plan, summary = self.batches.plan, self.summary
        if summary is None or self.running or self.confirmation is not None or self._audit_block:
            return
        if not (plan.again or plan.refused):
            return
        # The batch's own options, not the tab's inputs: a retry goes where the batch went,
        # with its clear-history choice and reason (each row keeps its game id), so one
        # batch id never spans two profiles.
        options, production = self.batches.options, self.batches.production
        dialog = ConfirmRetry(
            len(plan.again),
            len(plan.refused),
            left_out_text(plan.reasons),
            options.profile or "",
            options.clear_history,
            production,
            self,
        )

        def accepted() -> None:
            chosen = plan.again + (plan.refused if dialog.include_refused.isChecked() else [])
            self.start(chosen, [], options, summary.batch_id, production)

        self._open_confirmation(dialog, accepted)

    def _confirm(self, terminals: list[Terminal], skipped: list[SkippedLine]) -> None:
        if self.confirmation is not None or self.running:
            return
        options = self.options()
        profile = self.current_profile()
        dialog = ConfirmBatch(
            len(terminals),
            options.profile or "",
            options.clear_history,
            bool(profile and profile.production),
            len(skipped),
            self,
        )
        production = bool(profile and profile.production)
        self._open_confirmation(
            dialog, lambda: self.start(terminals, skipped, options, None, production)
        )

    def _open_confirmation(self, dialog: ConfirmBatch, accepted: Callable[[], None]) -> None:
        dialog.accepted.connect(accepted)
        dialog.finished.connect(self._confirmation_closed)
        self.confirmation = dialog
        self._update_buttons()
        dialog.open()

    def _confirmation_closed(self) -> None:
        self.confirmation = None
        self._update_buttons()

    def start(
        self,
        terminals: list[Terminal],
        skipped: list[SkippedLine],
        options: BatchOptions,
        retry_of: str | None = None,
        production: bool = False,
    ) -> None:
        """Start a batch (or a retry of this table's, ``retry_of``); see BatchController."""
        self._list_fresh = False
        self.batches.start(terminals, skipped, options, retry_of, production)
        self.progress.setRange(0, max(1, len(terminals)))
        self.progress.setValue(0)
        self.progress_label.setText(f"Starting {plural(len(terminals), 'close')}…")
        self.running_changed.emit(True)
        self._update_buttons()

    def cancel(self) -> None:
        """Cancel the running batch, even if its start has not reached this thread yet."""
        if self.batches.cancel():
            self.progress_label.setText("Cancelling: requests in flight finish and are recorded…")
            self._update_buttons()

    def _update_progress(self) -> None:
        if self.run is None:
            return
        progress = self.run.progress()
        self.progress.setValue(progress.done)
        if not self.run.cancelled:
            self.progress_label.setText(progress_text(progress))

    def _finished(self, summary: BatchSummary) -> None:
        self.progress.setValue(summary.done)
        text = summary_text(summary, self.batches.ran_with(), self.batches.plan.reasons)
        self.progress_label.setText(text)
        self.message.emit(text)
        self.recorded.emit()
        self.running_changed.emit(False)
        if summary.history_failed:
            self.audit_failed.emit(summary.stop_reason)
        self._update_buttons()
        if self.next_action is not None:
            self.next_action.setFocus()  # Enter or Space takes the one obvious next step

    def _failed(self, error: BaseException) -> None:
        self._list_fresh = True  # nothing ran: the same list may be started again
        self.running_changed.emit(False)
        self._update_buttons()
        if not isinstance(error, SupportToolError):
            raise error  # unexpected: the application's error hook shows and logs it
        if isinstance(error, AuditUnavailable):
            self.audit_failed.emit(str(error))
        self.progress_label.setText(f"The batch did not start: {error}")
        self.message.emit(str(error))

    def _show_in_history(self) -> None:
        """The batch and its retries (the history's batch filter matches both)."""
        if self.batches.batch_root:
            self.show_batch.emit(self.batches.batch_root)

    # --- results ------------------------------------------------------------------------

    def ask_export_results(self) -> None:
        name = f"batch-{self.run.batch_id}.csv" if self.run else "batch.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export batch results", name, "CSV (*.csv)")
        if path:
            self.export_results_to(Path(path))

    def export_results_to(self, path: Path) -> None:
        """Each terminal's latest status, written off the GUI thread from a snapshot."""
        lines = result_lines(self.model.rows(), self.batches.options.reason)
        self.jobs.submit(
            lambda: write_results_csv(path, lines),
            lambda n: self.message.emit(f"Exported {plural(n, 'row')} to {path}."),
            self._error,
        )

    def _error(self, error: BaseException) -> None:
        self.message.emit(str(error))
        if not isinstance(error, SupportToolError | OSError):
            raise error
