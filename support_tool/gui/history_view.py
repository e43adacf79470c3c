"""The History tab: filter, inspect, export, and re-fill the form from a row."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from support_tool.audit.export import write_history_csv
from support_tool.audit.records import AuditFilter, AuditRecord
from support_tool.audit.store import AuditStore
from support_tool.gui.column_model import Index, column_of
from support_tool.gui.history_model import COLUMNS, HistoryModel, local_time
from support_tool.gui.jobs import Jobs
from support_tool.gui.style import outcome_label
from support_tool.ops.batch_summary import NOTHING_TO_CLEAR, outcome_shown
from support_tool.provider.outcome import Outcome

FILTER_DELAY_MS = 150
DESCRIPTION_COLUMN = column_of(COLUMNS, "Description")
OUTCOME_COLUMN = column_of(COLUMNS, "Outcome")
BATCH_COLUMN = column_of(COLUMNS, "Batch")
CELL_PADDING = 16  # the style's margins either side of a cell's text


class ElideMiddle(QStyledItemDelegate):
    """Cuts a cell's text in the middle ('20261130-1…3f9a.r0815-a3'), not at its end."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


# Starting widths that show every column, Reason included, on a 1366-pixel screen; long
# text is elided (the tooltip has it whole) and every column but Description can be dragged
# or hidden (the header's menu). Description takes what is left; Outcome is measured.
COLUMN_WIDTHS = {
    "Time": 135,
    "Operator": 75,
    "Workstation": 90,
    "Profile": 70,
    "Login": 105,
    "Game": 90,
    "Clear history": 85,
    "Code": 45,
    "Reason": 100,
    "Elapsed": 65,
    "Batch": 95,
}

# Stored field -> words for the record dialog; ``*_at`` are UTC times.
FIELD_LABELS = {
    "id": "Record",
    "started_at": "Started (UTC)",
    "finished_at": "Finished (UTC)",
    "operator": "Operator",
    "workstation": "Workstation",
    "profile": "Profile",
    "api_host": "API host",
    "login": "Login",
    "game_id": "Game ID",
    "clear_history": "Clear history",
    "reason": "Reason or ticket",
    "batch_id": "Batch ID",
    "outcome": "Outcome",
    "error_code": "Provider code",
    "description": "Description",
    "http_status": "HTTP status",
    "elapsed_ms": "Elapsed",
    "attempts": "Attempts",
}


def record_fields(record: AuditRecord) -> list[tuple[str, str]]:
    """Every stored field of a record as (label, value) in words: yes/no, not True/False."""
    shown: list[tuple[str, str]] = []
    for name, value in record.as_dict().items():
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif name == "game_id" and not value:
            text = "all games"
        elif value is None or value == "":
            text = "–"
        elif name == "outcome":
            text = outcome_shown(str(value), record.error_code, record.clear_history)
            if text == NOTHING_TO_CLEAR:
                text += f" (recorded as {outcome_label(str(value)).lower()})"
        elif name == "elapsed_ms":
            text = f"{value:,} ms"
        else:
            text = str(value)
        shown.append((FIELD_LABELS.get(name, name.replace("_", " ").capitalize()), text))
        if name == "started_at":
            shown.append(("Started (local time)", local_time(record.started_at)))
    return shown


class RecordDialog(QDialog):
    """Every stored field of one history row, selectable for copying."""

    def __init__(self, record: AuditRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History record #{record.id}")
        form = QFormLayout(self)
        self.fields = record_fields(record)
        for name, value in self.fields:
            label = QLabel(value)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(name, label)
        self.text = "\n".join(f"{name}: {value}" for name, value in self.fields)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text))
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class HistoryView(QWidget):
    """Emits ``close_again(record)`` to re-fill the close form from a row."""

    close_again = Signal(object)
    message = Signal(str)

    def __init__(self, store: AuditStore, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._jobs = jobs
        self.model = HistoryModel(store, jobs, self)
        self._build_filters()
        self._build_table()
        self._build_buttons()
        self._lay_out()
        self._connect()
        self.dialog: QDialog | None = None
        self._update_buttons()
        self.apply_filter()

    def _build_filters(self) -> None:
        """Free text, batch id, outcome, operator and workstation: what narrows the rows."""
        self.search = QLineEdit()
        self.search.setAccessibleName("Filter history")
        self.search.setPlaceholderText("Filter by login, game or description")
        self.search.setClearButtonEnabled(True)
        self.batch = QLineEdit()
        self.batch.setAccessibleName("Batch filter")
        self.batch.setPlaceholderText("Batch id")
        self.batch.setClearButtonEnabled(True)
        self.outcome = QComboBox()
        self.outcome.setAccessibleName("Outcome filter")
        self.outcome.addItem("All outcomes", None)
        for outcome in Outcome:
            self.outcome.addItem(outcome.label, outcome.value)
        self.operator = self._exact_filter("Operator filter", "Operator (exact)")
        self.workstation = self._exact_filter("Workstation filter", "Workstation (exact)")

    @staticmethod
    def _exact_filter(name: str, placeholder: str) -> QLineEdit:
        """An exact-match filter that offers the values seen in the rows loaded so far: the
        store cannot list a team's operators cheaply, and a list that would have to read
        every row would slow the tab down on a million actions."""
        edit = QLineEdit()
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        edit.setToolTip(f"{placeholder.split()[0]}: the whole name, as the History column shows it")
        edit.setClearButtonEnabled(True)
        completer = QCompleter(QStringListModel(edit), edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        edit.setCompleter(completer)
        # The placeholder whole, "(exact)" included, at any scale (plus the clear button).
        edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(placeholder) + 40)
        return edit

    def _build_table(self) -> None:
        """One fixed-height row per record, columns sized to fit a 1366-pixel screen."""
        self.table = QTableView()
        self.table.setAccessibleName("History")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        vertical = self.table.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._size_columns(header)

    def _build_buttons(self) -> None:
        self.count = QLabel()
        self.details = QPushButton("Details…")
        self.again = QPushButton("Close again")
        self.again.setToolTip("Fill the close form with this row's login, game and options")
        self.export = QPushButton("Export CSV…")
        self.refresh = QPushButton("Refresh")
        self.refresh.setShortcut("F5")

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.search, 3)
        top.addWidget(self.batch, 1)
        top.addWidget(self.outcome, 1)
        top.addWidget(self.operator, 1)
        top.addWidget(self.workstation, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        for button in (self.details, self.again, self.export, self.refresh):
            bottom.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

    def _connect(self) -> None:
        """Typing waits FILTER_DELAY_MS before filtering, so each key does not query."""
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DELAY_MS)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._debounce.start)
        for edit in (self.batch, self.operator, self.workstation):
            edit.textChanged.connect(self._debounce.start)
        self.outcome.currentIndexChanged.connect(self.apply_filter)
        self.table.doubleClicked.connect(self._open)
        self.details.clicked.connect(lambda: self._open(self.table.currentIndex()))
        self.again.clicked.connect(self._again)
        self.export.clicked.connect(self.ask_export)
        self.refresh.clicked.connect(self.apply_filter)
        self.model.loaded.connect(self._update_count)
        self.model.loaded.connect(self._offer_seen_values)
        self.model.modelReset.connect(self._update_count)
        self.model.load_failed.connect(self.message)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

    def _size_columns(self, header: QHeaderView) -> None:
        for name, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(column_of(COLUMNS, name), width)
        self.table.setColumnWidth(OUTCOME_COLUMN, self._outcome_width())
        # Batch ids share their date and time at the front; the tail tells them apart.
        self._batch_delegate = ElideMiddle(self.table)
        self.table.setItemDelegateForColumn(BATCH_COLUMN, self._batch_delegate)
        # The provider's words are what people read: that column takes the spare width.
        header.setSectionResizeMode(DESCRIPTION_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)

    def column_menu(self) -> QMenu:
        """Show or hide columns (not Description): at 200 % a narrow screen shows fewer."""
        menu = QMenu(self)
        for column, (name, _) in enumerate(COLUMNS):
            if column == DESCRIPTION_COLUMN:
                continue
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(column))
            action.toggled.connect(lambda shown, c=column: self.table.setColumnHidden(c, not shown))
        return menu

    def _column_menu(self, at: QPoint) -> None:
        self.menu = self.column_menu()
        self.menu.popup(self.table.horizontalHeader().mapToGlobal(at))

    def _offer_seen_values(self) -> None:
        """The operators and workstations of the loaded rows, offered as their filters are
        typed (the completion lists only grow: a narrower filter keeps the others)."""
        records = [self.model.record(row) for row in range(self.model.rowCount())]
        for edit, values in (
            (self.operator, {r.operator for r in records}),
            (self.workstation, {r.workstation for r in records}),
        ):
            completer = edit.completer()
            model = completer.model() if completer else None
            if isinstance(model, QStringListModel):
                known = set(model.stringList())
                if not values <= known:
                    model.setStringList(sorted(known | values))

    def _outcome_width(self) -> int:
        """Wide enough for the longest outcome in words ('Could not reach provider')."""
        words = [o.label for o in Outcome] + [NOTHING_TO_CLEAR, "Outcome"]
        metrics = self.table.fontMetrics()
        return max(metrics.horizontalAdvance(w) for w in words) + CELL_PADDING

    def current_filter(self) -> AuditFilter:
        return AuditFilter(
            text=self.search.text(),
            outcome=self.outcome.currentData(),
            batch_id=self.batch.text().strip() or None,
            operator=self.operator.text().strip() or None,
            workstation=self.workstation.text().strip() or None,
        )

    def show_batch(self, batch_id: str) -> None:
        """Only the rows of one batch (from the Terminals tab's *Show in history*)."""
        for edit in (self.search, self.operator, self.workstation):
            edit.clear()
        self.outcome.setCurrentIndex(0)
        self.batch.setText(batch_id)
        self.apply_filter()

    def apply_filter(self) -> None:
        self._debounce.stop()
        self.model.set_filter(self.current_filter())

    def _update_count(self) -> None:
        rows = self.model.rowCount()
        more = " (scroll for more)" if self.model.canFetchMore() else ""
        self.count.setText(f"{rows:,} row{'' if rows == 1 else 's'} shown{more}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = self.table.selectionModel().hasSelection()
        self.details.setEnabled(selected)
        self.again.setEnabled(selected)

    def selected_record(self) -> AuditRecord | None:
        index = self.table.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.dialog = RecordDialog(self.model.record(index.row()), self)
            self.dialog.open()

    def _again(self) -> None:
        record = self.selected_record()
        if record is not None:
            self.close_again.emit(record)

    def ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export history", "history.csv", "CSV (*.csv)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write every row matching the current filter (not only those loaded) to ``path``."""
        flt, store = self.current_filter(), self._store

        def wanted(record: AuditRecord) -> bool:
            """``query`` has no operator or workstation argument: the export matches the
            rows shown, so those two filters apply here."""
            return flt.operator in (None, record.operator) and flt.workstation in (
                None,
                record.workstation,
            )

        def work() -> int:
            with path.open("w", encoding="utf-8-sig", newline="") as out:
                records = store.query(text=flt.text, outcome=flt.outcome, batch_id=flt.batch_id)
                return write_history_csv(filter(wanted, records), out)

        self.export.setEnabled(False)
        self._jobs.submit(work, lambda n: self._exported(path, n), self._export_failed)

    def _exported(self, path: Path, count: int) -> None:
        self.export.setEnabled(True)
        self.message.emit(f"Exported {count:,} rows to {path}.")

    def _export_failed(self, error: BaseException) -> None:
        self.export.setEnabled(True)
        self.message.emit(f"Export failed: {error}")
