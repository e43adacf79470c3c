"""The standalone app's start-up against the installed package, in the same run.

Skipped when there is no bundle (``bash scripts/build-app`` makes ``dist/support-tool``;
SUPPORT_TOOL_BINARY may name another). The package runs as ``python -m support_tool``,
byte-compiled as an install would be (``python -m benchmarks`` does that first).

The window's first paint is read from outside the process, identically for both: Qt's own
``qt.widgets.painting`` log says when the main window is first painted and flushed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import Figure, median_of, sandbox_process

RUNS = 9
TARGET = 1.1
BUNDLE = Path(__file__).resolve().parents[1] / "dist" / "support-tool" / "support-tool"
PACKAGE = [sys.executable, "-m", "support_tool"]
FIRST_PAINT = "Painting and flushing dirty top level"


def bundle_path() -> Path | None:
    named = os.environ.get("SUPPORT_TOOL_BINARY", "").strip()
    path = Path(named) if named else BUNDLE
    return path if path.is_file() else None


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def _first_paint(argv: list[str], env: dict[str, str]) -> float:
    env = {**env, "QT_QPA_PLATFORM": "offscreen", "QT_LOGGING_RULES": "qt.widgets.painting=true"}
    start = time.perf_counter()
    child = subprocess.Popen(
        [*argv, "--demo"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert child.stderr is not None
    try:
        for line in child.stderr:
            if FIRST_PAINT in line:
                return time.perf_counter() - start
        raise RuntimeError("the window exited before its first paint")
    finally:
        child.kill()
        child.wait(timeout=10)


def _pair(
    name: str, runs: int, measure: Callable[[list[str]], float], bundle: Path, note: str
) -> Figure:
    """Alternate bundle and package runs so that machine noise hits both alike."""
    package_times: list[float] = []
    bundle_times: list[float] = []

    def both() -> float:
        package_times.append(measure(PACKAGE))
        bundle_times.append(measure([str(bundle)]))
        return 0.0

    median_of(runs, both)
    warm = slice(1, None)  # median_of's warm-up round is not counted
    app = sorted(bundle_times[warm])[len(bundle_times[warm]) // 2]
    pkg = sorted(package_times[warm])[len(package_times[warm]) // 2]
    return Figure(name, app * 1000, "ms", pkg * 1000, f"≤ {TARGET}×", app / pkg <= TARGET, note)


def run(runs: int = RUNS) -> list[Figure]:
    bundle = bundle_path()
    if bundle is None:
        print(f"bench_app: skipped, no standalone app at {BUNDLE} (bash scripts/build-app)")
        return []
    from support_tool.config.secret_store import KeyringSecrets
    from tests.keyring_daemon import SecretServiceDaemon

    daemon = SecretServiceDaemon()
    saved = dict(os.environ)
    os.environ.update(daemon.environment())
    try:
        with tempfile.TemporaryDirectory() as home, sandbox_process() as (url, secret):
            env = {**os.environ, "SUPPORT_TOOL_HOME": home}
            subprocess.run(
                [*PACKAGE, "profile", "add", "bench", "--url", url],
                env=env,
                check=True,
                capture_output=True,
            )
            KeyringSecrets().set("bench", secret)
            return [
                _pair(
                    "app 'profile list' (one profile, secret state from a real Secret Service) "
                    "vs the installed package",
                    runs,
                    lambda cmd: _time([*cmd, "profile", "list"], env),
                    bundle,
                    "reads the profile file and asks the keyring whether the secret is stored",
                ),
                _pair(
                    "app 'close' (saved profile, real Secret Service, sandbox process) "
                    "vs the installed package",
                    runs,
                    lambda cmd: _time([*cmd, "close", "player-001"], env),
                    bundle,
                    "profile, keyring read, history (2 fsync'd commits), one signed request",
                ),
                _pair(
                    "app window cold start to first paint (--demo, offscreen) "
                    "vs the installed package",
                    runs,
                    lambda cmd: _first_paint(cmd, env),
                    bundle,
                    "first paint read from Qt's qt.widgets.painting log in both",
                ),
            ]
    finally:
        os.environ.clear()
        os.environ.update(saved)
        daemon.stop()
