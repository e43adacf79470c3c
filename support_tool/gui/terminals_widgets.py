"""The Terminals tab's widgets and their layout, apart from what the tab does with them.

Left, the list and its options (group, list files, the pasted list, profile, game, clear
history, reason, pace, start); right, the results (progress, counts, run buttons, the row
table). ``TerminalsTab`` builds on this class, so every widget stays an attribute of the tab
itself and its creation order, hence the keyboard's tab order, is that of the screen.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
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

from support_tool.gui.batch_model import DESCRIPTION_COLUMN, BatchModel
from support_tool.gui.style import button_grid, note_label
from support_tool.provider import contract

# Starting widths of the row table's columns; 0 leaves the column to the table.
ROW_COLUMN_WIDTHS = (50, 140, 120, 150, 45, 0, 75, 70)


class TerminalsWidgets(QWidget):
    """Builds the widgets; the behaviour (checking, running, retrying) is TerminalsTab's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build_list()
        self._build_options()
        self._build_results()
        self._lay_out()

    # --- building -----------------------------------------------------------------------

    def _build_list(self) -> None:
        """The saved groups, what can be done with a list, and the list itself."""
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

    def _build_options(self) -> None:
        """What every close of the batch is sent with, and the button that starts it."""
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

    def _build_results(self) -> None:
        """Progress, counts, what can follow a batch, and one row per terminal."""
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
        for column, width in enumerate(ROW_COLUMN_WIDTHS):
            if width:
                self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(DESCRIPTION_COLUMN, QHeaderView.ResizeMode.Stretch)

    # --- layout -------------------------------------------------------------------------

    def _lay_out(self) -> None:
        left, right = self._list_pane(), self._results_pane()
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

    def _list_pane(self) -> QWidget:
        groups_row = QHBoxLayout()
        group_label = QLabel("&Group:")
        group_label.setBuddy(self.group)
        groups_row.addWidget(group_label)
        groups_row.addWidget(self.group, 1)
        group_buttons = button_grid(
            self.import_button, self.save_group, self.delete_group, self.export_list
        )
        options = self._options_form()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(groups_row)
        left_layout.addLayout(group_buttons)
        left_layout.addWidget(self.editor, 1)
        left_layout.addWidget(self.list_status)
        left_layout.addLayout(options)
        return left

    def _options_form(self) -> QFormLayout:
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
        return options

    def _results_pane(self) -> QWidget:
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
        return right
