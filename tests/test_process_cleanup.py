"""Processes the tool and its tests start are stopped: the test keyring's daemons (all of
them, even frozen), and ``support-tool sandbox`` on SIGINT or SIGTERM even when it was
started with SIGINT ignored (as a shell starts a background job)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.keyring_daemon import SecretServiceDaemon

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


def started_with(marker: str) -> list[int]:
    """Live processes whose environment mentions ``marker`` (found independently of the
    helper under test)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def test_stopping_the_keyring_stops_every_daemon_it_started() -> None:
    daemon = SecretServiceDaemon()
    marker = str(daemon.root)
    names = {Path(f"/proc/{pid}/comm").read_text().strip() for pid in started_with(marker)}
    assert {"dbus-daemon", "gnome-keyring-d"} <= names
    frozen = [p for p in started_with(marker) if "keyring" in Path(f"/proc/{p}/comm").read_text()]
    os.kill(frozen[0], signal.SIGSTOP)  # as test_keyring_faults freezes it
    daemon.stop()
    assert started_with(marker) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sandbox_stops_on_signals_even_with_sigint_ignored(home: Path, sig: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "support_tool", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Press Ctrl+C"):
                break
        process.send_signal(sig)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Sandbox stopped." in out
    assert "Traceback" not in err
