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
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from support_tool.config.profiles import Profile, ProfileSet
from support_tool.errors import SupportToolError
from support_tool.gui.batch_controller import BatchController
from support_tool.gui.batch_model import DESCRIPTION_COLUMN, BatchModel
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
from support_tool.gui.style import button_grid, greyed, note_label
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
from support_tool.provider import contract

PARSE_DELAY_MS = 250


class TerminalsTab(QWidget):
    message = Signal(str)
    show_batch = Signal(str)
    recorded = Signal()  # rows reached the history: views may refresh
    running_changed = Signal(bool)

    def __init__(self, runtime: Runtime, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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

        self.group = QComboBox()
        self.group.setAccessibleName("Terminal group")
        self.group.setMinimumContentsLength(24)
        self.import_button = QPushButton("Import CSV…")
        self.save_group = QPushButton("Save as group…")
        self.delete_group = QPushButton("Delete group")
        self.export_list = QPushButton("Export list…")
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("Terminal list")
        self.editor.setPlaceholderText(
            "Paste terminal logins here, one per line: login, or login,gameId.\n"
            "A header line, blank lines, tabs from a spreadsheet and extra columns are fine."
        )
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.list_status = QLabel("No terminals yet.")
        self.list_status.setWordWrap(True)
        self.list_status.setAccessibleName("List check")

        self.profile = QComboBox()
        self.profile.setAccessibleName("Profile for the batch")
        self.game = QLineEdit()
        self.game.setAccessibleName("Game id for rows without one")
        self.game.setPlaceholderText("blank: all games (rows may name their own)")
        self.clear_history = QCheckBox("Clear history (remove each unfinished round)")
        self.clear_history.setChecked(True)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason for the batch")
        self.reason.setPlaceholderText("e.g. closing time, outage INC-1234")
        self.concurrency = QSpinBox()
        self.concurrency.setRange(contract.MIN_BATCH_CONCURRENCY, contract.MAX_BATCH_CONCURRENCY)
        self.concurrency.setValue(contract.DEFAULT_BATCH_CONCURRENCY)
        self.concurrency.setAccessibleName("Requests at a time")
        self.max_rps = QDoubleSpinBox()
        self.max_rps.setRange(0, contract.MAX_BATCH_RPS)
        self.max_rps.setDecimals(1)
        self.max_rps.setSpecialValueText("no limit")
        self.max_rps.setAccessibleName("Most requests per second")
        self.start_button = QPushButton("Close sessions…")
        self.start_button.setAccessibleName("Start the batch")
        self.start_button.setToolTip("Ctrl+Enter")

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Batch progress")
        self.progress.setFormat("%v / %m")
        self.progress_label = QLabel()
        self.progress_label.setAccessibleName("Batch counts")
        self.progress_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.retry_button = QPushButton("Retry failed")
        self.export_results = QPushButton("Export results…")
        self.history_button = QPushButton("Show in history")
        self.model = BatchModel(self)
        self.batches = BatchController(runtime.service, self.model, self)
        self.table = QTableView()
        self.table.setAccessibleName("Batch rows")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        for column, width in enumerate((50, 140, 120, 150, 45, 0, 75, 70)):
            if width:
                self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(DESCRIPTION_COLUMN, QHeaderView.ResizeMode.Stretch)

        self._layout()
        self._connect()
        self._update_buttons()

    # --- layout -------------------------------------------------------------------------

    def _layout(self) -> None:
        groups_row = QHBoxLayout()
        group_label = QLabel("&Group:")
        group_label.setBuddy(self.group)
        groups_row.addWidget(group_label)
        groups_row.addWidget(self.group, 1)
        group_buttons = button_grid(
            self.import_button, self.save_group, self.delete_group, self.export_list
        )
        options = QFormLayout()
        options.addRow("Profile:", self.profile)
        options.addRow("Game id:", self.game)
        options.addRow("", self.clear_history)
        options.addRow("Reason:", self.reason)
        options.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        at_a_time = QHBoxLayout()
        at_a_time.addWidget(self.concurrency)
        at_a_time.addWidget(QLabel("at a time"), 1)
        per_second = QHBoxLayout()
        per_second.addWidget(self.max_rps)
        per_second.addWidget(QLabel("per second"), 1)
        options.addRow("Requests:", at_a_time)
        options.addRow("At most:", per_second)
        options.addRow("", self.start_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(groups_row)
        left_layout.addLayout(group_buttons)
        left_layout.addWidget(self.editor, 1)
        left_layout.addWidget(self.list_status)
        left_layout.addLayout(options)

        run_buttons = button_grid(
            self.cancel_button, self.retry_button, self.export_results, self.history_button
        )
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.stale_note = note_label("Results no longer match the list or profile")
        for line in (self.progress, self.stale_note, self.progress_label):
            right_layout.addWidget(line)
        right_layout.addLayout(run_buttons)
        right_layout.addWidget(self.table, 1)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setChildrenCollapsible(False)  # a pane dragged to nothing clips its buttons
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 560])
        # Below the tab's minimum (200% scaling on a 1366x768 screen) it scrolls instead of
        # squeezing: a button shows its whole text or scrolls into view, never "ave as group."
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

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

    def _update_buttons(self) -> None:
        """Enable what can be done now, and make exactly one enabled button the default:
        the obvious next action (start, cancel, retry what may close, or export)."""
        running = self.running
        count = len(self.parsed.terminals) if self.parsed else 0
        ready = self.checked and count > 0 and self.current_profile() is not None
        self.start_button.setEnabled(
            ready and not running and self.confirmation is None and self._list_fresh
        )
        self.start_button.setText(
            f"Close {count:,} session{'s' if count != 1 else ''}…" if count else "Close sessions…"
        )
        self.cancel_button.setEnabled(running and not self.batches.cancel_asked)
        retry, refused = self.batches.plan.again, self.batches.plan.refused
        self.retry_button.setEnabled(bool(retry or refused) and not running)
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
        if summary is None or self.running or self.confirmation is not None:
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
        self._update_buttons()
        if self.next_action is not None:
            self.next_action.setFocus()  # Enter or Space takes the one obvious next step

    def _failed(self, error: BaseException) -> None:
        self._list_fresh = True  # nothing ran: the same list may be started again
        self.running_changed.emit(False)
        self._update_buttons()
        if not isinstance(error, SupportToolError):
            raise error  # unexpected: the application's error hook shows and logs it
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
