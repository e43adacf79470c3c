"""Can this computer draw Qt's window at all? Asked before Qt is loaded.

On a Linux desk without the few system libraries Qt's X11 plug-in needs, Qt itself prints
a developer's message and *aborts* the process (a core dump, no exit status a script can
read). A floor manager should instead read which package is missing and that the command
line still works. So before the window is opened this module looks, without loading Qt:
is there a display, and does the platform plug-in find every library it links to?

Nothing here imports PySide6 at module level, so the command line can call it cheaply.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import sys
from pathlib import Path

# Shared-library name -> the Debian/Ubuntu package that provides it (the ones Qt's xcb
# plug-in and QtGui link to; README "Quick start" lists the same set).
DEBIAN_PACKAGES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
}

# Platforms that need no display server (tests, remote screens): nothing to check.
_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")
# Compiled where used (``re.findall`` caches them): only a desk missing libraries reads
# them, and compiling both at import cost every window start ~2 M instructions.
_NOT_FOUND = r"(?m)^\s*(\S+) => not found"
_DLOPEN_MISSING = r"(\S+\.so[.\d]*): cannot open shared object file"


def xcb_plugin() -> Path | None:
    """Where the installed PySide6 keeps Qt's X11 plug-in (found without importing Qt)."""
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if candidate.exists():
            return candidate
    return None


def missing_libraries(library: Path) -> list[str]:
    """The shared libraries ``library`` links to that this computer cannot find."""
    import shutil  # here, not at the top: a start on Windows, macOS or Wayland needs neither
    import subprocess

    ldd = shutil.which("ldd")
    if ldd:
        listing = subprocess.run(
            [ldd, str(library)], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        return re.findall(_NOT_FOUND, listing)
    import ctypes

    try:
        ctypes.CDLL(str(library))
    except OSError as exc:
        return re.findall(_DLOPEN_MISSING, str(exc))
    return []


def _loads(library: Path) -> bool:
    """Whether the dynamic linker loads ``library`` and everything it links to: on a desk
    that has them all (nearly every start), this answers in a millisecond, where listing
    them with ``ldd`` costs a process (30–60 ms); Qt loads the same plug-in moments later.
    Only when it fails are the missing libraries listed, to name every one."""
    import ctypes

    try:
        ctypes.CDLL(str(library))
    except OSError:
        return False
    return True


def _requested_platform(argv: list[str]) -> str:
    """Qt's platform as Qt will choose it: ``-platform NAME`` first, then the environment."""
    for flag, value in itertools.pairwise(argv):
        if flag in ("-platform", "--platform"):
            return value
    return os.environ.get("QT_QPA_PLATFORM", "")


def window_problem(argv: list[str], plugin: Path | None = None) -> str:
    """Why the window cannot open on this computer, in plain words; '' when it can."""
    if not sys.platform.startswith("linux"):
        return ""  # Windows and macOS wheels carry everything Qt needs
    platform = _requested_platform(argv).split(":", 1)[0]
    if platform.startswith(_HEADLESS_PLATFORMS):
        return ""
    if platform.startswith("wayland") or (not platform and os.environ.get("WAYLAND_DISPLAY")):
        return ""  # Wayland sessions: Qt falls back to XWayland on its own if needed
    if not os.environ.get("DISPLAY"):
        return (
            "The window cannot open: there is no graphical display (DISPLAY is not set). "
            "Start support-tool from the desktop session, or use the command line "
            "(support-tool --help)."
        )
    found = plugin or xcb_plugin()
    missing = missing_libraries(found) if found and not _loads(found) else []
    if not missing:
        return ""
    packages = sorted({DEBIAN_PACKAGES.get(name, name) for name in missing})
    return (
        f"The window cannot open: this computer lacks {', '.join(missing)}, which Qt needs "
        "to draw windows. On Debian or Ubuntu install "
        f"{'it' if len(packages) == 1 else 'them'} with: sudo apt-get install "
        f"{' '.join(packages)} (the README's Quick start lists what a desk needs). "
        "The command line works without: support-tool --help."
    )
