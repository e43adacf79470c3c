"""The Terminals tab's list actions: import a list file, save, choose and delete saved
groups, export the list. Each reads or writes a file, so each runs as a job off the GUI
thread; the tab keeps the widgets and asks this object to act on them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QPlainTextEdit,
    QWidget,
)

from support_tool.config.groups import Group, GroupSource, make_group
from support_tool.errors import InvalidInput
from support_tool.gui.jobs import Jobs
from support_tool.ops.terminals import TerminalList, plural, read_terminal_file, terminals_csv

PASTED = "Pasted list"


class ListActions(QObject):
    message = Signal(str)  # what happened, for the status bar
    changed = Signal()  # the saved groups were (re)loaded: buttons may change
    chosen = Signal()  # the operator picked a group: the list is theirs to start again

    def __init__(
        self,
        view: QWidget,
        group: QComboBox,
        editor: QPlainTextEdit,
        source: GroupSource,
        jobs: Jobs,
        parsed: Callable[[], TerminalList | None],
        error: Callable[[BaseException], None],
    ) -> None:
        super().__init__(view)
        self._view, self._group, self._editor = view, group, editor
        self._source, self._jobs, self._parsed, self._error = source, jobs, parsed, error
        self.groups: dict[str, Group] = {}

    def load(self, select: str = "") -> None:
        self._jobs.submit(self._source.load, lambda g: self._loaded(g, select), self._error)

    def _loaded(self, groups: dict[str, Group], select: str) -> None:
        self.groups = groups
        current = select or self._group.currentText()
        self._group.clear()
        self._group.addItem(PASTED)
        for name in sorted(groups, key=str.casefold):
            count = len(groups[name].terminals)
            self._group.addItem(name)
            self._group.setItemData(
                self._group.count() - 1, plural(count, "terminal"), Qt.ItemDataRole.ToolTipRole
            )
        index = self._group.findText(current)
        self._group.setCurrentIndex(max(index, 0))
        self.changed.emit()

    def choose(self, index: int) -> None:
        group = self.groups.get(self._group.itemText(index))
        self.chosen.emit()
        if group is not None:
            self._editor.setPlainText("\n".join(t.as_line() for t in group.terminals))

    def ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._view, "Import terminals", "", "Lists (*.csv *.txt);;All files (*)"
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        def work() -> str:
            parsed = read_terminal_file(path)
            kept = [t.as_line() for t in parsed.terminals]
            kept += [line.text for line in parsed.invalid]  # shown, so they can be fixed
            return "\n".join(kept)

        def done(text: str) -> None:
            self._group.setCurrentIndex(0)
            self._editor.setPlainText(text)
            self.message.emit(f"Imported {path.name}.")

        self._jobs.submit(work, done, self._error)

    def ask_save(self) -> None:
        current = self._group.currentText()
        name, ok = QInputDialog.getText(
            self._view, "Save group", "Group name:", text="" if current == PASTED else current
        )
        if ok:
            self.save_as(name)

    def save_as(self, name: str) -> None:
        parsed = self._parsed()
        if parsed is None or not parsed.terminals or parsed.invalid:
            self.message.emit("Fix the list first: a group is saved only without invalid lines.")
            return
        try:
            group = make_group(name, parsed.terminals)
        except InvalidInput as exc:
            self.message.emit(str(exc))
            return
        source = self._source

        def work() -> None:
            groups = source.load()
            groups[group.name] = group
            source.save(groups)

        def done(_: object) -> None:
            self.message.emit(
                f"Saved group “{group.name}” ({plural(len(group.terminals), 'terminal')})."
            )
            self.load(group.name)

        self._jobs.submit(work, done, self._error)

    def ask_delete(self) -> None:
        name = self._group.currentText()
        if name not in self.groups:
            return
        answer = QMessageBox.question(self._view, "Delete group", f"Delete the group “{name}”?")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(name)

    def delete(self, name: str) -> None:
        source = self._source

        def work() -> None:
            groups = source.load()
            groups.pop(name, None)
            source.save(groups)

        def done(_: object) -> None:
            self.message.emit(f"Deleted group “{name}”.")
            self.load(PASTED)

        self._jobs.submit(work, done, self._error)

    def ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self._view, "Export list", "terminals.csv", "CSV (*.csv)"
        )
        if path and self._parsed() is not None:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        parsed = self._parsed()
        terminals = list(parsed.terminals) if parsed else []

        def work() -> int:
            path.write_text(terminals_csv(terminals), encoding="utf-8-sig", newline="")
            return len(terminals)

        self._jobs.submit(
            work,
            lambda n: self.message.emit(f"Exported {plural(n, 'terminal')} to {path}."),
            self._error,
        )
