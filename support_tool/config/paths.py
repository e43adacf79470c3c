"""Where configuration, the audit history and logs live.

platformdirs gives each OS its usual folders; ``SUPPORT_TOOL_HOME`` moves everything into
one folder, for portable installs (a USB stick at a venue) and for tests.

The history and logs name logins, operators and workstations, and the profiles name the
provider's endpoints: on POSIX the folders the tool creates are 0700 and its own files 0600
(another account on a shared desk cannot read them). Exports are the operator's choice of
place and keep the usual permissions.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from support_tool import APP_NAME

HOME_ENV = "SUPPORT_TOOL_HOME"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
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


# platformdirs is imported where it is used: a start with SUPPORT_TOOL_HOME set (the
# portable app, the tests) does not need it, and it costs a close ~4 ms to import.
def config_dir() -> Path:
    home = _home()
    if home:
        return home
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    home = _home()
    if home:
        return home
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    home = _home()
    if home:
        return home / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def profiles_file() -> Path:
    return config_dir() / "profiles.toml"


def groups_file() -> Path:
    return config_dir() / "groups.toml"


def history_file(demo: bool = False) -> Path:
    """The audit history; demo (sandbox) actions go to their own file, apart from real ones."""
    return data_dir() / ("demo-history.sqlite3" if demo else "history.sqlite3")


def log_file() -> Path:
    return log_dir() / "support-tool.log"


def window_state_file() -> Path:
    return private_file(config_dir() / "window.ini")


def ensure_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents 0700 (only the levels created here: a folder
    that exists, such as the user's own ``~/.config``, is left as it is)."""
    missing = []
    for level in (path, *path.parents):
        if level.is_dir():
            break
        missing.append(level)
    for level in reversed(missing):
        try:
            level.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # another process made it meanwhile
        os.chmod(level, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 if it does not exist, in a 0700 folder; a file the
    tool created earlier with wider permissions is narrowed to 0600."""
    ensure_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        narrow(path)
    else:
        os.close(fd)
    return path


def narrow(path: Path) -> None:
    """Take away group and other permissions from one of the tool's own files (POSIX)."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except OSError:
        pass  # not ours to change (another owner): leave it, opening will say if it fails
