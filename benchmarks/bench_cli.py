"""Command-line start-up: it must not load Qt, and should cost about what requests does."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from benchmarks.common import Figure, median_of, sandbox_process

RUNS = 9


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def _real_close(runs: int) -> tuple[float, float]:
    """An operator's close: profile from the file, secret from gnome-keyring (a private one
    on its own D-Bus, as the tests use), the provider a sandbox in another process."""
    from support_tool.config.secret_store import KeyringSecrets
    from tests.keyring_daemon import SecretServiceDaemon

    daemon = SecretServiceDaemon()
    saved = dict(os.environ)
    os.environ.update(daemon.environment())
    try:
        with tempfile.TemporaryDirectory() as home, sandbox_process() as (url, secret):
            env = {**os.environ, "SUPPORT_TOOL_HOME": home}
            subprocess.run(
                [sys.executable, "-m", "support_tool", "profile", "add", "bench", "--url", url],
                env=env,
                check=True,
                capture_output=True,
            )
            KeyringSecrets().set("bench", secret)
            baseline = median_of(
                runs, lambda: _time([sys.executable, "-c", "import requests"], env)
            )
            close = median_of(
                runs,
                lambda: _time([sys.executable, "-m", "support_tool", "close", "player-001"], env),
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)
        daemon.stop()
    return close, baseline


def run(runs: int = RUNS) -> list[Figure]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SUPPORT_TOOL_HOME": home}
        baseline = median_of(runs, lambda: _time([sys.executable, "-c", "import requests"], env))
        close = median_of(
            runs,
            lambda: _time(
                [sys.executable, "-m", "support_tool", "--demo", "close", "terminal-0001"], env
            ),
        )
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from support_tool.cli.commands import main;"
                "main(['--demo', 'close', 'player-001']);"
                "print(sum(m.startswith('PySide6') for m in sys.modules))",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
    real = _real_close(runs)
    ratio = close / baseline
    return [
        Figure(
            "'support-tool close' (saved profile, secret in a real Secret Service) start to "
            "exit vs python -c 'import requests'",
            real[0] * 1000,
            "ms",
            real[1] * 1000,
            "≤ 1.5×",
            real[0] / real[1] <= 1.5,
            "reads the profile file and the keyring, opens the history, sends to a sandbox "
            "process on loopback",
        ),
        Figure(
            "'support-tool --demo close' process start to exit vs python -c 'import requests'",
            close * 1000,
            "ms",
            baseline * 1000,
            "≤ 1.5×",
            ratio <= 1.5,
            "includes starting the embedded sandbox and opening the history",
        ),
        Figure(
            "Qt modules loaded by the command line",
            float(probe),
            "modules",
            None,
            "0",
            probe == "0",
        ),
    ]
