"""The standalone app (PyInstaller bundle) as a desk runs it: no Python, no pip.

Runs only when SUPPORT_TOOL_BINARY names the built executable (``.ci/run`` builds it with
``scripts/build-app`` and sets it); the package's own tests run the same command line
from source. What only a bundle can get wrong is checked here: files it forgot to ship
(the icon, the keyring backends), Qt loaded where the command line must not load it, a
folder that works only where it was built, and the oldest glibc it needs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from support_tool.sandbox import SandboxServer
from tests.conftest import BINARY_ENV, SANDBOX_SECRET
from tests.elf_versions import highest_glibc, version_key
from tests.polling import poll_until
from tests.test_screenshots import display as display
from tests.test_screenshots import grab, return_until_closed, xdotool

BINARY = os.environ.get(BINARY_ENV, "").strip()
README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = [
    pytest.mark.skipif(
        not BINARY,
        reason=f"needs the standalone app: bash scripts/build-app, then "
        f"{BINARY_ENV}=dist/support-tool/support-tool (.ci/run does both)",
    ),
    pytest.mark.keyring,  # the app's commands use the real Secret Service
]

QT_LIBRARY = re.compile(r"libQt6\w*\.so|PySide6/Qt\w*\.abi3\.so|libpyside6")


def run_app(
    exe: Path | str, *args: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(exe), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


@pytest.fixture
def app_env(home: Path) -> dict[str, str]:
    return {**os.environ, "SUPPORT_TOOL_HOME": str(home)}


def test_version_names_the_build_date_and_the_qt_it_ships(app_env: dict[str, str]) -> None:
    done = run_app(BINARY, "--version", env=app_env)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert re.fullmatch(
        r"support-tool \S+ \(standalone app built \d{4}-\d\d-\d\d \d\d:\d\d UTC\)", first
    )
    assert re.fullmatch(r"Python 3\.\d+\.\d+, PySide6 6\.[\d.]+, Qt 6\.[\d.]+, Linux", second)


def test_demo_close_as_json(app_env: dict[str, str]) -> None:
    done = run_app(
        BINARY, "--demo", "close", "terminal-0001", "--clear-history", "--json", env=app_env
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["ok"] is True
    assert answer["outcome"] == "success"
    assert isinstance(answer["history_id"], int)


def test_secret_round_trip_through_the_real_keyring(
    app_env: dict[str, str], sandbox: SandboxServer
) -> None:
    """Profile file, secret into gnome-keyring (the session fixture's private D-Bus), a
    signed close read back from it, then deleted: the bundle ships working backends."""
    assert (
        run_app(BINARY, "profile", "add", "live", "--url", sandbox.url, env=app_env).returncode == 0
    )
    stored = run_app(BINARY, "secret", "set", "live", stdin=SANDBOX_SECRET + "\n", env=app_env)
    assert stored.returncode == 0, stored.stderr
    listing = run_app(BINARY, "profile", "list", "--json", env=app_env)
    assert json.loads(listing.stdout)[0]["secret"] == "stored"
    closed = run_app(BINARY, "close", "player-001", "--json", env=app_env)
    assert json.loads(closed.stdout)["ok"] is True, closed.stdout + closed.stderr
    deleted = run_app(BINARY, "secret", "delete", "live", env=app_env)
    assert "deleted from the keyring" in deleted.stdout
    after = run_app(BINARY, "profile", "list", "--json", env=app_env)
    assert json.loads(after.stdout)[0]["secret"] == "missing"


def test_profile_list_loads_no_qt(app_env: dict[str, str]) -> None:
    """The dynamic loader's own log (LD_DEBUG=files) names every library the process
    loads, including those dlopen()ed by Python imports."""
    done = run_app(BINARY, "profile", "list", env={**app_env, "LD_DEBUG": "files"})
    assert done.returncode == 0
    assert "libpython3" in done.stderr  # the log works: it saw the interpreter load
    assert not QT_LIBRARY.findall(done.stderr)


def test_running_sandbox_maps_no_qt(app_env: dict[str, str]) -> None:
    server = subprocess.Popen(
        [BINARY, "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=app_env,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith("Sandbox provider listening on http://")
        maps = Path(f"/proc/{server.pid}/maps").read_text()
        assert "libpython3" in maps
        assert not QT_LIBRARY.findall(maps)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_window_opens_and_paints_under_xvfb(
    display: str,
    home: Path,
    tmp_path: Path,
) -> None:
    """The icon and the plugins ship: the window opens under a real X server, takes typed
    input, closes a demo session and paints, with no traceback."""
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "SUPPORT_TOOL_HOME": str(home),
    }
    app = subprocess.Popen(
        [BINARY, "--demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        window = xdotool(display, "search", "--sync", "--onlyvisible", "--name", "support-tool")
        window = window.splitlines()[0]
        xdotool(display, "windowfocus", "--sync", window)
        xdotool(display, "type", "--delay", "15", "terminal-0007")
        return_until_closed(display, home, "terminal-0007")
        shot = tmp_path / "bundle-window.png"
        poll_until(lambda: grab(display, window, shot)[2] > 20, 10, "the window to paint")
        width, height, colours = grab(display, window, shot)
        assert width >= 700
        assert height >= 500
        assert colours > 20  # a painted window, not a blank rectangle
    finally:
        app.terminate()
        output, _ = app.communicate(timeout=20)
    assert "Traceback" not in output, output


def test_verify_of_a_long_trail_runs_its_worker_processes(
    app_env: dict[str, str], home: Path
) -> None:
    """Past PARALLEL_FROM events verify spawns worker processes; a frozen app must start
    them as workers (freeze_support), not as a second command line, and must ship
    multiprocessing at all (an over-eager trim once left it out and every start failed)."""
    from support_tool.audit.check import PARALLEL_FROM
    from tests.history_seed import seed_history

    seed_history(home / "history.sqlite3", PARALLEL_FROM // 2 + 1_000)
    done = run_app(BINARY, "history", "verify", "--json", env=app_env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert report["checked"] >= PARALLEL_FROM


@pytest.fixture(scope="module")
def copied_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the whole app folder somewhere else, as IT would unzip it."""
    folder = Path(BINARY).resolve().parent
    target = tmp_path_factory.mktemp("desk") / "copied"
    shutil.copytree(folder, target, symlinks=True)
    return target


def test_copied_moved_and_symlinked_app_runs(copied_app: Path, app_env: dict[str, str]) -> None:
    moved = copied_app.with_name("moved elsewhere")  # a space, as in "Program Files"
    copied_app.rename(moved)
    try:
        links = moved.parent / "bin"
        links.mkdir()
        (links / "support-tool").symlink_to(moved / "support-tool")
        for exe in (moved / "support-tool", links / "support-tool"):
            done = run_app(exe, "--demo", "close", "terminal-0002", "--json", env=app_env)
            assert done.returncode == 0, (exe, done.stderr)
            assert json.loads(done.stdout)["ok"] is True
    finally:
        moved.rename(copied_app)


def test_portable_folder_next_to_the_executable_holds_everything(copied_app: Path) -> None:
    """With no SUPPORT_TOOL_HOME, a ``support-tool-home`` folder beside the executable is
    where profiles, history and logs go (the portable zip ships one)."""
    portable = copied_app / "support-tool-home"
    portable.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SUPPORT_TOOL_HOME"}
    try:
        done = run_app(
            copied_app / "support-tool",
            "profile",
            "add",
            "p",
            "--url",
            "http://localhost:9",
            env=env,
        )
        assert done.returncode == 0, done.stderr
        saved = tomllib.loads((portable / "profiles.toml").read_text())
        assert list(saved["profiles"]) == ["p"]
        assert (portable / "logs").is_dir()
    finally:
        shutil.rmtree(portable)


def test_glibc_floor_is_the_documented_one() -> None:
    """Every ELF file in the app needs at most the glibc the README promises."""
    documented = re.search(r"glibc (\d+\.\d+) or newer", README.read_text())
    assert documented, "README.md states no glibc floor"
    found = highest_glibc(Path(BINARY).resolve().parent)
    assert found is not None
    name, where = found
    assert version_key(name) <= version_key(f"GLIBC_{documented[1]}"), (
        f"{where} needs {name}, above the README's glibc {documented[1]}"
    )
