"""The window's banners and title: which profile an action would reach, said where nobody
can miss it (a red banner for production, the title for every profile, a note in demo)."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtWidgets import QLabel

from support_tool.config.profiles import Profile
from support_tool.gui.style import PRODUCTION_BANNER

DEMO_TEXT = (
    "<b>Demo</b>: an embedded sandbox provider on this computer, no real players. "
    "Try <i>terminal-0001</i> … <i>terminal-1000</i> (unfinished rounds) or "
    "<i>player-001</i> … <i>player-100</i>; any other login is unknown."
)


def warning_banner(accessible_name: str, *, word_wrap: bool = False) -> QLabel:
    """A hidden red banner (production, an altered history): the same in both themes."""
    banner = QLabel()
    banner.setAccessibleName(accessible_name)
    if word_wrap:
        banner.setWordWrap(True)
    background, text = PRODUCTION_BANNER
    banner.setStyleSheet(
        f"background: {background}; color: {text}; font-weight: bold; padding: 8px;"
    )
    banner.setVisible(False)
    return banner


def demo_banner(demo: bool, sandbox_running: bool) -> QLabel:
    """The note that this is the demo, shown only in demo; it says what to try when the
    embedded sandbox runs."""
    banner = QLabel()
    banner.setWordWrap(True)
    banner.setStyleSheet("padding: 6px; border: 1px solid palette(mid);")
    if not demo:  # shown with the window: shown now, it would open as a window of its own
        banner.setVisible(False)
    if sandbox_running:
        banner.setText(DEMO_TEXT)
    return banner


class ProfileState(NamedTuple):
    """What the banner and the title say about the current tab's profile. A NamedTuple,
    not a dataclass: a frozen dataclass costs the window's start ~3.5 M instructions
    (its generated methods are compiled at import), a NamedTuple a fifth of that."""

    production: bool
    banner: str
    title: str


def profile_state(place: str, profile: Profile | None, demo: bool) -> ProfileState:
    """The banner (production only) and the title for the tab ``place`` and its profile.
    The title ends with the application's name, so the window system adds it only once."""
    production = bool(profile and profile.production)
    banner = ""
    if profile is not None and production:
        banner = (
            f"PRODUCTION — {place}: profile “{profile.name}” ({profile.api_host}) "
            "reaches live players."
        )
    parts = [place]
    if profile is not None:
        parts.append(f"profile {profile.name}" + (" — PRODUCTION" if production else ""))
    if demo:
        parts.append("DEMO (sandbox)")
    return ProfileState(production, banner, " — ".join([*parts, "support-tool"]))
