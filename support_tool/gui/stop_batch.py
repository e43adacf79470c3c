"""The question asked on quitting while a batch runs: stopping it is the operator's call."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_stop_batch(parent: QWidget, answered: Callable[[bool], None]) -> QMessageBox:
    """Open (window-modal, not blocking) the question; ``answered(True)`` means stop and
    quit. *No* is the default, so Enter by reflex keeps the batch running."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "A batch is running",
        "A batch is still closing sessions. Stop it and quit? Requests already sent "
        "finish and are recorded; the rest are not sent.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setDefaultButton(QMessageBox.StandardButton.No)
    stop = box.button(QMessageBox.StandardButton.Yes)
    stop.setText("Stop and quit")
    yes = QMessageBox.StandardButton.Yes
    box.buttonClicked.connect(lambda button: answered(box.standardButton(button) == yes))
    box.open()
    return box
