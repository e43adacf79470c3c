"""Who is acting and where: recorded on every history row."""

from __future__ import annotations

import getpass
import os
import sys


def operator_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - getuser raises various errors on odd systems
        return os.environ.get("USERNAME") or os.environ.get("USER") or "unknown"


def workstation_name() -> str:
    """This computer's network name. ``os.uname`` where there is one: it is what
    ``platform.node`` returns there, without ``platform``'s import (9 regular expressions
    compiled on every start of a close)."""
    if hasattr(os, "uname"):
        return os.uname().nodename or "unknown"
    import platform

    return platform.node() or "unknown"


def process_alive(pid: int) -> bool:
    """Whether a process with this id still runs on this machine (used for crash recovery)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
