"""Start a private, real Secret Service (gnome-keyring) on a private D-Bus session bus.

The tests exercise the real keyring round trip, as on an operator's Linux desk, without
touching the developer's own keyring: the bus, the daemon and its files are all private.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.polling import poll_until

_SCRIPT = """
printf '%s\\n' "$DBUS_SESSION_BUS_ADDRESS"
printf 'support-tool-test' | exec gnome-keyring-daemon --unlock --foreground --components=secrets
"""


class SecretServiceDaemon:
    """``dbus-run-session`` running an unlocked ``gnome-keyring-daemon``."""

    def __init__(self) -> None:
        missing = [t for t in ("dbus-run-session", "gnome-keyring-daemon") if not shutil.which(t)]
        if missing:
            raise RuntimeError(
                f"{', '.join(missing)} not found: install the Debian packages dbus and "
                "gnome-keyring (.ci/run does) to run the keyring tests."
            )
        self.root = Path(tempfile.mkdtemp(prefix="support-tool-keyring-"))
        runtime = self.root / "run"
        runtime.mkdir(mode=0o700)
        self.env = {
            **os.environ,
            "HOME": str(self.root),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_RUNTIME_DIR": str(runtime),
        }
        # Its own process group: dbus-run-session does not stop its children (dbus-daemon,
        # gnome-keyring-daemon) when it is terminated, so stop() signals the whole group.
        self.process = subprocess.Popen(
            ["dbus-run-session", "--", "sh", "-c", _SCRIPT],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            assert self.process.stdout is not None
            self.address = self.process.stdout.readline().strip()
            if not self.address:
                raise RuntimeError("dbus-run-session did not start a bus")
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        """Wait until the daemon owns org.freedesktop.secrets on the bus (up to 10 s)."""

        def registered() -> bool:
            probe = subprocess.run(
                [
                    "dbus-send",
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ],
                env={**self.env, "DBUS_SESSION_BUS_ADDRESS": self.address},
                capture_output=True,
                text=True,
                check=False,
            )
            return "boolean true" in probe.stdout

        poll_until(registered, 10, "gnome-keyring-daemon to register on the bus")

    def environment(self) -> dict[str, str]:
        """Variables that point the keyring library (and child processes) at this daemon."""
        return {
            "DBUS_SESSION_BUS_ADDRESS": self.address,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
        }

    def processes(self) -> list[int]:
        """Every live process this daemon started: its process group, and anything else
        whose environment points at its private folder (a daemon that left the group)."""
        found = []
        marker = str(self.root).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                in_group = os.getpgid(pid) == self.process.pid
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                environ = b"" if in_group else (entry / "environ").read_bytes()
            except (OSError, IndexError):
                continue  # gone meanwhile, or not ours to read
            if state != "Z" and (in_group or marker in environ):
                found.append(pid)
        return found

    def stop(self) -> None:
        """Stop dbus-run-session and every daemon under it (also a frozen one), then wait
        until none is left, so that no test run leaves daemons behind."""
        for sig in (signal.SIGTERM, signal.SIGCONT):
            for pid in self.processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=5)
            poll_until(lambda: not self.processes(), 5, "the keyring daemons to stop")
        except (subprocess.TimeoutExpired, AssertionError):
            for pid in self.processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)
