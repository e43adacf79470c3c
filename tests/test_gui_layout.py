"""The Terminals tab holds its layout at 100%, 150% and 200% scaling: no button text clipped
("ave as group.", "xport results." at QT_SCALE_FACTOR=2 on a 1366x768 screen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("scale", ["1", "1.5", "2"])
def test_no_terminals_button_is_clipped(scale: str, home: Path) -> None:
    """Each scale in a child process (Qt reads the factor once, at start), offscreen:
    at the window's minimum size and at a 1366x768 screen's worth of window, every
    button is at least as wide as its text needs (its sizeHint)."""
    run = subprocess.run(
        [sys.executable, "-m", "tests.layout_child"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
        env={
            **os.environ,
            "SUPPORT_TOOL_HOME": str(home),
            "QT_QPA_PLATFORM": "offscreen",
            "QT_SCALE_FACTOR": scale,
        },
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.splitlines()[-1])
    assert report["scale"] == float(scale)
    assert report["clipped_at_minimum"] == []
    assert report["clipped_at_1366x768"] == []
