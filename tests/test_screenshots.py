"""The real window under Xvfb, driven by real X key events (xdotool), then photographed.

``SUPPORT_TOOL_UPDATE_SCREENSHOTS=1`` also copies the pictures to ``resources/`` for the
README.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support_tool.gui.screen_fit import MINIMUM_SIZE
from tests.polling import poll_until

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
TOOLS = ("Xvfb", "xdotool")


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing: .ci/run installs xvfb and xdotool")
        pytest.skip(f"needs {', '.join(missing)}")
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "2600x1800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    poll_until(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 10, "Xvfb to start")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def store_open(home: Path) -> bool:
    """The window says in its log that its audit store is open; it enables *Close* in the
    same step on its GUI thread, so a key sent after this line finds it enabled."""
    log = home / "logs" / "support-tool.log"
    return log.exists() and "audit store open:" in log.read_text(encoding="utf-8")


def xdotool(display: str, *args: str) -> str:
    return subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    ).stdout.strip()


def return_until_closed(display: str, home: Path, login: str) -> None:
    """Press Return in the demo window until its close of ``login`` is recorded as a
    success. The window opens its audit store and starts the demo's provider on workers
    after the first paint; Close is disabled until both are ready (Return does nothing
    then), so Return is pressed until a close is recorded. A Return while that close is
    in flight is ignored: one close only."""
    history = home / "demo-history.sqlite3"
    poll_until(lambda: store_open(home), 20, "the audit store to be opened")

    def recorded() -> bool:
        with sqlite3.connect(history) as db:
            (count,) = db.execute("SELECT COUNT(*) FROM actions").fetchone()
        if not count:
            xdotool(display, "key", "Return")
        return bool(count)

    poll_until(recorded, 20, "a close to be sent once Close is enabled")

    def closed() -> bool:
        with sqlite3.connect(history) as db:
            rows = db.execute("SELECT login, outcome FROM actions").fetchall()
        return rows == [(login, "success")]

    poll_until(closed, 20, "the close to be recorded")


def grab(display: str, window_id: str, target: Path) -> tuple[int, int, int]:
    """Photograph one X window with Qt's xcb backend; returns width, height, colours seen."""
    code = (
        "import sys; from PySide6.QtGui import QGuiApplication;"
        "app = QGuiApplication(sys.argv);"
        f"image = QGuiApplication.primaryScreen().grabWindow({int(window_id)}).toImage();"
        f"image.save({str(target)!r});"
        "colours = {image.pixel(x, y) for x in range(0, image.width(), 7)"
        " for y in range(0, image.height(), 7)};"
        "print(image.width(), image.height(), len(colours))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env={**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
    ).stdout.split()
    width, height, colours = (int(v) for v in out[-3:])
    return width, height, colours


@pytest.mark.parametrize("scale", ["1", "1.5", "2"])
def test_demo_window_typed_into_and_photographed(
    display: str, home: Path, tmp_path: Path, scale: str
) -> None:
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "QT_SCALE_FACTOR": scale,
        "SUPPORT_TOOL_HOME": str(home),
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "support_tool", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        window = xdotool(display, "search", "--sync", "--onlyvisible", "--name", "support-tool")
        window = window.splitlines()[0]
        title = xdotool(display, "getwindowname", window)
        assert title.count("support-tool") == 1, title  # Qt adds the name unless it ends so
        xdotool(display, "windowfocus", "--sync", window)
        xdotool(display, "type", "--delay", "15", "terminal-0007")
        return_until_closed(display, home, "terminal-0007")
        history = home / "demo-history.sqlite3"
        xdotool(display, "key", "ctrl+l")  # the form takes focus back, as the user sees it
        shot = tmp_path / f"demo-{scale}x.png"
        poll_until(lambda: grab(display, window, shot)[2] > 20, 10, "the answer to be painted")
        width, height, colours = grab(display, window, shot)
        assert width >= MINIMUM_SIZE[0] * float(scale)
        assert height >= MINIMUM_SIZE[1] * float(scale)
        assert colours > 20  # a painted window, not a blank rectangle
        if os.environ.get("SUPPORT_TOOL_UPDATE_SCREENSHOTS") == "1" and scale == "2":
            shutil.copy(shot, RESOURCES / "screenshot-close-200.png")
        if os.environ.get("SUPPORT_TOOL_UPDATE_SCREENSHOTS") == "1" and scale == "1":
            shutil.copy(shot, RESOURCES / "screenshot-close.png")
            xdotool(display, "key", "alt+h")
            history_shot = tmp_path / "history.png"
            poll_until(lambda: grab(display, window, history_shot)[2] > 20, 10, "history tab")
            shutil.copy(history_shot, RESOURCES / "screenshot-history.png")
            xdotool(display, "key", "alt+t", "alt+g", "Down")  # the demo bank A group

            def confirmation_open() -> bool:
                # Ctrl+Enter is ignored until the list has been checked; ask until it opens.
                xdotool(display, "key", "ctrl+Return")
                found = subprocess.run(
                    ["xdotool", "search", "--onlyvisible", "--name", "Close sessions"],
                    env={**os.environ, "DISPLAY": display},
                    capture_output=True,
                    check=False,
                )
                return found.returncode == 0

            poll_until(confirmation_open, 10, "the batch confirmation")
            xdotool(display, "key", "Return")

            def batch_done() -> bool:
                with sqlite3.connect(history) as db:
                    (rows,) = db.execute("SELECT COUNT(*) FROM actions").fetchone()
                return bool(rows == 41)

            poll_until(batch_done, 20, "the demo batch to be recorded")
            batch_shot = tmp_path / "terminals.png"
            previous = tmp_path / "terminals-previous.png"

            def settled() -> bool:
                """Two grabs in a row alike: the table has painted its last rows."""
                grab(display, window, previous)
                grab(display, window, batch_shot)
                return previous.read_bytes() == batch_shot.read_bytes()

            poll_until(settled, 10, "the terminals tab to finish painting")
            shutil.copy(batch_shot, RESOURCES / "screenshot-terminals.png")
    finally:
        app.terminate()
        output, _ = app.communicate(timeout=20)
    assert "Traceback" not in output, output
