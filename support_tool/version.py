"""What ``support-tool --version`` says: the version, how this copy was made, and the
Python and Qt it runs on — all without importing Qt.

The command line never loads Qt (it costs ~80 ms and is not needed), so Qt's version is
read from the PySide6 package's metadata for a pip install, and from ``build-info.json``
for the standalone app: the build writes that file next to the bundled package, with the
build date and the exact Qt version it shipped, because a desk asking "which build is
this?" needs the date, and a bundle carries no package metadata to ask.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from support_tool import __version__

BUILD_INFO = Path(__file__).with_name("build-info.json")
PYSIDE_DISTRIBUTIONS = ("PySide6-Essentials", "PySide6")


def build_info() -> dict[str, str] | None:
    """The standalone app's build facts, or None for a Python install or a checkout."""
    if not getattr(sys, "frozen", False):
        return None
    try:
        data = json.loads(BUILD_INFO.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def _installed_how() -> str:
    """'installed package' for a pip install, 'from source' for a checkout or an editable
    install (the code may differ from any release with the same version number)."""
    from importlib import metadata

    try:
        dist = metadata.distribution("support-tool")
    except metadata.PackageNotFoundError:
        return "from source"
    direct = dist.read_text("direct_url.json") or "{}"
    editable = bool(json.loads(direct).get("dir_info", {}).get("editable"))
    return "from source, editable install" if editable else "installed package"


def _pyside_version() -> str:
    from importlib import metadata

    for name in PYSIDE_DISTRIBUTIONS:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def describe() -> str:
    """Two lines: version and provenance; then the runtime underneath."""
    import platform  # only when asked: not on every start

    python = f"Python {platform.python_version()}"
    info = build_info()
    if info is not None:
        how = f"standalone app built {info.get('built', 'at an unknown date')}"
        qt = f"PySide6 {info.get('pyside6', '?')}, Qt {info.get('qt', '?')}"
    else:
        how = _installed_how()
        qt = f"PySide6 {_pyside_version()}"
    return f"support-tool {__version__} ({how})\n{python}, {qt}, {platform.system()}"


class VersionAction(argparse.Action):
    """``--version``, computed only when asked: reading package metadata on every start
    would slow every command for a line almost nobody prints."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the version, how it was built, and Python/Qt versions")
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> NoReturn:
        print(describe())
        parser.exit(0)
