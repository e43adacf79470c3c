"""Windows over real runtimes for the GUI tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytestqt.qtbot import QtBot

from support_tool.config.profiles import ProfileStore, make_profile
from support_tool.config.secret_store import KeyringSecrets
from support_tool.gui.main_window import MainWindow
from support_tool.ops.runtime import Runtime, open_runtime
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET


@contextmanager
def window_for(qtbot: QtBot, runtime: Runtime) -> Iterator[MainWindow]:
    # Not handed to qtbot.addWidget: pytest-qt closes and deletes such widgets in its
    # teardown hook, which runs *before* fixture finalizers, so a window still waiting for
    # its work could be deleted under the wait below ("MainWindow already deleted"). This
    # context manager closes it itself, once its work is done, and only then deletes it.
    window = MainWindow(runtime)
    window.show()
    qtbot.waitExposed(window)
    # The profiles load after the first paint, as the tabs are built: wait for both.
    qtbot.waitUntil(
        lambda: (
            window.history is not None
            and (window.form.profile.count() > 0 or not window.jobs.pending)
        )
    )
    try:
        yield window
    finally:
        if window.in_flight:
            window.close()
            qtbot.waitUntil(lambda: not window.in_flight, timeout=20_000)
        window.close()
        # Closing waits (responsively) for pending work such as the tabs built after the
        # first paint; the test ends when the window has really closed and saved its state.
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
        window.deleteLater()


@contextmanager
def sandbox_window(
    qtbot: QtBot,
    home: Path,
    sandbox: SandboxServer,
    *,
    production: bool = False,
    timeout: float = 3.0,
    secret: str | None = SANDBOX_SECRET,
) -> Iterator[MainWindow]:
    """A window on a saved profile 'sandbox' whose secret is in the real keyring."""
    store = ProfileStore()
    store.save(
        store.load().with_profile(
            make_profile("sandbox", sandbox.url, timeout, production=production), make_default=True
        )
    )
    keyring = KeyringSecrets()
    if secret:
        keyring.set("sandbox", secret)
    try:
        with open_runtime(demo=False) as runtime, window_for(qtbot, runtime) as window:
            yield window
    finally:
        keyring.delete("sandbox")


@contextmanager
def live_and_test_window(qtbot: QtBot, home: Path, sandbox: SandboxServer) -> Iterator[MainWindow]:
    """Two saved profiles on the sandbox: 'live' (production, the default) and 'test'."""
    store = ProfileStore()
    profiles = store.load().with_profile(
        make_profile("live", sandbox.url, production=True), make_default=True
    )
    store.save(profiles.with_profile(make_profile("test", sandbox.url)))
    keyring = KeyringSecrets()
    for name in ("live", "test"):
        keyring.set(name, SANDBOX_SECRET)
    try:
        with open_runtime(demo=False) as runtime, window_for(qtbot, runtime) as window:
            yield window
    finally:
        for name in ("live", "test"):
            keyring.delete(name)
