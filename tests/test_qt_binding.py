"""Guards against a defect in the Qt binding itself, which no code of ours can work around.

PySide6 6.12.0 drops one reference to ``None`` each time Qt calls a Python ``data()``
override that returns ``None`` (as every model must, for roles it does not provide).
On Python 3.11, where ``None`` is not immortal, a table view then crashes the process
("none_dealloc") after some thousands of paints. pyproject.toml excludes that release;
this test fails, with this explanation, if an installed binding has the defect.
"""

from __future__ import annotations

import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt


class _NoneModel(QAbstractTableModel):
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        return None


def test_binding_keeps_none_alive_through_model_data(qapp: object) -> None:
    model = _NoneModel()
    index = model.index(0, 0)
    before = sys.getrefcount(None)
    for _ in range(200):
        index.data(Qt.ItemDataRole.ForegroundRole)  # Qt -> Python data() -> None
    lost = before - sys.getrefcount(None)
    assert lost < 50, (
        f"PySide6 {pyside_version} released None {lost} times too often in 200 calls: "
        "views will crash the process. Install another PySide6 release (see pyproject.toml)."
    )
