"""Spare the window's start PySide6's reading of every module's source.

PySide6's import hook (for its optional ``__feature__`` switches) reads the *source* of
every module named in an ``import`` statement after Qt is loaded, the first time, to look
for the word "PySide6": a file read and tokenised each, ~0.3 ms, for ~70 modules before the
window's first paint (datetime, typing, logging, the tool's core) and more after it. The
standard library and the tool's own Qt-free modules never use PySide6 (``tests/test_layers``
holds the tool to that), so for them the verdict is known without reading: -1, "ignore",
what the scan would have concluded. The window's own modules are read directly, for the
same word (``inspect.getsource``, which the scan uses, first searches every loaded module
for the file's owner: ~3.5 M instructions for the ~15 before the first paint); third-party
ones as before. Importing this module installs that rule, once, whichever window
module is imported first; if PySide6 changes this inner hook, nothing changes.
"""

# No ``from __future__`` and no ``types`` here: what this module imports before the rule is
# in place is read by the scan too.
import sys

import PySide6.QtCore  # noqa: F401 - the import hook is in place once Qt is loaded


def _known_without_qt(name: str) -> bool:
    top = name.partition(".")[0]
    if top == "support_tool":
        return not name.startswith("support_tool.gui")
    return top in sys.stdlib_module_names


def _names_pyside(path: str | None) -> bool:
    """The scan's verdict on one of the window's own modules: whether its source names
    PySide6 (False without a source file, as in the frozen app), read directly, without
    ``inspect.getsource``'s search of every loaded module for the file's owner."""
    if not path or not path.endswith(".py"):
        return False
    try:
        with open(path, "rb") as source:
            return b"PySide6" in source.read()
    except OSError:
        return False


def spare_qt_the_source_scan() -> None:
    """Install the rule (see the module); a second call changes nothing."""
    try:
        from shibokensupport import feature  # type: ignore[import-not-found]
    except ImportError:
        return
    scan = getattr(feature, "_mod_uses_pyside", None)
    if not callable(scan) or getattr(scan, "spares_the_known", False):
        return

    def uses_pyside(module: object) -> bool:
        name = getattr(module, "__name__", "")
        if _known_without_qt(name):
            return False
        if name.startswith("support_tool.gui"):
            return _names_pyside(getattr(module, "__file__", None))
        return bool(scan(module))

    uses_pyside.spares_the_known = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside


spare_qt_the_source_scan()
