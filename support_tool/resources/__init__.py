"""Files the window needs at run time (the icon), shipped inside the package.

A real subpackage, imported by name where it is used, so that pip installs and the
PyInstaller bundle both find it (a folder mapped by ``package-dir`` was invisible to the
bundle's import analysis). The README's screenshots stay in the top-level ``resources/``.
"""
