"""Where configuration, the audit history and logs live.

platformdirs gives each OS its usual folders; ``SUPPORT_TOOL_HOME`` moves everything into
one folder, for portable installs (a USB stick at a venue) and for tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from support_tool import APP_NAME

HOME_ENV = "SUPPORT_TOOL_HOME"
PORTABLE_FOLDER = "support-tool-home"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser() if value else _portable_home()


def _portable_home() -> Path | None:
    """The standalone app with a ``support-tool-home`` folder next to its executable keeps
    everything there, as if SUPPORT_TOOL_HOME pointed at it: the portable zip ships that
    folder, so the app carried on a USB stick takes its profiles and history along."""
    if not getattr(sys, "frozen", False):
        return None
    folder = Path(sys.executable).resolve().parent / PORTABLE_FOLDER
    return folder if folder.is_dir() else None


def config_dir() -> Path:
    home = _home()
    return home if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    home = _home()
    return home if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    home = _home()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def profiles_file() -> Path:
    return config_dir() / "profiles.toml"


def groups_file() -> Path:
    return config_dir() / "groups.toml"


def history_file(demo: bool = False) -> Path:
    """The audit history; demo (sandbox) actions go to their own file, apart from real ones."""
    return data_dir() / ("demo-history.sqlite3" if demo else "history.sqlite3")


def log_file() -> Path:
    return log_dir() / "support-tool.log"
