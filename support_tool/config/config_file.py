"""Reading the tool's hand-editable TOML files (profiles, groups) so that any damage is a
plain configuration error naming the file and the fix, never a traceback.

A file may be missing (nothing configured yet), unreadable, not UTF-8 (saved by an editor
in another encoding), absurdly large, or nested so deeply that the TOML parser recurses
out of stack; each is said plainly with what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support_tool.errors import ConfigurationError

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # far beyond any real profile or group file


def _fix(what: str, redo: str) -> str:
    return f"Fix it in a text editor (it must be UTF-8 TOML), or move it aside and {redo}."


def read_config_text(path: Path, what: str, redo: str) -> str | None:
    """The file's text, or None when it does not exist; raises :class:`ConfigurationError`
    naming ``path`` and how to fix it. ``what`` names the file in words ("profiles file"),
    ``redo`` says how to recreate its content."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(
            f"The {what} {path} cannot be read ({exc.strerror}). Check its permissions."
        ) from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigurationError(
            f"The {what} {path} is larger than {MAX_CONFIG_BYTES // 1024 // 1024} MB, far too "
            f"large to be one. {_fix(what, redo)}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"The {what} {path} is not UTF-8 text (byte 0x{data[exc.start]:02X} at offset "
            f"{exc.start:,}). {_fix(what, redo)}"
        ) from exc


def parse_toml(text: str, source: str, what: str, redo: str) -> dict[str, Any]:
    """Parse ``text``; any way it is not valid TOML is a :class:`ConfigurationError`."""
    import tomllib  # ~5 ms: only when a file is parsed, not when the module loads (the
    # window imports it before its first paint and reads profiles on a worker after)

    named = f"{what} {source}" if source and source != what else what
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"The {named} cannot be read ({exc}). {_fix(what, redo)}") from exc
    except RecursionError as exc:
        raise ConfigurationError(
            f"The {named} cannot be read: it nests brackets too deeply to be one. "
            f"{_fix(what, redo)}"
        ) from exc
