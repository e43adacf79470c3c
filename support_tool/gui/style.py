"""Colours and wording for outcomes, readable in light and dark themes alike."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from support_tool.provider.outcome import Outcome

# (light theme, dark theme) foreground colours, chosen for contrast on each background.
_COLOURS = {
    Outcome.SUCCESS: ("#1b5e20", "#81c784"),
    Outcome.REFUSED: ("#a84300", "#ffb74d"),
    Outcome.TRANSPORT_FAILURE: ("#b71c1c", "#ef9a9a"),
    Outcome.INVALID_INPUT: ("#6a1b9a", "#ce93d8"),
    Outcome.CONFIGURATION: ("#6a1b9a", "#ce93d8"),
    Outcome.PENDING: ("#37474f", "#b0bec5"),
    Outcome.UNKNOWN: ("#b71c1c", "#ef9a9a"),
}
PRODUCTION_BANNER = ("#b71c1c", "#ffffff")  # background, text: the same in both themes


def is_dark() -> bool:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def outcome_colour(outcome: Outcome | str) -> QColor:
    try:
        key = Outcome(outcome)
    except ValueError:
        key = Outcome.UNKNOWN
    light, dark = _COLOURS[key]
    return QColor(dark if is_dark() else light)


def outcome_label(outcome: Outcome | str) -> str:
    try:
        return Outcome(outcome).label
    except ValueError:
        return str(outcome)
