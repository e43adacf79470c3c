"""The window's icon, a real subpackage so that every packager (pip, PyInstaller) finds it."""
