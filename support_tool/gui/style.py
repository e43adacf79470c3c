"""Colours and wording for outcomes, readable in light and dark themes alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QPushButton, QWidget

if TYPE_CHECKING:  # its module (its dataclass, ~13 M instructions) loads after the paint
    from support_tool.provider.outcome import Outcome

# (light theme, dark theme) foreground colours, chosen for contrast on each background, by
# the outcome's stored value (an ``Outcome`` is a StrEnum: it equals its value), so that
# the window's first screen does not need ``provider.outcome`` (tests/test_gui_close.py
# checks that every outcome has its colours).
_COLOURS = {
    "success": ("#1b5e20", "#81c784"),
    "refused": ("#a84300", "#ffb74d"),
    "transport_failure": ("#b71c1c", "#ef9a9a"),
    "invalid_input": ("#6a1b9a", "#ce93d8"),
    "configuration_error": ("#6a1b9a", "#ce93d8"),
    "pending": ("#37474f", "#b0bec5"),
    "unknown": ("#b71c1c", "#ef9a9a"),
}
PRODUCTION_BANNER = ("#b71c1c", "#ffffff")  # background, text: the same in both themes


def is_dark() -> bool:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def outcome_colour(outcome: Outcome | str) -> QColor:
    light, dark = _COLOURS.get(str(outcome), _COLOURS["unknown"])
    return QColor(dark if is_dark() else light)


def outcome_label(outcome: Outcome | str) -> str:
    from support_tool.provider.outcome import Outcome

    try:
        return Outcome(outcome).label
    except ValueError:
        return str(outcome)


def note_label(accessible_name: str) -> QLabel:
    """The boxed, italic line over an answer or results that no longer match the inputs
    on screen (hidden until then)."""
    note = QLabel()
    note.setAccessibleName(accessible_name)
    note.setWordWrap(True)
    note.setVisible(False)
    note.setStyleSheet("font-style: italic; padding: 4px; border: 1px solid palette(mid);")
    return note


def greyed(widget: QWidget) -> QColor:
    """The theme's colour for text that is shown but no longer current."""
    return widget.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)


def button_grid(*buttons: QPushButton) -> QGridLayout:
    """Buttons two to a row: a row of four does not fit a narrow or scaled-up window, and
    a button squeezed below its text's width shows "ave as group." instead of its name."""
    grid = QGridLayout()
    for number, button in enumerate(buttons):
        grid.addWidget(button, number // 2, number % 2)
    grid.setColumnStretch(2, 1)
    return grid
