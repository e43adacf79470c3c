"""Run-time hook replacing PyInstaller's ``pyi_rth_pyside6`` (the spec drops that one).

PyInstaller's hook imports ``PySide6.QtCore`` at every start to register an embedded
``qt.conf``, so every command of the bundle paid ~80 ms loading Qt, and the command line
of the bundle loaded Qt where the command line of the package does not. This hook does
the cheap part at once (environment variables that point Qt at the bundled plugins) and
the Qt part when ``PySide6.QtCore`` is first imported, which only the window does.
"""


def _pyi_rthook() -> None:
    # Only what every start needs: no importlib.abc (it pulls importlib.resources, inspect
    # and tempfile), nothing from PyInstaller's helpers on Linux.
    import os
    import sys

    if sys.platform.startswith("win"):
        qt_dir = os.path.join(sys._MEIPASS, "PySide6")
    else:
        qt_dir = os.path.join(sys._MEIPASS, "PySide6", "Qt")
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt_dir, "plugins")
    if sys.platform in ("win32", "darwin"):
        from _pyi_rth_utils import is_macos_app_bundle, prepend_path_to_environment_variable

        if sys.platform == "win32":
            prepend_path_to_environment_variable(sys._MEIPASS, "PATH")
        elif not is_macos_app_bundle:
            prepend_path_to_environment_variable(sys._MEIPASS, "DYLD_LIBRARY_PATH")

    class QtCoreOnFirstUse:
        """A meta path finder that finds nothing itself: it wraps the real loader of
        PySide6.QtCore, once."""

        def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
            if name != "PySide6.QtCore":
                return None
            sys.meta_path.remove(self)
            spec = next(
                (
                    found
                    for finder in sys.meta_path
                    if hasattr(finder, "find_spec")
                    and (found := finder.find_spec(name, path, target)) is not None
                ),
                None,
            )
            if spec is None or spec.loader is None:
                return spec
            load = spec.loader.exec_module

            def exec_module(module):  # type: ignore[no-untyped-def]
                load(module)
                from _pyi_rth_utils import qt

                qt.ensure_single_qt_bindings_package("PySide6")
                qt.create_embedded_qt_conf("PySide6", qt_dir)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, QtCoreOnFirstUse())


_pyi_rthook()
del _pyi_rthook
