"""The window's size limits: small enough for a 1366×768 desk, never off its screen."""

from __future__ import annotations

# Smallest size at which no text is clipped on any tab with every banner shown, the audit
# store's too (tests/test_gui_desk.py); it fits a 1366×768 screen, taskbar and title bar.
MINIMUM_SIZE = (880, 680)


def first_size(available: tuple[int, int]) -> tuple[int, int]:
    """Every History column visible (1240×720) where the screen has room; otherwise the
    screen's free area (at 200% a 1366×768 screen has 683×384 to offer), never below the
    minimum size, so the Close button does not start off-screen."""
    return (
        max(MINIMUM_SIZE[0], min(1240, available[0])),
        max(MINIMUM_SIZE[1], min(720, available[1])),
    )
