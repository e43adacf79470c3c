"""The part every table of the tool shares: rows in a list, columns from a fixed table of
(header, value) pairs. Subclasses say what a cell shows in ``data``."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


def column_of(columns: list[tuple[str, Any]], header: str) -> int:
    """The number of the column headed ``header``: derived from the column list, so adding or
    moving a column cannot leave a colour or a stretch on the wrong one."""
    return [name for name, _ in columns].index(header)


class ColumnModel(QAbstractTableModel):
    columns: ClassVar[list[tuple[str, Any]]] = []

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][0]
        return None
