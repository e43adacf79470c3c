"""The standalone app's entry point: exactly ``python -m support_tool``.

The same script is the console ``support-tool`` (every platform) and, on Windows, the
windowed ``support-tool-gui.exe``; with no command both open the window. It imports only
the command line, which loads Qt only when the window is wanted.
"""

import sys

from support_tool.cli.commands import main

sys.exit(main())
