"""The real keyring is started only for tests marked ``keyring``.

Each check runs pytest in a child process with an empty PATH: starting gnome-keyring
there fails at once ("not found"), so a session that passes started none.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_pytest(*selection: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
        cwd=ROOT,
        env={**env, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_unmarked_tests_start_no_keyring() -> None:
    ran = run_pytest("tests/test_signing.py")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_a_marked_test_starts_the_keyring() -> None:
    selected = "tests/test_keyring_faults.py"
    ran = run_pytest(selected, "-x")
    assert ran.returncode != 0
    assert "gnome-keyring-daemon not found" in ran.stdout + ran.stderr
