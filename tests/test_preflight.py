"""A desk that cannot draw Qt's window is told why, instead of Qt aborting the process.

The missing library is real: a plug-in is compiled against a stub library that is then
deleted, so the dynamic linker itself reports it missing, as on a minimal Debian install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support_tool.gui.preflight import missing_libraries, window_problem, xcb_plugin

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux desks only")


@pytest.fixture
def plugin_missing_a_library(tmp_path: Path) -> Path:
    """A shared object linked to ``libxcb-cursor.so.0``'s stand-in, which is then removed."""
    if not shutil.which("cc"):
        pytest.skip("needs a C compiler to build the stand-in plug-in")
    stub_dir = tmp_path / "stub"
    stub_dir.mkdir()
    (tmp_path / "stub.c").write_text("int stand_in(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text(
        "int stand_in(void);\nint use(void) { return stand_in(); }\n"
    )
    stub = stub_dir / "libsupporttool-gone.so.0"
    compile_ = ["cc", "-shared", "-fPIC", "-o"]
    soname = f"-Wl,-soname,{stub.name}"  # the name the plug-in will ask the linker for
    subprocess.run([*compile_, str(stub), soname, str(tmp_path / "stub.c")], check=True)
    plugin = tmp_path / "libqfake.so"
    subprocess.run(
        [*compile_, str(plugin), str(tmp_path / "plugin.c"), str(stub)],
        check=True,
    )
    stub.unlink()
    return plugin


def test_a_library_the_plugin_needs_is_named_with_its_package(
    plugin_missing_a_library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert missing_libraries(plugin_missing_a_library) == ["libsupporttool-gone.so.0"]
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    problem = window_problem(["support-tool"], plugin_missing_a_library)
    assert "lacks libsupporttool-gone.so.0" in problem
    assert "sudo apt-get install libsupporttool-gone.so.0" in problem
    assert "support-tool --help" in problem


def test_the_installed_qt_plugin_finds_everything_here() -> None:
    plugin = xcb_plugin()
    assert plugin is not None
    assert plugin.name == "libqxcb.so"
    assert missing_libraries(plugin) == []


def test_headless_platforms_need_no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert window_problem(["support-tool"]) == ""
    monkeypatch.delenv("QT_QPA_PLATFORM")
    assert window_problem(["support-tool", "-platform", "minimal"]) == ""
    assert "no graphical display" in window_problem(["support-tool"])


def test_no_display_ends_with_a_message_not_a_core_dump(home: Path) -> None:
    """Without the check Qt prints its own message and aborts (SIGABRT, status -6)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        [sys.executable, "-m", "support_tool", "--demo"],
        env={**env, "SUPPORT_TOOL_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 4
    assert "no graphical display" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_plugin_that_loads_is_not_listed_with_ldd(monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual desk: the plug-in loads, so no ``ldd`` process is started (it cost every
    window start 30–60 ms); listing is only for a plug-in that does not load."""
    from support_tool.gui import preflight

    def no_listing(library: Path) -> list[str]:
        raise AssertionError(f"ldd run for {library}, which loads")

    monkeypatch.setattr(preflight, "missing_libraries", no_listing)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert window_problem(["support-tool"]) == ""
